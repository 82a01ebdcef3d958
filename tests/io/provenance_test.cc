// Provenance (src/io/provenance.cc and the encoders): written in each
// format's text slot and read back from the file's structure alone, for
// every writable extension; files of other tools, damaged and hostile
// structures give none, never an error.
#include "io/provenance.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/exif.h"
#include "io/format.h"
#include "io/image_io.h"
#include "io/image_test_util.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

using namespace image_test;  // NOLINT: the shared helpers
using testing::Put;
using testing::PutBe16;
using testing::PutBe32;
using testing::PutLe16;
using testing::PutLe32;
using testing::PutPngChunk;
using testing::TempDir;

constexpr char kText[] =
    "convcorr 9.9.9 command=correlate kernel=3x3+1+1:1,2,1,0,0,0,-1,-2,-1 "
    "border=reflect101";

Metadata WithText(std::string text = kText) {
  Metadata m;
  m.provenance = std::move(text);
  return m;
}

// An image each extension can hold: float for pfm, gray for pgm.
Image ImageFor(const std::string& ext) {
  if (ext == "pfm") return FloatImage(3);
  return IntegerImage(Depth::kU8, ext == "pgm" ? 1 : 3);
}

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }
// The bytes of a string (for hand-made files).
Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(Provenance, EveryWritableFormatThatHoldsTextReadsItBack) {
  for (const char* ext_c : WritableExtensions()) {
    const std::string ext = ext_c;
    SCOPED_TRACE(ext);
    const Image img = ImageFor(ext);
    const Bytes plain = EncodeImage(img, ext, "out." + ext);
    const Bytes with = EncodeImage(img, ext, "out." + ext, WithText());
    EXPECT_EQ(ReadProvenance(plain), std::nullopt);
    if (HoldsProvenance(ext)) {
      EXPECT_EQ(ReadProvenance(with), std::optional<std::string>(kText));
      // The same pixels, and the decoder does not carry it.
      const Raster a = DecodeRaster(plain, "a", {});
      const Raster b = DecodeRaster(with, "b", {});
      EXPECT_TRUE(b.metadata().provenance.empty());
      EXPECT_TRUE(b.metadata().exif.empty());
      ExpectSameImage(Decode(with), Decode(plain));
    } else {
      // PFM and BMP have no place for it: the bytes are the same.
      EXPECT_EQ(with, plain);
      EXPECT_EQ(ReadProvenance(with), std::nullopt);
    }
  }
}

TEST(Provenance, HeldByTheFormatsWithATextSlot) {
  for (const char* ext : {"png", "jpg", "jpeg", "jpe", "tif", "tiff", "webp",
                          "pgm", "ppm", "pnm"}) {
    EXPECT_TRUE(HoldsProvenance(ext)) << ext;
  }
  EXPECT_FALSE(HoldsProvenance("pfm"));
  EXPECT_FALSE(HoldsProvenance("bmp"));
}

TEST(Provenance, StoredInEachFormatsNaturalSlot) {
  const Image img = IntegerImage(Depth::kU8, 3);
  // PNG: a tEXt chunk "convcorr", before IDAT.
  const Bytes png = EncodeImage(img, "png", "o", WithText());
  const size_t text = FindPngChunk(png, "tEXt");
  ASSERT_NE(text, 0u);
  EXPECT_LT(text, FindPngChunk(png, "IDAT"));
  EXPECT_NE(Str(png).find(std::string("tEXtconvcorr") + '\0' + kText),
            std::string::npos);
  // JPEG: a COM marker.
  const Bytes jpg = EncodeImage(img, "jpg", "o", WithText());
  EXPECT_NE(Str(jpg).find(std::string("\xFF\xFE") + char(0) +
                          char(sizeof kText - 1 + 2) + kText),
            std::string::npos);
  // PNM: the comment line after the magic number.
  const Bytes ppm = EncodeImage(img, "ppm", "o", WithText());
  EXPECT_EQ(Str(ppm).substr(0, 3 + sizeof kText + 2),
            std::string("P6\n# ") + kText + "\n");
  // WebP: a CVCR chunk, in an extended (VP8X) file.
  const Bytes webp = EncodeImage(img, "webp", "o", WithText());
  EXPECT_EQ(Str(webp).substr(12, 4), "VP8X");
  EXPECT_NE(Str(webp).find("CVCR"), std::string::npos);
  // TIFF: Software.
  const Bytes tif = EncodeImage(img, "tif", "o", WithText());
  EXPECT_NE(Str(tif).find(std::string(kText) + '\0'), std::string::npos);
}

TEST(Provenance, KeptBesideTheInputsMetadata) {
  Metadata m = WithText();
  m.xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
  m.exif = MakeExif({{false, 0x010F, "Canon"}, {false, 305, "GIMP 2.10"}});
  const Image img = IntegerImage(Depth::kU8, 3);
  for (const std::string ext : {"png", "jpg", "tif", "webp"}) {
    SCOPED_TRACE(ext);
    const Bytes b = EncodeImage(img, ext, "o", m);
    EXPECT_EQ(ReadProvenance(b), std::optional<std::string>(kText));
    const Raster r = DecodeRaster(b, "o", {});
    EXPECT_EQ(r.metadata().xmp, m.xmp);
    EXPECT_TRUE(r.metadata().provenance.empty());
    bool make = false, software = false;
    for (const ExifText& t : ExifTexts(r.metadata().exif)) {
      make |= t.tag == 0x010F && t.text == "Canon";
      software |= t.tag == 305;
    }
    EXPECT_TRUE(make);
    // TIFF's Software is the provenance (and not carried on); the other
    // formats keep the input's EXIF whole.
    EXPECT_EQ(software, ext != "tif");
  }
}

TEST(Provenance, FilesOfOtherToolsHaveNone) {
  const cv::Mat m = Noise(20, 10, CV_8UC3);
  for (const std::string ext :
       {".png", ".jpg", ".tif", ".webp", ".ppm", ".pgm", ".bmp", ".pfm"}) {
    SCOPED_TRACE(ext);
    cv::Mat img = m;
    if (ext == ".pgm") cv::extractChannel(m, img, 0);
    if (ext == ".pfm") m.convertTo(img, CV_32FC3);
    EXPECT_EQ(ReadProvenance(CvEncode(ext, img)), std::nullopt);
  }
}

TEST(Provenance, ForeignTextInTheSameSlotsIsNotOne) {
  const Image img = IntegerImage(Depth::kU8, 1);
  // A JPEG comment of another tool.
  Bytes jpg = EncodeImage(img, "jpg", "o");
  Bytes com = {0xFF, 0xFE};
  const std::string gimp = "Created with GIMP";
  PutBe16(com, static_cast<uint32_t>(gimp.size() + 2));
  Put(com, gimp);
  jpg.insert(jpg.begin() + 2, com.begin(), com.end());
  EXPECT_EQ(ReadProvenance(jpg), std::nullopt);
  // A PNM comment, and a provenance-like comment after the header.
  EXPECT_EQ(ReadProvenance(B("P5\n# CREATOR: GIMP\n1 1\n255\n\x07")),
            std::nullopt);
  EXPECT_EQ(ReadProvenance(B("P5\n1 1\n255\n# convcorr 1 x=y\n")),
            std::nullopt);
  // A PNG tEXt "Comment", and a "convcorr" chunk whose text is not one.
  for (const std::string& chunk : {std::string("Comment\0convcorr 1 x=y", 22),
                                   std::string("convcorr\0made by hand", 21)}) {
    Bytes png = EncodeImage(img, "png", "o");
    Bytes t;
    PutPngChunk(t, "tEXt", Bytes(chunk.begin(), chunk.end()));
    png.insert(png.begin() + 33, t.begin(), t.end());  // after IHDR
    EXPECT_EQ(ReadProvenance(png), std::nullopt);
  }
}

TEST(Provenance, EveryTruncationReadsAsNoneOrTheWholeText) {
  const Image img = IntegerImage(Depth::kU8, 3);
  for (const std::string ext : {"png", "jpg", "tif", "webp", "ppm"}) {
    SCOPED_TRACE(ext);
    const Bytes b = EncodeImage(img, ext, "o", WithText());
    for (size_t n = 0; n < b.size(); n += n < 200 ? 1 : 97) {
      const std::optional<std::string> p = ReadProvenance(Prefix(b, n));
      EXPECT_TRUE(!p || *p == kText) << n;
    }
  }
}

TEST(Provenance, HostileStructuresGiveNone) {
  const std::string text = kText;
  // PNG: a bad CRC; a length past PNG's limit.
  {
    Bytes png =
        EncodeImage(IntegerImage(Depth::kU8, 1), "png", "o", WithText());
    const size_t at = FindPngChunk(png, "tEXt");
    ASSERT_NE(at, 0u);
    Bytes bad = png;
    bad[at + 8 + 12] ^= 1;  // a byte of the text
    EXPECT_EQ(ReadProvenance(bad), std::nullopt);
    Bytes huge = png;
    huge[at] = 0xFF;
    EXPECT_EQ(ReadProvenance(huge), std::nullopt);
  }
  // JPEG: a segment length below 2; a COM longer than the file.
  EXPECT_EQ(ReadProvenance(B("\xFF\xD8\xFF\xFE\x00\x01")), std::nullopt);
  EXPECT_EQ(ReadProvenance(B("\xFF\xD8\xFF\xFE\xFF\xFF" + text)), std::nullopt);
  // Only fill bytes: the steps are bounded.
  EXPECT_EQ(ReadProvenance(B("\xFF\xD8" + std::string(100000, '\xFF'))),
            std::nullopt);
  // TIFF: the IFD past the end; an absurd entry count; Software of the
  // wrong type; Software pointing past the end; a BigTIFF IFD offset near
  // 2^64.
  const auto tiff = [&](uint32_t ifd, uint16_t count, uint16_t type, uint32_t n,
                        uint32_t offset) {
    Bytes b;
    Put(b, "II");
    PutLe16(b, 42);
    PutLe32(b, ifd);
    PutLe16(b, count);
    PutLe16(b, 305);
    PutLe16(b, type);
    PutLe32(b, n);
    PutLe32(b, offset);
    PutLe32(b, 0);
    Put(b, text);
    b.push_back(0);
    return b;
  };
  const uint32_t at = 8 + 2 + 12 + 4;
  const uint32_t n = static_cast<uint32_t>(text.size() + 1);
  EXPECT_EQ(ReadProvenance(tiff(8, 1, 2, n, at)),
            std::optional<std::string>(kText));
  EXPECT_EQ(ReadProvenance(tiff(1u << 30, 1, 2, n, at)), std::nullopt);
  EXPECT_EQ(ReadProvenance(tiff(8, 60000, 2, n, at)), std::nullopt);
  EXPECT_EQ(ReadProvenance(tiff(8, 1, 7, n, at)), std::nullopt);
  EXPECT_EQ(ReadProvenance(tiff(8, 1, 2, n, 0xFFFFFFF0u)), std::nullopt);
  EXPECT_EQ(ReadProvenance(tiff(8, 1, 2, 0xFFFFFFFFu, at)), std::nullopt);
  {
    Bytes big;
    Put(big, "II");
    PutLe16(big, 43);
    PutLe16(big, 8);
    PutLe16(big, 0);
    for (int i = 0; i < 8; ++i) big.push_back(0xFF);
    EXPECT_EQ(ReadProvenance(big), std::nullopt);
  }
  // WebP: the chunk's size past the RIFF; a text that is not printable.
  {
    Bytes w = testing::Webp("CVCR", B(text));
    EXPECT_EQ(ReadProvenance(w), std::optional<std::string>(kText));
    w[16] = 0xFF;  // the chunk's size
    EXPECT_EQ(ReadProvenance(w), std::nullopt);
    EXPECT_EQ(ReadProvenance(testing::Webp("CVCR", B(text + "\n"))),
              std::nullopt);
  }
  // PNM: a comment cut short (no end of line).
  EXPECT_EQ(ReadProvenance(B("P6\n# " + text)), std::nullopt);
  // Too long for any slot.
  EXPECT_EQ(
      ReadProvenance(B("P6\n# " + text + std::string(kMaxProvenanceSize, 'x') +
                       "\n1 1\n255\n")),
      std::nullopt);
  EXPECT_EQ(ReadProvenance(Bytes{}), std::nullopt);
}

TEST(Provenance, TextIsPrintableAsciiWithThePrefixAndBounded) {
  EXPECT_TRUE(IsProvenanceText(kText));
  EXPECT_FALSE(IsProvenanceText(""));
  EXPECT_FALSE(IsProvenanceText("convcorr"));
  EXPECT_FALSE(IsProvenanceText("Convcorr 1 x=y"));
  EXPECT_FALSE(IsProvenanceText("convcorr 1\nx=y"));
  EXPECT_FALSE(IsProvenanceText("convcorr 1 caf\xC3\xA9"));
  EXPECT_TRUE(
      IsProvenanceText("convcorr " + std::string(kMaxProvenanceSize - 9, 'x')));
  EXPECT_FALSE(
      IsProvenanceText("convcorr " + std::string(kMaxProvenanceSize - 8, 'x')));
  // The encoders refuse a malformed one: a bug in the caller.
  EXPECT_TRUE(ThrowsKind(
      [] {
        EncodeImage(IntegerImage(Depth::kU8, 1), "png", "o",
                    WithText("made\nby hand"));
      },
      ErrorKind::kInternal));
}

TEST(Provenance, ReadFromFilesWithoutDecoding) {
  TempDir dir;
  const Bytes b =
      EncodeImage(IntegerImage(Depth::kU8, 3), "webp", "o", WithText());
  testing::WriteFile(dir / "a.webp", b);
  EXPECT_EQ(ReadProvenance(dir / "a.webp"), std::optional<std::string>(kText));
  EXPECT_EQ(ReadProvenance(dir / "missing.webp"), std::nullopt);
  EXPECT_EQ(ReadProvenance(dir.path()), std::nullopt);
  testing::WriteFile(dir / "empty.png", Bytes{});
  EXPECT_EQ(ReadProvenance(dir / "empty.png"), std::nullopt);
}

}  // namespace
}  // namespace convcorr::io

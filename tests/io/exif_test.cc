// The EXIF reader and rewriter (src/io/exif.cc) on blocks laid out by a
// small writer of its own here, in both byte orders, as cameras lay them
// out (IFD0, Exif, GPS and Interop IFDs, then IFD1 and its thumbnail at the
// end) and otherwise; on hostile blocks (offsets past the end, loops, huge
// counts, truncations and mutations of a real-looking block), which must
// give 0 or empty and never read out of bounds (run under ASan to check);
// and, where exiftool is installed, as exiftool reads them.
#include "io/exif.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace convcorr::io {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kShort = 3;
constexpr uint16_t kLong = 4;
constexpr uint16_t kAscii = 2;

// A field to write: its value's bytes, already in the block's byte order.
struct Field {
  uint16_t tag;
  uint16_t type;
  uint32_t count;
  Bytes value;
};

// Where AddIfd put an IFD.
struct Placed {
  uint32_t offset = 0;    // the IFD's
  uint32_t link_pos = 0;  // its next-IFD link's
  uint32_t used_end = 0;  // end of its last byte (link or value), no pad
  std::vector<uint32_t> value_pos;  // each field's value (or offset) field
};

// Lays out a TIFF structure front to back: each IFD is followed by its
// out-of-line values, on even offsets. Independent of exif.cc on purpose.
class TiffWriter {
 public:
  explicit TiffWriter(bool big_endian) : be_(big_endian) {
    const std::string_view mark = be_ ? "MM\0*"sv : "II*\0"sv;
    bytes_.assign(mark.begin(), mark.end());
    Append32(bytes_, 8);
  }

  bool big_endian() const { return be_; }
  const Bytes& bytes() const { return bytes_; }

  Bytes U16(std::initializer_list<uint32_t> vs) const {
    Bytes b;
    for (uint32_t v : vs) Append16(b, v);
    return b;
  }
  Bytes U32(std::initializer_list<uint32_t> vs) const {
    Bytes b;
    for (uint32_t v : vs) Append32(b, v);
    return b;
  }
  Field Short(uint16_t tag, uint32_t v) const {
    return {tag, kShort, 1, U16({v})};
  }
  Field Long(uint16_t tag, uint32_t v) const {
    return {tag, kLong, 1, U32({v})};
  }
  static Field Ascii(uint16_t tag, std::string_view s) {
    Bytes b(s.begin(), s.end());
    b.push_back(0);
    return {tag, kAscii, static_cast<uint32_t>(b.size()), b};
  }
  Field Rational(uint16_t tag, std::initializer_list<uint32_t> num_den) const {
    return {tag, 5, static_cast<uint32_t>(num_den.size() / 2), U32(num_den)};
  }

  // Appends an IFD of `fields` (in the order given) and their values.
  Placed AddIfd(const std::vector<Field>& fields) {
    Pad();
    Placed p;
    p.offset = Size();
    Append16(bytes_, static_cast<uint32_t>(fields.size()));
    uint32_t value_at = p.offset + 2 + 12 * fields.size() + 4;
    Bytes values;
    for (const Field& f : fields) {
      Append16(bytes_, f.tag);
      Append16(bytes_, f.type);
      Append32(bytes_, f.count);
      p.value_pos.push_back(Size());
      if (f.value.size() <= 4) {
        Bytes v = f.value;
        v.resize(4, 0);
        bytes_.insert(bytes_.end(), v.begin(), v.end());
      } else {
        Append32(bytes_, value_at);
        values.insert(values.end(), f.value.begin(), f.value.end());
        value_at += f.value.size();
        if (values.size() % 2) {
          values.push_back(0);
          ++value_at;
        }
      }
    }
    p.link_pos = Size();
    Append32(bytes_, 0);
    p.used_end = Size();
    bytes_.insert(bytes_.end(), values.begin(), values.end());
    if (!values.empty()) {
      p.used_end = Size();
      // The last value's pad byte is no part of it.
      if (fields.back().value.size() > 4 && fields.back().value.size() % 2) {
        --p.used_end;
      }
    }
    return p;
  }

  uint32_t AppendRaw(const Bytes& raw) {
    Pad();
    const uint32_t at = Size();
    bytes_.insert(bytes_.end(), raw.begin(), raw.end());
    return at;
  }

  void Set32(uint32_t pos, uint32_t v) {
    Bytes b;
    Append32(b, v);
    std::copy(b.begin(), b.end(), bytes_.begin() + pos);
  }

 private:
  uint32_t Size() const { return static_cast<uint32_t>(bytes_.size()); }
  void Pad() {
    if (bytes_.size() % 2) bytes_.push_back(0);
  }
  void Append16(Bytes& b, uint32_t v) const {
    const uint8_t hi = static_cast<uint8_t>(v >> 8),
                  lo = static_cast<uint8_t>(v);
    b.push_back(be_ ? hi : lo);
    b.push_back(be_ ? lo : hi);
  }
  void Append32(Bytes& b, uint32_t v) const {
    Append16(b, be_ ? v >> 16 : v & 0xFFFF);
    Append16(b, be_ ? v & 0xFFFF : v >> 16);
  }

  bool be_;
  Bytes bytes_;
};

uint32_t Read32(const Bytes& b, size_t at, bool big_endian) {
  return big_endian ? (uint32_t{b[at]} << 24) | (b[at + 1] << 16) |
                          (b[at + 2] << 8) | b[at + 3]
                    : b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) |
                          (uint32_t{b[at + 3]} << 24);
}

constexpr std::string_view kMake = "Canon";
constexpr std::string_view kModel = "Canon EOS 5D Mark IV";
constexpr std::string_view kDateTime = "2024:05:06 07:08:09";
constexpr std::string_view kArtist = "Al";  // 3 bytes with NUL: inline
constexpr std::string_view kDateTimeOriginal = "2024:05:06 07:08:00";
constexpr std::string_view kOffsetTime = "+02:00";
// What the fake thumbnail holds, to look for after it should be gone.
constexpr std::string_view kThumbnailMark =
    "THUMBNAIL PIXELS OF THE UNFILTERED";

Bytes FakeJpeg() {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xDB};
  b.insert(b.end(), kThumbnailMark.begin(), kThumbnailMark.end());
  b.insert(b.end(), {0xFF, 0xD9});
  return b;
}

enum class Thumbnail {
  kNone,
  kJpegAtEnd,       // as cameras write it
  kStripsAtEnd,     // an uncompressed thumbnail in two strips
  kJpegBeforeExif,  // IFD1 and the JPEG between IFD0 and the Exif IFD
};

struct Sample {
  Bytes bytes;
  uint32_t ifd0_link_pos = 0;
  uint32_t orientation_value_pos = 0;
  uint32_t kept_end = 0;  // end of the bytes of IFD0, Exif, GPS, Interop
};

// A block as a camera writes it: IFD0 (Make, Model, Orientation as
// `orientation_type`, DateTime, Artist, Exif and GPS pointers), the Exif
// IFD (ExposureTime, ExifVersion, DateTimeOriginal, OffsetTime, Interop
// pointer), the Interop IFD, the GPS IFD, then IFD1 and its thumbnail.
Sample MakeSample(bool big_endian, uint32_t orientation,
                  Thumbnail thumbnail = Thumbnail::kJpegAtEnd,
                  uint16_t orientation_type = kShort) {
  TiffWriter w(big_endian);
  Field orient = w.Short(0x0112, orientation);
  if (orientation_type == kLong) orient = w.Long(0x0112, orientation);
  const Placed ifd0 = w.AddIfd({
      w.Ascii(0x010F, kMake), w.Ascii(0x0110, kModel), orient,
      w.Ascii(0x0132, kDateTime), w.Ascii(0x013B, kArtist),
      w.Long(0x8769, 0),  // Exif IFD, set below
      w.Long(0x8825, 0),  // GPS IFD, set below
  });
  uint32_t kept_end = ifd0.used_end;
  // IFD1 (and its data) where the thumbnail goes; returns IFD1's offset.
  const auto add_thumbnail = [&]() -> uint32_t {
    if (thumbnail == Thumbnail::kStripsAtEnd) {
      const Placed ifd1 = w.AddIfd({
          w.Short(0x0100, 4),                   // ImageWidth
          w.Short(0x0101, 2),                   // ImageLength
          w.Short(0x0103, 1),                   // Compression: none
          {0x0111, kLong, 2, w.U32({0, 0})},    // StripOffsets
          w.Short(0x0116, 1),                   // RowsPerStrip
          {0x0117, kLong, 2, w.U32({12, 12})},  // StripByteCounts
      });
      Bytes strip(kThumbnailMark.begin(), kThumbnailMark.begin() + 12);
      const uint32_t a = w.AppendRaw(strip);
      const uint32_t b = w.AppendRaw(strip);
      // The offsets (8 bytes) are out of line: the entry holds where.
      const uint32_t where = Read32(w.bytes(), ifd1.value_pos[3], big_endian);
      w.Set32(where, a);
      w.Set32(where + 4, b);
      return ifd1.offset;
    }
    const Bytes jpeg = FakeJpeg();
    const Placed ifd1 = w.AddIfd({
        w.Short(0x0103, 6),  // JPEG
        w.Long(0x0201, 0),   // set below
        w.Long(0x0202, static_cast<uint32_t>(jpeg.size())),
    });
    w.Set32(ifd1.value_pos[1], w.AppendRaw(jpeg));
    return ifd1.offset;
  };
  uint32_t ifd1 = 0;
  if (thumbnail == Thumbnail::kJpegBeforeExif) ifd1 = add_thumbnail();
  const Placed exif = w.AddIfd({
      w.Rational(0x829A, {1, 250}),          // ExposureTime
      {0x9000, 7, 4, {'0', '2', '3', '1'}},  // ExifVersion
      w.Ascii(0x9003, kDateTimeOriginal),
      w.Ascii(0x9010, kOffsetTime),
      w.Long(0xA005, 0),  // Interop, set below
  });
  w.Set32(ifd0.value_pos[5], exif.offset);
  const Placed interop = w.AddIfd({w.Ascii(0x0001, "R98")});
  w.Set32(exif.value_pos[4], interop.offset);
  // GPS last: its latitude is the last byte to keep.
  const Placed gps = w.AddIfd({
      {0x0000, 1, 4, {2, 3, 0, 0}},                   // GPSVersionID
      w.Ascii(0x0001, "N"),                           // GPSLatitudeRef
      w.Rational(0x0002, {48, 1, 51, 1, 2406, 100}),  // GPSLatitude
  });
  w.Set32(ifd0.value_pos[6], gps.offset);
  kept_end =
      std::max({kept_end, exif.used_end, gps.used_end, interop.used_end});
  if (thumbnail == Thumbnail::kJpegAtEnd ||
      thumbnail == Thumbnail::kStripsAtEnd) {
    ifd1 = add_thumbnail();
  }
  w.Set32(ifd0.link_pos, ifd1);
  return {w.bytes(), ifd0.link_pos, ifd0.value_pos[2], kept_end};
}

bool Contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(),
                     needle.end()) != haystack.end();
}

std::vector<ExifText> SampleTexts() {
  return {{false, 0x010F, std::string(kMake)},
          {false, 0x0110, std::string(kModel)},
          {false, 0x0132, std::string(kDateTime)},
          {false, 0x013B, std::string(kArtist)},
          {true, 0x9003, std::string(kDateTimeOriginal)},
          {true, 0x9010, std::string(kOffsetTime)}};
}

using TextTuple = std::tuple<bool, uint16_t, std::string>;
std::vector<TextTuple> Tuples(const std::vector<ExifText>& texts) {
  std::vector<TextTuple> out;
  for (const ExifText& t : texts) out.emplace_back(t.exif_ifd, t.tag, t.text);
  return out;
}

std::vector<TextTuple> SortedTuples(const std::vector<ExifText>& texts) {
  std::vector<TextTuple> out = Tuples(texts);
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------
// ExifOrientation

TEST(ExifOrientation, ReadsEveryValidValueInBothByteOrders) {
  for (bool be : {false, true}) {
    for (uint32_t o = 1; o <= 8; ++o) {
      EXPECT_EQ(ExifOrientation(MakeSample(be, o).bytes), static_cast<int>(o))
          << "big-endian " << be;
    }
  }
}

TEST(ExifOrientation, InvalidValuesAndTypesGiveZero) {
  for (bool be : {false, true}) {
    for (uint32_t o : {0u, 9u, 0x0100u, 0xFFFFu}) {
      EXPECT_EQ(ExifOrientation(MakeSample(be, o).bytes), 0) << o;
    }
    // Orientation is a SHORT; a LONG 6 is not read as 6.
    EXPECT_EQ(ExifOrientation(MakeSample(be, 6, Thumbnail::kNone, kLong).bytes),
              0);
  }
}

TEST(ExifOrientation, CountZeroAbsentOrElsewhereGivesZero) {
  for (bool be : {false, true}) {
    TiffWriter w(be);
    w.AddIfd({{0x0112, kShort, 0, w.U16({6})}});
    EXPECT_EQ(ExifOrientation(w.bytes()), 0);

    TiffWriter absent(be);
    absent.AddIfd({absent.Ascii(0x010F, kMake)});
    EXPECT_EQ(ExifOrientation(absent.bytes()), 0);

    // Only IFD0's counts: an Orientation in the Exif IFD is not the image's.
    TiffWriter elsewhere(be);
    const Placed ifd0 = elsewhere.AddIfd({elsewhere.Long(0x8769, 0)});
    const Placed exif = elsewhere.AddIfd({elsewhere.Short(0x0112, 6)});
    elsewhere.Set32(ifd0.value_pos[0], exif.offset);
    EXPECT_EQ(ExifOrientation(elsewhere.bytes()), 0);
  }
}

TEST(ExifOrientation, ReadsTheFirstOfSeveralShorts) {
  for (bool be : {false, true}) {
    TiffWriter inline_two(be);
    inline_two.AddIfd({{0x0112, kShort, 2, inline_two.U16({8, 3})}});
    EXPECT_EQ(ExifOrientation(inline_two.bytes()), 8);
    // Three SHORTs are out of line.
    TiffWriter three(be);
    three.AddIfd({{0x0112, kShort, 3, three.U16({5, 1, 1})}});
    EXPECT_EQ(ExifOrientation(three.bytes()), 5);
  }
}

// ---------------------------------------------------------------------------
// ExifForOutput

TEST(ExifForOutput, CutsOffAThumbnailAtTheEnd) {
  for (bool be : {false, true}) {
    for (Thumbnail t : {Thumbnail::kJpegAtEnd, Thumbnail::kStripsAtEnd}) {
      SCOPED_TRACE(::testing::Message() << "big-endian " << be << ", strips "
                                        << (t == Thumbnail::kStripsAtEnd));
      const Sample s = MakeSample(be, 6, t);
      ASSERT_TRUE(Contains(s.bytes, kThumbnailMark.substr(0, 12)));
      ASSERT_NE(Read32(s.bytes, s.ifd0_link_pos, be), 0u);
      const Bytes out = ExifForOutput(s.bytes, false);
      ASSERT_EQ(out.size(), s.kept_end);
      EXPECT_LT(out.size(), s.bytes.size());
      EXPECT_EQ(Read32(out, s.ifd0_link_pos, be), 0u);
      EXPECT_FALSE(Contains(out, kThumbnailMark.substr(0, 12)));
      EXPECT_EQ(out[0], be ? 'M' : 'I');
      // Everything kept is byte for byte what it was, but for the link.
      Bytes expected(s.bytes.begin(), s.bytes.begin() + s.kept_end);
      std::fill_n(expected.begin() + s.ifd0_link_pos, 4, 0);
      EXPECT_EQ(out, expected);
      EXPECT_EQ(ExifOrientation(out), 6);
      EXPECT_EQ(Tuples(ExifTexts(out)), Tuples(SampleTexts()));
    }
  }
}

TEST(ExifForOutput, ResetsOrientationToOneInPlace) {
  for (bool be : {false, true}) {
    for (uint32_t o = 1; o <= 8; ++o) {
      const Sample s = MakeSample(be, o);
      const Bytes kept = ExifForOutput(s.bytes, false);
      const Bytes reset = ExifForOutput(s.bytes, true);
      EXPECT_EQ(ExifOrientation(kept), static_cast<int>(o));
      EXPECT_EQ(ExifOrientation(reset), 1);
      ASSERT_EQ(reset.size(), kept.size());
      // Only the value's bytes differ.
      Bytes expected = kept;
      expected[s.orientation_value_pos + (be ? 1 : 0)] = 1;
      expected[s.orientation_value_pos + (be ? 0 : 1)] = 0;
      EXPECT_EQ(reset, expected);
      EXPECT_EQ(Tuples(ExifTexts(reset)), Tuples(SampleTexts()));
      // A second pass changes nothing.
      EXPECT_EQ(ExifForOutput(reset, true), reset);
    }
  }
}

TEST(ExifForOutput, ResetsAnInvalidOrientationButAddsNone) {
  for (bool be : {false, true}) {
    // A LONG (or a value out of range) still makes readers turn the image.
    const Sample as_long = MakeSample(be, 6, Thumbnail::kNone, kLong);
    EXPECT_EQ(ExifOrientation(ExifForOutput(as_long.bytes, true)), 1);
    EXPECT_EQ(ExifOrientation(ExifForOutput(MakeSample(be, 9).bytes, true)), 1);

    TiffWriter w(be);
    w.AddIfd({w.Ascii(0x010F, kMake)});
    const Bytes out = ExifForOutput(w.bytes(), true);
    EXPECT_EQ(out, w.bytes());
    EXPECT_EQ(ExifOrientation(out), 0);
  }
}

TEST(ExifForOutput, WithoutThumbnailIsACopy) {
  for (bool be : {false, true}) {
    const Sample s = MakeSample(be, 3, Thumbnail::kNone);
    EXPECT_EQ(ExifForOutput(s.bytes, false), s.bytes);
  }
}

TEST(ExifForOutput, ThumbnailAmongKeptBytesIsOnlyUnlinked) {
  for (bool be : {false, true}) {
    const Sample s = MakeSample(be, 8, Thumbnail::kJpegBeforeExif);
    const Bytes out = ExifForOutput(s.bytes, true);
    ASSERT_EQ(out.size(), s.bytes.size());
    EXPECT_EQ(Read32(out, s.ifd0_link_pos, be), 0u);
    EXPECT_EQ(ExifOrientation(out), 1);
    EXPECT_EQ(Tuples(ExifTexts(out)), Tuples(SampleTexts()));
  }
}

TEST(ExifForOutput, KeepsBytesWhereTheyMayBelongToSomething) {
  for (bool be : {false, true}) {
    // An Exif pointer that leads nowhere readable: where the Exif IFD's
    // bytes are is unknown, so nothing is cut.
    TiffWriter w(be);
    const Placed ifd0 = w.AddIfd({w.Long(0x8769, 0xFFFFFF00)});
    const Placed ifd1 = w.AddIfd({w.Long(0x0201, 0), w.Long(0x0202, 4)});
    w.Set32(ifd1.value_pos[0], w.AppendRaw({0xFF, 0xD8, 0xFF, 0xD9}));
    w.Set32(ifd0.link_pos, ifd1.offset);
    Bytes out = ExifForOutput(w.bytes(), false);
    ASSERT_EQ(out.size(), w.bytes().size());
    EXPECT_EQ(Read32(out, ifd0.link_pos, be), 0u);

    // A thumbnail offset that cannot be read (a SHORT array past the end).
    TiffWriter bad(be);
    const Placed b0 = bad.AddIfd({bad.Ascii(0x010F, kMake)});
    const Placed b1 = bad.AddIfd({{0x0111, kShort, 3, bad.U16({0, 0, 0})}});
    bad.Set32(b0.link_pos, b1.offset);
    bad.Set32(b1.value_pos[0], 0xFFFFFFF0);
    out = ExifForOutput(bad.bytes(), false);
    ASSERT_EQ(out.size(), bad.bytes().size());
    EXPECT_EQ(Read32(out, b0.link_pos, be), 0u);

    // IFD1 at the end, but one of its values among the kept bytes (it
    // shares the Exif IFD's ExposureTime): cutting would lose it.
    TiffWriter shared(be);
    const Placed s0 = shared.AddIfd({shared.Long(0x8769, 0)});
    const Placed s1 = shared.AddIfd({shared.Rational(0x829A, {1, 250})});
    shared.Set32(s0.value_pos[0], s1.offset);
    const Placed s2 = shared.AddIfd({shared.Rational(0x011A, {72, 1})});
    shared.Set32(s0.link_pos, s2.offset);
    shared.Set32(s2.value_pos[0], Read32(shared.bytes(), s1.value_pos[0], be));
    out = ExifForOutput(shared.bytes(), false);
    ASSERT_EQ(out.size(), shared.bytes().size());
    EXPECT_EQ(Read32(out, s0.link_pos, be), 0u);

    // IFD0 points at image data of its own (strips, as a TIFF file's IFD0
    // does), which exif.cc does not follow: it may lie past the thumbnail.
    TiffWriter strips(be);
    const Placed t0 =
        strips.AddIfd({strips.Long(0x0111, 0), strips.Long(0x0117, 4)});
    const Placed t1 =
        strips.AddIfd({strips.Long(0x0201, 0), strips.Long(0x0202, 4)});
    strips.Set32(t0.link_pos, t1.offset);
    strips.Set32(t1.value_pos[0], strips.AppendRaw({0xFF, 0xD8, 0xFF, 0xD9}));
    strips.Set32(t0.value_pos[0], strips.AppendRaw({1, 2, 3, 4}));
    out = ExifForOutput(strips.bytes(), false);
    ASSERT_EQ(out.size(), strips.bytes().size());
    EXPECT_EQ(Read32(out, t0.link_pos, be), 0u);
  }
}

// ---------------------------------------------------------------------------
// ExifTexts and MakeExif

TEST(ExifTexts, ReadsIfd0AndExifIfdTextsOnly) {
  for (bool be : {false, true}) {
    // GPS's "N" and Interop's "R98" are not among them.
    EXPECT_EQ(Tuples(ExifTexts(MakeSample(be, 1).bytes)),
              Tuples(SampleTexts()));
  }
}

TEST(ExifTexts, TakesTextUpToTheFirstNulAsStored) {
  for (bool be : {false, true}) {
    TiffWriter w(be);
    w.AddIfd({
        w.Ascii(0x010E, "two\0strings"sv),               // up to the first NUL
        {0x010F, kAscii, 5, {'N', 'i', 'k', 'o', 'n'}},  // no NUL at all
        w.Ascii(0x0110, "E-M1  "),                       // trailing spaces kept
        {0x0131, kAscii, 0, {}},                         // count 0: skipped
        {0x0132, kAscii, 20, w.U32({0xFFFFFF00})},       // past the end
        w.Ascii(0x013B, ""),              // a lone NUL: empty text
        {0x013C, kShort, 1, w.U16({7})},  // not ASCII
        w.Ascii(0x013B, "second"),        // a repeated tag: first wins
    });
    EXPECT_EQ(Tuples(ExifTexts(w.bytes())),
              (std::vector<TextTuple>{{false, 0x010E, "two"},
                                      {false, 0x010F, "Nikon"},
                                      {false, 0x0110, "E-M1  "},
                                      {false, 0x013B, ""}}));
  }
}

TEST(MakeExif, RoundTripsTextsSortedByIfdAndTag) {
  std::vector<ExifText> texts = SampleTexts();
  std::reverse(texts.begin(), texts.end());
  texts.push_back({false, 0x010E, "a longer description, odd length"});
  texts.push_back({true, 0x9291, ""});     // SubSecTimeOriginal, empty
  texts.push_back({true, 0x9290, "123"});  // 4 bytes with NUL: inline
  texts.push_back({false, 0x0131, "ab"});
  const Bytes b = MakeExif(texts);
  ASSERT_GE(b.size(), 8u);
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 4), (Bytes{'I', 'I', 42, 0}));
  EXPECT_EQ(Read32(b, 4, false), 8u);
  EXPECT_EQ(Tuples(ExifTexts(b)), SortedTuples(texts));
  EXPECT_EQ(ExifForOutput(b, false), b);  // no IFD1
}

TEST(MakeExif, LaysOutEntriesAscendingWithEvenOffsets) {
  const Bytes b = MakeExif({{true, 0x9003, std::string(kDateTimeOriginal)},
                            {false, 0xA000, "after the pointer"},
                            {false, 0x010F, "Canon"}});
  // IFD0: Make, the Exif pointer, then 0xA000 (tags ascend).
  ASSERT_GE(b.size(), 8u + 2 + 3 * 12 + 4);
  const auto u16 = [&](size_t at) { return b[at] | (b[at + 1] << 8); };
  ASSERT_EQ(u16(8), 3);
  EXPECT_EQ(u16(10), 0x010F);
  EXPECT_EQ(u16(22), 0x8769);
  EXPECT_EQ(u16(24), kLong);
  EXPECT_EQ(u16(34), 0xA000);
  EXPECT_EQ(Read32(b, 8 + 2 + 3 * 12, false), 0u);  // no IFD1
  const uint32_t exif = Read32(b, 22 + 8, false);
  EXPECT_EQ(exif % 2, 0u);
  EXPECT_EQ(Read32(b, 10 + 8, false) % 2, 0u);
  EXPECT_EQ(Read32(b, 34 + 8, false) % 2, 0u);
  ASSERT_LE(exif + 2 + 12 + 4, b.size());
  EXPECT_EQ(u16(exif), 1);
  EXPECT_EQ(u16(exif + 2), 0x9003);
  EXPECT_EQ(Read32(b, exif + 2 + 12, false), 0u);
  const uint32_t value = Read32(b, exif + 2 + 8, false);
  EXPECT_EQ(value % 2, 0u);
  ASSERT_LE(value + kDateTimeOriginal.size() + 1, b.size());
  EXPECT_EQ(std::string(b.begin() + value,
                        b.begin() + value + kDateTimeOriginal.size() + 1),
            std::string(kDateTimeOriginal) + '\0');
}

TEST(MakeExif, EmptyInputAndOnlyPointerTagsGiveNothing) {
  EXPECT_TRUE(MakeExif({}).empty());
  EXPECT_TRUE(MakeExif({{false, 0x8769, "12"}, {true, 0xA005, "x"}}).empty());
}

TEST(MakeExif, ExifTextsAloneGetAnIfd0WithOnlyThePointer) {
  const std::vector<ExifText> texts = {{true, 0x9003, "2020:01:01 00:00:00"}};
  const Bytes b = MakeExif(texts);
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b[8] | (b[9] << 8), 1);
  EXPECT_EQ(Tuples(ExifTexts(b)), Tuples(texts));
}

TEST(MakeExif, KeepsTheFirstOfRepeatedTagsAndTruncatesAtNul) {
  const Bytes b = MakeExif({{false, 0x010F, "first"},
                            {false, 0x010F, "second"},
                            {true, 0x010F, "same tag, other IFD"},
                            {false, 0x0110, "model\0hidden"s}});
  EXPECT_EQ(Tuples(ExifTexts(b)),
            (std::vector<TextTuple>{{false, 0x010F, "first"},
                                    {false, 0x0110, "model"},
                                    {true, 0x010F, "same tag, other IFD"}}));
}

TEST(MakeExif, RoundTripsTextsReadFromBigEndian) {
  const std::vector<ExifText> read = ExifTexts(MakeSample(true, 1).bytes);
  EXPECT_EQ(SortedTuples(ExifTexts(MakeExif(read))), SortedTuples(read));
}

// ---------------------------------------------------------------------------
// exiftool, where installed, as the independent reader.

// A temporary file, removed when the test ends.
class TempFile {
 public:
  TempFile() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "convcorr-exif-XXXXXX")
            .string();
    const int fd = mkstemp(tmpl.data());
    if (fd >= 0) {
      close(fd);
      path_ = tmpl;
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool HaveExiftool() {
  return std::system("exiftool -ver >/dev/null 2>&1") == 0;
}

// What `exiftool -args -G1 -a -validate -warning -EXIF:all` says of `exif`
// in a JPEG's APP1 segment (SOI, APP1, EOI: no image, which exiftool
// reports as JPEG warnings that are no concern here).
std::string Exiftool(const Bytes& exif) {
  TempFile file;
  if (file.path().empty()) return "(no temporary file)";
  Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE1};
  const size_t length = 2 + 6 + exif.size();
  jpeg.push_back(static_cast<uint8_t>(length >> 8));
  jpeg.push_back(static_cast<uint8_t>(length));
  for (char c : "Exif\0"sv) jpeg.push_back(static_cast<uint8_t>(c));
  jpeg.push_back(0);
  jpeg.insert(jpeg.end(), exif.begin(), exif.end());
  jpeg.insert(jpeg.end(), {0xFF, 0xD9});
  {
    std::ofstream out(file.path(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
  }
  const std::string cmd =
      "exiftool -args -G1 -a -validate -warning "
      "-EXIF:all '" +
      file.path() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "(popen failed)";
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    text.append(buf.data(), n);
  pclose(pipe);
  return text;
}

// Warnings exiftool gives about the structure itself (order of entries,
// odd offsets, bad counts...), leaving out those about a JPEG without
// image data and the tags a camera must write that a tool need not.
std::vector<std::string> StructureWarnings(const std::string& report) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < report.size()) {
    size_t end = report.find('\n', pos);
    if (end == std::string::npos) end = report.size();
    const std::string line = report.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view prefix = "-ExifTool:Warning=";
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string w = line.substr(prefix.size());
    if (w.rfind("Missing required", 0) == 0 || w == "Missing JPEG SOS" ||
        w == "JPEG format error") {
      continue;
    }
    out.push_back(w);
  }
  return out;
}

TEST(ExifExiftool, ReadsWhatMakeExifWrites) {
  if (!HaveExiftool()) GTEST_SKIP() << "exiftool is not installed";
  std::vector<ExifText> texts = SampleTexts();
  texts.push_back({false, 0x010E, "odd length!"});
  const std::string report = Exiftool(MakeExif(texts));
  EXPECT_TRUE(StructureWarnings(report).empty()) << report;
  for (std::string_view line :
       {"-IFD0:Make=Canon\n"sv, "-IFD0:Model=Canon EOS 5D Mark IV\n"sv,
        "-IFD0:ModifyDate=2024:05:06 07:08:09\n"sv, "-IFD0:Artist=Al\n"sv,
        "-IFD0:ImageDescription=odd length!\n"sv,
        "-ExifIFD:DateTimeOriginal=2024:05:06 07:08:00\n"sv,
        "-ExifIFD:OffsetTime=+02:00\n"sv}) {
    EXPECT_NE(report.find(line), std::string::npos) << line << report;
  }
}

TEST(ExifExiftool, ReadsWhatExifForOutputKeepsAndNoThumbnail) {
  if (!HaveExiftool()) GTEST_SKIP() << "exiftool is not installed";
  for (bool be : {false, true}) {
    const Sample s = MakeSample(be, 6);
    const std::string before = Exiftool(s.bytes);
    // The writer's block is one exiftool reads whole, thumbnail included.
    ASSERT_TRUE(StructureWarnings(before).empty()) << before;
    ASSERT_NE(before.find("-IFD1:ThumbnailImage="), std::string::npos)
        << before;
    ASSERT_NE(before.find("-IFD0:Orientation=Rotate 90 CW\n"),
              std::string::npos)
        << before;
    const std::string after = Exiftool(ExifForOutput(s.bytes, true));
    EXPECT_TRUE(StructureWarnings(after).empty()) << after;
    EXPECT_EQ(after.find("-IFD1:"), std::string::npos) << after;
    for (std::string_view line :
         {"-IFD0:Orientation=Horizontal (normal)\n"sv, "-IFD0:Make=Canon\n"sv,
          "-ExifIFD:DateTimeOriginal=2024:05:06 07:08:00\n"sv,
          "-ExifIFD:ExposureTime=1/250\n"sv, "-GPS:GPSLatitudeRef=North\n"sv,
          "-GPS:GPSLatitude=48 deg 51' 24.06\"\n"sv,
          "-InteropIFD:InteropIndex=R98 - DCF basic file (sRGB)\n"sv}) {
      EXPECT_NE(after.find(line), std::string::npos) << line << after;
    }
  }
}

// ---------------------------------------------------------------------------
// Hostile input

// `b` with IFD0's next-IFD link set to 0, where it fits: what
// ExifForOutput(b, false) must read as, however much it cuts.
Bytes Unlinked(Bytes b) {
  if (b.size() < 10) return b;
  const bool be = b[0] == 'M';
  const uint64_t ifd0 = Read32(b, 4, be);
  if (ifd0 > b.size() - 2) return b;
  const uint64_t n =
      be ? (b[ifd0] << 8) | b[ifd0 + 1] : b[ifd0] | (b[ifd0 + 1] << 8);
  const uint64_t link = ifd0 + 2 + 12 * n;
  if (link + 4 <= b.size()) std::fill_n(b.begin() + link, 4, 0);
  return b;
}

// What must hold of any input: no crash (ASan); an output no longer than
// the input, which reads again, with what the input held (the cut lost
// none of it) and Orientation 1 after a reset.
void CheckAnyInput(const Bytes& b) {
  const int o = ExifOrientation(b);
  EXPECT_TRUE(o >= 0 && o <= 8);
  const std::vector<ExifText> texts = ExifTexts(b);
  for (bool reset : {false, true}) {
    const Bytes out = ExifForOutput(b, reset);
    if (out.empty()) {
      EXPECT_EQ(o, 0);
      EXPECT_TRUE(texts.empty());
      continue;
    }
    EXPECT_LE(out.size(), b.size());
    EXPECT_FALSE(ExifForOutput(out, reset).empty());
    if (reset) {
      EXPECT_EQ(ExifOrientation(out), o != 0 ? 1 : ExifOrientation(out));
      EXPECT_LE(ExifOrientation(out), 1);
    } else {
      const Bytes unlinked = Unlinked(b);
      EXPECT_EQ(ExifOrientation(out), ExifOrientation(unlinked));
      EXPECT_EQ(Tuples(ExifTexts(out)), Tuples(ExifTexts(unlinked)));
    }
  }
}

TEST(ExifHostile, TooShortOrNotTiffGivesNothing) {
  const std::vector<Bytes> inputs = {
      {},
      {'I', 'I', 42, 0},
      {'I', 'I', 42, 0, 8, 0, 0},
      {'I', 'M', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {'I', 'I', 43, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // BigTIFF
      {'M', 'M', 42, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0},  // LE magic in MM
      {'I', 'I', 42, 0, 8, 0, 0, 0, 0},                 // count cut short
      {'I', 'I', 42, 0, 9, 0, 0, 0, 0},                 // IFD0 past the end
      {'I', 'I', 42, 0, 0, 0, 0, 0, 0, 0, 0, 0},        // IFD0 in the header
      {'I', 'I', 42, 0, 4, 0, 0, 0, 0, 0, 0, 0},
      {'M', 'M', 0, 42, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0},
  };
  for (const Bytes& b : inputs) {
    EXPECT_EQ(ExifOrientation(b), 0);
    EXPECT_TRUE(ExifForOutput(b, true).empty());
    EXPECT_TRUE(ExifForOutput(b, false).empty());
    EXPECT_TRUE(ExifTexts(b).empty());
  }
}

TEST(ExifHostile, TruncatedEntriesGiveNothing) {
  for (bool be : {false, true}) {
    TiffWriter w(be);
    w.AddIfd({w.Short(0x0112, 6), w.Ascii(0x010F, "ab")});
    Bytes b = w.bytes();
    // Claims 0xFFFF entries; holds two.
    b[be ? 8 : 9] = 0xFF;
    b[be ? 9 : 8] = 0xFF;
    EXPECT_EQ(ExifOrientation(b), 0);
    EXPECT_TRUE(ExifForOutput(b, true).empty());
    EXPECT_TRUE(ExifTexts(b).empty());
    // Missing the next-IFD link.
    const Bytes no_link(w.bytes().begin(), w.bytes().end() - 4);
    EXPECT_EQ(ExifOrientation(no_link), 0);
    EXPECT_TRUE(ExifForOutput(no_link, false).empty());
  }
}

TEST(ExifHostile, HugeCountsAndOffsetsAreSkipped) {
  for (bool be : {false, true}) {
    TiffWriter w(be);
    const Placed ifd0 = w.AddIfd({
        {0x010F, kAscii, 0xFFFFFFFF, w.U32({8})},
        {0x0110, kAscii, 0x10, w.U32({0xFFFFFFF8})},  // wraps in 32 bits
        {0x0112, kShort, 0xFFFFFFFF, w.U32({0xFFFFFFFE})},
        {0x0131, 12, 0xFFFFFFFF, w.U32({12})},  // DOUBLEs
        w.Ascii(0x0132, kDateTime),
        {0x8769, kLong, 0xFFFFFFFF, w.U32({8})},  // not a pointer
    });
    const Placed ifd1 = w.AddIfd({
        {0x0111, kLong, 0xFFFFFFFF, w.U32({0})},
        {0x0117, kLong, 0xFFFFFFFF, w.U32({0})},
    });
    w.Set32(ifd0.link_pos, ifd1.offset);
    const Bytes& b = w.bytes();
    EXPECT_EQ(ExifOrientation(b), 0);
    EXPECT_EQ(
        Tuples(ExifTexts(b)),
        (std::vector<TextTuple>{{false, 0x0132, std::string(kDateTime)}}));
    const Bytes out = ExifForOutput(b, true);
    ASSERT_EQ(out.size(), b.size());
    EXPECT_EQ(Read32(out, ifd0.link_pos, be), 0u);
    EXPECT_EQ(ExifOrientation(out), 1);
    CheckAnyInput(b);
  }
}

TEST(ExifHostile, LoopsEnd) {
  for (bool be : {false, true}) {
    // The Exif IFD is IFD0 itself; IFD1 is IFD0 too.
    TiffWriter self(be);
    const Placed p = self.AddIfd({self.Ascii(0x010F, kMake),
                                  self.Short(0x0112, 3), self.Long(0x8769, 8)});
    self.Set32(p.link_pos, p.offset);
    EXPECT_EQ(Tuples(ExifTexts(self.bytes())),
              (std::vector<TextTuple>{{false, 0x010F, std::string(kMake)}}));
    EXPECT_EQ(ExifOrientation(self.bytes()), 3);
    Bytes out = ExifForOutput(self.bytes(), true);
    ASSERT_EQ(out.size(), self.bytes().size());
    EXPECT_EQ(Read32(out, p.link_pos, be), 0u);
    EXPECT_EQ(ExifOrientation(out), 1);

    // Exif -> Interop -> back to Exif, GPS -> the Exif IFD too.
    TiffWriter ring(be);
    const Placed r0 = ring.AddIfd({ring.Long(0x8769, 0), ring.Long(0x8825, 0)});
    const Placed r1 = ring.AddIfd(
        {ring.Ascii(0x9003, kDateTimeOriginal), ring.Long(0xA005, 0)});
    ring.Set32(r0.value_pos[0], r1.offset);
    ring.Set32(r0.value_pos[1], r1.offset);
    ring.Set32(r1.value_pos[1], r1.offset);
    ring.Set32(r1.link_pos, r0.offset);
    EXPECT_EQ(Tuples(ExifTexts(ring.bytes())),
              (std::vector<TextTuple>{
                  {true, 0x9003, std::string(kDateTimeOriginal)}}));
    CheckAnyInput(ring.bytes());
  }
}

TEST(ExifHostile, EveryTruncationOfASampleIsSafe) {
  for (bool be : {false, true}) {
    for (Thumbnail t : {Thumbnail::kJpegAtEnd, Thumbnail::kStripsAtEnd,
                        Thumbnail::kJpegBeforeExif}) {
      const Bytes full = MakeSample(be, 6, t).bytes;
      for (size_t n = 0; n <= full.size(); ++n) {
        CheckAnyInput(Bytes(full.begin(), full.begin() + n));
      }
    }
  }
}

TEST(ExifHostile, MutationsOfASampleAreSafe) {
  std::mt19937 rng(20240506);
  for (bool be : {false, true}) {
    const Bytes full = MakeSample(be, 6, Thumbnail::kStripsAtEnd).bytes;
    std::uniform_int_distribution<size_t> at(0, full.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 3000; ++i) {
      Bytes b = full;
      const int edits = 1 + i % 4;
      for (int e = 0; e < edits; ++e) {
        // Mostly bytes that make offsets and counts extreme.
        const int r = byte(rng);
        b[at(rng)] = static_cast<uint8_t>(r < 64 ? 0 : r < 128 ? 0xFF : r);
      }
      CheckAnyInput(b);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace convcorr::io

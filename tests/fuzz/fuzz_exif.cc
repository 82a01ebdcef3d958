// libFuzzer harness: the EXIF reader and rewriter (src/io/exif.cc), which
// take EXIF blocks from any photo. Any bytes must be read without a crash
// (ASan, UBSan); what ExifForOutput gives, when anything, must be no longer
// than the input, read again, hold what the input held (the thumbnail cut
// loses nothing kept) and say Orientation 1 after a reset if the input said
// any; and the texts read must come back through MakeExif, sorted.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <vector>

#include "fuzz_check.h"
#include "io/exif.h"

namespace convcorr::fuzz {
namespace {

using Texts = std::vector<io::ExifText>;

bool SameTexts(const Texts& a, const Texts& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const io::ExifText& x, const io::ExifText& y) {
                      return x.exif_ifd == y.exif_ifd && x.tag == y.tag &&
                             x.text == y.text;
                    });
}

// The input with IFD0's next-IFD link set to 0 where it fits: what
// ExifForOutput(input, false) must read as, however much it cut. Worked
// out here from the TIFF layout, not with exif.cc.
std::vector<uint8_t> Unlinked(std::span<const uint8_t> in) {
  std::vector<uint8_t> b(in.begin(), in.end());
  if (b.size() < 8) return b;
  const bool be = b[0] == 'M';
  const auto u16 = [&](uint64_t o) -> uint64_t {
    return be ? (b[o] << 8) | b[o + 1] : b[o] | (b[o + 1] << 8);
  };
  const uint64_t ifd0 = u16(be ? 6 : 4) | u16(be ? 4 : 6) << 16;
  if (ifd0 + 2 > b.size()) return b;
  const uint64_t link = ifd0 + 2 + 12 * u16(ifd0);
  if (link + 4 <= b.size()) std::fill_n(b.begin() + link, 4, 0);
  return b;
}

}  // namespace
}  // namespace convcorr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  const std::span<const uint8_t> in(data, size);
  const int orientation = io::ExifOrientation(in);
  fuzz::Require(orientation >= 0 && orientation <= 8,
                "ExifOrientation outside 0..8");
  const fuzz::Texts texts = io::ExifTexts(in);

  const std::vector<uint8_t> kept = io::ExifForOutput(in, false);
  const std::vector<uint8_t> reset = io::ExifForOutput(in, true);
  fuzz::Require(kept.empty() == reset.empty(),
                "ExifForOutput reads the input or not depending on the reset");
  if (kept.empty()) {
    fuzz::Require(orientation == 0 && texts.empty(),
                  "ExifForOutput refuses an input that others read");
  } else {
    fuzz::Require(kept.size() <= size && reset.size() == kept.size(),
                  "ExifForOutput gives more bytes than it was given");
    fuzz::Require(!io::ExifForOutput(reset, true).empty() &&
                      !io::ExifForOutput(kept, true).empty(),
                  "what ExifForOutput gives does not read again");
    const int after = io::ExifOrientation(reset);
    fuzz::Require(after == 0 || after == 1,
                  "Orientation is not 1 after a reset");
    fuzz::Require(orientation == 0 || after == 1,
                  "an input's Orientation is gone after a reset");
    // Without the reset only the link changes and the cut must lose
    // nothing that IFD0, the Exif IFD and their values hold.
    const std::vector<uint8_t> unlinked = fuzz::Unlinked(in);
    fuzz::Require(io::ExifOrientation(kept) == io::ExifOrientation(unlinked),
                  "ExifForOutput changed the Orientation without a reset");
    fuzz::Require(fuzz::SameTexts(io::ExifTexts(kept), io::ExifTexts(unlinked)),
                  "ExifForOutput lost or changed a text");
  }

  // The texts come back through MakeExif, sorted by IFD and tag (ExifTexts
  // gives one per tag and IFD, up to the first NUL, so none has a NUL).
  fuzz::Texts sorted = texts;
  std::sort(sorted.begin(), sorted.end(),
            [](const io::ExifText& a, const io::ExifText& b) {
              return std::tie(a.exif_ifd, a.tag) < std::tie(b.exif_ifd, b.tag);
            });
  for (const io::ExifText& t : texts) {
    fuzz::Require(t.text.find('\0') == std::string::npos,
                  "ExifTexts gives a text with a NUL in it");
  }
  const std::vector<uint8_t> made = io::MakeExif(texts);
  fuzz::Require(made.empty() == texts.empty(),
                "MakeExif gives nothing for texts or something for none");
  fuzz::Require(fuzz::SameTexts(io::ExifTexts(made), sorted),
                "texts do not come back through MakeExif");
  fuzz::Require(made.empty() || io::ExifForOutput(made, false) == made,
                "ExifForOutput changes what MakeExif wrote");
  return 0;
}

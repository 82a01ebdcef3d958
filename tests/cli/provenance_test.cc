// The provenance of the outputs (src/cli/provenance.cc) and what
// --skip-existing makes of existing files (CheckExisting, src/cli/batch.cc):
// canonical values, one text per output role, deterministic, and skip only
// for complete files that hold this run's text.
#include "cli/provenance.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/batch.h"
#include "cli/parse.h"
#include "io/format.h"
#include "io/image_io.h"
#include "io/io_test_util.h"
#include "io/provenance.h"
#include "kernel/spec.h"

namespace convcorr::cli {
namespace {

namespace fs = std::filesystem;
using convcorr::io::testing::TempDir;
using convcorr::io::testing::WriteFile;

// The text after "convcorr <version> " (the version is the build's).
std::string AfterVersion(const std::string& text) {
  EXPECT_TRUE(text.starts_with("convcorr ")) << text;
  const size_t space = text.find(' ', 9);
  EXPECT_NE(space, std::string::npos) << text;
  return text.substr(space + 1);
}

ProvenanceSettings Settings(const std::string& spec) {
  ProvenanceSettings s;
  s.kernel = kernel::ParseSpec(spec);
  s.params.alpha_weighted = true;  // as the CLI's default
  return s;
}

TEST(Provenance, KernelValueIsTheParsedKernelNotItsSpelling) {
  EXPECT_EQ(KernelValue(kernel::ParseSpec("sobel-x")),
            "3x3+1+1:-1,0,1,-2,0,2,-1,0,1");
  for (const char* typed :
       {"-1,0,1; -2,0,2; -1,0,1", "3x3:-1,0,1,-2,0,2,-1,0,1",
        "3x3+1+1: -1 0 1 -2 0 2 -1 0 1", "(-1,0,1;-2,0,2;-1,0,1)"}) {
    EXPECT_EQ(KernelValue(kernel::ParseSpec(typed)),
              KernelValue(kernel::ParseSpec("sobel-x")))
        << typed;
  }
  EXPECT_EQ(KernelValue(kernel::ParseSpec("1/4,1/2,1/4")),
            "3x1+1+0:0.25,0.5,0.25");
  EXPECT_EQ(KernelValue(kernel::ParseSpec("box:3")),
            KernelValue(kernel::ParseSpec("1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,"
                                          "1/9")));
  // The anchor is part of it.
  EXPECT_EQ(KernelValue(ApplyAnchor(kernel::ParseSpec("sobel-x"), "0,0")),
            "3x3+0+0:-1,0,1,-2,0,2,-1,0,1");
  // A large kernel is fingerprinted, the same every time.
  const std::string big = KernelValue(kernel::ParseSpec("gaussian:8,49"));
  EXPECT_TRUE(big.starts_with("49x49+24+24:fnv1a64=")) << big;
  EXPECT_EQ(big.size(), std::string("49x49+24+24:fnv1a64=").size() + 16);
  EXPECT_EQ(big, KernelValue(kernel::ParseSpec("gaussian:8,49")));
  EXPECT_NE(big, KernelValue(kernel::ParseSpec("gaussian:7,49")));
}

TEST(Provenance, TextValueEscapesSpacesAndBytesAndFingerprintsLongText) {
  EXPECT_EQ(TextValue("sobel-x  |  a b.png"), "sobel-x%20%20|%20%20a%20b.png");
  EXPECT_EQ(TextValue("caf\xC3\xA9 100%"), "caf%C3%A9%20100%25");
  const std::string long_value = TextValue(std::string(300, 'x'));
  EXPECT_TRUE(long_value.starts_with("fnv1a64=")) << long_value;
}

TEST(Provenance, OneCanonicalLinePerOutput) {
  ProvenanceSettings s = Settings("box:3");
  EXPECT_EQ(
      AfterVersion(OutputProvenance(s, OutputRole::kFiltered, "png")),
      "command=correlate kernel=3x3+1+1:" + std::string("0.1111111111111111") +
          ",0.1111111111111111,0.1111111111111111,0.1111111111111111,"
          "0.1111111111111111,0.1111111111111111,0.1111111111111111,"
          "0.1111111111111111,0.1111111111111111 border=reflect101 "
          "size=same stride=1,1 scale=1 bias=0 abs=no filter-alpha=no "
          "alpha-weighted=yes rounding=saturate depth=keep gray=no "
          "auto-orient=yes "
          "metadata=keep");
  s = Settings("1,-1");
  s.params.mode = core::Mode::kConvolve;
  s.params.border = ParseBorder("constant:0.5");
  s.params.size = core::OutputSize::kValid;
  s.params.stride_y = 2;
  s.params.scale = 0.25;
  s.params.bias = 128;
  s.params.abs = true;
  s.params.filter_alpha = true;
  s.params.alpha_weighted = false;  // --no-alpha-weighting
  s.params.rounding = core::Rounding::kWrap;
  s.depth = ParseDepth("u16");
  s.decode.gray = true;
  s.decode.auto_orient = false;
  s.strip = true;
  s.quality = 80;
  EXPECT_EQ(
      AfterVersion(OutputProvenance(s, OutputRole::kFiltered, "jpg")),
      "command=convolve kernel=2x1+1+0:1,-1 border=constant:0.5 "
      "size=valid stride=2,1 scale=0.25 bias=128 abs=yes "
      "filter-alpha=yes alpha-weighted=no rounding=wrap depth=u16 gray=yes "
      "auto-orient=no metadata=strip quality=80");
  s = Settings("1,-1");
  // Quality for JPEG and WebP only, as the encoder resolves it.
  EXPECT_TRUE(OutputProvenance(s, OutputRole::kFiltered, "jpeg")
                  .ends_with(" metadata=keep quality=95"));
  EXPECT_TRUE(OutputProvenance(s, OutputRole::kFiltered, "webp")
                  .ends_with(" metadata=keep quality=lossless"));
  EXPECT_TRUE(OutputProvenance(s, OutputRole::kFiltered, "tif")
                  .ends_with(" metadata=keep"));
  // compare: each output its own, the heat map with its range, the panel
  // with its title; neither carries the input's metadata.
  s.diff_range = ParseDiffRange("max");
  const std::string base =
      "kernel=2x1+1+0:1,-1 border=reflect101 size=same stride=1,1 scale=1 "
      "bias=0 abs=no filter-alpha=no alpha-weighted=yes rounding=saturate "
      "depth=keep gray=no auto-orient=yes";
  EXPECT_EQ(
      AfterVersion(OutputProvenance(s, OutputRole::kCompareConvolve, "png")),
      "command=compare output=convolve " + base + " metadata=keep");
  EXPECT_EQ(
      AfterVersion(OutputProvenance(s, OutputRole::kCompareCorrelate, "png")),
      "command=compare output=correlate " + base + " metadata=keep");
  EXPECT_EQ(AfterVersion(OutputProvenance(s, OutputRole::kDiff, "png")),
            "command=compare output=diff " + base + " diff-range=max");
  EXPECT_EQ(AfterVersion(OutputProvenance(s, OutputRole::kRawDiff, "tif")),
            "command=compare output=raw-diff " + base);
  EXPECT_EQ(
      AfterVersion(OutputProvenance(s, OutputRole::kPanel, "png", "1,-1 | a")),
      "command=compare output=panel " + base +
          " diff-range=max title=1,-1%20|%20a");
  // Anchored elsewhere for convolve (--compat torch, even sizes).
  s.convolve_kernel = kernel::ParseSpec("2x1+0+0:1,-1");
  EXPECT_NE(OutputProvenance(s, OutputRole::kDiff, "png")
                .find(" kernel=2x1+1+0:1,-1 convolve-kernel=2x1+0+0:1,-1 "),
            std::string::npos);
  for (const OutputRole role :
       {OutputRole::kFiltered, OutputRole::kCompareConvolve, OutputRole::kDiff,
        OutputRole::kRawDiff, OutputRole::kPanel}) {
    EXPECT_TRUE(io::IsProvenanceText(OutputProvenance(s, role, "png", "t")));
  }
}

TEST(Provenance, SettingsThatChangeNoPixelAreLeftOut) {
  ProvenanceSettings a = Settings("sobel-x");
  ProvenanceSettings b = a;
  b.params.threads = 7;
  b.params.simd = false;
  b.params.method = core::Method::kFft;
  b.decode.max_pixels = 10;
  EXPECT_EQ(OutputProvenance(a, OutputRole::kFiltered, "png"),
            OutputProvenance(b, OutputRole::kFiltered, "png"));
  b.params.bias = 1;
  EXPECT_NE(OutputProvenance(a, OutputRole::kFiltered, "png"),
            OutputProvenance(b, OutputRole::kFiltered, "png"));
}

TEST(CheckExisting, SkipsCompleteOutputsThatHoldThisRunsProvenance) {
  TempDir dir;
  const std::string mine = "convcorr 1.0 command=correlate kernel=1x1+0+0:1";
  const std::string other = "convcorr 1.0 command=correlate kernel=1x1+0+0:2";
  const io::Raster pixels = io::NewRaster(4, 3, 1, core::Depth::kU8);
  const auto write = [&](const std::string& name, const std::string& text) {
    io::Metadata m;
    m.provenance = text;
    const fs::path p = dir / name;
    WriteFile(p, io::EncodeRaster(pixels, io::ExtensionOf(p), name, m));
    return p;
  };
  const fs::path same = write("same.png", mine);
  const fs::path changed = write("changed.png", other);
  const fs::path bare = write("bare.png", "");
  const fs::path pfm_like = write("plain.bmp", mine);
  using Action = Resume::Action;

  EXPECT_EQ(CheckExisting({same}, {mine}).action, Action::kSkip);
  EXPECT_FALSE(CheckExisting({same}, {mine}).unchecked);
  const Resume redo = CheckExisting({same, changed}, {mine, mine});
  EXPECT_EQ(redo.action, Action::kRedo);
  EXPECT_EQ(redo.why, changed.string() + " was made with other settings");
  const Resume none = CheckExisting({bare}, {mine});
  EXPECT_EQ(none.action, Action::kRedo);
  EXPECT_EQ(none.why, bare.string() + " does not record how it was made");
  // A missing or incomplete output: processed as before.
  EXPECT_EQ(CheckExisting({same, dir / "missing.png"}, {mine, mine}).action,
            Action::kProcess);
  WriteFile(dir / "cut.png", std::string_view("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(CheckExisting({dir / "cut.png"}, {mine}).action, Action::kProcess);
  // A format with no place for it: complete is enough, and said so.
  const Resume bmp = CheckExisting({pfm_like}, {std::nullopt});
  EXPECT_EQ(bmp.action, Action::kSkip);
  EXPECT_TRUE(bmp.unchecked);
  // No expectations at all (no provenance given): completeness alone.
  EXPECT_EQ(CheckExisting({bare}, {}).action, Action::kSkip);
  EXPECT_FALSE(CheckExisting({bare}, {}).unchecked);
}

}  // namespace
}  // namespace convcorr::cli

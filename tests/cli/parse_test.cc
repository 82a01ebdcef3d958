// Option text to engine values, in-process (src/cli/parse.cc): each word
// the options take, from the one table of each option (every word parses
// to its value, the type and help made from the table list every word),
// and the one-line usage error for everything else.
#include "cli/parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/usage_error.h"
#include "common/error.h"
#include "kernel/formats.h"
#include "kernel/spec.h"

namespace convcorr::cli {
namespace {

TEST(ParseBorder, EveryModeAndItsAlias) {
  using core::BorderMode;
  EXPECT_EQ(ParseBorder("reflect101").mode, BorderMode::kReflect101);
  EXPECT_EQ(ParseBorder("mirror").mode, BorderMode::kReflect101);
  EXPECT_EQ(ParseBorder("reflect").mode, BorderMode::kReflect);
  EXPECT_EQ(ParseBorder("replicate").mode, BorderMode::kReplicate);
  EXPECT_EQ(ParseBorder("nearest").mode, BorderMode::kReplicate);
  EXPECT_EQ(ParseBorder("wrap").mode, BorderMode::kWrap);
  const core::Border zero = ParseBorder("constant");
  EXPECT_EQ(zero.mode, BorderMode::kConstant);
  EXPECT_EQ(zero.value, 0.0f);
  EXPECT_EQ(ParseBorder("constant:127.5").value, 127.5f);
  EXPECT_EQ(ParseBorder("constant:+3").value, 3.0f);
  EXPECT_EQ(ParseBorder("constant:-1e2").value, -100.0f);
}

TEST(ParseBorder, BadWordsAndConstantsAreUsageErrors) {
  EXPECT_EQ(UsageError([] { ParseBorder("zero"); }),
            "--border 'zero': expected reflect101, reflect, replicate, "
            "constant[:V] or wrap");
  EXPECT_EQ(UsageError([] { ParseBorder("Reflect"); }),
            "--border 'Reflect': expected reflect101, reflect, replicate, "
            "constant[:V] or wrap");
  for (const char* bad : {"constant:", "constant:x", "constant:nan",
                          "constant:inf", "constant:1e999", "constant:1 "}) {
    EXPECT_EQ(UsageError([&] { ParseBorder(bad); }),
              std::string("--border '") + bad +
                  "': the constant must be a finite number")
        << bad;
  }
}

TEST(ParseWords, SizeDepthMethod) {
  EXPECT_EQ(ParseSize("same"), core::OutputSize::kSame);
  EXPECT_EQ(ParseSize("valid"), core::OutputSize::kValid);
  EXPECT_EQ(ParseSize("full"), core::OutputSize::kFull);
  EXPECT_EQ(UsageError([] { ParseSize("Same"); }),
            "--size 'Same': expected same, valid or full");

  EXPECT_TRUE(ParseDepth("keep").keep);
  EXPECT_EQ(ParseDepth("u8").depth, core::Depth::kU8);
  EXPECT_FALSE(ParseDepth("u16").keep);
  EXPECT_EQ(ParseDepth("u16").depth, core::Depth::kU16);
  EXPECT_EQ(ParseDepth("f32").depth, core::Depth::kF32);
  EXPECT_EQ(UsageError([] { ParseDepth("float"); }),
            "--depth 'float': expected keep, u8, u16 or f32");

  EXPECT_EQ(ParseMethod("auto"), core::Method::kAuto);
  EXPECT_EQ(ParseMethod("direct"), core::Method::kDirect);
  EXPECT_EQ(ParseMethod("sparse"), core::Method::kSparse);
  EXPECT_EQ(ParseMethod("separable"), core::Method::kSeparable);
  EXPECT_EQ(ParseMethod("fft"), core::Method::kFft);
  EXPECT_EQ(UsageError([] { ParseMethod("dft"); }),
            "--method 'dft': expected auto, direct, sparse, separable or fft");
}

TEST(ParseStep, OneNumberOrTwo) {
  EXPECT_EQ(ParseStep("--stride", "2"), (Step{2, 2}));
  EXPECT_EQ(ParseStep("--stride", "3,1"), (Step{3, 1}));
  EXPECT_EQ(ParseStep("--dilation", "1024,1"), (Step{1024, 1}));
  for (const char* bad :
       {"0", "1025", "2,", ",2", "1.5", "-1", "2,2,2", "", "a"}) {
    EXPECT_EQ(UsageError([&] { ParseStep("--stride", bad); }),
              std::string("--stride '") + bad +
                  "': expected N or Y,X with whole numbers from 1 to 1024, "
                  "e.g. 2 or 2,1")
        << bad;
  }
}

TEST(ApplyAnchor, MovesTheAnchorInsideTheKernelOnly) {
  const kernel::Kernel k = kernel::ParseSpec("box:3");
  EXPECT_EQ(ApplyAnchor(k, "").anchor_x(), k.anchor_x());
  const kernel::Kernel moved = ApplyAnchor(k, "0,2");
  EXPECT_EQ(moved.anchor_x(), 0);
  EXPECT_EQ(moved.anchor_y(), 2);
  EXPECT_EQ(UsageError([&] { ApplyAnchor(k, "3,0"); }),
            "--anchor '3,0': outside the 3x3 kernel (columns 0..2, rows 0..2)");
  EXPECT_EQ(UsageError([&] { ApplyAnchor(k, "1"); }),
            "--anchor '1': expected X,Y (column,row), e.g. 1,1");
}

TEST(DilateKernel, SpreadsTheTapsAndRefusesWhatWouldBeTooLarge) {
  const kernel::Kernel k = kernel::ParseSpec("sobel-x");
  const kernel::Kernel d = DilateKernel(k, Step{2, 3}, "sobel-x");
  EXPECT_EQ(d.rows(), 5);
  EXPECT_EQ(d.cols(), 7);
  EXPECT_EQ(d.at(0, 0), k.at(0, 0));
  EXPECT_EQ(d.at(4, 6), k.at(2, 2));
  EXPECT_EQ(d.at(1, 0), 0.0);
  const std::string error = UsageError([&] {
    DilateKernel(k, Step{1024, 1}, "sobel-x");
  });
  EXPECT_EQ(
      error.rfind("--dilation 1024,1: kernel 'sobel-x' would span 3x2049", 0),
      0u)
      << error;
}

TEST(ParseValues, CommasAndSpaces) {
  EXPECT_EQ(ParseValues("1,2 3 ,4"), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(ParseValues("-1.5e1"), (std::vector<double>{-15}));
  EXPECT_FALSE(UsageError([] { ParseValues("1,x"); }).empty());
  EXPECT_FALSE(UsageError([] { ParseValues("nan"); }).empty());
}

TEST(Names, RoundTripThroughTheParsers) {
  for (const char* word :
       {"reflect101", "reflect", "replicate", "constant", "wrap"}) {
    EXPECT_STREQ(BorderName(ParseBorder(word).mode), word);
  }
  for (const char* word : {"same", "valid", "full"}) {
    EXPECT_STREQ(SizeName(ParseSize(word)), word);
  }
  for (const char* word : {"u8", "u16", "f32"}) {
    EXPECT_STREQ(DepthName(ParseDepth(word).depth), word);
  }
}

// Every word of every table parses to the value the table gives it, and an
// alias to the value of the word it names.
TEST(WordTables, EveryWordParsesToItsValue) {
  int words = 0;
  for (const Word<core::BorderMode>& w : BorderWords().words) {
    EXPECT_EQ(ParseBorder(w.text).mode, w.value) << w.text;
    ++words;
  }
  for (const Word<core::OutputSize>& w : SizeWords().words) {
    EXPECT_EQ(ParseSize(w.text), w.value) << w.text;
    ++words;
  }
  for (const Word<DepthChoice>& w : DepthWords().words) {
    EXPECT_EQ(ParseDepth(w.text).keep, w.value.keep) << w.text;
    EXPECT_EQ(ParseDepth(w.text).depth, w.value.depth) << w.text;
    ++words;
  }
  for (const Word<core::Method>& w : MethodWords().words) {
    EXPECT_EQ(ParseMethod(w.text), w.value) << w.text;
    ++words;
  }
  for (const Word<Compat>& w : CompatWords().words) {
    const Compat c = ParseCompat(w.text);
    EXPECT_EQ(c.tool, w.text);
    EXPECT_EQ(c.border.mode, w.value.border.mode) << w.text;
    EXPECT_EQ(c.rounding, w.value.rounding) << w.text;
    ++words;
  }
  for (const Word<kernel::KernelFormat>& w : KernelFormatWords().words) {
    EXPECT_EQ(ParseKernelFormat(w.text), w.value) << w.text;
    EXPECT_EQ(kernel::KernelFormatFromName(w.text), w.value) << w.text;
    ++words;
  }
  // 7 borders, 3 sizes, 4 depths, 5 methods, 6 tools, 8 kernel formats.
  EXPECT_EQ(words, 33);
  // Aliases: SciPy's names, and the short names of --to.
  EXPECT_EQ(ParseBorder("mirror").mode, ParseBorder("reflect101").mode);
  EXPECT_EQ(ParseBorder("nearest").mode, ParseBorder("replicate").mode);
  EXPECT_EQ(ParseKernelFormat("im"), kernel::KernelFormat::kImageMagick);
  EXPECT_EQ(ParseKernelFormat("mat"), kernel::KernelFormat::kVips);
}

// The tools' conventions (docs/compat.md), one fact each.
TEST(WordTables, CompatConventions) {
  EXPECT_EQ(ParseCompat("").tool, "");
  EXPECT_EQ(ParseCompat("").border.mode, core::BorderMode::kReflect101);
  EXPECT_EQ(ParseCompat("scipy").border.mode, core::BorderMode::kReflect);
  EXPECT_EQ(ParseCompat("scipy").rounding, core::Rounding::kWrap);
  EXPECT_EQ(ParseCompat("opencv").border.mode, core::BorderMode::kReflect101);
  EXPECT_TRUE(ParseCompat("numpy").per_mode_anchor);
  EXPECT_FALSE(ParseCompat("numpy").images);
  EXPECT_TRUE(ParseCompat("imagemagick").low_anchor);
  EXPECT_EQ(ParseCompat("imagemagick").rounding, core::Rounding::kImageMagick);
  EXPECT_EQ(ParseCompat("gmic").border.mode, core::BorderMode::kReplicate);
  EXPECT_TRUE(ParseCompat("gmic").float_output);
  EXPECT_EQ(ParseCompat("torch").border.mode, core::BorderMode::kConstant);
  EXPECT_FALSE(ParseCompat("torch").low_anchor);
  EXPECT_TRUE(ParseCompat("torch").correlate_low_anchor);
}

TEST(WordTables, CompatAnchorPerMode) {
  // A 2x2 kernel, anchored at size/2 = (1,1) unless a preset moves it.
  const kernel::Kernel k(2, 2, {1, 2, 3, 4});
  const auto anchor = [&](const char* tool, core::Mode mode) {
    const kernel::Kernel a = CompatAnchor(k, ParseCompat(tool), mode);
    return std::pair(a.anchor_x(), a.anchor_y());
  };
  using P = std::pair<int, int>;
  EXPECT_EQ(anchor("opencv", core::Mode::kConvolve), P(1, 1));
  EXPECT_EQ(anchor("imagemagick", core::Mode::kCorrelate), P(0, 0));
  EXPECT_EQ(anchor("imagemagick", core::Mode::kConvolve), P(0, 0));
  EXPECT_EQ(anchor("numpy", core::Mode::kCorrelate), P(1, 1));
  EXPECT_EQ(anchor("numpy", core::Mode::kConvolve), P(0, 0));
  EXPECT_EQ(anchor("torch", core::Mode::kCorrelate), P(0, 0));
  EXPECT_EQ(anchor("torch", core::Mode::kConvolve), P(1, 1));
}

// A text not in a table is refused with one line naming the option, the
// text and the words (aliases left out), pinned here word for word as
// docs/cli.md and the tests of the binary quote them.
TEST(WordTables, AnythingElseIsRefusedNamingTheWords) {
  EXPECT_EQ(UsageError([] { ParseBorder("clamp"); }),
            "--border 'clamp': expected reflect101, reflect, replicate, "
            "constant[:V] or wrap");
  EXPECT_EQ(UsageError([] { ParseSize("half"); }),
            "--size 'half': expected same, valid or full");
  EXPECT_EQ(UsageError([] { ParseDepth("u32"); }),
            "--depth 'u32': expected keep, u8, u16 or f32");
  EXPECT_EQ(UsageError([] { ParseMethod("winograd"); }),
            "--method 'winograd': expected auto, direct, sparse, separable or "
            "fft");
  EXPECT_EQ(UsageError([] { ParseCompat("matlab"); }),
            "--compat 'matlab': expected scipy, opencv, numpy, imagemagick, "
            "gmic or torch");
  EXPECT_EQ(UsageError([] { ParseKernelFormat("json"); }),
            "--to 'json': expected one of spec, imagemagick, gmic, vips, csv, "
            "npy");
  // The same message RefusedWordMessage makes from the table, for texts
  // near the words: another case, a prefix, a suffix, space, empty.
  for (const char* bad : {"SAME", "sam", "same ", " same", "samex", ""}) {
    EXPECT_EQ(UsageError([&] { ParseSize(bad); }),
              RefusedWordMessage(SizeWords(), bad))
        << bad;
  }
  for (const char* bad : {"Mirror", "constant;1", "wrap:1", "reflect101:0"}) {
    EXPECT_EQ(UsageError([&] { ParseBorder(bad); }),
              RefusedWordMessage(BorderWords(), bad))
        << bad;
  }
  EXPECT_EQ(UsageError([] { ParseCompat("NumPy"); }),
            RefusedWordMessage(CompatWords(), "NumPy"));
}

// The --help type of each option lists every word, aliases last, and the
// help text every word with its notes and the default marked.
TEST(WordTables, TypeAndHelpListEveryWord) {
  EXPECT_EQ(WordsTypeName(BorderWords()),
            "reflect101|reflect|replicate|constant[:V]|wrap|mirror|nearest");
  EXPECT_EQ(WordsTypeName(SizeWords()), "same|valid|full");
  EXPECT_EQ(WordsTypeName(DepthWords()), "keep|u8|u16|f32");
  EXPECT_EQ(WordsTypeName(MethodWords()), "auto|direct|sparse|separable|fft");
  EXPECT_EQ(WordsTypeName(CompatWords()),
            "scipy|opencv|numpy|imagemagick|gmic|torch");
  EXPECT_EQ(WordsTypeName(KernelFormatWords()),
            "spec|imagemagick|gmic|vips|csv|npy|im|mat");
  EXPECT_EQ(WordsHelp(BorderWords(), "reflect101"),
            "reflect101 (default), reflect, replicate, constant[:V] or wrap; "
            "SciPy names mirror for reflect101 and nearest for replicate also "
            "work");
  EXPECT_EQ(WordsHelp(SizeWords(), "full", "as numpy"),
            "same, valid or full (default, as numpy)");
  EXPECT_EQ(WordsHelp(MethodWords(), "auto"),
            "auto (default, by the cost model), direct, sparse (non-zero taps "
            "only), separable (1-D passes, kernels of rank 1 to 4) or fft");
  EXPECT_EQ(WordsHelp(KernelFormatWords()),
            "spec, imagemagick, gmic, vips, csv or npy (binary: redirect it "
            "to a file); im for imagemagick and mat for vips also work");
  EXPECT_EQ(WordsHelp(KeepWords(CompatWords(),
                                [](const Compat& c) { return c.images; })),
            "scipy, opencv, imagemagick, gmic or torch");
}

TEST(CheckRange, BoundsAndWholeNumbers) {
  CheckRange(kThreadsRange, 0);
  CheckRange(kThreadsRange, 64);
  EXPECT_EQ(UsageError([] { CheckRange(kThreadsRange, -1); }),
            "--threads must be 0 (all cores) or more");
  EXPECT_EQ(UsageError([] { CheckRange(kJobsRange, -1); }),
            "--jobs must be 0 (one per core) or more");
  CheckRange(kQualityRange, 0);
  CheckRange(kQualityRange, 100);
  EXPECT_EQ(UsageError([] { CheckRange(kQualityRange, 101); }),
            "--quality must be 1 to 100 (0: the format's default)");
  CheckRange(kMaxPixelsRange, 2.5e8);
  for (double bad : {0.0, 0.5, 1.5, -1.0, 1e19, std::nan("")}) {
    EXPECT_EQ(UsageError([&] { CheckRange(kMaxPixelsRange, bad); }),
              "--max-pixels must be a whole number of at least 1")
        << bad;
  }
  CheckRange(kShardCountRange, 0);  // 0: not sharded
  EXPECT_EQ(UsageError([] { CheckRange(kShardCountRange, -2); }),
            "--shard-count must be 1 or more");
}

TEST(ParseFormats, ExtensionsAndTheOutputFormat) {
  EXPECT_EQ(ParseExtensions("jpg, .PNG,tif"),
            (std::vector<std::string>{"jpg", "png", "tif"}));
  EXPECT_EQ(UsageError([] { ParseExtensions("jpg,gif"); }),
            "--ext 'jpg,gif': 'gif' is not an image format convcorr reads "
            "(e.g. jpg, png, tif)");
  // Every extension --ext takes is one the io layer reads; JPEG 2000 is
  // recognised only to be refused.
  EXPECT_EQ(UsageError([] { ParseExtensions("png, .JP2"); }),
            "--ext 'png, .JP2': 'jp2' is JPEG 2000, which convcorr does not "
            "read (convert it to png or tiff)");
  EXPECT_EQ(NormaliseFormat(".PNG"), "png");
  EXPECT_EQ(NormaliseFormat("Tiff"), "tiff");
  CheckWritableFormat("");
  CheckWritableFormat("jpeg");
  EXPECT_EQ(UsageError([] { CheckWritableFormat("gif"); }),
            "--format 'gif': not an image format convcorr can write (e.g. "
            "png, tif, jpg)");
}

TEST(ParseStep, SignalTakesOneNumber) {
  EXPECT_EQ(ParseStep1D("--stride", "3"), 3);
  EXPECT_EQ(UsageError([] { ParseStep1D("--stride", "2,2"); }),
            "--stride '2,2': signal takes one number, e.g. 2");
  EXPECT_EQ(UsageError([] { ParseStep1D("--dilation", "0"); }),
            "--dilation '0': expected N or Y,X with whole numbers from 1 to "
            "1024, e.g. 2 or 2,1");
}

TEST(ParseDiffRange, MaxPercentileOrValue) {
  using Kind = diff::DiffRange::Kind;
  EXPECT_EQ(ParseDiffRange("max"), (diff::DiffRange{Kind::kMax, 0}));
  EXPECT_EQ(ParseDiffRange("p99.5"),
            (diff::DiffRange{Kind::kPercentile, 99.5}));
  EXPECT_EQ(ParseDiffRange("p100"), (diff::DiffRange{Kind::kPercentile, 100}));
  EXPECT_EQ(ParseDiffRange("12.5"), (diff::DiffRange{Kind::kValue, 12.5}));
  for (const char* bad : {"", "p", "p0", "p101", "pmax", "0", "-3", "nan",
                          "inf", "Max", "99.5%"}) {
    EXPECT_EQ(UsageError([&] { ParseDiffRange(bad); }),
              std::string("--diff-range '") + bad +
                  "': expected max, pNN (a percentile above 0, up to 100, "
                  "e.g. p99.5) or a positive value")
        << bad;
  }
}

}  // namespace
}  // namespace convcorr::cli

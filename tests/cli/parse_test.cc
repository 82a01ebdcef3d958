// Option text to engine values, in-process (src/cli/parse.cc): each word
// the options take, and the one-line usage error for everything else.
#include "cli/parse.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/spec.h"

namespace convcorr::cli {
namespace {

// The usage error `f` throws, or "" if it throws none (or another kind).
std::string UsageError(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind() == ErrorKind::kUsage ? e.what() : "";
  }
  return "";
}

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
  for (const char* bad : {"0", "1025", "2,", ",2", "1.5", "-1", "2,2,2", "",
                          "a"}) {
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
  const std::string error =
      UsageError([&] { DilateKernel(k, Step{1024, 1}, "sobel-x"); });
  EXPECT_EQ(error.rfind("--dilation 1024,1: kernel 'sobel-x' would span 3x2049",
                        0),
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
  for (const char* word : {"reflect101", "reflect", "replicate", "constant",
                           "wrap"}) {
    EXPECT_STREQ(BorderName(ParseBorder(word).mode), word);
  }
  for (const char* word : {"same", "valid", "full"}) {
    EXPECT_STREQ(SizeName(ParseSize(word)), word);
  }
  for (const char* word : {"u8", "u16", "f32"}) {
    EXPECT_STREQ(DepthName(ParseDepth(word).depth), word);
  }
}

}  // namespace
}  // namespace convcorr::cli

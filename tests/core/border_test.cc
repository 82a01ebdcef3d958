#include "core/border.h"

#include <gtest/gtest.h>

#include <string>

#include "core/oracle.h"

namespace convcorr::core {
namespace {

// Extends "abcdefgh" by 3 on each side, as in the SPEC's border table.
std::string Extend(BorderMode mode) {
  const std::string row = "abcdefgh";
  std::string out;
  for (int p = -3; p < 11; ++p) {
    if (p == 0 || p == 8) out += '|';
    const int i = BorderIndex(p, 8, mode);
    out += i < 0 ? 'V' : row[i];
  }
  return out;
}

TEST(BorderIndex, MatchesSpecTable) {
  EXPECT_EQ(Extend(BorderMode::kReflect101), "dcb|abcdefgh|gfe");
  EXPECT_EQ(Extend(BorderMode::kReflect), "cba|abcdefgh|hgf");
  EXPECT_EQ(Extend(BorderMode::kReplicate), "aaa|abcdefgh|hhh");
  EXPECT_EQ(Extend(BorderMode::kConstant), "VVV|abcdefgh|VVV");
  EXPECT_EQ(Extend(BorderMode::kWrap), "fgh|abcdefgh|abc");
}

TEST(BorderIndex, RepeatsFarOutsideLikeRepeatedReflection) {
  for (BorderMode mode :
       {BorderMode::kReflect101, BorderMode::kReflect, BorderMode::kReplicate,
        BorderMode::kConstant, BorderMode::kWrap}) {
    for (int n = 1; n <= 6; ++n) {
      for (int p = -40; p < 40; ++p) {
        EXPECT_EQ(BorderIndex(p, n, mode), testing::BounceIndex(p, n, mode))
            << "mode " << static_cast<int>(mode) << " n " << n << " p " << p;
      }
    }
  }
}

TEST(BorderIndex, SingleSampleRowRepeatsIt) {
  for (int p = -5; p <= 5; ++p) {
    EXPECT_EQ(BorderIndex(p, 1, BorderMode::kReflect101), 0);
    EXPECT_EQ(BorderIndex(p, 1, BorderMode::kReflect), 0);
    EXPECT_EQ(BorderIndex(p, 1, BorderMode::kWrap), 0);
  }
}

// Two-sample rows, written out by hand: reflect101 of "ab" is ...abab|ab|abab.
TEST(BorderIndex, TwoSampleRows) {
  EXPECT_EQ(BorderIndex(-1, 2, BorderMode::kReflect101), 1);
  EXPECT_EQ(BorderIndex(-2, 2, BorderMode::kReflect101), 0);
  EXPECT_EQ(BorderIndex(2, 2, BorderMode::kReflect101), 0);
  EXPECT_EQ(BorderIndex(-1, 2, BorderMode::kReflect), 0);
  EXPECT_EQ(BorderIndex(-2, 2, BorderMode::kReflect), 1);
  EXPECT_EQ(BorderIndex(-3, 2, BorderMode::kReflect), 1);
  EXPECT_EQ(BorderIndex(3, 2, BorderMode::kReflect), 0);
}

}  // namespace
}  // namespace convcorr::core

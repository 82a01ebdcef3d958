// "Did you mean" (src/common/closest.h): the edit distance, which known
// words a typo is taken for, and how they are said.
#include "common/closest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace convcorr {
namespace {

TEST(EditDistanceTest, CountsEditsAndAdjacentSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("gausian", "gaussian"), 1u);    // insertion
  EXPECT_EQ(EditDistance("convolvee", "convolve"), 1u);  // deletion
  EXPECT_EQ(EditDistance("sobel_x", "sobel-x"), 1u);     // substitution
  EXPECT_EQ(EditDistance("comapre", "compare"), 1u);     // swap
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("Convolve", "convolve"), 0u);  // case-blind
  EXPECT_EQ(EditDistance("thresh", "threads"), 3u);
}

const std::vector<std::string> kCommands = {"convolve", "correlate", "compare",
                                            "kernel",   "signal",    "help"};

TEST(ClosestWordsTest, TyposWithinAThirdOfTheWord) {
  EXPECT_EQ(ClosestWords("convolv", kCommands),
            std::vector<std::string>{"convolve"});
  EXPECT_EQ(ClosestWords("corelate", kCommands),
            std::vector<std::string>{"correlate"});
  EXPECT_EQ(ClosestWords("kernal", kCommands),
            std::vector<std::string>{"kernel"});
  EXPECT_EQ(ClosestWords("hepl", kCommands), std::vector<std::string>{"help"});
  // The nearest only: "compar" is 1 from compare, 3 from convolve.
  EXPECT_EQ(ClosestWords("compar", kCommands),
            std::vector<std::string>{"compare"});
}

TEST(ClosestWordsTest, ThePrefixOfLongerWords) {
  EXPECT_EQ(ClosestWords("conv", kCommands),
            std::vector<std::string>{"convolve"});
  EXPECT_EQ(ClosestWords("co", kCommands), std::vector<std::string>{});
  EXPECT_EQ(ClosestWords("thresh", {"threads", "threshold"}),
            std::vector<std::string>{"threshold"});
  EXPECT_EQ(ClosestWords("sobel", {"sobel-x", "sobel-y", "scharr-x"}),
            (std::vector<std::string>{"sobel-x", "sobel-y"}));
}

TEST(ClosestWordsTest, NothingForFarOrAmbiguousWords) {
  EXPECT_EQ(ClosestWords("blur", kCommands), std::vector<std::string>{});
  EXPECT_EQ(ClosestWords("", kCommands), std::vector<std::string>{});
  // One letter for another is no resemblance.
  EXPECT_EQ(ClosestWords("x", {"h", "k"}), std::vector<std::string>{});
  // More than three guesses are none.
  EXPECT_EQ(ClosestWords("ab", {"aa", "bb", "ac", "cb"}),
            std::vector<std::string>{});
  EXPECT_EQ(ClosestWords("ab", {"aa", "bb", "ac"}),
            (std::vector<std::string>{"aa", "bb", "ac"}));
}

TEST(DidYouMeanTest, SaysOneTwoOrThreeWords) {
  EXPECT_EQ(DidYouMean({}), "");
  EXPECT_EQ(DidYouMean({"gaussian"}), "did you mean 'gaussian'?");
  EXPECT_EQ(DidYouMean({"sobel-x", "sobel-y"}),
            "did you mean 'sobel-x' or 'sobel-y'?");
  EXPECT_EQ(DidYouMean({"a", "b", "c"}), "did you mean 'a', 'b' or 'c'?");
}

}  // namespace
}  // namespace convcorr

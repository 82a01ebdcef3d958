// "Did you mean": the known words a mistyped one is most likely meant to be,
// for unknown kernel names (kernel), commands and options (cli).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace convcorr {

// The optimal string alignment distance between `a` and `b`: the fewest
// insertions, deletions, substitutions and swaps of two adjacent characters
// (a common typo, "comapre") that turn one into the other. ASCII letters are
// compared case-blind.
inline size_t EditDistance(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  const size_t n = a.size();
  const size_t m = b.size();
  // d[i][j]: the distance between the first i of a and the first j of b.
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The words of `known` that `word` is taken for, in the order of `known`:
// those at the smallest edit distance, if it is at most a third of the
// word's length (at least 1: "gausian", "convolv", "sobel_x") and leaves
// some characters as they were; else, for a word of 3 or more characters,
// the words it begins ("gauss", "sobel"). None when nothing is that close,
// or when more than 3 are (a guess among many helps nobody).
inline std::vector<std::string> ClosestWords(
    std::string_view word, const std::vector<std::string>& known) {
  std::vector<std::string> best;
  if (word.empty()) return best;
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  size_t best_distance = limit;
  for (const std::string& k : known) {
    // The distance is at least the difference in length: a long word (a
    // whole pasted spec) costs nothing.
    if (k.size() + limit < word.size() || word.size() + limit < k.size()) {
      continue;
    }
    const size_t d = EditDistance(word, k);
    // Every character replaced ("x" for "h") is no resemblance.
    if (d > limit || d >= std::min(word.size(), k.size())) continue;
    if (d < best_distance) {
      best_distance = d;
      best.clear();
    }
    if (d == best_distance) best.push_back(k);
  }
  if (best.empty() && word.size() >= 3) {
    for (const std::string& k : known) {
      if (k.size() > word.size() &&
          EditDistance(word, k.substr(0, word.size())) == 0) {
        best.push_back(k);
      }
    }
  }
  if (best.size() > 3) best.clear();
  return best;
}

// "did you mean 'a'?", "did you mean 'a' or 'b'?", "did you mean 'a', 'b'
// or 'c'?"; "" for no words.
inline std::string DidYouMean(const std::vector<std::string>& words) {
  if (words.empty()) return "";
  std::string text = "did you mean ";
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += i + 1 == words.size() ? " or " : ", ";
    text += "'" + words[i] + "'";
  }
  return text + "?";
}

}  // namespace convcorr

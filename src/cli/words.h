// Options that take one of a few words (--border, --size, --depth, --method,
// --compat, --to): each has one table of its words and what they mean
// (parse.h), and everything else is made from it: the parser, the CLI11
// check of the option, its --help type ("same|valid|full", which the man page
// shows and the bash completion offers) and text, and the usage error.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace convcorr::cli {

// One word an option takes.
template <typename T>
struct Word {
  std::string text;  // as typed: "reflect101"
  T value;
  // Said after the word in --help: "sparse (non-zero taps only)".
  std::string note = {};
  // Another name of the nearest word before it that is not an alias
  // (SciPy's "mirror" after reflect101): accepted and in --help, but not in
  // the usage error.
  bool alias = false;
  // What may follow the word, as --help and the usage error show it:
  // "[:V]" for constant[:V]. The parser reads "constant:V" itself.
  std::string suffix = {};
};

template <typename T>
struct WordTable {
  std::string option;  // "--border"
  std::vector<Word<T>> words;
  // Whose names the aliases are, for --help: "SciPy".
  std::string alias_source = {};
  // The usage error says "expected one of a, b, c" rather than
  // "expected a, b or c" (--to, as it always has).
  bool one_of = false;
};

namespace words_internal {

// "a", "a or b", "a, b or c" (with `last` = " or ").
inline std::string Join(const std::vector<std::string>& items,
                        std::string_view last) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? last : std::string_view(", ");
    out += items[i];
  }
  return out;
}

}  // namespace words_internal

// The value `text` names exactly (no suffix), or nullptr.
template <typename T>
const T* FindWord(const WordTable<T>& table, std::string_view text) {
  for (const Word<T>& w : table.words) {
    if (w.text == text) return &w.value;
  }
  return nullptr;
}

// The words of a usage error: "reflect101, reflect, replicate, constant[:V]
// or wrap" (aliases left out), or "one of spec, imagemagick, ..." (one_of).
template <typename T>
std::string ExpectedWords(const WordTable<T>& table) {
  std::vector<std::string> items;
  for (const Word<T>& w : table.words) {
    if (!w.alias) items.push_back(w.text + w.suffix);
  }
  return table.one_of ? "one of " + words_internal::Join(items, ", ")
                      : words_internal::Join(items, " or ");
}

// The usage error for a text the table does not hold:
// "--size 'half': expected same, valid or full".
template <typename T>
std::string RefusedWordMessage(const WordTable<T>& table,
                               std::string_view text) {
  return table.option + " '" + std::string(text) + "': expected " +
         ExpectedWords(table);
}

// The value of `text`, or Error(kUsage, RefusedWordMessage).
template <typename T>
const T& ParseWord(const WordTable<T>& table, std::string_view text) {
  if (const T* value = FindWord(table, text)) return *value;
  throw Error(ErrorKind::kUsage, RefusedWordMessage(table, text));
}

// The option's type in --help and the man page, every word the option
// takes, aliases last: "reflect101|reflect|...|wrap|mirror|nearest". The
// bash completion (manual.cc) offers these words.
template <typename T>
std::string WordsTypeName(const WordTable<T>& table) {
  std::string out;
  for (const bool alias : {false, true}) {
    for (const Word<T>& w : table.words) {
      if (w.alias != alias) continue;
      if (!out.empty()) out += '|';
      out += w.text + w.suffix;
    }
  }
  return out;
}

// The words for an option's --help text, each with its note, the one named
// `default_word` marked "(default)" (with `default_note`, if any), then the
// aliases: "reflect101 (default), reflect, replicate, constant[:V] or wrap;
// SciPy names mirror for reflect101 and nearest for replicate also work".
template <typename T>
std::string WordsHelp(const WordTable<T>& table,
                      std::string_view default_word = {},
                      std::string_view default_note = {}) {
  std::vector<std::string> items;
  std::vector<std::string> aliases;
  const Word<T>* named = nullptr;  // the last word that is not an alias
  for (const Word<T>& w : table.words) {
    if (w.alias) {
      aliases.push_back(named != nullptr ? w.text + " for " + named->text
                                         : w.text);
      continue;
    }
    named = &w;
    std::vector<std::string> notes;
    if (!default_word.empty() && w.text == default_word) {
      notes.push_back("default");
      if (!default_note.empty()) notes.push_back(std::string(default_note));
    }
    if (!w.note.empty()) notes.push_back(w.note);
    std::string item = w.text + w.suffix;
    if (!notes.empty()) item += " (" + words_internal::Join(notes, ", ") + ")";
    items.push_back(std::move(item));
  }
  std::string out = words_internal::Join(items, " or ");
  if (!aliases.empty()) {
    out += "; ";
    if (!table.alias_source.empty()) out += table.alias_source + " names ";
    out += words_internal::Join(aliases, " and ") + " also work";
  }
  return out;
}

// The table with only the words whose value passes `keep` (--compat of the
// image commands leaves out numpy, which is refused there with a reason).
template <typename T, typename Keep>
WordTable<T> KeepWords(WordTable<T> table, Keep keep) {
  std::erase_if(table.words, [&](const Word<T>& w) { return !keep(w.value); });
  return table;
}

}  // namespace convcorr::cli

#include "cli/guide.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <utility>

#include "cli/exit_codes.h"
#include "cli/format.h"
#include "common/closest.h"
#include "common/error.h"

namespace convcorr::cli {

namespace {

// What a command needs, said when it is given nothing.
struct Needs {
  std::string_view command;
  std::string_view needs;
};
constexpr Needs kNeeds[] = {
    {"convolve", "a kernel (-k), inputs and an output (-o)"},
    {"correlate", "a kernel (-k), inputs and an output (-o)"},
    {"compare", "a kernel (-k), inputs and an output directory (-o)"},
    {"kernel", "a kernel spec or --list"},
    {"signal", "values and a kernel (-k)"},
};

std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

bool Contains(const std::vector<std::string>& words, std::string_view word) {
  for (const std::string& w : words) {
    if (w == word) return true;
  }
  return false;
}

// " (did you mean 'x'?)" when `word` is a typo of one of `known`, else "".
std::string Guess(std::string_view word,
                  const std::vector<std::string>& known) {
  const std::string guess = DidYouMean(ClosestWords(word, known));
  return guess.empty() ? "" : " (" + guess + ")";
}

CommandLineOutcome Refuse(const std::string& message) {
  return {false, kExitUsage, "", OneLine(message) + "\n"};
}

// "see 'convcorr --help'" or "see 'convcorr convolve --help'".
std::string SeeHelp(std::string_view command) {
  return command.empty() ? "see 'convcorr --help'"
                         : fmt::format("see 'convcorr {} --help'", command);
}

// The option of `app` that `token` ("--name", "--name=v", "-x", "-xv")
// names, or nullptr.
const CLI::Option* FindOption(const CLI::App& app, std::string_view token) {
  if (token.size() < 2 || token[0] != '-') return nullptr;
  const bool is_long = token[1] == '-';
  const std::string name =
      is_long ? std::string(token.substr(2, token.find('=') - 2))
              : std::string(token.substr(1, 1));
  for (const CLI::Option* o :
       app.get_options([](const CLI::Option*) { return true; })) {
    if (is_long ? o->check_lname(name) : o->check_sname(name)) return o;
  }
  return nullptr;
}

// Digits, signs, points, exponents, fractions and the separators of inline
// weights, with at least one digit: "1", "-2", "1/16", "1,2,1", "1,".
bool LooksLikeWeights(std::string_view token) {
  bool digit = false;
  for (char c : token) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (std::string_view("+-./eE,;").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return digit;
}

// An option of `app`, or a word that looks like one; not a number read as
// a value or an input ("-2", "-1,0,1"), unless it names an option ("-0").
bool LooksLikeOption(const CLI::App& app, std::string_view token) {
  return token.size() > 1 && token[0] == '-' &&
         (!LooksLikeWeights(token) || FindOption(app, token) != nullptr);
}

// Weights, or the head of the ImageMagick form with or without weights
// ("3x1:", "3x1:1,2").
bool LooksLikeInlineSpec(const std::string& spec) {
  static const std::regex kImageMagickHead(
      R"(^[0-9]+([xX][0-9]+)?(\+[0-9]+\+[0-9]+)?:)");
  std::smatch head;
  if (std::regex_search(spec, head, kImageMagickHead)) {
    const std::string rest = head.suffix();
    return rest.empty() || LooksLikeWeights(rest);
  }
  return LooksLikeWeights(spec);
}

bool IsFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The kernel spec of `args` (args[0] the command: its positional for
// `kernel`, else the value of -k) when the shell split it, the weights
// that follow it being read as inputs or extra arguments (`-k 1 2 1`), and
// the message that says to quote it; else nothing.
std::optional<std::string> UnquotedKernel(
    const CLI::App& command, const std::vector<std::string>& args) {
  const bool spec_is_positional = args[0] == "kernel";
  std::optional<std::string> spec;
  std::vector<std::string> rest;  // the weights after it
  bool only_positionals = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (!only_positionals && t == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && LooksLikeOption(command, t)) {
      if (spec) break;
      const CLI::Option* o = FindOption(command, t);
      const bool inline_value =
          t.find('=') != std::string::npos || (t[1] != '-' && t.size() > 2);
      if (o != nullptr && !spec_is_positional && o->check_name("--kernel")) {
        if (t.find('=') != std::string::npos) {
          spec = t.substr(t.find('=') + 1);
        } else if (t[1] != '-' && t.size() > 2) {
          spec = t.substr(2);  // -k1
        } else if (i + 1 < args.size()) {
          spec = args[++i];
        }
        continue;
      }
      if (o != nullptr && o->get_expected_max() > 0 && !inline_value) ++i;
      continue;
    }
    if (spec) {
      if (!LooksLikeWeights(t) || IsFile(t)) break;
      rest.push_back(t);
    } else if (spec_is_positional) {
      spec = t;
    }
  }
  if (!spec || rest.empty() || !LooksLikeInlineSpec(*spec)) return {};
  // Rows when every part is one ("1,2,1 2,4,2 1,2,1"), else values.
  bool rows = spec->find(',') != std::string::npos;
  for (const std::string& part : rest) {
    rows = rows && part.find(',') != std::string::npos;
  }
  for (const std::string* part : {&*spec, &rest.back()}) {
    const char last = part->back();
    if (last == ',' || last == ';') rows = false;
  }
  std::string whole = *spec;
  for (const std::string& part : rest) whole += (rows ? "; " : " ") + part;
  return fmt::format("kernel spec '{}': quote a kernel with spaces, as {}'{}'",
                     *spec, spec_is_positional ? "in convcorr kernel " : "-k ",
                     whole);
}

// The one unknown option among `args` that a CLI11 "not expected" message
// `what` names, said with the option it is a typo of; else nothing.
std::optional<std::string> UnknownOption(const CLI::App& command,
                                         std::string_view command_name,
                                         const std::vector<std::string>& args,
                                         const std::string& what) {
  std::vector<std::string> unknown;
  for (size_t i = command_name.empty() ? 0 : 1; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (t == "--") break;
    if (!LooksLikeOption(command, t)) continue;
    const CLI::Option* o = FindOption(command, t);
    if (o == nullptr) {
      unknown.push_back(t.substr(0, t.find('=')));
    } else if (o->get_expected_max() > 0 && t.find('=') == std::string::npos &&
               (t[1] == '-' || t.size() == 2)) {
      ++i;  // its value
    }
  }
  if (unknown.size() != 1 || what.find(unknown[0]) == std::string::npos) {
    return {};
  }
  const std::string& word = unknown[0];
  const bool is_long = word.size() > 2 && word[1] == '-';
  std::vector<std::string> known;
  for (const CLI::Option* o : command.get_options([](const CLI::Option* opt) {
         return !opt->get_group().empty() && !opt->get_positional();
       })) {
    if (is_long) {
      for (const std::string& n : o->get_lnames()) known.push_back(n);
    } else {
      for (const std::string& n : o->get_snames()) known.push_back(n);
    }
  }
  std::vector<std::string> guesses =
      ClosestWords(word.substr(is_long ? 2 : 1), known);
  for (std::string& g : guesses) g = (is_long ? "--" : "-") + g;
  const std::string guess = DidYouMean(guesses);
  return fmt::format("unknown option '{}'{}; {}", OneLine(word),
                     guess.empty() ? "" : " (" + guess + ")",
                     SeeHelp(command_name));
}

// "convolve needs a kernel (-k), inputs and an output (-o), e.g. '...';
// see 'convcorr convolve --help'".
std::string NothingGiven(std::string_view command) {
  std::string needs;
  for (const Needs& n : kNeeds) {
    if (n.command == command) needs = n.needs;
  }
  std::string example;
  for (const Example& e : Examples()) {
    if (e.command == command) {
      example = e.line;
      break;
    }
  }
  return fmt::format("{} needs {}, e.g. '{}'; {}", command, needs, example,
                     SeeHelp(command));
}

// -h or --help was on the command line, for the program or its command.
bool HelpAsked(const CLI::App& app) {
  const auto asked = [](const CLI::App& a) {
    return a.get_help_ptr() != nullptr && a.get_help_ptr()->count() > 0;
  };
  if (asked(app)) return true;
  for (const CLI::App* sub : app.get_subcommands()) {
    if (asked(*sub)) return true;
  }
  return false;
}

// What CLI11 prints for --help or --version (`e`), and its exit code.
CommandLineOutcome Exit(const CLI::App& app, const CLI::Error& e) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = app.exit(e, out, err);
  return {false, code, out.str(), err.str()};
}

}  // namespace

const std::vector<Example>& Examples() {
  static const std::vector<Example> examples = {
      {"convolve", "convcorr convolve -k sobel-x photo.jpg -o edges.png",
       "Edges of one photo, the kernel mirrored (a true convolution)"},
      {"convolve", "convcorr convolve -k gaussian:2 -r photos/ -o blurred/",
       "Blur every image under photos/ into blurred/, mirroring the tree"},
      {"convolve",
       "convcorr convolve -k '1 2 1' --normalize photo.jpg -o smooth.png",
       "Weights written out: quote a kernel that has spaces"},
      {"convolve", "convcorr convolve -k @psf.png photo.jpg -o bokeh.png",
       "A kernel drawn as an image, the point-spread function: each point "
       "light becomes the drawing (weights normalised to sum 1)"},
      {"correlate",
       "convcorr correlate -k sobel-x --depth f32 photo.jpg -o gx.tif",
       "The kernel as written (OpenCV's filter2D, CNN layers), signed float "
       "output"},
      {"correlate",
       "convcorr correlate -k @weights.txt --bias 128 photo.png -o out.png",
       "A kernel from a text file, one row per line; --bias 128 shows signed "
       "values in 8 bits"},
      {"compare", "convcorr compare -k emboss photos/ -o out/",
       "Convolve, correlate and a map of their difference for each image"},
      {"compare", "convcorr compare -k motion:9,30 --panel photo.jpg -o out/",
       "Also a labelled panel: input | correlate | convolve | diff"},
      {"kernel", "convcorr kernel gaussian:2",
       "A kernel, its rotation, symmetry, rank and anchor"},
      {"kernel", "convcorr kernel --list",
       "Every named kernel with its parameters"},
      {"kernel", "convcorr kernel emboss --to imagemagick",
       "The kernel as another tool reads it"},
      {"signal", "convcorr signal 2,1,3,5,4 -k 1,-1 --size valid",
       "The 1-D form: convolve [-1, 2, 2, -1], correlate [1, -2, -2, 1]"},
  };
  return examples;
}

std::string HelpFooter(std::string_view command) {
  std::string text = "Examples:\n";
  std::string_view last;
  for (const Example& e : Examples()) {
    // The whole program: each command's first example.
    if (command.empty() ? e.command == last : e.command != command) continue;
    last = e.command;
    text += fmt::format("  {}\n      {}\n", e.line, e.what);
  }
  if (command.empty()) {
    text +=
        "\nThe named kernels: convcorr kernel --list. A command's options and "
        "examples:\nconvcorr COMMAND --help (or convcorr help COMMAND).";
  } else if (command != "kernel") {
    text += "\nThe named kernels: convcorr kernel --list.";
  } else {
    text.pop_back();  // CLI11 ends the footer with a newline
  }
  return text;
}

CommandLineOutcome ReadCommandLine(CommandLine& cl,
                                   std::vector<std::string> args) {
  CLI::App& app = cl.app;
  const std::vector<std::string> commands = CommandNames(app);
  std::vector<std::string> words = commands;
  words.push_back("help");
  const auto unknown_command = [&](const std::string& word) {
    return Refuse(fmt::format("unknown command '{}'{}; {}", word,
                              Guess(word, words), SeeHelp("")));
  };

  if (!args.empty() && args[0] == "help") {
    if (args.size() == 1 || args[1] == "help" || args[1].rfind('-', 0) == 0) {
      args = {"--help"};
    } else if (Contains(commands, args[1])) {
      args = {args[1], "--help"};
    } else {
      return unknown_command(args[1]);
    }
  }
  if (args.empty()) {
    std::string list;
    for (size_t i = 0; i < commands.size(); ++i) {
      if (i > 0) list += i + 1 == commands.size() ? " or " : ", ";
      list += commands[i];
    }
    return Refuse(
        fmt::format("no command given: use {}; {}", list, SeeHelp("")));
  }
  const std::string& first = args[0];
  if (first.empty() || first[0] != '-' || first == "-") {
    if (!Contains(commands, first)) return unknown_command(first);
  } else if (FindOption(app, first) == nullptr) {
    // Before the command only --help and --version; a command's own
    // options go after it.
    for (const CLI::App* c :
         app.get_subcommands([](const CLI::App*) { return true; })) {
      if (FindOption(*c, first) != nullptr) {
        return Refuse(fmt::format(
            "option '{}' goes after the command: convcorr COMMAND {} ...; {}",
            first.substr(0, first.find('=')), first, SeeHelp("")));
      }
    }
    const auto m = UnknownOption(app, "", {first}, first);
    return m ? Refuse(*m) : unknown_command(first);
  }
  const std::string command = Contains(commands, first) ? first : "";
  CLI::App* sub = command.empty() ? nullptr : app.get_subcommand(command);
  if (sub != nullptr && args.size() == 1) return Refuse(NothingGiven(command));

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return Exit(app, e);  // --help, --version
    if (sub != nullptr) {
      if (auto m = UnquotedKernel(*sub, args)) return Refuse(*m);
      if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        if (auto m = UnknownOption(*sub, command, args, e.what())) {
          return Refuse(*m);
        }
      }
    }
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    return Refuse(fmt::format("usage: {}; {}", what, SeeHelp(command)));
  } catch (const Error& e) {  // a value refused by an option's check
    // CLI11 checks values before it looks for --help; --help still wins, as
    // when the commands checked the values.
    if (HelpAsked(app)) return Exit(app, CLI::CallForHelp());
    return {false, ExitCodeFor(e.kind()), "", OneLine(e.what()) + "\n"};
  }

  // Parsed, but the shell split the kernel into inputs, or `kernel` has
  // nothing to print.
  for (CLI::App* filter : {cl.convolve_cmd, cl.correlate_cmd, cl.compare_cmd}) {
    if (filter->parsed()) {
      if (auto m = UnquotedKernel(*filter, args)) return Refuse(*m);
    }
  }
  if (cl.kernel_cmd->parsed() &&
      cl.kernel_cmd->get_option("spec")->count() == 0 && !cl.kernel.list) {
    return Refuse(NothingGiven("kernel"));
  }
  return {true, kExitOk, "", ""};
}

}  // namespace convcorr::cli

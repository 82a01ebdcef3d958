// The CLI11 definition in-process (src/cli/command_line.h, app.cc): the
// options that take one of a few words get their --help type and text, the
// man page's type and the completion's words from the option's table
// (parse.h), and their check refuses anything else with the parser's own
// message; the numbers with a range are checked as they are read.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/manual.h"
#include "cli/parse.h"
#include "common/error.h"

namespace convcorr::cli {
namespace {

// Parses `args` (without the program name) with a fresh definition;
// returns it, or throws what CLI11 or the option checks throw.
std::unique_ptr<CommandLine> Parse(std::vector<std::string> args) {
  std::unique_ptr<CommandLine> cl = DefineCommandLine();
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  cl->app.parse(args);
  return cl;
}

// The usage error the options' checks throw for `args`, or "".
std::string Refused(const std::vector<std::string>& args) {
  try {
    Parse(args);
  } catch (const Error& e) {
    return e.kind() == ErrorKind::kUsage ? e.what() : "";
  }
  return "";
}

std::vector<std::string> Filter(const std::string& command,
                                const std::vector<std::string>& options) {
  std::vector<std::string> args = {command, "-k", "box:3"};
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), {"in.png", "-o", "out.png"});
  return args;
}

// The texts of a table's words, aliases too.
template <typename T>
std::vector<std::string> Texts(const WordTable<T>& table) {
  std::vector<std::string> out;
  for (const Word<T>& w : table.words) out.push_back(w.text);
  return out;
}

// What the help of `command` says on the line of `option` and the next
// (CLI11 puts a long type on a line of its own).
std::string HelpOf(CLI::App* command, const std::string& option) {
  const std::string help = command->help();
  const size_t at = help.find("  " + option + " ");
  EXPECT_NE(at, std::string::npos) << option << "\n" << help;
  if (at == std::string::npos) return "";
  size_t end = help.find('\n', at);
  end = help.find('\n', end + 1);
  return help.substr(at, end - at);
}

TEST(CommandLine, EveryWordIsAcceptedWhereItsOptionIs) {
  int parsed = 0;
  for (const std::string command : {"convolve", "correlate", "compare"}) {
    for (const std::string& w : Texts(BorderWords())) {
      const auto cl = Parse(Filter(command, {"--border", w}));
      EXPECT_EQ(cl->correlate_cmd->parsed()  ? cl->correlate.border
                : cl->convolve_cmd->parsed() ? cl->convolve.border
                                             : cl->compare.border,
                w);
      ++parsed;
    }
    Parse(Filter(command, {"--border", "constant:-2.5"}));
    for (const std::string& w : Texts(SizeWords())) {
      Parse(Filter(command, {"--size", w}));
      ++parsed;
    }
    for (const std::string& w : Texts(DepthWords())) {
      Parse(Filter(command, {"--depth", w}));
      ++parsed;
    }
    for (const std::string& w : Texts(MethodWords())) {
      Parse(Filter(command, {"--method", w}));
      ++parsed;
    }
    // numpy too: the command refuses it later, with its reason.
    for (const std::string& w : Texts(CompatWords())) {
      Parse(Filter(command, {"--compat", w}));
      ++parsed;
    }
  }
  for (const std::string& w : Texts(SizeWords())) {
    EXPECT_EQ(
        Parse({"signal", "1,2,3", "-k", "1,-1", "--size", w})->signal.size, w);
  }
  for (const std::string& w : Texts(BorderWords())) {
    Parse({"signal", "1,2,3", "-k", "1,-1", "--border", w});
  }
  for (const std::string& w : Texts(CompatWords())) {
    Parse({"signal", "1,2,3", "-k", "1,-1", "--compat", w});
  }
  for (const std::string& w : Texts(KernelFormatWords())) {
    EXPECT_EQ(Parse({"kernel", "box:3", "--to", w})->kernel.to, w);
  }
  EXPECT_EQ(parsed, 3 * (7 + 3 + 4 + 5 + 6));
}

TEST(CommandLine, AnythingElseIsRefusedWithTheParsersMessage) {
  for (const std::string command : {"convolve", "correlate", "compare"}) {
    SCOPED_TRACE(command);
    EXPECT_EQ(Refused(Filter(command, {"--border", "clamp"})),
              "--border 'clamp': expected reflect101, reflect, replicate, "
              "constant[:V] or wrap");
    EXPECT_EQ(Refused(Filter(command, {"--border", "constant:x"})),
              "--border 'constant:x': the constant must be a finite number");
    EXPECT_EQ(Refused(Filter(command, {"--size=half"})),
              "--size 'half': expected same, valid or full");
    EXPECT_EQ(Refused(Filter(command, {"--depth", "u32"})),
              "--depth 'u32': expected keep, u8, u16 or f32");
    EXPECT_EQ(Refused(Filter(command, {"--method", "Auto"})),
              RefusedWordMessage(MethodWords(), "Auto"));
    EXPECT_EQ(Refused(Filter(command, {"--compat", "matlab"})),
              "--compat 'matlab': expected scipy, opencv, numpy, imagemagick, "
              "gmic or torch");
    EXPECT_EQ(Refused(Filter(command, {"--stride", "0"})),
              "--stride '0': expected N or Y,X with whole numbers from 1 to "
              "1024, e.g. 2 or 2,1");
    EXPECT_EQ(Refused(Filter(command, {"--ext", "gif"})),
              "--ext 'gif': 'gif' is not an image format convcorr reads (e.g. "
              "jpg, png, tif)");
    EXPECT_EQ(Refused(Filter(command, {"--format", ".XYZ"})),
              "--format 'xyz': not an image format convcorr can write (e.g. "
              "png, tif, jpg)");
  }
  EXPECT_EQ(Refused({"signal", "1,2", "-k", "1,-1", "--size", "Full"}),
            "--size 'Full': expected same, valid or full");
  EXPECT_EQ(Refused({"signal", "1,2", "-k", "1,-1", "--stride", "2,1"}),
            "--stride '2,1': signal takes one number, e.g. 2");
  EXPECT_EQ(Refused({"kernel", "box:3", "--to", "json"}),
            "--to 'json': expected one of spec, imagemagick, gmic, vips, csv, "
            "npy");
  // The message is the table's: every word that is not an alias is in it.
  const std::string border = Refused(Filter("correlate", {"--border", "x"}));
  for (const Word<core::BorderMode>& w : BorderWords().words) {
    EXPECT_EQ(border.find(w.text) != std::string::npos, !w.alias) << w.text;
  }
}

TEST(CommandLine, NumbersAreCheckedAsTheyAreRead) {
  EXPECT_EQ(Refused(Filter("correlate", {"--threads=-1"})),
            "--threads must be 0 (all cores) or more");
  EXPECT_EQ(Refused(Filter("correlate", {"--jobs=-1"})),
            "--jobs must be 0 (one per core) or more");
  EXPECT_EQ(Refused(Filter("convolve", {"--quality", "101"})),
            "--quality must be 1 to 100 (0: the format's default)");
  EXPECT_EQ(Refused(Filter("compare", {"--max-pixels", "1.5"})),
            "--max-pixels must be a whole number of at least 1");
  EXPECT_EQ(Refused(Filter("compare", {"--max-pixels", "0"})),
            "--max-pixels must be a whole number of at least 1");
  EXPECT_EQ(Refused(Filter("correlate", {"--shard-count=-1"})),
            "--shard-count must be 1 or more");
  // In range: read as given.
  const auto cl = Parse(
      Filter("correlate", {"--threads", "0", "--quality", "100", "--max-pixels",
                           "2.5e8", "-j", "3", "--shard-count", "4"}));
  EXPECT_EQ(cl->correlate.threads, 0);
  EXPECT_EQ(cl->correlate.quality, 100);
  EXPECT_EQ(cl->correlate.max_pixels, 2.5e8);
  EXPECT_EQ(cl->correlate.jobs, 3);
  EXPECT_EQ(cl->correlate.shard_count, 4);
  // Not a number at all: CLI11's own conversion error, as before.
  EXPECT_THROW(Parse(Filter("correlate", {"--threads", "two"})),
               CLI::ConversionError);
}

TEST(CommandLine, FormatIsNormalisedAsItIsRead) {
  EXPECT_EQ(Parse(Filter("correlate", {"--format", ".PNG"}))->correlate.format,
            "png");
  EXPECT_EQ(Parse(Filter("compare", {"--format", "TIFF"}))->compare.format,
            "tiff");
}

// --help gives each option the table's words as its type and in its text.
TEST(CommandLine, HelpListsEveryWord) {
  const auto cl = DefineCommandLine();
  for (CLI::App* cmd : {cl->convolve_cmd, cl->correlate_cmd, cl->compare_cmd}) {
    SCOPED_TRACE(cmd->get_name());
    const std::string border = HelpOf(cmd, "--border");
    EXPECT_NE(border.find(WordsTypeName(BorderWords())), std::string::npos);
    for (const std::string& w : Texts(BorderWords())) {
      EXPECT_NE(border.find(w), std::string::npos) << w;
    }
    EXPECT_NE(border.find("reflect101 (default)"), std::string::npos) << border;
    const std::string size = HelpOf(cmd, "--size");
    EXPECT_NE(size.find("--size same|valid|full"), std::string::npos) << size;
    EXPECT_NE(size.find("same (default), valid or full"), std::string::npos)
        << size;
    const std::string depth = HelpOf(cmd, "--depth");
    EXPECT_NE(depth.find("--depth keep|u8|u16|f32"), std::string::npos);
    EXPECT_NE(depth.find("keep (default), u8, u16 or f32"), std::string::npos);
    const std::string method = HelpOf(cmd, "--method");
    EXPECT_NE(method.find(WordsTypeName(MethodWords())), std::string::npos);
    for (const std::string& w : Texts(MethodWords())) {
      EXPECT_NE(method.find(w), std::string::npos) << w;
    }
    // The image commands list the tools for images; numpy is for signal.
    const std::string compat = HelpOf(cmd, "--compat");
    EXPECT_NE(compat.find("--compat scipy|opencv|imagemagick|gmic|torch"),
              std::string::npos)
        << compat;
    EXPECT_EQ(compat.find("numpy"), std::string::npos) << compat;
    const std::string format = HelpOf(cmd, "--format");
    EXPECT_NE(format.find("png|jpg|jpeg|jpe|tif|tiff|webp|bmp|pgm|ppm|pnm|pfm"),
              std::string::npos)
        << format;
  }
  const std::string size = HelpOf(cl->signal_cmd, "--size");
  EXPECT_NE(size.find("same, valid or full (default, as numpy)"),
            std::string::npos)
      << size;
  const std::string border = HelpOf(cl->signal_cmd, "--border");
  EXPECT_NE(border.find("(default constant:0)"), std::string::npos) << border;
  for (const std::string& w : Texts(BorderWords())) {
    EXPECT_NE(border.find(w), std::string::npos) << w;
  }
  const std::string compat = HelpOf(cl->signal_cmd, "--compat");
  for (const std::string& w : Texts(CompatWords())) {
    EXPECT_NE(compat.find(w), std::string::npos) << w;
  }
  const std::string to = HelpOf(cl->kernel_cmd, "--to");
  EXPECT_NE(to.find("--to spec|imagemagick|gmic|vips|csv|npy|im|mat"),
            std::string::npos)
      << to;
}

// The man page shows the words as the option's type, and the completion
// offers them after the option.
TEST(CommandLine, ManPageAndCompletionOfferTheWords) {
  const auto cl = DefineCommandLine();
  const std::string man = ManPage(cl->app, "test");
  EXPECT_NE(man.find("\\fB\\-\\-border\\fR "
                     "\\fIreflect101|reflect|replicate|constant[:V]|wrap|"
                     "mirror|nearest\\fR"),
            std::string::npos);
  EXPECT_NE(man.find("\\fB\\-\\-to\\fR \\fIspec|imagemagick|gmic|vips|csv|npy|"
                     "im|mat\\fR"),
            std::string::npos);
  const std::string bash = BashCompletion(cl->app);
  const auto offers = [&](const std::string& option, const std::string& words) {
    return bash.find("        " + option + ") COMPREPLY=($(compgen -W \"" +
                     words + "\" -- \"$cur\")); return ;;") !=
           std::string::npos;
  };
  EXPECT_TRUE(offers("--border",
                     "reflect101 reflect replicate constant wrap mirror "
                     "nearest"));
  EXPECT_TRUE(offers("--size", "same valid full"));
  EXPECT_TRUE(offers("--depth", "keep u8 u16 f32"));
  EXPECT_TRUE(offers("--method", "auto direct sparse separable fft"));
  EXPECT_TRUE(offers("--compat", "scipy opencv imagemagick gmic torch"));
  EXPECT_TRUE(offers("--compat", "scipy opencv numpy imagemagick gmic torch"));
  EXPECT_TRUE(offers("--to", "spec imagemagick gmic vips csv npy im mat"));
  EXPECT_TRUE(
      offers("--format", "png jpg jpeg jpe tif tiff webp bmp pgm ppm pnm pfm"));
}

}  // namespace
}  // namespace convcorr::cli

// What convcorr tells a newcomer (src/cli/guide.h), in-process: `help`,
// the examples of --help, `kernel --list`, -o shown required, and every
// message that points the right way, word for word with its exit code.
#include "cli/guide.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/usage_error.h"
#include "kernel/spec.h"

namespace convcorr::cli {
namespace {

// Reads `args` with a fresh definition.
CommandLineOutcome Read(const std::vector<std::string>& args) {
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  return ReadCommandLine(*cl, args);
}

// The one line `args` are refused with (exit 2, nothing on stdout), or a
// description of what happened instead.
std::string Refused(const std::vector<std::string>& args) {
  const CommandLineOutcome r = Read(args);
  if (r.run) return "(accepted)";
  if (r.exit_code != kExitUsage) {
    return "(exit " + std::to_string(r.exit_code) + ") " + r.err;
  }
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  return r.err.substr(0, r.err.size() - 1);
}

struct Case {
  std::vector<std::string> args;
  std::string message;
};

void ExpectRefused(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    std::string line;
    for (const std::string& a : c.args) line += " " + a;
    SCOPED_TRACE(line);
    EXPECT_EQ(Refused(c.args), c.message);
  }
}

// The words of an example line, its single quotes taken away as the shell
// would ("-k '1 2 1'" is two words).
std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  bool any = false;
  for (char c : line) {
    if (c == '\'') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push_back(word);
  return words;
}

TEST(Guide, HelpIsTheHelpOfTheProgramOrOfACommand) {
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  const std::string top = cl->app.help();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"help"},
                                             {"help", "help"},
                                             {"help", "--help"},
                                             {"--help"},
                                             {"-h"}}) {
    const CommandLineOutcome r = Read(args);
    EXPECT_FALSE(r.run);
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_EQ(r.out, top);
    EXPECT_EQ(r.err, "");
  }
  for (CLI::App* command : {cl->convolve_cmd, cl->correlate_cmd,
                            cl->compare_cmd, cl->kernel_cmd, cl->signal_cmd}) {
    SCOPED_TRACE(command->get_name());
    const CommandLineOutcome r = Read({"help", command->get_name()});
    EXPECT_FALSE(r.run);
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_EQ(r.out, Read({command->get_name(), "--help"}).out);
    EXPECT_EQ(r.out.rfind(command->get_description() + "\nUsage: convcorr " +
                              command->get_name() + " [OPTIONS]",
                          0),
              0u)
        << r.out;
  }
}

TEST(Guide, EveryHelpEndsWithItsExamples) {
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  const std::string top = cl->app.help();
  EXPECT_NE(top.find("\nExamples:\n"
                     "  convcorr convolve -k sobel-x photo.jpg -o edges.png\n"
                     "      Edges of one photo, the kernel mirrored (a true "
                     "convolution)\n"),
            std::string::npos)
      << top;
  EXPECT_NE(top.find("\n  convcorr compare -k emboss photos/ -o out/\n"),
            std::string::npos);
  EXPECT_NE(top.find("\nThe named kernels: convcorr kernel --list. A "
                     "command's options and examples:\nconvcorr COMMAND "
                     "--help (or convcorr help COMMAND).\n"),
            std::string::npos)
      << top;
  int shown = 0;
  for (const Example& e : Examples()) {
    SCOPED_TRACE(std::string(e.line));
    const std::string help =
        cl->app.get_subcommand(std::string(e.command))->help();
    EXPECT_NE(help.find("\nExamples:\n"), std::string::npos);
    EXPECT_NE(help.find("\n  " + std::string(e.line) + "\n      " +
                        std::string(e.what) + "\n"),
              std::string::npos)
        << help;
    shown += 1;
  }
  EXPECT_GE(shown, 10);
  EXPECT_NE(
      cl->app.get_subcommand("convolve")
          ->help()
          .find("\n  convcorr convolve -k '1 2 1' --normalize photo.jpg -o "
                "smooth.png\n"),
      std::string::npos);
  EXPECT_NE(cl->app.get_subcommand("kernel")->help().find(
                "  convcorr kernel gaussian:2\n"),
            std::string::npos);
}

// An example that does not parse, or whose kernel is not a kernel, would
// teach the wrong thing.
TEST(Guide, EveryExampleIsAcceptedAndItsKernelParses) {
  std::vector<std::string> seen;
  for (const Example& e : Examples()) {
    SCOPED_TRACE(std::string(e.line));
    std::vector<std::string> words = Words(e.line);
    ASSERT_GE(words.size(), 2u);
    EXPECT_EQ(words[0], "convcorr");
    EXPECT_EQ(words[1], e.command);
    words.erase(words.begin());
    const CommandLineOutcome r = Read(words);
    EXPECT_TRUE(r.run) << r.err;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "-k" && words[i + 1][0] != '@') {
        EXPECT_NO_THROW(kernel::ParseSpec(words[i + 1]));
      }
    }
    if (e.command == "kernel" && words.size() > 1 && words[1][0] != '-') {
      EXPECT_NO_THROW(kernel::ParseSpec(words[1]));
    }
    if (seen.empty() || seen.back() != e.command) {
      // The first of each command is quoted in messages: no quotes in it.
      EXPECT_EQ(e.line.find('\''), std::string_view::npos);
      seen.emplace_back(e.command);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"convolve", "correlate", "compare",
                                            "kernel", "signal"}));
}

TEST(Guide, OutputIsShownRequiredYetCheckedWhenPlanned) {
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  for (CLI::App* command :
       {cl->convolve_cmd, cl->correlate_cmd, cl->compare_cmd}) {
    SCOPED_TRACE(command->get_name());
    const std::string help = command->help();
    EXPECT_NE(help.find("\n  -o,--output TEXT REQUIRED "), std::string::npos)
        << help;
    EXPECT_NE(help.find("\n  -k,--kernel TEXT REQUIRED "), std::string::npos);
    // Still read without -o: the plan says what -o takes (plan_test.cc).
    EXPECT_TRUE(Read({command->get_name(), "-k", "box:3", "a.png"}).run);
  }
}

TEST(Guide, NoCommandOrAnUnknownOne) {
  ExpectRefused({
      {{},
       "no command given: use convolve, correlate, compare, kernel or "
       "signal; see 'convcorr --help'"},
      {{"blur", "in.png"}, "unknown command 'blur'; see 'convcorr --help'"},
      {{"frobnicate"}, "unknown command 'frobnicate'; see 'convcorr --help'"},
      {{"convolv", "-k", "box:3", "a.png", "-o", "b.png"},
       "unknown command 'convolv' (did you mean 'convolve'?); see 'convcorr "
       "--help'"},
      {{"comapre"},
       "unknown command 'comapre' (did you mean 'compare'?); see 'convcorr "
       "--help'"},
      {{"Kernel", "box:3"},
       "unknown command 'Kernel' (did you mean 'kernel'?); see 'convcorr "
       "--help'"},
      {{"hepl"},
       "unknown command 'hepl' (did you mean 'help'?); see 'convcorr --help'"},
      {{"help", "blur"}, "unknown command 'blur'; see 'convcorr --help'"},
      {{"help", "corelate"},
       "unknown command 'corelate' (did you mean 'correlate'?); see "
       "'convcorr --help'"},
      {{"-"}, "unknown command '-'; see 'convcorr --help'"},
  });
}

TEST(Guide, UnknownOptionsWithTheOneMeant) {
  const std::vector<std::string> rest = {"-k", "box:3", "a.png", "-o", "b.png"};
  const auto with = [&](const std::string& command,
                        const std::vector<std::string>& options) {
    std::vector<std::string> args = {command};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
  };
  ExpectRefused({
      {with("convolve", {"--formt", "png"}),
       "unknown option '--formt' (did you mean '--format'?); see 'convcorr "
       "convolve --help'"},
      {with("correlate", {"--norm"}),
       "unknown option '--norm' (did you mean '--normalize'?); see "
       "'convcorr correlate --help'"},
      {with("compare", {"--thresh", "2"}),
       "unknown option '--thresh' (did you mean '--threshold'?); see "
       "'convcorr compare --help'"},
      {with("convolve", {"--frobnicate"}),
       "unknown option '--frobnicate'; see 'convcorr convolve --help'"},
      {with("convolve", {"--boder=wrap"}),
       "unknown option '--boder' (did you mean '--border'?); see 'convcorr "
       "convolve --help'"},
      {with("convolve", {"-x"}),
       "unknown option '-x'; see 'convcorr convolve --help'"},
      {{"kernel", "box:3", "--jsno"},
       "unknown option '--jsno' (did you mean '--json'?); see 'convcorr "
       "kernel --help'"},
      {{"signal", "1,2,3", "-k", "1,-1", "--sise", "valid"},
       "unknown option '--sise' (did you mean '--size'?); see 'convcorr "
       "signal --help'"},
      // Before the command: only --help and --version.
      {{"--verison"},
       "unknown option '--verison' (did you mean '--version'?); see "
       "'convcorr --help'"},
      {{"--frobnicate"},
       "unknown option '--frobnicate'; see 'convcorr --help'"},
      {{"-v", "convolve", "-k", "box:3", "a.png", "-o", "b.png"},
       "option '-v' goes after the command: convcorr COMMAND -v ...; see "
       "'convcorr --help'"},
      // Two unknown options: CLI11's words, with the command's help.
      {with("convolve", {"--aa", "--bb"}),
       "usage: The following arguments were not expected: --bb --aa; see "
       "'convcorr convolve --help'"},
  });
}

TEST(Guide, ACommandGivenNothingGetsAnExample) {
  ExpectRefused({
      {{"convolve"},
       "convolve needs a kernel (-k), inputs and an output (-o), e.g. "
       "'convcorr convolve -k sobel-x photo.jpg -o edges.png'; see 'convcorr "
       "convolve --help'"},
      {{"correlate"},
       "correlate needs a kernel (-k), inputs and an output (-o), e.g. "
       "'convcorr correlate -k sobel-x --depth f32 photo.jpg -o gx.tif'; see "
       "'convcorr correlate --help'"},
      {{"compare"},
       "compare needs a kernel (-k), inputs and an output directory (-o), "
       "e.g. 'convcorr compare -k emboss photos/ -o out/'; see 'convcorr "
       "compare --help'"},
      {{"kernel"},
       "kernel needs a kernel spec or --list, e.g. 'convcorr kernel "
       "gaussian:2'; see 'convcorr kernel --help'"},
      {{"kernel", "--json"},
       "kernel needs a kernel spec or --list, e.g. 'convcorr kernel "
       "gaussian:2'; see 'convcorr kernel --help'"},
      {{"signal"},
       "signal needs values and a kernel (-k), e.g. 'convcorr signal "
       "2,1,3,5,4 -k 1,-1 --size valid'; see 'convcorr signal --help'"},
      // Something given: CLI11's words, pointing to the command's help.
      {{"convolve", "-v"},
       "usage: --kernel is required; see 'convcorr convolve --help'"},
      {{"signal", "1,2,3"},
       "usage: --kernel is required; see 'convcorr signal --help'"},
  });
}

TEST(Guide, AKernelTheShellSplitIsToBeQuoted) {
  ExpectRefused({
      {{"convolve", "-k", "1", "2", "1", "photo.jpg", "-o", "x.png"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 2 1'"},
      {{"correlate", "-k", "1", "-2", "1", "photo.jpg", "-o", "x.png"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 -2 1'"},
      {{"compare", "--kernel", "1/4", "1/2", "1/4", "photos/", "-o", "out/"},
       "kernel spec '1/4': quote a kernel with spaces, as -k '1/4 1/2 1/4'"},
      {{"convolve", "-k", "1,", "2,", "1", "photo.jpg", "-o", "x.png"},
       "kernel spec '1,': quote a kernel with spaces, as -k '1, 2, 1'"},
      {{"convolve", "-k", "1,2,1", "2,4,2", "1,2,1", "photo.jpg", "-o",
        "x.png"},
       "kernel spec '1,2,1': quote a kernel with spaces, as -k '1,2,1; 2,4,2; "
       "1,2,1'"},
      {{"convolve", "-k", "3x1:", "1", "2", "1", "photo.jpg", "-o", "x.png"},
       "kernel spec '3x1:': quote a kernel with spaces, as -k '3x1: 1 2 1'"},
      {{"convolve", "--kernel=1", "2", "photo.jpg", "-o", "x.png"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 2'"},
      // Before any other check: without -o, with -o last.
      {{"convolve", "-q", "-k", "1", "2", "1", "photo.jpg"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 2 1'"},
      {{"kernel", "1", "2", "1"},
       "kernel spec '1': quote a kernel with spaces, as in convcorr kernel "
       "'1 2 1'"},
      {{"kernel", "--json", "1,2,1", "2,4,2", "1,2,1"},
       "kernel spec '1,2,1': quote a kernel with spaces, as in convcorr "
       "kernel '1,2,1; 2,4,2; 1,2,1'"},
      {{"signal", "1,2,3", "-k", "1", "-1"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 -1'"},
  });
}

TEST(Guide, KernelsThatNeedNoQuotesAreLeftAlone) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           // A 1x1 kernel followed by files, options, or the values of signal.
           {"convolve", "-k", "2", "photo.jpg", "-o", "x.png"},
           {"convolve", "-k", "2", "-0", "--files-from", "list", "-o", "out/"},
           {"convolve", "-k", "2", "--bias", "-128", "a.png", "-o", "x.png"},
           {"convolve", "-k", "box:3", "1", "2", "-o", "out/"},
           {"convolve", "-k", "1 2 1", "1", "-o", "out/"},
           {"signal", "-k", "1", "2,1,3"},
           {"signal", "-k", "1,-1", "-2,1,3"},
           {"kernel", "1,2,1"},
           {"kernel", "--list"},
       }) {
    std::string line;
    for (const std::string& a : args) line += " " + a;
    SCOPED_TRACE(line);
    const CommandLineOutcome r = Read(args);
    EXPECT_TRUE(r.run) << r.err;
  }
  // "-k 1 2 1" with an input that is a file named "2"... is left to the
  // plan: a named spec is never taken for split weights.
  EXPECT_EQ(Refused({"convolve", "-k", "sobel-x", "2", "1", "-o", "x.png"}),
            "(accepted)");
}

TEST(Guide, KernelListTakesNothingElse) {
  KernelOptions o;
  o.list = true;
  o.spec = "sobel-x";
  EXPECT_EQ(UsageError([&] { RunKernel(o); }),
            "--list prints every named kernel: drop 'sobel-x'");
  o.spec.clear();
  o.to = "gmic";
  EXPECT_EQ(UsageError([&] { RunKernel(o); }),
            "--list prints every named kernel: drop --to");
  o.to.clear();
  o.anchor = "1,1";
  EXPECT_EQ(UsageError([&] { RunKernel(o); }),
            "--list prints every named kernel: drop --anchor");
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  ASSERT_TRUE(ReadCommandLine(*cl, {"kernel", "--list", "--json"}).run);
  EXPECT_TRUE(cl->kernel.list);
  EXPECT_TRUE(cl->kernel.json);
}

}  // namespace
}  // namespace convcorr::cli

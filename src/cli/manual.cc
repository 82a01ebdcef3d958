#include "cli/manual.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/guide.h"
#include "kernel/named.h"

namespace convcorr::cli {

namespace {

// Text for roff: backslashes and hyphens escaped, no line starting with a
// control character.
std::string Roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

// Options that are shown (hidden ones have an empty group).
std::vector<const CLI::Option*> Visible(const CLI::App& app) {
  return app.get_options(
      [](const CLI::Option* o) { return !o->get_group().empty(); });
}

// "-k", "--kernel": an option's names as typed, short ones first.
std::vector<std::string> OptionNames(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const std::string& n : o.get_snames()) names.push_back("-" + n);
  for (const std::string& n : o.get_lnames()) names.push_back("--" + n);
  return names;
}

// The names joined with `sep`, each passed through `each`.
template <typename F>
std::string Join(const std::vector<std::string>& names, std::string_view sep,
                 F each) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += sep;
    out += each(n);
  }
  return out;
}

bool TakesValue(const CLI::Option& o) { return o.get_expected_max() > 0; }

}  // namespace

std::string ManPage(const CLI::App& app, std::string_view version) {
  std::string m;
  m += fmt::format(".TH CONVCORR 1 \"\" \"convcorr {}\" \"User Commands\"\n",
                   Roff(version));
  m += ".SH NAME\nconvcorr \\- convolve or cross\\-correlate images, and show "
       "where the two differ\n";
  m += ".SH SYNOPSIS\n";
  for (const CLI::App* sub : Subcommands(app)) {
    m += fmt::format(".B convcorr {}\n", Roff(sub->get_name()));
    std::string args;
    for (const CLI::Option* o : Visible(*sub)) {
      if (o->get_positional()) {
        args += fmt::format(" \\fI{}\\fR{}", Roff(o->get_name()),
                            o->get_items_expected_max() > 1 ? "..." : "");
      }
    }
    m += fmt::format("[\\fIOPTIONS\\fR]{}\n.br\n", args);
  }
  m += ".B convcorr help\n[\\fICOMMAND\\fR]\n.br\n";
  m += ".SH DESCRIPTION\n" + Roff(app.get_description()) + "\n";
  m += ".PP\nThe formulas, kernel specs, formats, batch runs and exit codes "
       "are documented in the Markdown files installed with convcorr in "
       "share/doc/convcorr (semantics.md, kernels.md, io.md, batch.md, "
       "cli.md, compat.md; the project's docs/).\n";
  m += ".SH COMMANDS\n";
  for (const CLI::App* sub : Subcommands(app)) {
    m += fmt::format(".SS {}\n{}\n", Roff(sub->get_name()),
                     Roff(sub->get_description()));
    for (const CLI::Option* o : Visible(*sub)) {
      m += ".TP\n";
      if (o->get_positional()) {
        m += fmt::format("\\fI{}\\fR\n", Roff(o->get_name()));
      } else {
        std::string names = Join(
            OptionNames(*o), ", ",
            [](const std::string& n) { return "\\fB" + Roff(n) + "\\fR"; });
        if (TakesValue(*o)) {
          names += fmt::format(" \\fI{}\\fR", Roff(o->get_type_name()));
        }
        m += names + "\n";
      }
      m += Roff(o->get_description()) + "\n";
    }
  }
  m += ".SS help\n\\fBconvcorr help\\fR is \\fBconvcorr \\-\\-help\\fR; "
       "\\fBconvcorr help\\fR \\fICOMMAND\\fR is \\fBconvcorr\\fR "
       "\\fICOMMAND\\fR \\fB\\-\\-help\\fR.\n";
  m += ".SH KERNELS\n";
  m += Roff(
           "A kernel spec (-k SPEC, convcorr kernel SPEC) is inline rows, "
           "quoted: '1,0,-1; 2,0,-2; 1,0,-1' (rows split by ; or a newline, "
           "values by commas or spaces, fractions such as 1/16 allowed); the "
           "ImageMagick form 'WxH+X+Y:v,v,...'; @FILE, a text file of rows "
           "(or a NumPy .npy or libvips .mat file), or an image (.png, "
           ".jpg, .tif, .pgm, .pfm, ...) drawn as the point-spread "
           "function: its gray values or BT.601 luma times alpha, "
           "normalised to sum 1 unless --psf-raw; or one of these named "
           "kernels, name[:p1[,p2]], which \"convcorr kernel --list\" prints "
           "too:") +
       "\n";
  for (const kernel::NamedKernelInfo& k : kernel::NamedKernels()) {
    m += fmt::format(".TP\n.B {}\n{}\n", Roff(k.usage), Roff(k.description));
  }
  m += ".SH EXAMPLES\n";
  for (const Example& e : Examples()) {
    m += fmt::format(".TP\n\\fB{}\\fR\n{}\n", Roff(e.line), Roff(e.what));
  }
  m += ".SH EXIT STATUS\n";
  for (const ExitCodeMeaning& e : kExitCodeMeanings) {
    m += fmt::format(".TP\n.B {}\n{}\n", e.code, Roff(e.meaning));
  }
  m += ".SH SEE ALSO\n";
  m += ".BR magick (1),\n.BR gmic (1),\n.BR vips (1),\n.BR parallel (1)\n";
  m += ".PP\n" +
       Roff(
           "convcorr --help, convcorr COMMAND --help, convcorr kernel "
           "--list; in the convcorr sources, docs/cli.md (every option, "
           "message and exit code), docs/kernels.md (kernel specs and "
           "their errors), docs/semantics.md (the formulas), docs/io.md, "
           "docs/batch.md.") +
       "\n";
  return m;
}

std::string BashCompletion(const CLI::App& app) {
  std::string subs;
  for (const CLI::App* sub : Subcommands(app)) {
    subs += (subs.empty() ? "" : " ") + sub->get_name();
  }
  std::string top;
  for (const CLI::Option* o : Visible(app)) {
    for (const std::string& l : o->get_lnames()) top += " --" + l;
  }
  std::string s;
  s += "# bash completion for convcorr, generated by "
       "`convcorr --generate-bash-completion`\n";
  s += "_convcorr() {\n";
  s += "  local cur=${COMP_WORDS[COMP_CWORD]} "
       "prev=${COMP_WORDS[COMP_CWORD-1]}\n";
  s += "  local cmd= opts= valued= i\n";
  s += "  for ((i = 1; i < COMP_CWORD; i++)); do\n";
  s += fmt::format(
      "    case ${{COMP_WORDS[i]}} in\n      {}) cmd=${{COMP_WORDS[i]}}; break "
      ";;\n    esac\n",
      [&] {
        std::string alt = subs + " help";
        for (char& c : alt) {
          if (c == ' ') c = '|';
        }
        return alt;
      }());
  s += "  done\n";
  s += "  if [[ -z $cmd ]]; then\n";
  s += fmt::format("    COMPREPLY=($(compgen -W \"{} help{}\" -- \"$cur\"))\n",
                   subs, top);
  s += "    return\n  fi\n";
  s += "  case $cmd in\n";
  // `convcorr help COMMAND`.
  s += fmt::format(
      "    help) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n",
      subs);
  for (const CLI::App* sub : Subcommands(app)) {
    std::string opts;
    std::string valued;
    for (const CLI::Option* o : Visible(*sub)) {
      if (o->get_positional()) continue;
      for (const std::string& n : OptionNames(*o)) {
        opts += (opts.empty() ? "" : " ") + n;
        if (TakesValue(*o) && o->get_expected_min() > 0) {
          valued += (valued.empty() ? "" : " ") + n;
        }
      }
    }
    s += fmt::format("    {}) opts=\"{}\"; valued=\"{}\"\n", sub->get_name(),
                     opts, valued);
    // Options that take one of a few words (their type name "a|b|c").
    s += "      case $prev in\n";
    for (const CLI::Option* o : Visible(*sub)) {
      const std::string type = o->get_type_name();
      if (o->get_positional() || type.find('|') == std::string::npos) continue;
      std::string words;
      for (size_t i = 0; i <= type.size();) {
        size_t bar = type.find('|', i);
        if (bar == std::string::npos) bar = type.size();
        std::string word = type.substr(i, bar - i);
        word = word.substr(0, word.find('['));  // "constant[:V]" -> constant
        words += (words.empty() ? "" : " ") + word;
        i = bar + 1;
      }
      const std::string names =
          Join(OptionNames(*o), "|", [](const std::string& n) { return n; });
      s += fmt::format(
          "        {}) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return "
          ";;\n",
          names, words);
    }
    s += "      esac ;;\n";
  }
  s += "  esac\n";
  s += "  # A kernel spec from a file: @FILE.\n";
  s += "  if [[ ($prev == -k || $prev == --kernel || $cmd == kernel) && "
       "$cur == @* ]]; then\n";
  s += "    COMPREPLY=($(compgen -f -P @ -- \"${cur#@}\"))\n    return\n  fi\n";
  s +=
      "  # The value of an option: a file name (or whatever the user types).\n";
  s += "  if [[ \" $valued \" == *\" $prev \"* ]]; then\n";
  s += "    COMPREPLY=($(compgen -f -- \"$cur\"))\n    return\n  fi\n";
  s += "  if [[ $cur == -* ]]; then\n";
  s +=
      "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n    return\n  fi\n";
  s += "  COMPREPLY=($(compgen -f -- \"$cur\"))\n";
  s += "}\n";
  s += "complete -o filenames -o bashdefault -F _convcorr convcorr\n";
  return s;
}

}  // namespace convcorr::cli

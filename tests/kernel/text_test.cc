// Tests of the kernel parsers' text helpers (src/kernel/text.h): trimming,
// number tokens, quoting the user's bytes, and the spec errors.
#include "kernel/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace convcorr::kernel::internal {
namespace {

using namespace std::string_literals;  // "\0"s keeps the NUL byte

std::string Repeat(std::string_view piece, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += piece;
  return s;
}

// The message of the Error(kKernelSpec) that `f` throws, or a description of
// what it did instead.
template <typename F>
std::string SpecErrorOf(F f) {
  try {
    f();
    return "no error";
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kKernelSpec) return "wrong kind of Error";
    return e.what();
  }
}

std::string NumberError(std::string_view token) {
  return SpecErrorOf([&] { ParseNumberOrThrow("spec", "", token); });
}

// ---------------------------------------------------------------------------
// Trim, IsSpace, IsDigit, EqualsIgnoreCase.

TEST(TrimTest, RemovesTheSixAsciiSpacesAtBothEnds) {
  EXPECT_EQ(Trim(" \t\n\r\v\f1, 2 \f\v\r\n\t "), "1, 2");
  EXPECT_EQ(Trim("box:3"), "box:3");
  EXPECT_EQ(Trim("  a \t b  "), "a \t b");  // inner whitespace stays
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t\n\r\v\f"), "");
}

TEST(TrimTest, KeepsOtherBytes) {
  EXPECT_EQ(Trim("\0 1 \0"s), "\0 1 \0"s);
  // A no-break space (U+00A0) is not ASCII whitespace.
  EXPECT_EQ(Trim("\xc2\xa0"
                 "1 "),
            "\xc2\xa0"
            "1");
}

TEST(TrimTest, ReturnsAViewIntoItsArgument) {
  const std::string_view text = "  gaussian  ";
  const std::string_view trimmed = Trim(text);
  EXPECT_EQ(trimmed.data(), text.data() + 2);
  EXPECT_EQ(trimmed.size(), 8u);
}

TEST(CharacterTest, SpacesAndDigits) {
  for (char c : std::string_view(" \t\n\r\v\f")) EXPECT_TRUE(IsSpace(c)) << +c;
  for (char c : "\0x,;_\xa0"s) EXPECT_FALSE(IsSpace(c)) << +c;
  for (char c = '0'; c <= '9'; ++c) EXPECT_TRUE(IsDigit(c)) << c;
  for (char c : std::string_view("/:aA.+-\xb2")) EXPECT_FALSE(IsDigit(c)) << +c;
}

TEST(EqualsIgnoreCaseTest, FoldsAsciiLettersOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("NaN", "nan"));
  EXPECT_TRUE(EqualsIgnoreCase("file.NPY", "file.npy"));
  EXPECT_TRUE(EqualsIgnoreCase("Sobel-X", "sobel-x"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("nan", "na"));
  EXPECT_FALSE(EqualsIgnoreCase("box", "bot"));
  // '@' and '`' sit next to 'A' and 'a' in ASCII: no folding there.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  // Letters outside ASCII are compared as bytes: 'É' is not 'é'.
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x89", "\xc3\xa9"));
}

// ---------------------------------------------------------------------------
// ParseNumberOrThrow.

TEST(ParseNumberTest, DecimalsWithSignsAndExponents) {
  EXPECT_EQ(ParseNumberOrThrow("s", "", "7"), 7);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "+7"), 7);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "-2.5"), -2.5);
  EXPECT_EQ(ParseNumberOrThrow("s", "", ".5"), 0.5);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "5."), 5);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1e3"), 1000);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1E-3"), 0.001);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "-2.5e+2"), -250);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "0.1"), 0.1);  // correctly rounded
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1e308"), 1e308);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "4.9e-324"),
            std::numeric_limits<double>::denorm_min());
}

TEST(ParseNumberTest, Fractions) {
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1/16"), 0.0625);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "-3/8"), -0.375);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "+1/2"), 0.5);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1/2e1"), 0.05);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1/3"), 1.0 / 3);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1/inf"), 0);
}

TEST(ParseNumberTest, OutOfRangeDecimalsBecomeInfinityOrZero) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1e309"), inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "-1e999"), -inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "0.01e311"), inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1e99999999999999999999"), inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1e-999"), 0);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1000e-330"), 0);
  const double negative_zero = ParseNumberOrThrow("s", "", "-1e-999");
  EXPECT_EQ(negative_zero, 0);
  EXPECT_TRUE(std::signbit(negative_zero));  // callers add 0.0
}

// The number words std::from_chars reads come back as numbers: the callers,
// not the parser, refuse what is not finite ("weights must be finite").
TEST(ParseNumberTest, InfAndNanAreReturnedForTheCallerToRefuse) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ParseNumberOrThrow("s", "", "inf"), inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "-Infinity"), -inf);
  EXPECT_EQ(ParseNumberOrThrow("s", "", "+INF"), inf);
  EXPECT_TRUE(std::isnan(ParseNumberOrThrow("s", "", "nan")));
  EXPECT_TRUE(std::isnan(ParseNumberOrThrow("s", "", "-NaN")));
  EXPECT_TRUE(std::isnan(ParseNumberOrThrow("s", "", "1/nan")));
  EXPECT_TRUE(std::isnan(ParseNumberOrThrow("s", "", "inf/inf")));
}

TEST(ParseNumberTest, MalformedTokensAreNotNumbers) {
  for (const std::string token :
       {"",    "1e",    "1e+",  "e5",    ".",   "+",   "-",    "0x10",
        "1,5", "1.2.3", " 1",   "1 ",    "--1", "+-1", "-+1",  "1/",
        "/2",  "1/-2",  "1/+2", "1/2/3", "one", "in",  "nan(", "1\xff"}) {
    EXPECT_EQ(NumberError(token),
              "kernel spec 'spec': '" + Printable(token) + "' is not a number")
        << token;
  }
}

TEST(ParseNumberTest, ZeroDenominatorsDivideByZero) {
  EXPECT_EQ(NumberError("1/0"), "kernel spec 'spec': '1/0' divides by zero");
  EXPECT_EQ(NumberError("0/0.0"),
            "kernel spec 'spec': '0/0.0' divides by zero");
  // A denominator that underflows to 0 is a zero denominator.
  EXPECT_EQ(NumberError("1/1e-400"),
            "kernel spec 'spec': '1/1e-400' divides by zero");
  // A subnormal one is not zero: the quotient overflows instead.
  EXPECT_EQ(ParseNumberOrThrow("s", "", "1/1e-320"),
            std::numeric_limits<double>::infinity());
}

TEST(ParseNumberTest, ErrorsStartWithThePrefixAndQuoteTheTokenPrintably) {
  EXPECT_EQ(SpecErrorOf([] { ParseNumberOrThrow("@k.mat", "line 3: ", "x"); }),
            "kernel spec '@k.mat': line 3: 'x' is not a number");
  EXPECT_EQ(SpecErrorOf([] { ParseNumberOrThrow("s", "sigma ", "1\x01"); }),
            "kernel spec 's': sigma '1 ' is not a number");
}

// ---------------------------------------------------------------------------
// Printable and Quoted.

TEST(PrintableTest, KeepsPrintableAsciiAndValidUtf8) {
  EXPECT_EQ(Printable("gaussian:1.5, 7"), "gaussian:1.5, 7");
  EXPECT_EQ(Printable(""), "");
  const std::string utf8 =
      "\xc3\xa9"           // U+00E9, 2 bytes
      "\xc2\xa0"           // U+00A0, the first code point after C1
      "\xe2\x82\xac"       // U+20AC, 3 bytes
      "\xf0\x9f\x98\x80";  // U+1F600, 4 bytes
  EXPECT_EQ(Printable(utf8), utf8);
}

TEST(PrintableTest, ControlCharactersBecomeSpaces) {
  EXPECT_EQ(Printable("1,\t2\n3\r4"), "1, 2 3 4");
  EXPECT_EQ(Printable("a\0b"s), "a b");
  EXPECT_EQ(Printable("\x01\x1f\x7f"), "   ");
  // C1 controls, U+0080 and U+009F, take one space for their two bytes.
  EXPECT_EQ(Printable("a\xc2\x80"
                      "b\xc2\x9f"
                      "c"),
            "a b c");
}

TEST(PrintableTest, InvalidUtf8BecomesOneQuestionMarkPerByte) {
  EXPECT_EQ(Printable("\xff"), "?");
  EXPECT_EQ(Printable("a\x80"
                      "b"),
            "a?b");                                  // stray continuation
  EXPECT_EQ(Printable("\xc0\xaf"), "??");            // overlong '/'
  EXPECT_EQ(Printable("\xe0\x80\xaf"), "???");       // overlong, 3 bytes
  EXPECT_EQ(Printable("\xed\xa0\x80"), "???");       // UTF-16 surrogate
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "????");  // above U+10FFFF
  EXPECT_EQ(Printable("\xe2\x82"), "??");            // cut short at the end
  EXPECT_EQ(Printable("\xe2\x82"
                      "1"),
            "??1");  // cut short by ASCII
}

TEST(PrintableTest, CutsTextLongerThanEightyCharacters) {
  const std::string eighty(80, 'x');
  EXPECT_EQ(Printable(eighty), eighty);
  EXPECT_EQ(Printable(eighty + "y"), std::string(77, 'x') + "...");
  // Characters are counted, not bytes, and a cut keeps whole characters.
  const std::string e_acute = "\xc3\xa9";
  EXPECT_EQ(Printable(Repeat(e_acute, 80)), Repeat(e_acute, 80));
  EXPECT_EQ(Printable(Repeat(e_acute, 81)), Repeat(e_acute, 77) + "...");
  // Each invalid byte or control character counts as one character.
  EXPECT_EQ(Printable(std::string(100, '\xff')), std::string(77, '?') + "...");
  EXPECT_EQ(Printable(std::string(81, '\n')), std::string(77, ' ') + "...");
}

TEST(QuotedTest, PrintableTextInSingleQuotes) {
  EXPECT_EQ(Quoted("k.txt"), "'k.txt'");
  EXPECT_EQ(Quoted(""), "''");
  EXPECT_EQ(Quoted("a\nb\xff"), "'a b?'");
}

// ---------------------------------------------------------------------------
// ThrowSpecError and CheckAbsSumFinite.

TEST(ThrowSpecErrorTest, QuotesTheSpecPrintablyAndTheReasonAsItIs) {
  EXPECT_EQ(SpecErrorOf([] { ThrowSpecError("1,x", "'x' is not a number"); }),
            "kernel spec '1,x': 'x' is not a number");
  EXPECT_EQ(SpecErrorOf([] { ThrowSpecError("1;\n2\xff", "reason"); }),
            "kernel spec '1; 2?': reason");
  EXPECT_EQ(SpecErrorOf([] { ThrowSpecError(std::string(90, 'a'), "r"); }),
            "kernel spec '" + std::string(77, 'a') + "...': r");
}

TEST(CheckAbsSumFiniteTest, RefusesWeightsWhoseAbsoluteSumOverflows) {
  const std::string message =
      "kernel spec 'k': the sum of |weights| must be finite";
  const auto check = [](std::vector<double> w) {
    return SpecErrorOf([&] { CheckAbsSumFinite("k", w); });
  };
  EXPECT_EQ(check({1e308, 1e308}), message);
  // The sum itself would be 0: the absolute values are what overflow.
  EXPECT_EQ(check({1e308, -1e308, 1e308}), message);
  EXPECT_EQ(check({1, std::numeric_limits<double>::infinity()}), message);
  EXPECT_EQ(check({std::numeric_limits<double>::quiet_NaN()}), message);
}

TEST(CheckAbsSumFiniteTest, AcceptsFiniteSumsZeroIncluded) {
  const auto check = [](std::vector<double> w) {
    return SpecErrorOf([&] { CheckAbsSumFinite("k", w); });
  };
  EXPECT_EQ(check({1e308, -7e307}), "no error");
  EXPECT_EQ(check({-1, 0, 1}), "no error");
  EXPECT_EQ(check({0, 0, 0}), "no error");
  EXPECT_EQ(check({}), "no error");
}

}  // namespace
}  // namespace convcorr::kernel::internal

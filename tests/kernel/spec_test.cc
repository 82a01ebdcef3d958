// Tests of kernel spec parsing (src/kernel/spec.h, src/kernel/named.h): every
// syntax and named kernel against matrices written out from docs/kernels.md,
// and every error message word for word.
#include "kernel/spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/kernel.h"
#include "kernel/named.h"

namespace convcorr::kernel {
namespace {

// ---------------------------------------------------------------------------
// Expected matrices computed here from the definitions with explicit exp(),
// independently of src/kernel/named.cc.

// w(i,j) = exp(-((i-c)^2 + (j-c)^2) / (2 sigma^2)), c = (n-1)/2, sum 1.
std::vector<double> GaussianByHand(double sigma, int n) {
  const double c = (n - 1) / 2.0;
  std::vector<double> w;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double r2 = (i - c) * (i - c) + (j - c) * (j - c);
      w.push_back(std::exp(-r2 / (2 * sigma * sigma)));
      sum += w.back();
    }
  }
  for (double& v : w) v /= sum;
  return w;
}

// -(1 - r^2/(2 s^2)) exp(-r^2/(2 s^2)) / (pi s^4), minus its mean.
std::vector<double> LogByHand(double sigma, int n) {
  const double c = (n - 1) / 2.0;
  std::vector<double> w;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double t =
          ((i - c) * (i - c) + (j - c) * (j - c)) / (2 * sigma * sigma);
      w.push_back(-(1 - t) * std::exp(-t) /
                  (std::numbers::pi * std::pow(sigma, 4)));
      sum += w.back();
    }
  }
  for (double& v : w) v -= sum / static_cast<double>(w.size());
  return w;
}

// (1 + amount) delta - amount * gaussian(sigma, n).
std::vector<double> UnsharpByHand(double sigma, double amount, int n) {
  std::vector<double> w = GaussianByHand(sigma, n);
  for (double& v : w) v *= -amount;
  w[(n / 2) * n + n / 2] += 1 + amount;
  return w;
}

std::vector<double> Scaled(std::vector<double> w, double scale) {
  for (double& v : w) v *= scale;
  return w;
}

std::vector<double> Delta(int rows, int cols, int r, int c) {
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  w[static_cast<size_t>(r) * cols + c] = 1.0;
  return w;
}

// motion:3,45 by hand: samples at the centre (2,2), at (2+s, 2-s) and at
// (2+2s, 2-2s) (column, row), s = sqrt(2)/2, splatted bilinearly, / 3.
std::vector<double> Motion3At45ByHand() {
  const double s = std::numbers::sqrt2 / 2;
  std::vector<double> w(25, 0.0);
  const auto at = [&](int r, int c) -> double& { return w[r * 5 + c]; };
  at(2, 2) += 1;            // k = 0
  at(1, 2) += (1 - s) * s;  // k = 1: col 2 + s, row 1 + (1 - s)
  at(1, 3) += s * s;
  at(2, 2) += (1 - s) * (1 - s);
  at(2, 3) += s * (1 - s);
  const double fx = 2 * s - 1;  // k = 2: col 3 + fx, row 0 + fy
  const double fy = 2 - 2 * s;
  at(0, 3) += (1 - fx) * (1 - fy);
  at(0, 4) += fx * (1 - fy);
  at(1, 3) += (1 - fx) * fy;
  at(1, 4) += fx * fy;
  return Scaled(w, 1.0 / 3);
}

// ---------------------------------------------------------------------------
// Valid specs.

struct ValidCase {
  std::string spec;
  int rows;
  int cols;
  int anchor_x;
  int anchor_y;
  std::vector<double> weights;
  double tolerance = 0;  // 0: weights must match exactly
};

void PrintTo(const ValidCase& c, std::ostream* os) {
  *os << "'" << c.spec << "'";
}

void ExpectKernel(const Kernel& k, const ValidCase& c) {
  EXPECT_EQ(k.rows(), c.rows);
  EXPECT_EQ(k.cols(), c.cols);
  EXPECT_EQ(k.anchor_x(), c.anchor_x);
  EXPECT_EQ(k.anchor_y(), c.anchor_y);
  ASSERT_EQ(k.weights().size(), c.weights.size());
  for (size_t i = 0; i < c.weights.size(); ++i) {
    if (c.tolerance == 0) {
      EXPECT_EQ(k.weights()[i], c.weights[i]) << "weight " << i;
    } else {
      EXPECT_NEAR(k.weights()[i], c.weights[i], c.tolerance) << "weight " << i;
    }
  }
}

class ValidSpecTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidSpecTest, ParsesToTheExpectedKernel) {
  const ValidCase& c = GetParam();
  ExpectKernel(ParseSpec(c.spec), c);
}

const std::vector<double> kSobelX = {-1, 0, 1, -2, 0, 2, -1, 0, 1};

INSTANTIATE_TEST_SUITE_P(
    Inline, ValidSpecTest,
    ::testing::Values(
        ValidCase{"1,-1", 1, 2, 1, 0, {1, -1}},
        ValidCase{"1;-1", 2, 1, 0, 1, {1, -1}},
        ValidCase{"1\n-1", 2, 1, 0, 1, {1, -1}},
        ValidCase{"-1,0,1; -2,0,2; -1,0,1", 3, 3, 1, 1, kSobelX},
        ValidCase{"-1 0 1\n-2 0 2\n-1 0 1", 3, 3, 1, 1, kSobelX},
        ValidCase{"-1, 0 ,1;-2  0\t2\n-1 ,0, 1", 3, 3, 1, 1, kSobelX},
        ValidCase{
            "1/16, -3/8, +1/2, 3/1", 1, 4, 2, 0, {0.0625, -0.375, 0.5, 3}},
        ValidCase{"1e-3 -2.5E2 .5 5. +7", 1, 5, 2, 0, {0.001, -250, 0.5, 5, 7}},
        ValidCase{"1e-999, -0, 1", 1, 3, 1, 0, {0, 0, 1}},
        ValidCase{"1,2;3,4;", 2, 2, 1, 1, {1, 2, 3, 4}},
        ValidCase{"1,2\n3,4\n\n", 2, 2, 1, 1, {1, 2, 3, 4}},
        ValidCase{"1,2;3,4; ;\n", 2, 2, 1, 1, {1, 2, 3, 4}},
        ValidCase{"  1 2 \r\n 3 4 \r\n", 2, 2, 1, 1, {1, 2, 3, 4}},
        ValidCase{"1,2\n3,4;5,6", 3, 2, 1, 1, {1, 2, 3, 4, 5, 6}},
        ValidCase{"0,1,2,1", 1, 4, 2, 0, {0, 1, 2, 1}},
        ValidCase{"7", 1, 1, 0, 0, {7}}));

INSTANTIATE_TEST_SUITE_P(
    ImageMagick, ValidSpecTest,
    ::testing::Values(
        ValidCase{
            "3x3:1,2,3,4,5,6,7,8,9", 3, 3, 1, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
        // W columns, H rows.
        ValidCase{"3x2:1,2,3,4,5,6", 2, 3, 1, 1, {1, 2, 3, 4, 5, 6}},
        ValidCase{"3x2+0+1:1 2 3 4 5 6", 2, 3, 0, 1, {1, 2, 3, 4, 5, 6}},
        ValidCase{"3X1+2+0: 1, 2, 3", 1, 3, 2, 0, {1, 2, 3}},
        ValidCase{"2:1,nan,-,4", 2, 2, 1, 1, {1, 0, 0, 4}},
        ValidCase{"1x3:-1,NaN,1/2", 3, 1, 0, 1, {-1, 0, 0.5}},
        ValidCase{"4x1:\n1,\n2 3  4", 1, 4, 2, 0, {1, 2, 3, 4}},
        ValidCase{"2x2+1+1:-,-,-,1e0", 2, 2, 1, 1, {0, 0, 0, 1}},
        ValidCase{"1:5", 1, 1, 0, 0, {5}}));

INSTANTIATE_TEST_SUITE_P(
    Named, ValidSpecTest,
    ::testing::Values(
        ValidCase{"identity", 3, 3, 1, 1, Delta(3, 3, 1, 1)},
        ValidCase{"identity:1", 1, 1, 0, 0, {1}},
        ValidCase{"identity:5", 5, 5, 2, 2, Delta(5, 5, 2, 2)},
        ValidCase{"box", 3, 3, 1, 1, std::vector<double>(9, 1.0 / 9)},
        ValidCase{"box:1", 1, 1, 0, 0, {1}},
        ValidCase{"box:2", 2, 2, 1, 1, {0.25, 0.25, 0.25, 0.25}},
        ValidCase{"box:4.0", 4, 4, 2, 2, std::vector<double>(16, 1.0 / 16)},
        ValidCase{"gaussian", 7, 7, 3, 3, GaussianByHand(1, 7), 1e-15},
        ValidCase{"gaussian:0.5", 5, 5, 2, 2, GaussianByHand(0.5, 5), 1e-15},
        ValidCase{"gaussian:1,3", 3, 3, 1, 1,
                  [] {
                    // [b a b; a 1 a; b a b] / (1 + 2a)^2, a = e^-1/2.
                    const double a = std::exp(-0.5);
                    const double b = std::exp(-1.0);
                    const double n = (1 + 2 * a) * (1 + 2 * a);
                    return std::vector<double>{b / n, a / n, b / n,
                                               a / n, 1 / n, a / n,
                                               b / n, a / n, b / n};
                  }(),
                  1e-15},
        ValidCase{"gaussian:1,4", 4, 4, 2, 2,
                  [] {
                    // Offsets -1.5, -0.5, 0.5, 1.5 from the centre.
                    const double e1 = std::exp(-0.125);
                    const double e2 = std::exp(-1.125);
                    const double n = 2 * (e1 + e2);
                    const std::vector<double> g = {e2 / n, e1 / n, e1 / n,
                                                   e2 / n};
                    std::vector<double> w;
                    for (double gy : g) {
                      for (double gx : g) w.push_back(gy * gx);
                    }
                    return w;
                  }(),
                  1e-15},
        ValidCase{"gaussian:1e-300", 3, 3, 1, 1, Delta(3, 3, 1, 1)},
        ValidCase{"gaussian:1e-300,2", 2, 2, 1, 1, {0.25, 0.25, 0.25, 0.25}},
        ValidCase{"gaussian: 2 , 5 ", 5, 5, 2, 2, GaussianByHand(2, 5), 1e-15},
        ValidCase{"sobel-x", 3, 3, 1, 1, {-1, 0, 1, -2, 0, 2, -1, 0, 1}},
        ValidCase{"sobel-y", 3, 3, 1, 1, {-1, -2, -1, 0, 0, 0, 1, 2, 1}},
        ValidCase{"scharr-x", 3, 3, 1, 1, {-3, 0, 3, -10, 0, 10, -3, 0, 3}},
        ValidCase{"scharr-y", 3, 3, 1, 1, {-3, -10, -3, 0, 0, 0, 3, 10, 3}},
        ValidCase{"prewitt-x", 3, 3, 1, 1, {-1, 0, 1, -1, 0, 1, -1, 0, 1}},
        ValidCase{"prewitt-y", 3, 3, 1, 1, {-1, -1, -1, 0, 0, 0, 1, 1, 1}},
        ValidCase{"laplacian", 3, 3, 1, 1, {0, 1, 0, 1, -4, 1, 0, 1, 0}},
        ValidCase{"laplacian:4", 3, 3, 1, 1, {0, 1, 0, 1, -4, 1, 0, 1, 0}},
        ValidCase{"laplacian:8", 3, 3, 1, 1, {1, 1, 1, 1, -8, 1, 1, 1, 1}},
        ValidCase{"log", 7, 7, 3, 3, LogByHand(1, 7), 1e-13},
        ValidCase{"log:0.5", 5, 5, 2, 2, LogByHand(0.5, 5), 1e-12},
        ValidCase{"log:0.1", 3, 3, 1, 1, LogByHand(0.1, 3), 1e-9},
        ValidCase{"sharpen", 3, 3, 1, 1, {0, -1, 0, -1, 5, -1, 0, -1, 0}},
        ValidCase{"unsharp", 7, 7, 3, 3, UnsharpByHand(1, 1, 7), 1e-15},
        ValidCase{"unsharp:0.5", 5, 5, 2, 2, UnsharpByHand(0.5, 1, 5), 1e-15},
        ValidCase{"unsharp:0.5,2", 5, 5, 2, 2, UnsharpByHand(0.5, 2, 5),
                  1e-15},
        ValidCase{"emboss", 3, 3, 1, 1, {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
        ValidCase{"emboss:135", 3, 3, 1, 1, {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
        ValidCase{"emboss:-225", 3, 3, 1, 1, {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
        ValidCase{"emboss:315", 3, 3, 1, 1, {2, 1, 0, 1, 1, -1, 0, -1, -2}},
        ValidCase{"emboss:45", 3, 3, 1, 1, {0, -1, -2, 1, 1, -1, 2, 1, 0}},
        ValidCase{"emboss:0", 3, 3, 1, 1,
                  [] {
                    const double r = std::numbers::sqrt2;
                    return std::vector<double>{r, 0, -r, r, 1, -r, r, 0, -r};
                  }(),
                  1e-15},
        ValidCase{"emboss:90", 3, 3, 1, 1,
                  [] {
                    const double r = std::numbers::sqrt2;
                    return std::vector<double>{-r, -r, -r, 0, 1, 0, r, r, r};
                  }(),
                  1e-15},
        ValidCase{"motion:1", 1, 1, 0, 0, {1}},
        ValidCase{"motion:5", 1, 9, 4, 0, {0, 0, 0, 0, .2, .2, .2, .2, .2}},
        ValidCase{"motion:5,360", 1, 9, 4, 0,
                  {0, 0, 0, 0, .2, .2, .2, .2, .2}},
        ValidCase{"motion:5,90", 9, 1, 0, 4, {.2, .2, .2, .2, .2, 0, 0, 0, 0}},
        ValidCase{"motion:3,180", 1, 5, 2, 0,
                  {1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 0}},
        ValidCase{"motion:2,-90", 3, 1, 0, 1, {0, 0.5, 0.5}},
        ValidCase{"motion:3,45", 5, 5, 2, 2, Motion3At45ByHand(), 1e-15},
        ValidCase{"shift:0,0", 1, 1, 0, 0, {1}},
        ValidCase{"shift:2,-1", 3, 5, 2, 1, Delta(3, 5, 0, 4)},
        ValidCase{"shift:-1,0", 1, 3, 1, 0, {1, 0, 0}},
        ValidCase{"shift:0,2", 5, 1, 0, 2, {0, 0, 0, 0, 1}},
        ValidCase{"  sobel-x \n", 3, 3, 1, 1, kSobelX}));

TEST(NamedKernelTest, LogSumsToExactlyZeroInAnyOrder) {
  for (const char* spec : {"log", "log:0.5", "log:0.1", "log:1.7", "log:30"}) {
    SCOPED_TRACE(spec);
    const Kernel k = ParseSpec(spec);
    double forward = 0;
    for (double v : k.weights()) forward += v;
    double backward = 0;
    for (auto it = k.weights().rbegin(); it != k.weights().rend(); ++it) {
      backward += *it;
    }
    EXPECT_EQ(forward, 0.0);
    EXPECT_EQ(backward, 0.0);
    EXPECT_LT(k.at(k.anchor_y(), k.anchor_x()), 0);
  }
}

TEST(NamedKernelTest, GaussianAndMotionSumToOne) {
  for (const char* spec : {"gaussian:3", "gaussian:0.3,8", "motion:9,30",
                           "motion:17,-100", "motion:513,12.5"}) {
    SCOPED_TRACE(spec);
    const Kernel k = ParseSpec(spec);
    double sum = 0;
    for (double v : k.weights()) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

TEST(NamedKernelTest, MotionKeepsItsAnchorAtTheCentreTap) {
  // The centre tap is the first sample: it always carries weight.
  for (const char* spec : {"motion:7,30", "motion:7,200", "motion:4,-45"}) {
    SCOPED_TRACE(spec);
    const Kernel k = ParseSpec(spec);
    EXPECT_EQ(k.rows() % 2, 1);
    EXPECT_EQ(k.cols() % 2, 1);
    EXPECT_GT(k.at(k.anchor_y(), k.anchor_x()), 0);
  }
}

TEST(NamedKernelTest, LargestKernelsAreAccepted) {
  EXPECT_EQ(ParseSpec("box:1025").rows(), kMaxKernelSide);
  EXPECT_EQ(ParseSpec("gaussian:170").cols(), 1021);
  EXPECT_EQ(ParseSpec("motion:513").cols(), kMaxKernelSide);
  EXPECT_EQ(ParseSpec("shift:-512,512").rows(), kMaxKernelSide);
}

TEST(NamedKernelTest, MakeNamedKernelTakesSplitParameters) {
  ExpectKernel(MakeNamedKernel("gaussian:1,3", "gaussian", "1,3"),
               ValidCase{"", 3, 3, 1, 1, GaussianByHand(1, 3), 1e-15});
  ExpectKernel(MakeNamedKernel("sharpen", "sharpen", ""),
               ValidCase{"", 3, 3, 1, 1, {0, -1, 0, -1, 5, -1, 0, -1, 0}});
}

// The list `convcorr kernel --list` and the manual page show is the table
// the parser reads: every name parses (with its parameters when it needs
// some), in the order the unknown-name error lists them.
TEST(NamedKernelTest, TheListIsTheParsersTable) {
  const std::vector<NamedKernelInfo> list = NamedKernels();
  ASSERT_EQ(list.size(), 16u);
  std::string names;
  for (const NamedKernelInfo& k : list) {
    SCOPED_TRACE(std::string(k.name));
    names += (names.empty() ? "" : ", ") + std::string(k.name);
    EXPECT_EQ(k.usage.substr(0, k.name.size()), k.name);
    EXPECT_LE(k.min_params, k.max_params);
    EXPECT_FALSE(k.description.empty());
    EXPECT_EQ(k.description.find('\n'), std::string_view::npos);
    EXPECT_LE(k.description.size(), 80u);
    if (k.min_params == 0) {
      EXPECT_NO_THROW(ParseSpec(std::string(k.name)));
    } else {
      EXPECT_THROW(ParseSpec(std::string(k.name)), Error);
    }
  }
  EXPECT_EQ(names,
            "identity, box, gaussian, sobel-x, sobel-y, scharr-x, scharr-y, "
            "prewitt-x, prewitt-y, laplacian, log, sharpen, unsharp, emboss, "
            "motion, shift");
  EXPECT_NO_THROW(ParseSpec("motion:5"));
  EXPECT_NO_THROW(ParseSpec("shift:1,2"));
}

// ---------------------------------------------------------------------------
// Invalid specs: the exact message.

struct InvalidCase {
  std::string spec;
  std::string message;
};

void PrintTo(const InvalidCase& c, std::ostream* os) {
  *os << "'" << c.spec.substr(0, 40) << (c.spec.size() > 40 ? "...'" : "'");
}

// The message ParseSpec must throw for `spec`, or a description of what it
// did instead.
std::string MessageFor(const std::string& spec) {
  try {
    const Kernel k = ParseSpec(spec);
    return "no error: parsed a " + std::to_string(k.rows()) + "x" +
           std::to_string(k.cols()) + " kernel";
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kKernelSpec) return "wrong kind of Error";
    return e.what();
  }
}

class InvalidSpecTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidSpecTest, FailsWithTheExactMessage) {
  EXPECT_EQ(MessageFor(GetParam().spec), GetParam().message);
}

const std::string kHint =
    "(give weights like '1,2,1', a name like 'box:3', or '@FILE')";
const std::string kKnown =
    "(known: identity, box, gaussian, sobel-x, sobel-y, scharr-x, scharr-y, "
    "prewitt-x, prewitt-y, laplacian, log, sharpen, unsharp, emboss, motion, "
    "shift)";

std::string Repeat(const std::string& piece, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += piece;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Inline, InvalidSpecTest,
    ::testing::Values(
        InvalidCase{"", "kernel spec '': is empty " + kHint},
        InvalidCase{" \t\n ", "kernel spec '    ': is empty " + kHint},
        InvalidCase{";", "kernel spec ';': has no weights " + kHint},
        InvalidCase{";\n;", "kernel spec '; ;': has no weights " + kHint},
        InvalidCase{"1,2;3",
                    "kernel spec '1,2;3': row 2 has 1 value, row 1 has 2"},
        InvalidCase{"1;2,3",
                    "kernel spec '1;2,3': row 2 has 2 values, row 1 has 1"},
        InvalidCase{"1,2 3;4,5",
                    "kernel spec '1,2 3;4,5': row 2 has 2 values, row 1 has 3"},
        InvalidCase{"1,2\n3",
                    "kernel spec '1,2 3': row 2 has 1 value, row 1 has 2"},
        InvalidCase{"1,x", "kernel spec '1,x': 'x' is not a number"},
        InvalidCase{"1,2e", "kernel spec '1,2e': '2e' is not a number"},
        InvalidCase{"0x10", "kernel spec '0x10': '0x10' is not a number"},
        InvalidCase{"1,2.3.4",
                    "kernel spec '1,2.3.4': '2.3.4' is not a number"},
        InvalidCase{"--1", "kernel spec '--1': '--1' is not a number"},
        InvalidCase{"+-1", "kernel spec '+-1': '+-1' is not a number"},
        InvalidCase{"1/2/3", "kernel spec '1/2/3': '1/2/3' is not a number"},
        InvalidCase{"1/-2", "kernel spec '1/-2': '1/-2' is not a number"},
        InvalidCase{"1/", "kernel spec '1/': '1/' is not a number"},
        InvalidCase{"1,/2", "kernel spec '1,/2': '/2' is not a number"},
        InvalidCase{"1/0", "kernel spec '1/0': '1/0' divides by zero"},
        InvalidCase{"2,0/0.0",
                    "kernel spec '2,0/0.0': '0/0.0' divides by zero"},
        InvalidCase{"1,nan", "kernel spec '1,nan': weights must be finite"},
        InvalidCase{"nan", "kernel spec 'nan': weights must be finite"},
        InvalidCase{"inf", "kernel spec 'inf': weights must be finite"},
        InvalidCase{"-Infinity,1",
                    "kernel spec '-Infinity,1': weights must be finite"},
        InvalidCase{"1e999", "kernel spec '1e999': weights must be finite"},
        InvalidCase{"1/1e-320",
                    "kernel spec '1/1e-320': weights must be finite"},
        InvalidCase{"1e308,1e308",
                    "kernel spec '1e308,1e308': the sum of |weights| must be "
                    "finite"},
        InvalidCase{"1,,2",
                    "kernel spec '1,,2': row 1 has an empty value: remove the "
                    "extra comma"},
        InvalidCase{"1, ,2",
                    "kernel spec '1, ,2': row 1 has an empty value: remove the "
                    "extra comma"},
        InvalidCase{"1,2,",
                    "kernel spec '1,2,': row 1 has an empty value: remove the "
                    "extra comma"},
        InvalidCase{"1;,2",
                    "kernel spec '1;,2': row 2 has an empty value: remove the "
                    "extra comma"},
        InvalidCase{"1;;2",
                    "kernel spec '1;;2': row 2 is empty: remove the extra ';' "
                    "or newline"},
        InvalidCase{";1",
                    "kernel spec ';1': row 1 is empty: remove the extra ';' or "
                    "newline"},
        InvalidCase{"1\n\n2",
                    "kernel spec '1  2': row 2 is empty: remove the extra ';' "
                    "or newline"}));

INSTANTIATE_TEST_SUITE_P(
    ImageMagick, InvalidSpecTest,
    ::testing::Values(
        InvalidCase{"3x3:1,2",
                    "kernel spec '3x3:1,2': expected 9 values (3x3), got 2"},
        InvalidCase{"3:", "kernel spec '3:': expected 9 values (3x3), got 0"},
        InvalidCase{"2x1:1,2,3",
                    "kernel spec '2x1:1,2,3': expected 2 values (2x1), got 3"},
        InvalidCase{"1:" + Repeat("1,", 30000) + "1",
                    "kernel spec '1:" + Repeat("1,", 37) +
                        "1...': expected 1 value (1x1), got 30001"},
        InvalidCase{"3x3+3+0:1,2,3,4,5,6,7,8,9",
                    "kernel spec '3x3+3+0:1,2,3,4,5,6,7,8,9': anchor +3+0 is "
                    "outside the kernel (x must be < 3, y < 3)"},
        InvalidCase{"3x2+0+2:1,2,3,4,5,6",
                    "kernel spec '3x2+0+2:1,2,3,4,5,6': anchor +0+2 is outside "
                    "the kernel (x must be < 3, y < 2)"},
        InvalidCase{"0x3:",
                    "kernel spec '0x3:': width and height must be from 1 to "
                    "1025"},
        InvalidCase{"3x0:",
                    "kernel spec '3x0:': width and height must be from 1 to "
                    "1025"},
        InvalidCase{"1026x1:1",
                    "kernel spec '1026x1:1': width and height must be from 1 "
                    "to 1025"},
        InvalidCase{"99999999999999999999x1:1",
                    "kernel spec '99999999999999999999x1:1': width and height "
                    "must be from 1 to 1025"},
        InvalidCase{"3x-1:1",
                    "kernel spec '3x-1:1': bad geometry '3x-1' (use WxH:..., "
                    "WxH+X+Y:... or N:...)"},
        InvalidCase{"3x3+1:1",
                    "kernel spec '3x3+1:1': bad geometry '3x3+1' (use "
                    "WxH:..., WxH+X+Y:... or N:...)"},
        InvalidCase{"3x3-1-1:1",
                    "kernel spec '3x3-1-1:1': bad geometry '3x3-1-1' (use "
                    "WxH:..., WxH+X+Y:... or N:...)"},
        InvalidCase{"2.5:1",
                    "kernel spec '2.5:1': bad geometry '2.5' (use WxH:..., "
                    "WxH+X+Y:... or N:...)"},
        InvalidCase{"2:1,,2,3",
                    "kernel spec '2:1,,2,3': value 2 is empty: remove the "
                    "extra comma"},
        InvalidCase{"2:1,2,3,4,",
                    "kernel spec '2:1,2,3,4,': value 5 is empty: remove the "
                    "extra comma"},
        InvalidCase{"2:1,inf,0,0",
                    "kernel spec '2:1,inf,0,0': weights must be finite"},
        InvalidCase{"2:1,x,0,0",
                    "kernel spec '2:1,x,0,0': 'x' is not a number"},
        InvalidCase{"2:1,nan/2,0,0",
                    "kernel spec '2:1,nan/2,0,0': weights must be finite"},
        InvalidCase{"1:--", "kernel spec '1:--': '--' is not a number"}));

INSTANTIATE_TEST_SUITE_P(
    Named, InvalidSpecTest,
    ::testing::Values(
        InvalidCase{"blur",
                    "kernel spec 'blur': unknown kernel 'blur' " + kKnown},
        InvalidCase{"x", "kernel spec 'x': unknown kernel 'x' " + kKnown},
        InvalidCase{"blur:3",
                    "kernel spec 'blur:3': unknown kernel 'blur' " + kKnown},
        // A name a typo or two away from known ones gets them instead of
        // the whole list (common/closest.h).
        InvalidCase{"sobel x",
                    "kernel spec 'sobel x': unknown kernel 'sobel x' (did you "
                    "mean 'sobel-x'?)"},
        InvalidCase{"gausian:2",
                    "kernel spec 'gausian:2': unknown kernel 'gausian' (did "
                    "you mean 'gaussian'?)"},
        InvalidCase{"Gausian",
                    "kernel spec 'Gausian': unknown kernel 'Gausian' (did you "
                    "mean 'gaussian'?)"},
        InvalidCase{"gauss:2",
                    "kernel spec 'gauss:2': unknown kernel 'gauss' (did you "
                    "mean 'gaussian'?)"},
        InvalidCase{"sobel",
                    "kernel spec 'sobel': unknown kernel 'sobel' (did you "
                    "mean 'sobel-x' or 'sobel-y'?)"},
        InvalidCase{"sobel-z",
                    "kernel spec 'sobel-z': unknown kernel 'sobel-z' (did you "
                    "mean 'sobel-x' or 'sobel-y'?)"},
        InvalidCase{"embos",
                    "kernel spec 'embos': unknown kernel 'embos' (did you "
                    "mean 'emboss'?)"},
        InvalidCase{"lo",
                    "kernel spec 'lo': unknown kernel 'lo' (did you "
                    "mean 'log'?)"},
        InvalidCase{
            "Sobel-X",
            "kernel spec 'Sobel-X': unknown kernel 'Sobel-X' (names are "
            "lowercase: 'sobel-x')"},
        InvalidCase{"box:", "kernel spec 'box:': missing parameters after ':'"},
        InvalidCase{
            "box:0",
            "kernel spec 'box:0': size must be an integer from 1 to 1025"},
        InvalidCase{
            "box:-3",
            "kernel spec 'box:-3': size must be an integer from 1 to 1025"},
        InvalidCase{"box:1026",
                    "kernel spec 'box:1026': size must be an integer from 1 to "
                    "1025"},
        InvalidCase{"box:2.5",
                    "kernel spec 'box:2.5': size must be an integer from 1 to "
                    "1025"},
        InvalidCase{"box:nan",
                    "kernel spec 'box:nan': size must be an integer from 1 to "
                    "1025"},
        InvalidCase{"box:x", "kernel spec 'box:x': size 'x' is not a number"},
        InvalidCase{"box:3,3",
                    "kernel spec 'box:3,3': box takes at most 1 parameter, got "
                    "2 (use box[:N])"},
        InvalidCase{"identity:4",
                    "kernel spec 'identity:4': size must be odd (the 1 sits at "
                    "the centre)"},
        InvalidCase{"identity:0",
                    "kernel spec 'identity:0': size must be an integer from 1 "
                    "to 1025"},
        InvalidCase{"gaussian:0",
                    "kernel spec 'gaussian:0': sigma must be > 0"},
        InvalidCase{"gaussian:-1",
                    "kernel spec 'gaussian:-1': sigma must be > 0"},
        InvalidCase{"gaussian:nan",
                    "kernel spec 'gaussian:nan': sigma must be finite"},
        InvalidCase{"gaussian:inf",
                    "kernel spec 'gaussian:inf': sigma must be finite"},
        InvalidCase{"gaussian:1e999",
                    "kernel spec 'gaussian:1e999': sigma must be finite"},
        InvalidCase{"gaussian:1/0",
                    "kernel spec 'gaussian:1/0': sigma '1/0' divides by zero"},
        InvalidCase{"gaussian:200",
                    "kernel spec 'gaussian:200': sigma too large: the kernel "
                    "would be over 1025 wide (give a SIZE)"},
        InvalidCase{"gaussian:1e300",
                    "kernel spec 'gaussian:1e300': sigma too large: the kernel "
                    "would be over 1025 wide (give a SIZE)"},
        InvalidCase{"gaussian:1,0",
                    "kernel spec 'gaussian:1,0': size must be an integer from "
                    "1 to 1025"},
        InvalidCase{"gaussian:1,2000",
                    "kernel spec 'gaussian:1,2000': size must be an integer "
                    "from 1 to 1025"},
        InvalidCase{"gaussian:1,2,3",
                    "kernel spec 'gaussian:1,2,3': gaussian takes at most 2 "
                    "parameters, got 3 (use gaussian:SIGMA[,SIZE])"},
        InvalidCase{"gaussian:,3",
                    "kernel spec 'gaussian:,3': parameter 1 is empty (use "
                    "gaussian:SIGMA[,SIZE])"},
        InvalidCase{"gaussian:1,",
                    "kernel spec 'gaussian:1,': parameter 2 is empty (use "
                    "gaussian:SIGMA[,SIZE])"},
        InvalidCase{"sobel-x:1",
                    "kernel spec 'sobel-x:1': sobel-x takes no parameters, got "
                    "1 (use sobel-x)"},
        InvalidCase{"sharpen:2",
                    "kernel spec 'sharpen:2': sharpen takes no parameters, got "
                    "1 (use sharpen)"},
        InvalidCase{"laplacian:6",
                    "kernel spec 'laplacian:6': neighbourhood must be 4 or 8"},
        InvalidCase{"laplacian:4,8",
                    "kernel spec 'laplacian:4,8': laplacian takes at most 1 "
                    "parameter, got 2 (use laplacian[:4|8])"},
        InvalidCase{"log:0", "kernel spec 'log:0': sigma must be > 0"},
        InvalidCase{"log:171",
                    "kernel spec 'log:171': sigma too large: the kernel would "
                    "be over 1025 wide"},
        InvalidCase{"log:1e-80",
                    "kernel spec 'log:1e-80': sigma too small: the weights "
                    "overflow"},
        InvalidCase{"log:1,7",
                    "kernel spec 'log:1,7': log takes at most 1 parameter, got "
                    "2 (use log:SIGMA)"},
        InvalidCase{"unsharp:-2",
                    "kernel spec 'unsharp:-2': sigma must be > 0"},
        InvalidCase{"unsharp:1,inf",
                    "kernel spec 'unsharp:1,inf': amount must be finite"},
        InvalidCase{"unsharp:1,1e308,1",
                    "kernel spec 'unsharp:1,1e308,1': unsharp takes at most 2 "
                    "parameters, got 3 (use unsharp:SIGMA[,AMOUNT])"},
        InvalidCase{"emboss:inf",
                    "kernel spec 'emboss:inf': angle must be finite"},
        InvalidCase{
            "emboss:north",
            "kernel spec 'emboss:north': angle 'north' is not a number"},
        InvalidCase{"emboss:1,2",
                    "kernel spec 'emboss:1,2': emboss takes at most 1 "
                    "parameter, got 2 (use emboss[:ANGLE])"},
        InvalidCase{"motion",
                    "kernel spec 'motion': motion takes 1 or 2 parameters, got "
                    "0 (use motion:LENGTH[,ANGLE])"},
        InvalidCase{"motion:0",
                    "kernel spec 'motion:0': length must be an integer from 1 "
                    "to 513"},
        InvalidCase{"motion:514",
                    "kernel spec 'motion:514': length must be an integer from "
                    "1 to 513"},
        InvalidCase{"motion:1e300",
                    "kernel spec 'motion:1e300': length must be an integer "
                    "from 1 to 513"},
        InvalidCase{"motion:3,nan",
                    "kernel spec 'motion:3,nan': angle must be finite"},
        InvalidCase{"motion:3,0,1",
                    "kernel spec 'motion:3,0,1': motion takes 1 or 2 "
                    "parameters, got 3 (use motion:LENGTH[,ANGLE])"},
        InvalidCase{"shift:1",
                    "kernel spec 'shift:1': shift takes 2 parameters, got 1 "
                    "(use shift:DX,DY)"},
        InvalidCase{"shift:513,0",
                    "kernel spec 'shift:513,0': dx must be an integer from "
                    "-512 to 512"},
        InvalidCase{"shift:0,1.5",
                    "kernel spec 'shift:0,1.5': dy must be an integer from "
                    "-512 to 512"}));

INSTANTIATE_TEST_SUITE_P(
    FilesAndBytes, InvalidSpecTest,
    ::testing::Values(
        InvalidCase{"@", "kernel spec '@': missing file name after '@'"},
        InvalidCase{"@  ", "kernel spec '@  ': missing file name after '@'"},
        InvalidCase{"@/nonexistent-convcorr-dir/k.txt",
                    "kernel spec '@/nonexistent-convcorr-dir/k.txt': cannot "
                    "read file '/nonexistent-convcorr-dir/k.txt': No such file "
                    "or directory"},
        InvalidCase{std::string("@a\0b", 4),
                    "kernel spec '@a b': cannot read file 'a b': the name "
                    "contains a NUL byte"},
        // Invalid UTF-8 is shown as '?', control characters as spaces.
        InvalidCase{"1,\xff\xfe", "kernel spec '1,?\?': '?\?' is not a number"},
        InvalidCase{"1,\xc3(", "kernel spec '1,?(': '?(' is not a number"},
        InvalidCase{"1,\x01", "kernel spec '1, ': ' ' is not a number"},
        InvalidCase{"1,\xc3\xa9",
                    "kernel spec '1,\xc3\xa9': '\xc3\xa9' is not a number"},
        InvalidCase{
            "\xe2\x82\xac",
            "kernel spec '\xe2\x82\xac': '\xe2\x82\xac' is not a number"},
        // 100 KB specs: quotes are cut to 77 characters and "...", and the
        // parser stops at the first limit it crosses.
        InvalidCase{std::string(100000, '1'),
                    "kernel spec '" + std::string(77, '1') +
                        "...': weights must be finite"},
        InvalidCase{std::string(100000, 'x'),
                    "kernel spec '" + std::string(77, 'x') +
                        "...': unknown kernel '" + std::string(77, 'x') +
                        "...' " + kKnown},
        InvalidCase{
            Repeat("1,", 50000) + "1",
            "kernel spec '" + Repeat("1,", 38) +
                "1...': row 1 has "
                "more than 1025 values (the largest kernel is 1025x1025)"},
        InvalidCase{Repeat("1;", 50000),
                    "kernel spec '" + Repeat("1;", 38) +
                        "1...': more than "
                        "1025 rows (the largest kernel is 1025x1025)"},
        InvalidCase{"gaussian:" + Repeat("1,", 50000) + "1",
                    "kernel spec 'gaussian:" + Repeat("1,", 34) +
                        "...': gaussian takes at most 2 parameters, got 50001 "
                        "(use gaussian:SIGMA[,SIZE])"},
        InvalidCase{Repeat("\xff", 100000),
                    "kernel spec '" + std::string(77, '?') + "...': '" +
                        std::string(77, '?') + "...' is not a number"}));

// Long quotes keep whole UTF-8 characters: 77 of them, then "...".
TEST(SpecErrorTest, LongQuotesCountCharactersNotBytes) {
  const std::string e_acute = "\xc3\xa9";
  EXPECT_EQ(MessageFor("1," + Repeat(e_acute, 100)),
            "kernel spec '1," + Repeat(e_acute, 75) + "...': '" +
                Repeat(e_acute, 77) + "...' is not a number");
  // Exactly 80 characters are shown whole.
  const std::string eighty = "x" + std::string(79, 'y');
  EXPECT_EQ(MessageFor(eighty), "kernel spec '" + eighty +
                                    "': unknown kernel '" + eighty + "' " +
                                    kKnown);
}

// Whatever the bytes, ParseSpec returns a kernel or throws convcorr::Error of
// kind kKernelSpec with a one-line message.
TEST(SpecErrorTest, RandomSpecsOnlyThrowKernelSpecErrors) {
  const std::string alphabet =
      "0123456789.,;:/+-xX eEna@\n\t#\xff\xc3"
      "boxgaussianmotionshiftembosslog";
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> length(0, 24);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  const std::vector<std::string> prefixes = {
      "", "gaussian:", "motion:", "3x3:", "shift:", "emboss:"};
  std::uniform_int_distribution<size_t> pick_prefix(0, prefixes.size() - 1);
  for (int n = 0; n < 20000; ++n) {
    std::string spec = prefixes[pick_prefix(rng)];
    for (int i = length(rng); i > 0; --i) spec += alphabet[pick(rng)];
    try {
      ParseSpec(spec);
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::kKernelSpec) << spec;
      const std::string message = e.what();
      ASSERT_EQ(message.rfind("kernel spec '", 0), 0u) << message;
      ASSERT_EQ(message.find('\n'), std::string::npos) << message;
    } catch (...) {
      FAIL() << "unexpected exception for '" << spec << "'";
    }
  }
}

// ---------------------------------------------------------------------------
// @FILE.

class FileSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("convcorr_kernel_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes `content` to a file in the test directory and returns its path.
  std::string Write(const std::string& name, const std::string& content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(FileSpecTest, ReadsRowsCommentsAndBlankLines) {
  const std::string path = Write("sobel.txt",
                                 "\xEF\xBB\xBF# Sobel x, as written\n"
                                 "\n"
                                 "-1, 0, 1   # first row\r\n"
                                 "  -2 0 2\n"
                                 "#-9 -9 -9\n"
                                 "   \n"
                                 "-1/1,0,1e0");
  ExpectKernel(ParseSpec("@" + path), ValidCase{"", 3, 3, 1, 1, kSobelX});
  // Spaces around the name are ignored like around any spec.
  ExpectKernel(ParseSpec(" @ " + path + " \n"),
               ValidCase{"", 3, 3, 1, 1, kSobelX});
}

TEST_F(FileSpecTest, SemicolonsSplitRowsInFilesToo) {
  const std::string path = Write("rows.txt", "1,2;3,4;\n5,6\n");
  ExpectKernel(ParseSpec("@" + path),
               ValidCase{"", 3, 2, 1, 1, {1, 2, 3, 4, 5, 6}});
}

TEST_F(FileSpecTest, ErrorsNameTheLine) {
  const std::string ragged = Write("ragged.txt", "# k\n1 2 3\n\n4 5\n");
  EXPECT_EQ(MessageFor("@" + ragged),
            "kernel spec '@" + ragged + "': line 4 has 2 values, line 2 has 3");
  const std::string bad = Write("bad.txt", "1 2\n3 x\n");
  EXPECT_EQ(MessageFor("@" + bad),
            "kernel spec '@" + bad + "': line 2: 'x' is not a number");
  const std::string nan = Write("nan.txt", "1 nan\n");
  EXPECT_EQ(MessageFor("@" + nan),
            "kernel spec '@" + nan + "': line 1: weights must be finite");
  const std::string empty_value = Write("comma.txt", "1\n\n2,\n");
  EXPECT_EQ(MessageFor("@" + empty_value),
            "kernel spec '@" + empty_value +
                "': line 3 has an empty value: remove the extra comma");
}

TEST_F(FileSpecTest, EmptyFilesAndUnreadablePathsAreErrors) {
  const std::string empty = Write("empty.txt", "");
  EXPECT_EQ(MessageFor("@" + empty), "kernel spec '@" + empty + "': file '" +
                                         empty + "' has no weights");
  const std::string comments = Write("comments.txt", "# nothing\n  \n#1 2\n");
  EXPECT_EQ(MessageFor("@" + comments), "kernel spec '@" + comments +
                                            "': file '" + comments +
                                            "' has no weights");
  const std::string missing = (dir_ / "missing.txt").string();
  EXPECT_EQ(MessageFor("@" + missing), "kernel spec '@" + missing +
                                           "': cannot read file '" + missing +
                                           "': No such file or directory");
  const std::string dir = dir_.string();
  EXPECT_EQ(MessageFor("@" + dir), "kernel spec '@" + dir +
                                       "': cannot read file '" + dir +
                                       "': Is a directory");
}

TEST_F(FileSpecTest, ReadsTheLargestKernel) {
  std::string content;
  for (int r = 0; r < kMaxKernelSide; ++r) {
    for (int c = 0; c < kMaxKernelSide; ++c) content += c == 0 ? "1" : " 1";
    content += "\n";
  }
  const Kernel k = ParseSpec("@" + Write("big.txt", content));
  EXPECT_EQ(k.rows(), kMaxKernelSide);
  EXPECT_EQ(k.cols(), kMaxKernelSide);
  EXPECT_EQ(MessageFor("@" + Write("bigger.txt", content + "1\n")),
            "kernel spec '@" + (dir_ / "bigger.txt").string() +
                "': more than 1025 rows (the largest kernel is 1025x1025)");
}

}  // namespace
}  // namespace convcorr::kernel

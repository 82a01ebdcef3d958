// Named kernels: "gaussian:1.5,7", "sobel-x", "motion:9,30"... Definitions,
// defaults and sign conventions are documented in docs/kernels.md.
#include "kernel/named.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/closest.h"
#include "kernel/kernel.h"
#include "kernel/text.h"

namespace convcorr::kernel {
namespace {

using internal::CheckAbsSumFinite;
using internal::EqualsIgnoreCase;
using internal::ParseNumberOrThrow;
using internal::Printable;
using internal::ThrowSpecError;
using internal::Trim;

// The parameters of one named kernel, with the checks that turn a bad one
// into a kernel spec error.
class Params {
 public:
  Params(std::string_view spec, std::vector<std::string_view> values)
      : spec_(spec), values_(std::move(values)) {}

  bool has(size_t i) const { return i < values_.size(); }

  [[noreturn]] void Fail(const std::string& reason) const {
    ThrowSpecError(spec_, reason);
  }

  // Parameter `i` as a finite real number; `what` names it in messages.
  double Real(size_t i, std::string_view what) const {
    const double v = Parse(i, what);
    if (!std::isfinite(v)) Fail(std::string(what) + " must be finite");
    return v;
  }

  // Parameter `i` as an integer in [lo, hi] ("3" or "3.0", not "2.5").
  int Integer(size_t i, std::string_view what, int lo, int hi) const {
    const double v = Parse(i, what);
    if (!(v >= lo && v <= hi && v == std::floor(v))) {
      Fail(std::string(what) + " must be an integer from " +
           std::to_string(lo) + " to " + std::to_string(hi));
    }
    return static_cast<int>(v);
  }

 private:
  double Parse(size_t i, std::string_view what) const {
    return ParseNumberOrThrow(spec_, std::string(what) + " ", values_[i]);
  }

  std::string_view spec_;
  std::vector<std::string_view> values_;
};

// cos and sin of an angle in degrees, exact at multiples of 90 degrees so
// that axis-aligned kernels get no 1e-17 leftovers off the axis.
std::pair<double, double> CosSinDegrees(double degrees) {
  double a = std::fmod(degrees, 360.0);
  if (a < 0) a += 360.0;
  if (a == 0) return {1.0, 0.0};
  if (a == 90) return {0.0, 1.0};
  if (a == 180) return {-1.0, 0.0};
  if (a == 270) return {0.0, -1.0};
  const double radians = a * std::numbers::pi / 180.0;
  return {std::cos(radians), std::sin(radians)};
}

// 2*ceil(3*sigma)+1, or an error if that exceeds kMaxKernelSide; checked in
// double before any conversion so a huge sigma never overflows an int.
int DefaultGaussianSize(const Params& p, double sigma, std::string_view hint) {
  const double half = std::ceil(3.0 * sigma);
  if (!(half <= (kMaxKernelSide - 1) / 2)) {
    p.Fail("sigma too large: the kernel would be over " +
           std::to_string(kMaxKernelSide) + " wide" + std::string(hint));
  }
  return 2 * static_cast<int>(half) + 1;
}

// Sampled 1-D Gaussian at offsets from the centre (size-1)/2, sum 1. The
// exponent is taken relative to the central sample so that a tiny sigma
// still gives a delta (or two equal taps for an even size), never 0/0.
std::vector<double> Gaussian1D(double sigma, int size) {
  const double centre = (size - 1) / 2.0;
  const double nearest = (size % 2 == 1) ? 0.0 : 0.5;
  std::vector<double> g(size);
  double sum = 0;
  for (int i = 0; i < size; ++i) {
    const double d = i - centre;
    const double excess = d * d - nearest * nearest;  // exact, >= 0
    g[i] = excess == 0 ? 1.0 : std::exp(-0.5 * (excess / sigma / sigma));
    sum += g[i];
  }
  for (double& v : g) v /= sum;
  return g;
}

// Rounds the weights to a common power-of-two quantum small enough to lose
// nothing that matters (2^-50 of the sum of |weights|) yet large enough that
// every partial sum is exact, then moves the rounding residue into the
// centre tap: the sum is then exactly 0 in any order of addition, so
// --normalize sees a zero sum and never divides by a 1e-17 leftover.
void MakeExactlyZeroSum(std::vector<double>& w, size_t centre) {
  double sum = 0;
  for (double v : w) sum += v;
  const double mean = sum / static_cast<double>(w.size());
  double abs_sum = 0;
  for (double& v : w) {
    v -= mean;
    abs_sum += std::fabs(v);
  }
  if (abs_sum == 0) return;
  int exponent = 0;
  std::frexp(abs_sum, &exponent);  // abs_sum < 2^exponent
  const double quantum = std::ldexp(1.0, exponent + 1 - 52);
  double residue = 0;
  for (double& v : w) {
    v = std::nearbyint(v / quantum) * quantum + 0.0;
    residue += v;
  }
  w[centre] -= residue;
}

Kernel Square(int n, std::vector<double> w) {
  return Kernel(n, n, std::move(w));
}

Kernel Transposed3x3(const std::vector<double>& w) {
  return Square(3, {w[0], w[3], w[6], w[1], w[4], w[7], w[2], w[5], w[8]});
}

Kernel MakeIdentity(const Params& p) {
  const int n = p.has(0) ? p.Integer(0, "size", 1, kMaxKernelSide) : 3;
  if (n % 2 == 0) {
    p.Fail("size must be odd (the 1 sits at the centre)");
  }
  std::vector<double> w(static_cast<size_t>(n) * n, 0.0);
  w[static_cast<size_t>(n / 2) * n + n / 2] = 1.0;
  return Square(n, std::move(w));
}

Kernel MakeBox(const Params& p) {
  const int n = p.has(0) ? p.Integer(0, "size", 1, kMaxKernelSide) : 3;
  return Square(n, std::vector<double>(static_cast<size_t>(n) * n,
                                       1.0 / (static_cast<double>(n) * n)));
}

double Sigma(const Params& p) {
  const double sigma = p.has(0) ? p.Real(0, "sigma") : 1.0;
  if (!(sigma > 0)) p.Fail("sigma must be > 0");
  return sigma;
}

Kernel MakeGaussian(const Params& p) {
  const double sigma = Sigma(p);
  const int n = p.has(1) ? p.Integer(1, "size", 1, kMaxKernelSide)
                         : DefaultGaussianSize(p, sigma, " (give a SIZE)");
  const std::vector<double> g = Gaussian1D(sigma, n);
  std::vector<double> w;
  w.reserve(static_cast<size_t>(n) * n);
  for (double gy : g) {
    for (double gx : g) w.push_back(gy * gx);
  }
  return Square(n, std::move(w));
}

const std::vector<double> kSobelX = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
const std::vector<double> kScharrX = {-3, 0, 3, -10, 0, 10, -3, 0, 3};
const std::vector<double> kPrewittX = {-1, 0, 1, -1, 0, 1, -1, 0, 1};

Kernel MakeSobelX(const Params&) { return Square(3, kSobelX); }
Kernel MakeSobelY(const Params&) { return Transposed3x3(kSobelX); }
Kernel MakeScharrX(const Params&) { return Square(3, kScharrX); }
Kernel MakeScharrY(const Params&) { return Transposed3x3(kScharrX); }
Kernel MakePrewittX(const Params&) { return Square(3, kPrewittX); }
Kernel MakePrewittY(const Params&) { return Transposed3x3(kPrewittX); }

Kernel MakeLaplacian(const Params& p) {
  // Parsed as a real so that "laplacian:6" gets the 4-or-8 message.
  const double neighbours = p.has(0) ? p.Real(0, "neighbourhood") : 4;
  if (neighbours == 4) return Square(3, {0, 1, 0, 1, -4, 1, 0, 1, 0});
  if (neighbours == 8) return Square(3, {1, 1, 1, 1, -8, 1, 1, 1, 1});
  p.Fail("neighbourhood must be 4 or 8");
}

// Laplacian of Gaussian, -(1 - r^2/(2 sigma^2)) exp(-r^2/(2 sigma^2)) /
// (pi sigma^4), then made exactly zero-sum.
Kernel MakeLog(const Params& p) {
  const double sigma = Sigma(p);
  const int n = std::max(3, DefaultGaussianSize(p, sigma, ""));
  const double centre = (n - 1) / 2.0;
  const double peak = 1.0 / (std::numbers::pi * sigma * sigma * sigma * sigma);
  std::vector<double> w;
  w.reserve(static_cast<size_t>(n) * n);
  double abs_sum = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double r2 =
          (i - centre) * (i - centre) + (j - centre) * (j - centre);
      const double t = r2 == 0 ? 0.0 : r2 / (2.0 * sigma) / sigma;
      // Far taps are 0 in double anyway; skipping them avoids inf * 0.
      const double v = t > 1000 ? 0.0 : -(1.0 - t) * std::exp(-t) * peak;
      w.push_back(v + 0.0);
      abs_sum += std::fabs(v);
    }
  }
  if (!std::isfinite(2 * abs_sum))
    p.Fail("sigma too small: the weights overflow");
  MakeExactlyZeroSum(w, static_cast<size_t>(n / 2) * n + n / 2);
  return Square(n, std::move(w));
}

Kernel MakeSharpen(const Params&) {
  return Square(3, {0, -1, 0, -1, 5, -1, 0, -1, 0});
}

// (1 + amount) * delta - amount * gaussian(sigma).
Kernel MakeUnsharp(const Params& p) {
  const double sigma = Sigma(p);
  const double amount = p.has(1) ? p.Real(1, "amount") : 1.0;
  const int n = DefaultGaussianSize(p, sigma, "");
  const std::vector<double> g = Gaussian1D(sigma, n);
  std::vector<double> w;
  w.reserve(static_cast<size_t>(n) * n);
  for (double gy : g) {
    for (double gx : g) w.push_back(-amount * (gy * gx) + 0.0);
  }
  w[static_cast<size_t>(n / 2) * n + n / 2] += 1.0 + amount;
  return Square(n, std::move(w));
}

// 3x3 emboss lit from ANGLE (counter-clockwise from east, y up):
// K(i,j) = [centre] - sqrt(2) (dx cos - dy sin), dx = j-1, dy = i-1 (down).
Kernel MakeEmboss(const Params& p) {
  const double angle = p.has(0) ? p.Real(0, "angle") : 135.0;
  const auto [c, s] = CosSinDegrees(angle);
  std::vector<double> w;
  w.reserve(9);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const int dx = j - 1;
      const int dy = i - 1;
      double v = (dx == 0 && dy == 0 ? 1.0 : 0.0) -
                 std::numbers::sqrt2 * (dx * c - dy * s);
      // sqrt(2) * cos(135 deg) is -1 only to within an ulp: snap, so the
      // classic kernels come out exact.
      const double nearest = std::round(v);
      if (std::fabs(v - nearest) <= 1e-12) v = nearest;
      w.push_back(v + 0.0);
    }
  }
  return Square(3, std::move(w));
}

// Positions this close to a grid line are taken as on it, so rounding in
// k*cos does not leak a 1e-16 weight into a neighbouring row or column.
constexpr double kSnap = 1e-9;

double Snap(double x) {
  const double nearest = std::round(x);
  return std::fabs(x - nearest) <= kSnap ? nearest : x;
}

// One-sided motion blur: LENGTH samples from the centre in direction ANGLE,
// splatted bilinearly on a (2L-1)^2 grid centred on the anchor, then the
// outer rows/columns that are zero on both sides of the centre dropped.
Kernel MakeMotion(const Params& p) {
  const int length = p.Integer(0, "length", 1, (kMaxKernelSide + 1) / 2);
  const double angle = p.has(1) ? p.Real(1, "angle") : 0.0;
  const auto [c, s] = CosSinDegrees(angle);
  const int side = 2 * length - 1;
  const int mid = length - 1;
  std::vector<double> grid(static_cast<size_t>(side) * side, 0.0);
  const auto splat = [&](int row, int col, double weight) {
    if (weight == 0) return;
    if (row >= 0 && row < side && col >= 0 && col < side) {
      grid[static_cast<size_t>(row) * side + col] += weight;
    }
  };
  for (int k = 0; k < length; ++k) {
    const double x = Snap(mid + k * c);
    const double y = Snap(mid - k * s);  // rows grow downward, y grows up
    const double x0 = std::floor(x);
    const double y0 = std::floor(y);
    const double fx = x - x0;
    const double fy = y - y0;
    const int col = static_cast<int>(x0);
    const int row = static_cast<int>(y0);
    splat(row, col, (1 - fx) * (1 - fy));
    splat(row, col + 1, fx * (1 - fy));
    splat(row + 1, col, (1 - fx) * fy);
    splat(row + 1, col + 1, fx * fy);
  }
  double total = 0;
  for (double v : grid) total += v;
  for (double& v : grid) v /= total;

  const auto row_zero = [&](int r) {
    for (int j = 0; j < side; ++j) {
      if (grid[static_cast<size_t>(r) * side + j] != 0) return false;
    }
    return true;
  };
  const auto col_zero = [&](int col) {
    for (int i = 0; i < side; ++i) {
      if (grid[static_cast<size_t>(i) * side + col] != 0) return false;
    }
    return true;
  };
  // Trim symmetric pairs from the outside in, so the anchor stays central.
  int row_trim = 0;
  while (row_trim < mid && row_zero(row_trim) &&
         row_zero(side - 1 - row_trim)) {
    ++row_trim;
  }
  int col_trim = 0;
  while (col_trim < mid && col_zero(col_trim) &&
         col_zero(side - 1 - col_trim)) {
    ++col_trim;
  }
  const int rows = side - 2 * row_trim;
  const int cols = side - 2 * col_trim;
  std::vector<double> w;
  w.reserve(static_cast<size_t>(rows) * cols);
  for (int i = row_trim; i < side - row_trim; ++i) {
    for (int j = col_trim; j < side - col_trim; ++j) {
      w.push_back(grid[static_cast<size_t>(i) * side + j]);
    }
  }
  return Kernel(rows, cols, std::move(w));
}

// A centred delta placed so that convolve moves content by (+DX, +DY).
Kernel MakeShift(const Params& p) {
  constexpr int kMaxShift = (kMaxKernelSide - 1) / 2;
  const int dx = p.Integer(0, "dx", -kMaxShift, kMaxShift);
  const int dy = p.Integer(1, "dy", -kMaxShift, kMaxShift);
  const int rows = 2 * std::abs(dy) + 1;
  const int cols = 2 * std::abs(dx) + 1;
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  w[static_cast<size_t>(std::abs(dy) + dy) * cols + (std::abs(dx) + dx)] = 1.0;
  return Kernel(rows, cols, std::move(w));
}

struct NamedKernel {
  std::string_view name;
  size_t min_params;
  size_t max_params;
  std::string_view usage;
  std::string_view description;
  Kernel (*make)(const Params&);
};

// In the order listed in errors, in `convcorr kernel --list`, in the manual
// page and in docs/kernels.md. The descriptions are one line each.
constexpr NamedKernel kNamedKernels[] = {
    {"identity", 0, 1, "identity[:N]",
     "1 at the centre of N x N (N odd, default 3): the image unchanged",
     MakeIdentity},
    {"box", 0, 1, "box[:N]",
     "mean of N x N pixels, every weight 1/N^2 (N default 3)", MakeBox},
    {"gaussian", 0, 2, "gaussian:SIGMA[,SIZE]",
     "Gaussian blur, sum 1 (SIGMA default 1, SIZE default 2*ceil(3*SIGMA)+1)",
     MakeGaussian},
    {"sobel-x", 0, 0, "sobel-x",
     "x gradient [-1,0,1; -2,0,2; -1,0,1], as written", MakeSobelX},
    {"sobel-y", 0, 0, "sobel-y",
     "y gradient [-1,-2,-1; 0,0,0; 1,2,1], as written", MakeSobelY},
    {"scharr-x", 0, 0, "scharr-x",
     "x gradient [-3,0,3; -10,0,10; -3,0,3], as written", MakeScharrX},
    {"scharr-y", 0, 0, "scharr-y",
     "y gradient [-3,-10,-3; 0,0,0; 3,10,3], as written", MakeScharrY},
    {"prewitt-x", 0, 0, "prewitt-x",
     "x gradient [-1,0,1; -1,0,1; -1,0,1], as written", MakePrewittX},
    {"prewitt-y", 0, 0, "prewitt-y",
     "y gradient [-1,-1,-1; 0,0,0; 1,1,1], as written", MakePrewittY},
    {"laplacian", 0, 1, "laplacian[:4|8]",
     "edges in every direction, over 4 (default) or 8 neighbours, sum 0",
     MakeLaplacian},
    {"log", 0, 1, "log:SIGMA",
     "Laplacian of Gaussian, sum exactly 0 (SIGMA default 1)", MakeLog},
    {"sharpen", 0, 0, "sharpen", "[0,-1,0; -1,5,-1; 0,-1,0], sum 1",
     MakeSharpen},
    {"unsharp", 0, 2, "unsharp:SIGMA[,AMOUNT]",
     "unsharp mask (1+AMOUNT) identity - AMOUNT gaussian:SIGMA (defaults 1, "
     "1)",
     MakeUnsharp},
    {"emboss", 0, 1, "emboss[:ANGLE]",
     "relief lit from ANGLE degrees counter-clockwise from east (default "
     "135)",
     MakeEmboss},
    {"motion", 1, 2, "motion:LENGTH[,ANGLE]",
     "one-sided motion blur, LENGTH 1 to 513 taps towards ANGLE degrees "
     "(default 0)",
     MakeMotion},
    {"shift", 2, 2, "shift:DX,DY",
     "moves the content by DX,DY under convolve, by -DX,-DY under correlate",
     MakeShift},
};

std::string KnownNames() {
  std::string names;
  for (const NamedKernel& k : kNamedKernels) {
    if (!names.empty()) names += ", ";
    names += k.name;
  }
  return names;
}

std::string ParamCountError(const NamedKernel& k, size_t got) {
  std::string reason = std::string(k.name) + " takes ";
  if (k.max_params == 0) {
    reason += "no parameters";
  } else if (k.min_params == k.max_params) {
    reason += std::to_string(k.max_params) + " parameters";
  } else if (k.min_params == 0) {
    reason += "at most " + std::to_string(k.max_params) +
              (k.max_params == 1 ? " parameter" : " parameters");
  } else {
    reason += std::to_string(k.min_params) + " or " +
              std::to_string(k.max_params) + " parameters";
  }
  return reason + ", got " + std::to_string(got) + " (use " +
         std::string(k.usage) + ")";
}

}  // namespace

std::vector<NamedKernelInfo> NamedKernels() {
  std::vector<NamedKernelInfo> out;
  for (const NamedKernel& k : kNamedKernels) {
    out.push_back({k.name, k.usage, k.min_params, k.max_params, k.description});
  }
  return out;
}

Kernel MakeNamedKernel(std::string_view spec, std::string_view name,
                       std::string_view params) {
  const NamedKernel* found = nullptr;
  for (const NamedKernel& k : kNamedKernels) {
    if (k.name == name) found = &k;
  }
  if (found == nullptr) {
    // The names are all lowercase: a match that ignores case is the name
    // typed in another case.
    for (const NamedKernel& k : kNamedKernels) {
      if (EqualsIgnoreCase(k.name, name)) {
        ThrowSpecError(spec, "unknown kernel '" + Printable(name) +
                                 "' (names are lowercase: '" +
                                 std::string(k.name) + "')");
      }
    }
    // A name a typo away from a known one gets that one, else every name.
    std::vector<std::string> names;
    for (const NamedKernel& k : kNamedKernels) names.emplace_back(k.name);
    const std::string guess = DidYouMean(ClosestWords(name, names));
    ThrowSpecError(
        spec, "unknown kernel '" + Printable(name) + "' (" +
                  (guess.empty() ? "known: " + KnownNames() : guess) + ")");
  }

  std::vector<std::string_view> values;
  if (!Trim(params).empty()) {
    size_t start = 0;
    while (true) {
      const size_t comma = params.find(',', start);
      values.push_back(Trim(params.substr(start, comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  if (values.size() < found->min_params || values.size() > found->max_params) {
    ThrowSpecError(spec, ParamCountError(*found, values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) {
      ThrowSpecError(spec, "parameter " + std::to_string(i + 1) +
                               " is empty (use " + std::string(found->usage) +
                               ")");
    }
  }
  Kernel kernel = found->make(Params(spec, std::move(values)));
  // Extreme parameters (unsharp with a huge amount) can overflow the sums
  // that the engine and --normalize take, like huge inline weights.
  CheckAbsSumFinite(spec, kernel.weights());
  return kernel;
}

}  // namespace convcorr::kernel

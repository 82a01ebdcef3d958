#include "core/cost_model.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace convcorr::core {

namespace {

int NonZeroTaps(const kernel::Kernel& k, int* rows_with_taps) {
  int taps = 0;
  int rows = 0;
  for (int i = 0; i < k.rows(); ++i) {
    int in_row = 0;
    for (int j = 0; j < k.cols(); ++j) in_row += k.at(i, j) != 0.0 ? 1 : 0;
    taps += in_row;
    rows += in_row > 0 ? 1 : 0;
  }
  if (rows_with_taps != nullptr) *rows_with_taps = rows;
  return taps;
}

double FftCost(const kernel::Kernel& k) {
  const double nh = BestDftSize(k.rows());
  const double nw = BestDftSize(k.cols());
  const double outputs = (nh - k.rows() + 1) * (nw - k.cols() + 1);
  // A forward and an inverse real transform (each about half a complex one
  // of nh*nw points) and a spectrum product per tile.
  return kFftCost * nh * nw * std::log2(nh * nw) / outputs;
}

// The separable strategy with `r` terms. Per term: a row pass of kw taps
// and a column pass of kh taps over its own ring; the column pass walks kh
// rows of every term's ring.
double SeparableCost(const kernel::Kernel& k, int r) {
  return kSeparableTapCost * r * (k.rows() + k.cols()) +
         kRowCost * (r * k.rows() + 1) + r * kSeparableCost;
}

// One term whose factors are both symmetric: each factor's centre and
// pairs.
double SymmetricSeparableCost(const kernel::Kernel& k) {
  return kSeparableTapCost * (k.rows() / 2 + 1 + k.cols() / 2 + 1) +
         kRowCost * (k.rows() + 1) + kSymmetricSeparableCost;
}

// True if k has odd sides and mirrors onto itself both ways (the only
// kernels whose factors can be symmetric), to the same tolerance as
// SymmetricFactor.
bool MirrorSymmetric(const kernel::Kernel& k) {
  if (k.rows() % 2 == 0 || k.cols() % 2 == 0) return false;
  double scale = 0.0;
  for (double w : k.weights()) scale = std::max(scale, std::abs(w));
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j) {
      const double w = k.at(i, j);
      if (!(std::abs(w - k.at(k.rows() - 1 - i, j)) <= 1e-12 * scale) ||
          !(std::abs(w - k.at(i, k.cols() - 1 - j)) <= 1e-12 * scale)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool SymmetricFactor(const std::vector<double>& f) {
  if (f.size() % 2 == 0) return false;
  double scale = 0.0;
  for (double v : f) scale = std::max(scale, std::abs(v));
  for (size_t j = 0; j < f.size() / 2; ++j) {
    if (!(std::abs(f[j] - f[f.size() - 1 - j]) <= 1e-12 * scale)) return false;
  }
  return true;
}

std::vector<kernel::RankOneFactors> FactorsFor(const kernel::Kernel& k,
                                               Method requested) {
  if (requested != Method::kAuto && requested != Method::kSeparable) return {};
  if (requested == Method::kAuto) {
    // The separable strategy costs at least one term's passes; where
    // direct or sparse costs no more, ChooseMethod cannot pick it (ties go
    // to the simpler strategy), so the factorization is not worth its
    // time (an SVD of the kernel: 0.3 ms for shift:40,25's 51x81, more
    // than the 1080p frame takes sparse).
    const Costs c = EstimateCosts(k, {});
    const double least =
        MirrorSymmetric(k)
            ? std::min(SeparableCost(k, 1), SymmetricSeparableCost(k))
            : SeparableCost(k, 1);
    if (std::min(c.direct, c.sparse) <= least) return {};
  }
  return kernel::FactorTerms(k, kMaxSeparableTerms);
}

int SeparableTerms(const std::vector<kernel::RankOneFactors>& terms) {
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].residual <= kSeparableResidual) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Measured with FFTW_ESTIMATE plans (docs/performance.md, "FFT tiles"):
// powers of two transform at 0.18-0.21 ns per unit of n log2 n, sizes with
// odd factors up to 0.7 ns, so a 512 tile beats the 432 that
// n log2 n / (n - k + 1) alone would pick for k = 63 by 1.6x per output,
// and larger tiles beat smaller ones down to k = 9.
int BestDftSize(int k) {
  int n = k < 32 ? 256 : 512;
  while (n < 2 * k) n *= 2;
  return n;
}

Costs EstimateCosts(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms) {
  Costs c;
  c.direct = k.rows() * k.cols() + kRowCost * k.rows();
  int rows = 0;
  c.sparse = NonZeroTaps(k, &rows) + kRowCost * rows;
  c.separable_terms = SeparableTerms(terms);
  if (c.separable_terms == 1 && SymmetricFactor(terms[0].row) &&
      SymmetricFactor(terms[0].column)) {
    c.separable = SymmetricSeparableCost(k);
  } else if (c.separable_terms > 0) {
    c.separable = SeparableCost(k, c.separable_terms);
  }
  c.fft = FftCost(k);
  return c;
}

Method ChooseMethod(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms,
                    Method requested) {
  switch (requested) {
    case Method::kDirect:
    case Method::kSparse:
    case Method::kFft:
      return requested;
    case Method::kSeparable:
      return SeparableTerms(terms) > 0 ? Method::kSeparable : Method::kDirect;
    case Method::kAuto:
      break;
  }
  const Costs c = EstimateCosts(k, terms);
  Method best = Method::kDirect;
  double cost = c.direct;
  // direct's four-row blocks share input rows between output rows, which
  // a one-row kernel has none of: there a tie goes to sparse, one row at a
  // time (1x3 at 1080p: 0.65-0.74 ms sparse, 0.70-0.99 direct).
  if (k.rows() == 1 && c.sparse <= c.direct) {
    best = Method::kSparse;
    cost = c.sparse;
  }
  const std::pair<Method, double> others[] = {{Method::kSparse, c.sparse},
                                              {Method::kSeparable, c.separable},
                                              {Method::kFft, c.fft}};
  for (const auto& [m, v] : others) {
    if (v < cost) {
      best = m;
      cost = v;
    }
  }
  return best;
}

const char* MethodName(Method method) {
  switch (method) {
    case Method::kAuto:
      return "auto";
    case Method::kDirect:
      return "direct";
    case Method::kSparse:
      return "sparse";
    case Method::kSeparable:
      return "separable";
    case Method::kFft:
      return "fft";
  }
  return "?";
}

}  // namespace convcorr::core

#include "core/prepared.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/stream.h"

namespace convcorr::core::detail {

namespace {

// The taps of `k` grouped by kernel row (zeros skipped if `skip_zeros`):
// offsets and weights (as W) appended to the two tables, and a Group
// {row, count, offsets, weights} per row with a tap.
template <typename W, typename Group>
void BuildTapGroups(const kernel::Kernel& k, bool skip_zeros,
                    std::vector<int>& offsets, std::vector<W>& weights,
                    std::vector<Group>& groups) {
  offsets.clear();
  weights.clear();
  groups.clear();
  std::vector<std::pair<int, int>> spans;  // (row, count)
  for (int i = 0; i < k.rows(); ++i) {
    int count = 0;
    for (int j = 0; j < k.cols(); ++j) {
      // Zero as the row kernels multiply it (a weight below float's range
      // is one too).
      if (skip_zeros && static_cast<W>(k.at(i, j)) == W{}) continue;
      offsets.push_back(j);
      weights.push_back(static_cast<W>(k.at(i, j)));
      ++count;
    }
    if (count > 0) spans.emplace_back(i, count);
  }
  size_t start = 0;
  for (auto [row, count] : spans) {
    groups.push_back(
        {row, count, offsets.data() + start, weights.data() + start});
    start += count;
  }
}

// Whether the sparse strategy should run four output rows at a time
// (TapRows4 leaving zeros out of `table`, k's weights row-major in float):
// when the rows of a block share enough loads (a column's vector of an
// input row serves every output row whose kernel row has a tap in that
// column). A line at an angle (motion:) shares few, and one row at a time
// keeps its taps in one group a row.
bool SparseFourRows(const kernel::Kernel& k, const std::vector<float>& table) {
  int taps = 0;
  for (float w : table) taps += w != 0.0f;
  std::vector<int> offsets;
  std::vector<float> weights;
  std::vector<RowTap4> runs;
  BuildRowTaps4(table, k.cols(), 1, true, offsets, weights, runs);
  const int loads = static_cast<int>(offsets.size());
  return 4 * loads <= 3 * kRowBlock * taps;
}

// The centre and pair weights of a symmetric factor (SymRow), or nothing
// if `f` is not one (SymmetricFactor): the pairs' mean removes the
// decomposition's rounding.
std::vector<float> SymmetricHalf(const std::vector<double>& f) {
  if (!SymmetricFactor(f)) return {};
  const size_t m = f.size() / 2;
  std::vector<float> half{static_cast<float>(f[m])};
  for (size_t j = 1; j <= m; ++j) {
    half.push_back(static_cast<float>((f[m - j] + f[m + j]) / 2));
  }
  return half;
}

void BuildGroups(Correlator::Prepared& p, const kernel::Kernel& k,
                 bool skip_zeros) {
  BuildTapGroups(k, skip_zeros, p.offsets, p.weights, p.groups);
}

// The integer lanes' taps, when `k` qualifies (IntegerLanesFit).
void BuildIntegerTaps(Correlator::Prepared& p, const kernel::Kernel& k) {
  p.integer = IntegerLanesFit(k);
  if (!p.integer) return;
  BuildTapGroups(k, true, p.i16_offsets, p.i16_weights, p.i16_groups);
}

}  // namespace

bool IntegerLanesFit(const kernel::Kernel& k) {
  double positive = 0.0;
  double negative = 0.0;
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j) {
      const double w = k.at(i, j);
      if (!(std::abs(w) <= 32767.0) || w != std::trunc(w)) return false;
      (w > 0 ? positive : negative) += std::abs(w);
    }
  }
  return 255.0 * positive <= 32767.0 && 255.0 * negative <= 32767.0;
}

std::unique_ptr<Correlator::Prepared> Prepare(
    const kernel::Kernel& k, Method method,
    const std::vector<kernel::RankOneFactors>& given) {
  auto p = std::make_unique<Correlator::Prepared>();
  switch (method) {
    case Method::kAuto:
    case Method::kDirect:
      BuildGroups(*p, k, false);
      p->dense = p->weights;
      p->dense_cols = k.cols();
      BuildIntegerTaps(*p, k);
      break;
    case Method::kSparse:
      BuildGroups(*p, k, true);
      for (double w : k.weights()) p->dense.push_back(static_cast<float>(w));
      if (SparseFourRows(k, p->dense)) {
        p->dense_cols = k.cols();
        p->dense_skips_zeros = true;
      } else {
        p->dense.clear();
      }
      BuildIntegerTaps(*p, k);
      break;
    case Method::kSeparable: {
      std::vector<kernel::RankOneFactors> terms =
          given.empty() ? kernel::FactorTerms(k, kMaxSeparableTerms) : given;
      const int r = std::max(1, SeparableTerms(terms));
      terms.resize(r);
      for (const kernel::RankOneFactors& f : terms) {
        for (int j = 0; j < k.cols(); ++j) {
          p->h_offsets.push_back(j);
          p->h_weights.push_back(static_cast<float>(f.row[j]));
        }
      }
      for (int t = 0; t < r; ++t) {
        const size_t at = static_cast<size_t>(t) * k.cols();
        p->h_groups.push_back(
            {0, k.cols(), p->h_offsets.data() + at, p->h_weights.data() + at});
      }
      // Row-major kh x r: kernel row i sums term 0..r-1 in order, as
      // TapRows4 walks a dense kernel, so both give the same samples.
      for (int i = 0; i < k.rows(); ++i) {
        for (int t = 0; t < r; ++t) {
          p->offsets.push_back(t);
          p->weights.push_back(static_cast<float>(terms[t].column[i]));
        }
      }
      for (int i = 0; i < k.rows(); ++i) {
        const size_t at = static_cast<size_t>(i) * r;
        p->groups.push_back(
            {i, r, p->offsets.data() + at, p->weights.data() + at});
      }
      p->dense = p->weights;
      p->dense_cols = r;
      if (r == 1) {
        p->sym_row = SymmetricHalf(terms[0].row);
        p->sym_column = SymmetricHalf(terms[0].column);
        if (p->sym_row.empty() || p->sym_column.empty()) {
          p->sym_row.clear();
          p->sym_column.clear();
        }
      }
      break;
    }
    case Method::kFft: {
      p->nh = BestDftSize(k.rows());
      p->nw = BestDftSize(k.cols());
      p->fft.emplace(p->nh, p->nw);
      p->spectrum = KernelSpectrum(*p->fft, k);
      p->fallback = Prepare(k, Method::kDirect);
      break;
    }
  }
  return p;
}

void BuildRowTaps4(const std::vector<float>& table, int cols, int step,
                   bool skip_zeros, std::vector<int>& offsets,
                   std::vector<float>& weights, std::vector<RowTap4>& runs) {
  offsets.clear();
  weights.clear();
  runs.clear();
  if (cols == 0) return;
  const int kh = static_cast<int>(table.size()) / cols;
  std::vector<size_t> starts;  // each run's first load
  for (int r = 0; r < kh + kRowBlock - 1; ++r) {
    for (int j = 0; j < cols; ++j) {
      unsigned outputs = 0;
      float w[kRowBlock] = {};
      for (int q = 0; q < kRowBlock; ++q) {
        const int i = r - q;
        if (i < 0 || i >= kh) continue;
        const float v = table[static_cast<size_t>(i) * cols + j];
        if (skip_zeros && v == 0.0f) continue;
        w[q] = v;
        outputs |= 1u << q;
      }
      if (outputs == 0) continue;
      if (runs.empty() || runs.back().row != r ||
          runs.back().outputs != outputs) {
        runs.push_back({r, outputs, 0, nullptr, nullptr});
        starts.push_back(offsets.size());
      }
      ++runs.back().count;
      offsets.push_back(j * step);
      weights.insert(weights.end(), w, w + kRowBlock);
    }
  }
  for (size_t k = 0; k < runs.size(); ++k) {
    runs[k].offsets = offsets.data() + starts[k];
    runs[k].weights = weights.data() + starts[k] * kRowBlock;
  }
}

Taps::Taps(const Correlator::Prepared& p, int lanes, int term_stride)
    : sym_row(p.sym_row), sym_column(p.sym_column) {
  // Floats from one column of Prepared::dense (and one offset of the
  // groups) to the next: a pixel's samples, or for separable's column pass
  // one term's part of a ring row.
  const int column_step = p.h_groups.empty() ? lanes : term_stride;
  BuildRowTaps4(p.dense, p.dense_cols, column_step, p.dense_skips_zeros,
                rows4_offsets, rows4_weights, rows4);
  for (int o : p.offsets) offsets.push_back(o * column_step);
  for (int o : p.h_offsets) h_offsets.push_back(o * lanes);
  groups = p.groups;
  for (TapGroup& g : groups) {
    g.offsets = offsets.data() + (g.offsets - p.offsets.data());
  }
  h_groups = p.h_groups;
  for (TapGroup& g : h_groups) {
    g.offsets = h_offsets.data() + (g.offsets - p.h_offsets.data());
  }
}

}  // namespace convcorr::core::detail

#include "core/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/engine_internal.h"
#include "core/fft.h"
#include <hwy/cache_control.h>
#include "core/padding.h"

namespace convcorr::core {

using detail::EmitParams;
using detail::kSlack;
using detail::TapGroup;

size_t SampleBytes(Depth type) {
  switch (type) {
    case Depth::kU8:
      return 1;
    case Depth::kU16:
      return 2;
    case Depth::kF32:
      return 4;
  }
  return 4;
}

namespace {

// A view of float planes of one size; View and PlaneT differ only in
// constness.
template <typename View, typename PlaneT>
View ViewOfPlanes(const std::vector<PlaneT*>& planes) {
  View v;
  v.channels = static_cast<int>(planes.size());
  if (planes.empty()) return v;
  v.width = planes[0]->width;
  v.height = planes[0]->height;
  v.type = Depth::kF32;
  v.row_bytes = static_cast<std::ptrdiff_t>(v.width) * 4;
  for (size_t c = 0; c < planes.size(); ++c) {
    v.base[c] = reinterpret_cast<typename decltype(v.base)::value_type>(
        planes[c]->data.data());
  }
  return v;
}

}  // namespace

ConstImageView ViewOf(const std::vector<const Plane*>& planes) {
  return ViewOfPlanes<ConstImageView>(planes);
}

ImageView ViewOf(const std::vector<Plane*>& planes) {
  return ViewOfPlanes<ImageView>(planes);
}

// ---------------------------------------------------------------- cost model

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

// The tile side for a kernel extent `k`: a power of two, 256 below 32 taps
// and 512 from there, and at least 2k so that half a tile or more is valid
// output. Measured with FFTW_ESTIMATE plans (docs/performance.md, "FFT
// tiles"): powers of two transform at 0.18-0.21 ns per unit of n log2 n,
// sizes with odd factors up to 0.7 ns, so a 512 tile beats the 432 that
// n log2 n / (n - k + 1) alone would pick for k = 63 by 1.6x per output,
// and larger tiles beat smaller ones down to k = 9.
int BestDftSize(int k) {
  int n = k < 32 ? 256 : 512;
  while (n < 2 * k) n *= 2;
  return n;
}

double FftCost(const kernel::Kernel& k) {
  const double nh = BestDftSize(k.rows());
  const double nw = BestDftSize(k.cols());
  const double outputs = (nh - k.rows() + 1) * (nw - k.cols() + 1);
  // A forward and an inverse real transform (each about half a complex one
  // of nh*nw points) and a spectrum product per tile.
  return kFftCost * nh * nw * std::log2(nh * nw) / outputs;
}

}  // namespace

int SeparableTerms(const std::vector<kernel::RankOneFactors>& terms) {
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].residual <= kSeparableResidual) return static_cast<int>(i) + 1;
  }
  return 0;
}

Costs EstimateCosts(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms) {
  Costs c;
  c.direct = k.rows() * k.cols() + kRowCost * k.rows();
  int rows = 0;
  c.sparse = NonZeroTaps(k, &rows) + kRowCost * rows;
  c.separable_terms = SeparableTerms(terms);
  if (c.separable_terms > 0) {
    // Per term: a row pass of kw taps and a column pass of kh taps over its
    // own ring; the column pass walks kh rows of every term's ring.
    const int r = c.separable_terms;
    c.separable = kSeparableTapCost * r * (k.rows() + k.cols()) +
                  kRowCost * (r * k.rows() + 1) + r * kSeparableCost;
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

// ---------------------------------------------------------- prepared kernels

// Tap tables for the row kernels, or the kernel's spectrum for the FFT.
struct Correlator::Prepared {
  // direct: the weights row-major, for four rows at a time; separable: the
  // column factors of its r terms (a kh x r kernel whose column t reads
  // term t's ring).
  std::vector<float> dense;
  int dense_cols = 0;
  // direct, sparse: the kernel's taps; separable: the column pass (offset
  // t for term t, scaled to the term's place in the ring rows).
  std::vector<int> offsets;
  std::vector<float> weights;
  std::vector<TapGroup> groups;
  // separable: the row pass of each term (one group each, row 0).
  std::vector<int> h_offsets;
  std::vector<float> h_weights;
  std::vector<TapGroup> h_groups;
  // fft: tile size, its transforms and the kernel's half spectrum (scaled
  // by 1 / (nh * nw), detail::KernelSpectrum).
  int nh = 0;
  int nw = 0;
  std::optional<detail::Fft2d> fft;
  detail::FftArray<std::complex<float>> spectrum;
  // Used instead of the FFT for planes holding NaN or infinity, which a
  // transform would spread over a whole tile.
  std::unique_ptr<Prepared> fallback;
};

namespace {

void BuildGroups(Correlator::Prepared& p, const kernel::Kernel& k,
                 bool skip_zeros) {
  p.offsets.clear();
  p.weights.clear();
  p.groups.clear();
  std::vector<std::pair<int, int>> spans;  // (row, count)
  for (int i = 0; i < k.rows(); ++i) {
    int count = 0;
    for (int j = 0; j < k.cols(); ++j) {
      if (skip_zeros && k.at(i, j) == 0.0) continue;
      p.offsets.push_back(j);
      p.weights.push_back(static_cast<float>(k.at(i, j)));
      ++count;
    }
    if (count > 0) spans.emplace_back(i, count);
  }
  size_t start = 0;
  for (auto [row, count] : spans) {
    p.groups.push_back({row, count, p.offsets.data() + start,
                        p.weights.data() + start});
    start += count;
  }
}

detail::FftArray<std::complex<float>> FftSpectrum(const detail::Fft2d& fft,
                                                 const kernel::Kernel& k) {
  const std::vector<float> weights(k.weights().begin(), k.weights().end());
  return detail::KernelSpectrum(fft, weights.data(), k.rows(), k.cols());
}

std::unique_ptr<Correlator::Prepared> Prepare(const kernel::Kernel& k,
                                              Method method) {
  auto p = std::make_unique<Correlator::Prepared>();
  switch (method) {
    case Method::kAuto:
    case Method::kDirect:
      BuildGroups(*p, k, false);
      p->dense = p->weights;
      p->dense_cols = k.cols();
      break;
    case Method::kSparse:
      BuildGroups(*p, k, true);
      break;
    case Method::kSeparable: {
      std::vector<kernel::RankOneFactors> terms =
          kernel::FactorTerms(k, kMaxSeparableTerms);
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
        p->h_groups.push_back({0, k.cols(), p->h_offsets.data() + at,
                               p->h_weights.data() + at});
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
        p->groups.push_back({i, r, p->offsets.data() + at,
                             p->weights.data() + at});
      }
      p->dense = p->weights;
      p->dense_cols = r;
      break;
    }
    case Method::kFft: {
      p->nh = BestDftSize(k.rows());
      p->nw = BestDftSize(k.cols());
      p->fft.emplace(p->nh, p->nw);
      p->spectrum = FftSpectrum(*p->fft, k);
      p->fallback = Prepare(k, Method::kDirect);
      break;
    }
  }
  return p;
}

// ------------------------------------------------------------- row streaming

// Everything a worker needs about one Run call.
struct Job {
  const ConstImageView* in;
  const ImageView* out;
  const kernel::Kernel* k;
  const Correlator::Prepared* p;
  Border border;
  Origin origin;
  Extent extent;   // output size
  int padded_w;    // extent.width + kw - 1
  EmitParams emit;
  size_t ring_bytes = 0;  // EngineOptions::ring_bytes
  // Packed: interleaved input and output, filtered as one row of
  // channels x width samples with tap offsets scaled by the channel count,
  // so nothing is split or merged. Otherwise one float row per channel.
  bool packed = false;
  int lanes = 1;  // samples per pixel in a float row: channels if packed
  // Outputs far larger than the caches are written with non-temporal
  // stores: nothing reads them back soon, and the write then costs one
  // pass over memory instead of two (read for ownership, write back).
  bool stream = false;
  // compare with a symmetric kernel: a second output receiving the same
  // samples, and a difference output receiving zeros, from the same rows.
  const ImageView* copy = nullptr;
  const ImageView* zeros = nullptr;
};

// A job over `extent` (OutputExtent of `k` for `size`) storing to `out`
// by `options`; packing, streaming and the extra outputs are the caller's.
Job MakeJob(const ConstImageView& in, const ImageView& out,
            const kernel::Kernel& k, const Correlator::Prepared* p,
            const EngineOptions& options, OutputSize size, Extent extent) {
  Job job{&in,   &out,   &k, p, options.border, OutputOrigin(k, size),
          extent, extent.width + k.cols() - 1, EmitParams{}};
  job.emit.affine = options.scale != 1.0f || options.bias != 0.0f;
  job.emit.scale = options.scale;
  job.emit.bias = options.bias;
  job.emit.abs = options.abs;
  job.emit.type = static_cast<int>(out.type);
  job.emit.max = static_cast<float>(DepthMax(out.type));
  job.ring_bytes = options.ring_bytes;
  return job;
}

constexpr size_t kStreamBytes = size_t{32} << 20;

bool ShouldStream(const ImageView& out) {
  return static_cast<size_t>(out.width) * out.height * out.channels *
             SampleBytes(out.type) >=
         kStreamBytes;
}

// The tap tables with offsets scaled to `lanes` samples per pixel; for
// separable, the column pass's term offsets scaled to `term_stride` floats
// (the distance between two terms' rows in its ring).
struct Taps {
  std::vector<int> offsets, h_offsets;
  std::vector<TapGroup> groups, h_groups;
  const std::vector<float>& dense;
  int dense_cols;
  int column_step;  // the `lanes` TapRows4 takes for `dense`
  Taps(const Correlator::Prepared& p, int lanes, int term_stride = 0)
      : dense(p.dense),
        dense_cols(p.dense_cols),
        column_step(p.h_groups.empty() ? lanes : term_stride) {
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
};

template <typename View>
bool IsPacked(const View& v) {
  if (v.step != v.channels) return false;
  const size_t s = SampleBytes(v.type);
  for (int c = 1; c < v.channels; ++c) {
    if (v.base[c] != v.base[0] + c * s) return false;
  }
  return true;
}

bool IsInterleaved3(int channels, int step, const auto& base, Depth type) {
  if (channels != 3 || step != 3) return false;
  const size_t s = SampleBytes(type);
  return base[1] == base[0] + s && base[2] == base[0] + 2 * s;
}

float SampleAt(const std::byte* p, Depth type) {
  switch (type) {
    case Depth::kU8:
      return static_cast<float>(*reinterpret_cast<const uint8_t*>(p));
    case Depth::kU16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<float>(v);
    }
    case Depth::kF32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
  }
  return 0.0f;
}

// Per-thread buffers of the row loader and the store.
struct Scratch {
  std::vector<std::byte> bytes;
  std::vector<std::byte> row;
  std::vector<std::vector<float>> gather;
  std::vector<std::vector<std::byte>> typed;
};

// Padded row py, columns [px0, px1), of every channel into dst[c][0..]:
// padded(py, px) = I(py + origin.y, px + origin.x) extended by the border.
void LoadPadded(const Job& job, int py, int px0, int px1, float* const* dst,
                Scratch& s) {
  const ConstImageView& in = *job.in;
  const int n = px1 - px0;
  const int iy = BorderIndex(py + job.origin.y, in.height, job.border.mode);
  if (iy < 0) {
    const int planes = job.packed ? 1 : in.channels;
    for (int c = 0; c < planes; ++c) {
      std::fill(dst[c], dst[c] + static_cast<size_t>(n) * job.lanes,
                job.border.value);
    }
    return;
  }
  const size_t sample = SampleBytes(in.type);
  const std::ptrdiff_t row_off = static_cast<std::ptrdiff_t>(iy) * in.row_bytes;
  // Columns inside the image: one contiguous run.
  const int lo = std::clamp(-job.origin.x, px0, px1);
  const int hi = std::clamp(in.width - job.origin.x, lo, px1);
  if (job.packed) {
    const int lanes = job.lanes;
    if (hi > lo) {
      detail::ConvertRow(
          in.base[0] + row_off +
              static_cast<std::ptrdiff_t>(lo + job.origin.x) * lanes *
                  static_cast<std::ptrdiff_t>(sample),
          static_cast<int>(in.type), static_cast<size_t>(hi - lo) * lanes,
          dst[0] + static_cast<size_t>(lo - px0) * lanes);
    }
    const auto edge = [&](int px) {
      const int ix = BorderIndex(px + job.origin.x, in.width, job.border.mode);
      float* d = dst[0] + static_cast<size_t>(px - px0) * lanes;
      for (int c = 0; c < lanes; ++c) {
        d[c] = ix < 0 ? job.border.value
                      : SampleAt(in.base[0] + row_off +
                                     (static_cast<std::ptrdiff_t>(ix) * lanes +
                                      c) * static_cast<std::ptrdiff_t>(sample),
                                 in.type);
      }
    };
    for (int px = px0; px < lo; ++px) edge(px);
    for (int px = hi; px < px1; ++px) edge(px);
    return;
  }
  if (hi > lo) {
    const int ix = lo + job.origin.x;
    const size_t count = static_cast<size_t>(hi - lo);
    const size_t col_off = static_cast<size_t>(ix) * in.step * sample;
    if (IsInterleaved3(in.channels, in.step, in.base, in.type)) {
      s.bytes.resize(3 * count * sample);
      detail::Deinterleave3(in.base[0] + row_off + col_off,
                            static_cast<int>(in.type), count,
                            dst[0] + (lo - px0), dst[1] + (lo - px0),
                            dst[2] + (lo - px0), s.bytes.data());
    } else {
      for (int c = 0; c < in.channels; ++c) {
        const std::byte* src = in.base[c] + row_off + col_off;
        float* d = dst[c] + (lo - px0);
        if (in.step == 1) {
          detail::ConvertRow(src, static_cast<int>(in.type), count, d);
        } else {
          const size_t stride = static_cast<size_t>(in.step) * sample;
          for (size_t x = 0; x < count; ++x) {
            d[x] = SampleAt(src + x * stride, in.type);
          }
        }
      }
    }
  }
  // Border columns, at most kw - 1 of them.
  const auto edge = [&](int px) {
    const int ix = BorderIndex(px + job.origin.x, in.width, job.border.mode);
    for (int c = 0; c < in.channels; ++c) {
      dst[c][px - px0] =
          ix < 0 ? job.border.value
                 : SampleAt(in.base[c] + row_off +
                                static_cast<std::ptrdiff_t>(ix) * in.step *
                                    static_cast<std::ptrdiff_t>(sample),
                            in.type);
    }
  };
  for (int px = px0; px < lo; ++px) edge(px);
  for (int px = hi; px < px1; ++px) edge(px);
}

// Output row y, columns [x0, x0 + n), of every channel from acc[c][0..].
uint64_t EmitOne(const Job& job, int y, int x0, int n, const float* const* acc,
                 Scratch& s);

// Zeros over output row y, columns [x0, x0 + n), of every channel of v.
void ZeroRow(const ImageView& v, int y, int x0, int n) {
  const size_t sample = SampleBytes(v.type);
  const auto at = [&](int c) {
    return v.base[c] + static_cast<std::ptrdiff_t>(y) * v.row_bytes +
           static_cast<std::ptrdiff_t>(x0) * v.step *
               static_cast<std::ptrdiff_t>(sample);
  };
  if (IsPacked(v)) {
    std::memset(at(0), 0, static_cast<size_t>(n) * v.channels * sample);
    return;
  }
  for (int c = 0; c < v.channels; ++c) {
    for (int x = 0; x < n; ++x) {
      std::memset(at(c) + static_cast<size_t>(x) * v.step * sample, 0, sample);
    }
  }
}

// Output row y, columns [x0, x0 + n), of every channel from acc[c][0..],
// to the job's output and, for a symmetric compare, its copy and zeros.
uint64_t Emit(const Job& job, int y, int x0, int n, const float* const* acc,
              Scratch& s) {
  const uint64_t saturated = EmitOne(job, y, x0, n, acc, s);
  if (job.copy != nullptr && job.packed && IsPacked(*job.copy) &&
      job.copy->type == job.out->type && !job.stream) {
    // The row just stored is still in the cache: copy its samples.
    const size_t sample = SampleBytes(job.out->type);
    const std::ptrdiff_t col = static_cast<std::ptrdiff_t>(x0) * job.lanes *
                               static_cast<std::ptrdiff_t>(sample);
    detail::CopyRow(job.out->base[0] + y * job.out->row_bytes + col,
                    static_cast<size_t>(n) * job.lanes * sample,
                    job.copy->base[0] + y * job.copy->row_bytes + col, false);
  } else if (job.copy != nullptr) {
    Job copy = job;
    copy.out = job.copy;
    copy.copy = nullptr;
    copy.zeros = nullptr;
    copy.emit.type = static_cast<int>(job.copy->type);
    copy.emit.max = static_cast<float>(DepthMax(job.copy->type));
    copy.packed = job.packed && IsPacked(*job.copy);
    EmitOne(copy, y, x0, n, acc, s);
  }
  if (job.zeros != nullptr) ZeroRow(*job.zeros, y, x0, n);
  return saturated;
}

uint64_t EmitOne(const Job& job, int y, int x0, int n, const float* const* acc,
                 Scratch& s) {
  const ImageView& out = *job.out;
  const size_t sample = SampleBytes(out.type);
  const std::ptrdiff_t off =
      static_cast<std::ptrdiff_t>(y) * out.row_bytes +
      static_cast<std::ptrdiff_t>(x0) * out.step *
          static_cast<std::ptrdiff_t>(sample);
  const size_t count = static_cast<size_t>(n);
  uint64_t saturated = 0;
  if (job.packed) {
    const size_t samples = count * job.lanes;
    if (!job.stream) {
      return detail::EmitRow(acc[0], samples, job.emit, out.base[0] + off);
    }
    // Through a row in L1, then non-temporal stores to memory.
    s.row.resize(samples * sample);
    const uint64_t saturated =
        detail::EmitRow(acc[0], samples, job.emit, s.row.data());
    detail::CopyRow(s.row.data(), samples * sample, out.base[0] + off, true);
    return saturated;
  }
  if (out.step == 1) {
    for (int c = 0; c < out.channels; ++c) {
      saturated += detail::EmitRow(acc[c], count, job.emit, out.base[c] + off);
    }
    return saturated;
  }
  s.typed.resize(out.channels);
  for (int c = 0; c < out.channels; ++c) {
    s.typed[c].resize(count * sample);
    saturated += detail::EmitRow(acc[c], count, job.emit, s.typed[c].data());
  }
  if (IsInterleaved3(out.channels, out.step, out.base, out.type)) {
    detail::Interleave3(s.typed[0].data(), s.typed[1].data(),
                        s.typed[2].data(), static_cast<int>(out.type), count,
                        out.base[0] + off);
    return saturated;
  }
  const size_t stride = static_cast<size_t>(out.step) * sample;
  for (int c = 0; c < out.channels; ++c) {
    for (size_t x = 0; x < count; ++x) {
      std::memcpy(out.base[c] + off + x * stride,
                  s.typed[c].data() + x * sample, sample);
    }
  }
  return saturated;
}

// diff = |conv - corr| for output row y, columns [x0, x0 + n), from the
// samples just stored (still in cache), all three views laid out alike.
void DiffRows(const ImageView& corr, const ImageView& conv,
              const ImageView& diff, int y, int x0, int n) {
  const size_t sample = SampleBytes(diff.type);
  const auto at = [&](const ImageView& v, int c) {
    return v.base[c] + static_cast<std::ptrdiff_t>(y) * v.row_bytes +
           static_cast<std::ptrdiff_t>(x0) * v.step *
               static_cast<std::ptrdiff_t>(sample);
  };
  if (IsPacked(diff) && IsPacked(corr) && IsPacked(conv)) {
    detail::AbsDiffRow(at(conv, 0), at(corr, 0), static_cast<int>(diff.type),
                       static_cast<size_t>(n) * diff.channels, at(diff, 0));
    return;
  }
  for (int c = 0; c < diff.channels; ++c) {
    if (diff.step == 1 && corr.step == 1 && conv.step == 1) {
      detail::AbsDiffRow(at(conv, c), at(corr, c), static_cast<int>(diff.type),
                         static_cast<size_t>(n), at(diff, c));
      continue;
    }
    for (int x = 0; x < n; ++x) {
      const size_t o = static_cast<size_t>(x) * diff.step * sample;
      std::byte a[4], b[4];
      std::memcpy(a, at(conv, c) + static_cast<size_t>(x) * conv.step * sample,
                  sample);
      std::memcpy(b, at(corr, c) + static_cast<size_t>(x) * corr.step * sample,
                  sample);
      detail::AbsDiffRow(a, b, static_cast<int>(diff.type), 1, at(diff, c) + o);
    }
  }
}

// Float buffers kept between runs, so that the rings of each run reuse
// memory that is already mapped instead of faulting in fresh pages (large
// vectors come from mmap, and the kernel zeroes every new page).
class BufferPool {
 public:
  static std::vector<float> Take(size_t n) {
    std::vector<float> v;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      auto best = buffers_.end();
      for (auto it = buffers_.begin(); it != buffers_.end(); ++it) {
        if (it->capacity() >= n &&
            (best == buffers_.end() || it->capacity() < best->capacity())) {
          best = it;
        }
      }
      if (best != buffers_.end()) {
        v = std::move(*best);
        buffers_.erase(best);
      }
    }
    v.assign(n, 0.0f);
    return v;
  }
  static void Give(std::vector<float>&& v) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (buffers_.size() < kKept) buffers_.push_back(std::move(v));
  }

 private:
  static constexpr size_t kKept = 32;
  static inline std::mutex mutex_;
  static inline std::vector<std::vector<float>> buffers_;
};

// A float buffer of `rows` x `width` (+ slack) per channel, zeroed.
struct Rows {
  size_t stride = 0;
  int rows = 0;
  std::vector<float> data;
  Rows(int channels, int rows_, int width)
      : stride(static_cast<size_t>(width) + kSlack),
        rows(rows_),
        data(BufferPool::Take(stride * rows_ * channels)) {}
  ~Rows() { BufferPool::Give(std::move(data)); }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  float* at(int c, int r) {
    return data.data() + (static_cast<size_t>(c) * rows + r) * stride;
  }
};

// Output rows computed together by TapRows4 (dense kernels).
constexpr int kRowBlock = 4;

// Walks the output rows [y0, y1) of a band over `ring`, `kh` rows of it
// per output row: before each step it fills the ring up to the last row
// the step reads, calling fill(py, slots) with padded row py's slot in
// each of the ring's channels, then calls step(y, block, rows), where
// rows(c) gives channel c's ring rows from output row y on. A step is four
// output rows when `four` and they fit in the band, else one; the ring
// holds kh + 3 rows when `four`, kh otherwise.
template <typename Fill, typename Step>
void WalkBand(Rows& ring, int channels, int kh, int y0, int y1, bool four,
              Fill fill, Step step) {
  const int ring_rows = ring.rows;
  std::vector<float*> slots(channels);
  std::vector<const float*> taps(ring_rows);
  const auto rows = [&](int y, int block, int c) {
    for (int i = 0; i < kh + block - 1; ++i) {
      taps[i] = ring.at(c, (y + i) % ring_rows);
    }
    return static_cast<const float* const*>(taps.data());
  };
  int loaded = y0;  // next padded row to load
  for (int y = y0; y < y1;) {
    const int block = four && y + kRowBlock <= y1 ? kRowBlock : 1;
    for (; loaded < y + kh + block - 1; ++loaded) {
      for (int c = 0; c < channels; ++c) {
        slots[c] = ring.at(c, loaded % ring_rows);
      }
      fill(loaded, slots.data());
    }
    step(y, block, [&](int c) { return rows(y, block, c); });
    y += block;
  }
}

// `block` output rows of kernel `t` from `rows` into acc rows 0..block-1
// of acc channel `slot`: four at a time by TapRows4, or one by TapRow;
// both give every sample the same sum.
void ComputeRows(const float* const* rows, const Taps& t, int kh, size_t width,
                 int block, Rows& acc, int slot) {
  if (block == kRowBlock) {
    float* outs[kRowBlock];
    for (int q = 0; q < kRowBlock; ++q) outs[q] = acc.at(slot, q);
    detail::TapRows4(rows, t.dense.data(), kh, t.dense_cols, t.column_step,
                     width, outs);
  } else {
    detail::TapRow(rows, t.groups.data(), t.groups.size(), width,
                   acc.at(slot, 0));
  }
}

// Emits output rows y .. y + block - 1, columns [x0, x0 + n), from acc
// channels first .. first + channels - 1 (row q of each).
uint64_t EmitBlock(const Job& job, int y, int block, Rows& acc, int first,
                   int channels, Scratch& scratch, int x0, int n) {
  const float* sums[4];  // views have at most four channels
  uint64_t saturated = 0;
  for (int q = 0; q < block; ++q) {
    for (int c = 0; c < channels; ++c) sums[c] = acc.at(first + c, q);
    saturated += Emit(job, y + q, x0, n, sums, scratch);
  }
  return saturated;
}
uint64_t EmitBlock(const Job& job, int y, int block, Rows& acc, int first,
                   int channels, Scratch& scratch) {
  return EmitBlock(job, y, block, acc, first, channels, scratch, 0,
                   job.extent.width);
}

// The ring of a row-streaming run should stay in the core's own cache
// (L2): a frame wider than that is filtered in vertical strips of output
// columns, each strip loading its own padded columns (kw - 1 more than it
// writes) and walking the band on its own. The samples do not depend on
// the strips: each is the same sum in the same order.
constexpr size_t kRingBytes = size_t{512} << 10;

// Output columns per strip for a ring of `floats_per_column` floats per
// output column (rows x channels x terms), at least 64.
int StripWidth(const Job& job, size_t floats_per_column) {
  const size_t budget = job.ring_bytes > 0 ? job.ring_bytes : kRingBytes;
  const size_t fit = budget / (floats_per_column * sizeof(float));
  const size_t strip = std::max<size_t>(64, fit / 16 * 16);
  return static_cast<int>(
      std::min<size_t>(strip, static_cast<size_t>(job.extent.width)));
}

// Walks the band [y0, y1) strip by strip (output columns [x0, x0 + n)):
// fill(py, slots, x0, n, scratch) puts padded row py of the strip into the
// ring slots, then `p` computes the output rows from the ring into `acc`,
// which are stored.
template <typename Fill>
uint64_t WalkStrips(const Job& job, const Taps& p, Rows& ring, Rows& acc,
                    int strip, bool four, int y0, int y1, Fill fill) {
  const int kh = job.k->rows();
  const int channels = job.packed ? 1 : job.in->channels;
  Scratch scratch;
  uint64_t saturated = 0;
  for (int x0 = 0; x0 < job.extent.width; x0 += strip) {
    const int n = std::min(strip, job.extent.width - x0);
    const size_t width = static_cast<size_t>(n) * job.lanes;
    WalkBand(
        ring, channels, kh, y0, y1, four,
        [&](int py, float* const* slots) { fill(py, slots, x0, n, scratch); },
        [&](int y, int block, const auto& rows) {
          for (int c = 0; c < channels; ++c) {
            ComputeRows(rows(c), p, kh, width, block, acc, c);
          }
          saturated +=
              EmitBlock(job, y, block, acc, 0, channels, scratch, x0, n);
        });
  }
  return saturated;
}

// direct and sparse: a ring of kh + 3 padded rows per channel, dense
// kernels four output rows at a time, strip by strip.
uint64_t RunDirect(const Job& job, const Taps& p, int y0, int y1) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.packed ? 1 : job.in->channels;
  const int ring_rows = kh + kRowBlock - 1;
  const int strip = StripWidth(
      job, static_cast<size_t>(ring_rows) * job.in->channels);
  Rows ring(channels, ring_rows, (strip + kw - 1) * job.lanes);
  Rows acc(channels, kRowBlock, strip * job.lanes);
  return WalkStrips(job, p, ring, acc, strip, !p.dense.empty(), y0, y1,
                    [&](int py, float* const* slots, int x0, int n,
                        Scratch& scratch) {
                      LoadPadded(job, py, x0, x0 + n + kw - 1, slots, scratch);
                    });
}

// separable, K = sum of r rank-1 terms: each padded row is filtered across
// once per term, term t into columns [t * stride, t * stride + width) of a
// ring row, so a ring of kh + 3 rows holds every term's row pass; the
// column pass (a dense kh x r kernel whose column t reads term t) then sums
// all terms four output rows at a time, with no full-size intermediate.
uint64_t RunSeparable(const Job& job, const Correlator::Prepared& prepared,
                      int y0, int y1) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.packed ? 1 : job.in->channels;
  const int terms = static_cast<int>(prepared.h_groups.size());
  const int ring_rows = kh + kRowBlock - 1;
  const int strip = StripWidth(
      job, static_cast<size_t>(ring_rows) * terms * job.in->channels);
  // Each term's part of a ring row ends with the slack the row kernels
  // write into.
  const int stride = strip * job.lanes + static_cast<int>(kSlack);
  const Taps p(prepared, job.lanes, stride);
  Rows ring(channels, ring_rows, terms * stride - static_cast<int>(kSlack));
  Rows padded(channels, 1, (strip + kw - 1) * job.lanes);
  Rows acc(channels, kRowBlock, strip * job.lanes);
  std::vector<float*> load(channels);
  for (int c = 0; c < channels; ++c) load[c] = padded.at(c, 0);
  return WalkStrips(
      job, p, ring, acc, strip, true, y0, y1,
      [&](int py, float* const* slots, int x0, int n, Scratch& scratch) {
        LoadPadded(job, py, x0, x0 + n + kw - 1, load.data(), scratch);
        const size_t width = static_cast<size_t>(n) * job.lanes;
        for (int c = 0; c < channels; ++c) {
          const float* row = load[c];
          for (int t = 0; t < terms; ++t) {
            detail::TapRow(&row, &p.h_groups[t], 1, width,
                           slots[c] + static_cast<size_t>(t) * stride);
          }
        }
      });
}

// fft: overlap-save over nh x nw tiles; tile (ty, tx) gives the outputs
// [ty*th, ty*th + th) x [tx*tw, tx*tw + tw), th = nh - kh + 1, from the
// padded rows and columns starting at the same place.
// With `second` (compare), each tile's forward transform also serves a
// second spectrum, whose result goes to second_job's output; its saturated
// count is added to *second_saturated.
uint64_t RunFft(const Job& job, const Correlator::Prepared& p, int ty0,
                int ty1, const std::complex<float>* second = nullptr,
                const Job* second_job = nullptr,
                uint64_t* second_saturated = nullptr,
                const ImageView* diff = nullptr) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.in->channels;
  const int th = p.nh - kh + 1;
  const int tw = p.nw - kw + 1;
  const int tiles_x = (job.extent.width + tw - 1) / tw;
  const int padded_h = job.extent.height + kh - 1;
  const detail::Fft2d& fft = *p.fft;
  const size_t n = fft.spectrum_size();
  std::vector<detail::FftArray<float>> tile;
  std::vector<detail::FftArray<float>> results, results2;
  for (int c = 0; c < channels; ++c) {
    tile.push_back(detail::AllocateReal(fft.real_size()));
    results.push_back(detail::AllocateReal(fft.real_size()));
    if (second != nullptr) {
      results2.push_back(detail::AllocateReal(fft.real_size()));
    }
  }
  detail::FftArray<std::complex<float>> spectrum = detail::AllocateComplex(n);
  detail::FftArray<std::complex<float>> freq = detail::AllocateComplex(n);
  const auto row_of = [&p](const detail::FftArray<float>& a, int r) {
    return a.get() + static_cast<size_t>(r) * p.nw;
  };
  Scratch scratch;
  std::vector<float*> load(channels);
  std::vector<const float*> sums(channels);
  uint64_t saturated = 0;
  for (int ty = ty0; ty < ty1; ++ty) {
    for (int tx = 0; tx < tiles_x; ++tx) {
      const int px0 = tx * tw;
      const int px1 = std::min(px0 + p.nw, job.padded_w);
      for (int r = 0; r < p.nh; ++r) {
        const int py = ty * th + r;
        for (int c = 0; c < channels; ++c) {
          load[c] = row_of(tile[c], r);
          const int from = py < padded_h ? px1 - px0 : 0;
          std::fill(load[c] + from, load[c] + p.nw, 0.0f);
        }
        if (py < padded_h) LoadPadded(job, py, px0, px1, load.data(), scratch);
      }
      const int rows = std::min(th, job.extent.height - ty * th);
      const int cols = std::min(tw, job.extent.width - px0);
      for (int c = 0; c < channels; ++c) {
        fft.Forward(tile[c].get(), spectrum.get());
        detail::MultiplyConjugate(spectrum.get(), p.spectrum.get(), n,
                                  freq.get());
        fft.Inverse(freq.get(), results[c].get());
        if (second != nullptr) {
          detail::MultiplyConjugate(spectrum.get(), second, n, freq.get());
          fft.Inverse(freq.get(), results2[c].get());
        }
      }
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < channels; ++c) sums[c] = row_of(results[c], r);
        saturated += Emit(job, ty * th + r, px0, cols, sums.data(), scratch);
        if (second != nullptr) {
          for (int c = 0; c < channels; ++c) sums[c] = row_of(results2[c], r);
          *second_saturated +=
              Emit(*second_job, ty * th + r, px0, cols, sums.data(), scratch);
          if (diff != nullptr) {
            DiffRows(*job.out, *second_job->out, *diff, ty * th + r, px0, cols);
          }
        }
      }
    }
  }
  return saturated;
}

}  // namespace

struct PairCorrelator::Pairs {
  explicit Pairs(kernel::Kernel k) : centred(std::move(k)) {}
  kernel::Kernel centred;  // K embedded so the two windows coincide
  std::vector<int> r1, o1, r2, o2;
  std::vector<float> s, a;
  bool has_s = false;
  bool has_a = false;
  // fft: the centred kernel prepared for the FFT, and the spectrum of its
  // rotation on the same tiles.
  std::unique_ptr<Correlator::Prepared> fft;
  detail::FftArray<std::complex<float>> rotated_spectrum;
  // Both halves non-zero (direct, sparse): the centred kernel and its
  // rotation over one shared ring instead of the pairs.
  std::unique_ptr<Correlator::Prepared> dual_corr, dual_conv;

  // The table with offsets scaled to `lanes` samples per pixel.
  struct Scaled {
    std::vector<int> o1, o2;
    detail::PairTable table;
  };
  Scaled Scale(int lanes) const {
    Scaled out;
    for (int o : o1) out.o1.push_back(o * lanes);
    for (int o : o2) out.o2.push_back(o * lanes);
    out.table = {s.size(), r1.data(), out.o1.data(), r2.data(),
                 out.o2.data(), s.data(),     a.data(),
                 has_s,     has_a};
    return out;
  }
};

namespace {

// Both outputs of a fused pass for a purely antisymmetric kernel: a ring
// of kh padded rows, one PairRow per row and channel, each result stored
// into its own view (and |conv - corr| into `diff`).
PairCorrelator::Saturated RunPair(const Job& corr_job, const Job& conv_job,
                                  const detail::PairTable& pairs,
                                  const ImageView* diff, int y0, int y1) {
  const Job& job = corr_job;
  const int channels = job.packed ? 1 : job.in->channels;
  const size_t width = static_cast<size_t>(job.extent.width) * job.lanes;
  Rows ring(channels, job.k->rows(), job.padded_w * job.lanes);
  Rows acc(2 * channels, 1, job.extent.width * job.lanes);
  Scratch scratch;
  PairCorrelator::Saturated saturated;
  WalkBand(
      ring, channels, job.k->rows(), y0, y1, false,
      [&](int py, float* const* slots) {
        LoadPadded(job, py, 0, job.padded_w, slots, scratch);
      },
      [&](int y, int, const auto& rows) {
        for (int c = 0; c < channels; ++c) {
          detail::PairRow(rows(c), pairs, width, acc.at(c, 0),
                          acc.at(channels + c, 0));
        }
        saturated.correlate +=
            EmitBlock(corr_job, y, 1, acc, 0, channels, scratch);
        saturated.convolve +=
            EmitBlock(conv_job, y, 1, acc, channels, channels, scratch);
        if (diff != nullptr) {
          DiffRows(*corr_job.out, *conv_job.out, *diff, y, 0,
                   job.extent.width);
        }
      });
  return saturated;
}

// Both outputs of a fused pass for kernels with a symmetric and an
// antisymmetric part: one ring of padded rows, read by K (a) and by its
// rotation (b), four rows at a time for dense kernels as in RunDirect, so
// every load and conversion of the input serves both results.
PairCorrelator::Saturated RunDual(const Job& corr_job, const Job& conv_job,
                                  const Taps& a, const Taps& b,
                                  const ImageView* diff, int y0, int y1) {
  const Job& job = corr_job;
  const int kh = job.k->rows();
  const int channels = job.packed ? 1 : job.in->channels;
  const size_t width = static_cast<size_t>(job.extent.width) * job.lanes;
  Rows ring(channels, kh + kRowBlock - 1, job.padded_w * job.lanes);
  Rows acc(2 * channels, kRowBlock, job.extent.width * job.lanes);
  Scratch scratch;
  PairCorrelator::Saturated saturated;
  WalkBand(
      ring, channels, kh, y0, y1, !a.dense.empty(),
      [&](int py, float* const* slots) {
        LoadPadded(job, py, 0, job.padded_w, slots, scratch);
      },
      [&](int y, int block, const auto& rows) {
        for (int c = 0; c < channels; ++c) {
          ComputeRows(rows(c), a, kh, width, block, acc, c);
          ComputeRows(rows(c), b, kh, width, block, acc, channels + c);
        }
        saturated.correlate +=
            EmitBlock(corr_job, y, block, acc, 0, channels, scratch);
        saturated.convolve +=
            EmitBlock(conv_job, y, block, acc, channels, channels, scratch);
        if (diff != nullptr) {
          for (int q = 0; q < block; ++q) {
            DiffRows(*corr_job.out, *conv_job.out, *diff, y + q, 0,
                     job.extent.width);
          }
        }
      });
  return saturated;
}

bool AllFinite(const ConstImageView& in) {
  if (in.type != Depth::kF32) return true;
  const bool packed = IsPacked(in);
  for (int c = 0; c < (packed ? 1 : in.channels); ++c) {
    for (int y = 0; y < in.height; ++y) {
      const std::byte* row = in.base[c] + y * in.row_bytes;
      if (packed || in.step == 1) {
        // Contiguous: one SIMD pass over the row.
        const size_t n =
            static_cast<size_t>(in.width) * (packed ? in.channels : 1);
        if (!detail::RowFinite(reinterpret_cast<const float*>(row), n)) {
          return false;
        }
        continue;
      }
      for (int x = 0; x < in.width; ++x) {
        if (!std::isfinite(SampleAt(row + static_cast<size_t>(x) * in.step * 4,
                                    Depth::kF32))) {
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

Correlator::Correlator(const kernel::Kernel& k, Method requested)
    : kernel_(k),
      method_(ChooseMethod(
          k,
          requested == Method::kAuto || requested == Method::kSeparable
              ? kernel::FactorTerms(k, kMaxSeparableTerms)
              : std::vector<kernel::RankOneFactors>{},
          requested)),
      prepared_(Prepare(kernel_, method_)) {
  terms_ = static_cast<int>(prepared_->h_groups.size());
}

Correlator::~Correlator() = default;
Correlator::Correlator(Correlator&&) noexcept = default;
Correlator& Correlator::operator=(Correlator&&) noexcept = default;

uint64_t Correlator::Run(const ConstImageView& in, const ImageView& out,
                         const EngineOptions& options) const {
  return RunInto(in, out, options, nullptr, nullptr);
}

uint64_t Correlator::RunInto(const ConstImageView& in, const ImageView& out,
                             const EngineOptions& options,
                             const ImageView* copy,
                             const ImageView* zeros) const {
  const Extent extent = OutputExtent(in.width, in.height, kernel_, options.size);
  if (extent.width == 0 || extent.height == 0 || in.channels == 0) return 0;
  Job job = MakeJob(in, out, kernel_, prepared_.get(), options, options.size,
                    extent);

  Method method = method_;
  const Prepared* p = prepared_.get();
  if (method == Method::kFft && !AllFinite(in)) {
    method = Method::kDirect;
    p = prepared_->fallback.get();
  }
  job.packed = method != Method::kFft && in.channels == out.channels &&
               IsPacked(in) && IsPacked(out) &&
               (copy == nullptr || IsPacked(*copy));
  job.lanes = job.packed ? in.channels : 1;
  job.stream = ShouldStream(out);
  job.copy = copy;
  job.zeros = zeros;
  const Taps taps(*p, job.lanes);
  const int units =
      method == Method::kFft
          ? (extent.height + (p->nh - kernel_.rows())) /
                (p->nh - kernel_.rows() + 1)
          : extent.height;
  std::atomic<uint64_t> saturated{0};
  ParallelRows(units, options.threads, [&](int u0, int u1) {
    switch (method) {
      case Method::kFft:
        saturated += RunFft(job, *p, u0, u1);
        break;
      case Method::kSeparable:
        saturated += RunSeparable(job, *p, u0, u1);
        break;
      default:
        saturated += RunDirect(job, taps, u0, u1);
        break;
    }
    hwy::FlushStream();  // the non-temporal stores, before the join
  });
  return saturated;
}

namespace {

// K embedded with zeros in the smallest box, odd in each direction, centred
// on its anchor: the same correlation for `same`, with the anchor at the
// centre, so that K and rot180 K read the same window.
kernel::Kernel Centred(const kernel::Kernel& k) {
  const int hy = std::max(k.anchor_y(), k.rows() - 1 - k.anchor_y());
  const int hx = std::max(k.anchor_x(), k.cols() - 1 - k.anchor_x());
  const int rows = 2 * hy + 1;
  const int cols = 2 * hx + 1;
  if (rows == k.rows() && cols == k.cols()) return k;
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  const int dy = hy - k.anchor_y();
  const int dx = hx - k.anchor_x();
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j) {
      w[static_cast<size_t>(i + dy) * cols + j + dx] = k.at(i, j);
    }
  }
  return kernel::Kernel(rows, cols, std::move(w), hx, hy);
}

}  // namespace

const char* PlanName(PairCorrelator::Plan plan) {
  switch (plan) {
    case PairCorrelator::Plan::kFused:
      return "fused";
    case PairCorrelator::Plan::kSymmetric:
      return "symmetric";
    case PairCorrelator::Plan::kTwoPasses:
      return "two passes";
  }
  return "?";
}

PairCorrelator::PairCorrelator(const kernel::Kernel& k, Method requested,
                               OutputSize size)
    : kernel_(k), size_(size) {
  first_ = std::make_unique<Correlator>(k, requested);
  method_ = first_->method();
  // In valid and full the window is the kernel's box whatever the anchor.
  auto pairs =
      std::make_unique<Pairs>(size == OutputSize::kSame ? Centred(k) : k);
  const kernel::Kernel& c = pairs->centred;
  const int n = c.rows() * c.cols();
  for (int t = 0; t < n; ++t) {
    const int m = n - 1 - t;  // the mirror of tap t about the centre
    if (m < t) break;
    const double kt = c.weights()[t];
    const double km = c.weights()[m];
    // The centre tap pairs with itself: (I + I) * k/2 is exactly k * I.
    const double sv = m == t ? kt / 2 : (kt + km) / 2;
    const double av = m == t ? 0.0 : (kt - km) / 2;
    if (sv == 0.0 && av == 0.0) continue;
    pairs->r1.push_back(t / c.cols());
    pairs->o1.push_back(t % c.cols());
    pairs->r2.push_back(m / c.cols());
    pairs->o2.push_back(m % c.cols());
    pairs->s.push_back(static_cast<float>(sv));
    pairs->a.push_back(static_cast<float>(av));
    pairs->has_s = pairs->has_s || sv != 0.0;
    pairs->has_a = pairs->has_a || av != 0.0;
  }
  if (!pairs->has_a) {
    plan_ = Plan::kSymmetric;
  } else if (method_ == Method::kDirect || method_ == Method::kSparse) {
    plan_ = Plan::kFused;
    if (pairs->has_s) {
      // With both halves, a pair costs two loads, an add, a subtract and
      // two FMAs for four taps' worth of results: no fewer vector
      // operations than K and rot180 K over a shared ring, which also
      // shares each load between four output rows. So share the ring.
      pairs->dual_corr = Prepare(pairs->centred, method_);
      pairs->dual_conv = Prepare(kernel::Rotate180(pairs->centred), method_);
    }
    pairs_ = std::move(pairs);
  } else if (method_ == Method::kFft) {
    // One forward transform per tile, two spectrum products and inverses.
    plan_ = Plan::kFused;
    pairs->fft = Prepare(pairs->centred, Method::kFft);
    pairs->rotated_spectrum = FftSpectrum(
        *pairs->fft->fft, kernel::Rotate180(pairs->centred));
    pairs_ = std::move(pairs);
  } else {
    plan_ = Plan::kTwoPasses;
    second_ = std::make_unique<Correlator>(kernel::Rotate180(k), requested);
  }
}

PairCorrelator::~PairCorrelator() = default;
PairCorrelator::PairCorrelator(PairCorrelator&&) noexcept = default;
PairCorrelator& PairCorrelator::operator=(PairCorrelator&&) noexcept = default;

PairCorrelator::Saturated PairCorrelator::Run(
    const ConstImageView& in, const ImageView& corr, const ImageView& conv,
    const EngineOptions& options, const ImageView* diff) const {
  Saturated result;
  EngineOptions o = options;
  o.size = size_;
  const auto whole_diff = [&] {
    if (diff == nullptr) return;
    for (int y = 0; y < diff->height; ++y) {
      DiffRows(corr, conv, *diff, y, 0, diff->width);
    }
  };
  if (plan_ == Plan::kTwoPasses) {
    result.correlate = first_->Run(in, corr, o);
    result.convolve = second_->Run(in, conv, o);
    whole_diff();
    return result;
  }
  if (!AllFinite(in)) {
    // NaN and infinity reach exactly the outputs the standalone commands
    // give them only if each result is computed on its own: the centring
    // zeros (0 * NaN), the skipped zero pairs and the FFT would each move
    // them. So such inputs take two passes.
    const Method m = method_ == Method::kFft ? Method::kDirect : method_;
    result.correlate = Correlator(kernel_, m).Run(in, corr, o);
    result.convolve = Correlator(kernel::Rotate180(kernel_), m).Run(in, conv, o);
    whole_diff();
    return result;
  }
  if (plan_ == Plan::kSymmetric) {
    // One correlation, copied to the other output when the two are laid
    // out alike (else stored a second time: the same sums either way).
    // One correlation stored to both outputs from the same rows; the
    // difference is zero everywhere.
    result.correlate = first_->RunInto(in, corr, o, &conv, diff);
    result.convolve = result.correlate;
    return result;
  }
  const kernel::Kernel& k = pairs_->centred;
  const Extent extent = OutputExtent(in.width, in.height, k, size_);
  if (extent.width == 0 || extent.height == 0 || in.channels == 0) {
    return result;
  }
  Job job = MakeJob(in, corr, k, nullptr, o, size_, extent);
  job.packed = in.channels == corr.channels && IsPacked(in) &&
               IsPacked(corr) && IsPacked(conv) && conv.type == corr.type;
  job.lanes = job.packed ? in.channels : 1;
  // With a difference to write, the results are read back right after
  // being stored, so they stay in the cache (no streaming stores).
  job.stream = diff == nullptr && ShouldStream(corr);
  Job conv_job = job;
  conv_job.out = &conv;
  conv_job.emit.type = static_cast<int>(conv.type);
  conv_job.emit.max = static_cast<float>(DepthMax(conv.type));
  if (pairs_->fft != nullptr) {
    const Correlator::Prepared& f = *pairs_->fft;
    job.packed = false;
    job.lanes = 1;
    conv_job.packed = false;
    conv_job.lanes = 1;
    const int th = f.nh - k.rows() + 1;
    const int tiles_y = (extent.height + th - 1) / th;
    std::atomic<uint64_t> corr_sat{0}, conv_sat{0};
    ParallelRows(tiles_y, o.threads, [&](int t0, int t1) {
      uint64_t conv_part = 0;
      corr_sat += RunFft(job, f, t0, t1, pairs_->rotated_spectrum.get(), &conv_job,
                         &conv_part, diff);
      conv_sat += conv_part;
      hwy::FlushStream();
    });
    result.correlate = corr_sat;
    result.convolve = conv_sat;
    return result;
  }
  const Pairs::Scaled scaled = pairs_->Scale(job.lanes);
  std::unique_ptr<Taps> dual_a, dual_b;
  if (pairs_->dual_corr != nullptr) {
    dual_a = std::make_unique<Taps>(*pairs_->dual_corr, job.lanes);
    dual_b = std::make_unique<Taps>(*pairs_->dual_conv, job.lanes);
  }
  std::atomic<uint64_t> corr_sat{0}, conv_sat{0};
  ParallelRows(extent.height, o.threads, [&](int y0, int y1) {
    const Saturated part =
        dual_a != nullptr
            ? RunDual(job, conv_job, *dual_a, *dual_b, diff, y0, y1)
            : RunPair(job, conv_job, scaled.table, diff, y0, y1);
    corr_sat += part.correlate;
    conv_sat += part.convolve;
    hwy::FlushStream();
  });
  result.correlate = corr_sat;
  result.convolve = conv_sat;
  return result;
}

}  // namespace convcorr::core

// The integer lanes: direct and sparse for 8-bit inputs with integer
// weights. Each padded row is copied once into a ring of 8-bit rows (a
// quarter of a float ring's bytes, so a 4K frame's ring stays in L1), the
// non-zero taps widen the samples to int16 as they load them and sum them
// in int16 lanes (twice the lanes of float32, and weights of 1 and -1
// need no multiply), and the sums are saturated straight to 8 bits,
// or widened to float for the float store when the output is not 8-bit or
// takes a scale or bias. IntegerLanesFit proves every sum exact in int16
// and in float32, so the samples are the float engine's, bit for bit.
#include <hwy/cache_control.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/integer_simd.h"
#include "core/strategies.h"

namespace convcorr::core::detail {

namespace {

// Padded row py, columns [px0, px1), of the interleaved 8-bit input into
// dst (as LoadPadded, for a packed job).
void LoadPaddedU8(const Job& job, int py, int px0, int px1, uint8_t* dst) {
  const ConstImageView& in = *job.in;
  const int lanes = job.lanes;
  // The constant border's value, an integer in [0, 255] (RunsInteger);
  // other borders never read it, whatever it holds.
  const auto value = job.border.mode == BorderMode::kConstant
                         ? static_cast<uint8_t>(job.border.value)
                         : uint8_t{0};
  const int iy = BorderIndex(py + job.origin.y, in.height, job.border.mode);
  if (iy < 0) {
    std::fill(dst, dst + static_cast<size_t>(px1 - px0) * lanes, value);
    return;
  }
  const auto* row =
      reinterpret_cast<const uint8_t*>(in.base[0] + RowOffset(in, iy));
  const int lo = std::clamp(-job.origin.x, px0, px1);
  const int hi = std::clamp(in.width - job.origin.x, lo, px1);
  if (hi > lo) {
    std::memcpy(dst + static_cast<size_t>(lo - px0) * lanes,
                row + static_cast<size_t>(lo + job.origin.x) * lanes,
                static_cast<size_t>(hi - lo) * lanes);
  }
  const auto edge = [&](int px) {
    const int ix = BorderIndex(px + job.origin.x, in.width, job.border.mode);
    uint8_t* d = dst + static_cast<size_t>(px - px0) * lanes;
    for (int c = 0; c < lanes; ++c) {
      d[c] = ix < 0 ? value : row[static_cast<size_t>(ix) * lanes + c];
    }
  };
  for (int px = px0; px < lo; ++px) edge(px);
  for (int px = hi; px < px1; ++px) edge(px);
}

}  // namespace

bool IntegerKernel(const Correlator::Prepared& p, Method method) {
  return p.integer && (method == Method::kDirect || method == Method::kSparse);
}

bool RunsInteger(const Job& job, const Correlator::Prepared& p, Method method) {
  if (!IntegerKernel(p, method)) return false;
  if (job.in->type != Depth::kU8 || !job.packed) return false;
  const float value = job.border.value;
  return job.border.mode != BorderMode::kConstant ||
         (value >= 0.0f && value <= 255.0f && value == std::trunc(value));
}

namespace {

// One kernel's integer taps with offsets scaled to the job's interleaved
// samples.
struct ScaledTaps {
  std::vector<int> offsets;
  std::vector<TapGroupI16> groups;
  ScaledTaps(const Correlator::Prepared& p, int lanes) : groups(p.i16_groups) {
    offsets.reserve(p.i16_offsets.size());
    for (const int o : p.i16_offsets) offsets.push_back(o * lanes);
    for (TapGroupI16& g : groups) {
      g.offsets = offsets.data() + (g.offsets - p.i16_offsets.data());
    }
  }
};

// Stores output rows of one kernel: straight to 8 bits in the pass that
// sums them, or through int16 and float sums to the float store when the
// output is not 8-bit, takes a scale or bias, or has compare's extra
// outputs.
class RowStore {
 public:
  RowStore(const Job& job, int strip)
      : job_(job),
        direct_u8_(StoresU8Directly(job)),
        acc_(static_cast<size_t>(strip) * job.lanes + kSlackI16) {
    if (!direct_u8_) sums_.resize(acc_.size());
  }
  // Output row y, columns [x0, x0 + n), of `taps` over `rows`; returns how
  // many samples saturated.
  uint64_t Store(const ScaledTaps& taps, const uint8_t* const* rows, int y,
                 int x0, int n) {
    const Job& job = job_;
    const size_t samples = static_cast<size_t>(n) * job.lanes;
    std::byte* dst = job.out->base[0] + RowOffset(*job.out, y) +
                     static_cast<std::ptrdiff_t>(x0) * job.lanes;
    if (direct_u8_ && !job.stream) {
      return TapRowI16U8(rows, taps.groups.data(), taps.groups.size(), samples,
                         job.emit.abs, reinterpret_cast<uint8_t*>(dst));
    }
    TapRowI16(rows, taps.groups.data(), taps.groups.size(), samples,
              acc_.data());
    if (!direct_u8_) {
      WidenRowI16(acc_.data(), samples, sums_.data());
      const float* planes[1] = {sums_.data()};
      return Emit(job, y, x0, n, planes, scratch_);
    }
    // Through a row in L1, then non-temporal stores to memory.
    staged_.resize(samples);
    const uint64_t saturated =
        EmitRowI16U8(acc_.data(), samples, job.emit.abs, staged_.data());
    CopyRow(reinterpret_cast<const std::byte*>(staged_.data()), samples, dst,
            true);
    return saturated;
  }

 private:
  const Job& job_;
  bool direct_u8_;
  std::vector<int16_t> acc_;
  std::vector<float> sums_;
  std::vector<uint8_t> staged_;
  Scratch scratch_;
};

// Walks output rows [y0, y1) strip by strip over a ring of kh 8-bit
// padded rows, loading each once and prefetching the next input row;
// step(y, x0, n, rows) stores the row.
template <typename Step>
void WalkRows(const Job& job, int strip, int y0, int y1, Step step) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int lanes = job.lanes;
  const size_t row_len =
      static_cast<size_t>(strip + kw - 1) * lanes + kSlackI16;
  std::vector<uint8_t> ring(row_len * kh);
  std::vector<const uint8_t*> rows(kh);
  for (int x0 = 0; x0 < job.extent.width; x0 += strip) {
    const int n = std::min(strip, job.extent.width - x0);
    int loaded = y0;  // the next padded row to load
    for (int y = y0; y < y1; ++y) {
      for (; loaded < y + kh; ++loaded) {
        LoadPaddedU8(job, loaded, x0, x0 + n + kw - 1,
                     ring.data() + static_cast<size_t>(loaded % kh) * row_len);
      }
      for (int i = 0; i < kh; ++i) {
        rows[i] = ring.data() + static_cast<size_t>((y + i) % kh) * row_len;
      }
      if (y + 1 < y1) PrefetchPadded(job, loaded, x0, x0 + n + kw - 1);
      step(y, x0, n, rows.data());
    }
  }
}

int IntegerStrip(const Job& job) {
  return StripWidth(job,
                    (static_cast<size_t>(job.k->rows()) * job.lanes + 1) / 2);
}

}  // namespace

uint64_t RunInteger(const Job& job, const Correlator::Prepared& p, int y0,
                    int y1) {
  const ScaledTaps taps(p, job.lanes);
  const int strip = IntegerStrip(job);
  RowStore store(job, strip);
  uint64_t saturated = 0;
  WalkRows(job, strip, y0, y1,
           [&](int y, int x0, int n, const uint8_t* const* rows) {
             saturated += store.Store(taps, rows, y, x0, n);
           });
  return saturated;
}

PairCorrelator::Saturated RunIntegerPair(
    const Job& corr_job, const Job& conv_job, const Correlator::Prepared& corr,
    const Correlator::Prepared& conv, const ImageView* diff, int y0, int y1) {
  const ScaledTaps corr_taps(corr, corr_job.lanes);
  const ScaledTaps conv_taps(conv, conv_job.lanes);
  const int strip = IntegerStrip(corr_job);
  RowStore corr_store(corr_job, strip);
  RowStore conv_store(conv_job, strip);
  PairCorrelator::Saturated saturated;
  WalkRows(corr_job, strip, y0, y1,
           [&](int y, int x0, int n, const uint8_t* const* rows) {
             saturated.correlate += corr_store.Store(corr_taps, rows, y, x0, n);
             saturated.convolve += conv_store.Store(conv_taps, rows, y, x0, n);
             if (diff != nullptr) {
               DiffRows(*corr_job.out, *conv_job.out, *diff, y, x0, n);
             }
           });
  return saturated;
}

}  // namespace convcorr::core::detail

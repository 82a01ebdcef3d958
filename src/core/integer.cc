// The integer lanes: direct and sparse for 8-bit inputs with integer
// weights. Each padded row is widened once to int16, the non-zero taps
// are summed in int16 lanes (twice the lanes of float32, and weights of 1
// and -1 need no multiply), and the sums are saturated straight to 8 bits,
// or widened to float for the float store when the output is not 8-bit or
// takes a scale or bias. IntegerLanesFit proves every sum exact in int16
// and in float32, so the samples are the float engine's, bit for bit.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <hwy/cache_control.h>

#include "core/integer_simd.h"
#include "core/strategies.h"

namespace convcorr::core::detail {

namespace {

// Padded row py, columns [px0, px1), of the interleaved 8-bit input as int16
// into dst (as LoadPadded, for a packed job).
void LoadPaddedI16(const Job& job, int py, int px0, int px1, int16_t* dst) {
  const ConstImageView& in = *job.in;
  const int lanes = job.lanes;
  const int16_t value = static_cast<int16_t>(job.border.value);
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
    WidenRowU8(row + static_cast<size_t>(lo + job.origin.x) * lanes,
               static_cast<size_t>(hi - lo) * lanes,
               dst + static_cast<size_t>(lo - px0) * lanes);
  }
  const auto edge = [&](int px) {
    const int ix = BorderIndex(px + job.origin.x, in.width, job.border.mode);
    int16_t* d = dst + static_cast<size_t>(px - px0) * lanes;
    for (int c = 0; c < lanes; ++c) {
      d[c] = ix < 0 ? value : row[static_cast<size_t>(ix) * lanes + c];
    }
  };
  for (int px = px0; px < lo; ++px) edge(px);
  for (int px = hi; px < px1; ++px) edge(px);
}

// Asks for padded row py's input samples, columns [px0, px1), to be
// brought into the cache while the current row is computed: the loader
// otherwise waits on memory for most of its time.
void Prefetch(const Job& job, int py, int px0, int px1) {
  const ConstImageView& in = *job.in;
  const int iy = BorderIndex(py + job.origin.y, in.height, job.border.mode);
  if (iy < 0) return;
  const int lo = std::clamp(px0 + job.origin.x, 0, in.width);
  const int hi = std::clamp(px1 + job.origin.x, lo, in.width);
  const std::byte* row = in.base[0] + RowOffset(in, iy);
  for (size_t b = static_cast<size_t>(lo) * job.lanes;
       b < static_cast<size_t>(hi) * job.lanes; b += 64) {
    hwy::Prefetch(row + b);
  }
}

}  // namespace

bool RunsInteger(const Job& job, const Correlator::Prepared& p,
                 Method method) {
  if (method != Method::kDirect && method != Method::kSparse) return false;
  if (!p.integer || job.in->type != Depth::kU8 || !job.packed) return false;
  const float value = job.border.value;
  return job.border.mode != BorderMode::kConstant ||
         (value >= 0.0f && value <= 255.0f && value == std::trunc(value));
}

uint64_t RunInteger(const Job& job, const Correlator::Prepared& p, int y0,
                    int y1) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int lanes = job.lanes;
  const ImageView& out = *job.out;
  // Offsets scaled to the interleaved samples.
  std::vector<int> offsets;
  offsets.reserve(p.i16_offsets.size());
  for (const int o : p.i16_offsets) offsets.push_back(o * lanes);
  std::vector<TapGroupI16> groups = p.i16_groups;
  for (TapGroupI16& g : groups) {
    g.offsets = offsets.data() + (g.offsets - p.i16_offsets.data());
  }
  // A ring of kh int16 rows: half the bytes of a float ring per column.
  const int strip =
      StripWidth(job, (static_cast<size_t>(kh) * lanes + 1) / 2);
  const size_t row_len =
      static_cast<size_t>(strip + kw - 1) * lanes + kSlackI16;
  std::vector<int16_t> ring(row_len * kh);
  std::vector<int16_t> acc(static_cast<size_t>(strip) * lanes + kSlackI16);
  std::vector<const int16_t*> rows(kh);
  // Straight to 8 bits, unless the float store's scale, bias or other
  // outputs are needed.
  const bool direct_u8 = out.type == Depth::kU8 && !job.emit.affine &&
                         job.copy == nullptr && job.zeros == nullptr;
  std::vector<float> sums;
  if (!direct_u8) sums.resize(acc.size());
  std::vector<uint8_t> staged;
  Scratch scratch;
  uint64_t saturated = 0;
  for (int x0 = 0; x0 < job.extent.width; x0 += strip) {
    const int n = std::min(strip, job.extent.width - x0);
    const size_t samples = static_cast<size_t>(n) * lanes;
    int loaded = y0;  // the next padded row to load
    for (int y = y0; y < y1; ++y) {
      for (; loaded < y + kh; ++loaded) {
        LoadPaddedI16(job, loaded, x0, x0 + n + kw - 1,
                      ring.data() + static_cast<size_t>(loaded % kh) * row_len);
      }
      for (int i = 0; i < kh; ++i) {
        rows[i] = ring.data() + static_cast<size_t>((y + i) % kh) * row_len;
      }
      if (y + 1 < y1) Prefetch(job, loaded, x0, x0 + n + kw - 1);
      if (direct_u8 && !job.stream) {
        saturated += TapRowI16U8(
            rows.data(), groups.data(), groups.size(), samples, job.emit.abs,
            reinterpret_cast<uint8_t*>(out.base[0] + RowOffset(out, y) +
                                       static_cast<std::ptrdiff_t>(x0) *
                                           lanes));
        continue;
      }
      TapRowI16(rows.data(), groups.data(), groups.size(), samples,
                acc.data());
      if (!direct_u8) {
        WidenRowI16(acc.data(), samples, sums.data());
        const float* planes[1] = {sums.data()};
        saturated += Emit(job, y, x0, n, planes, scratch);
        continue;
      }
      std::byte* dst = out.base[0] + RowOffset(out, y) +
                       static_cast<std::ptrdiff_t>(x0) * lanes;
      // Through a row in L1, then non-temporal stores to memory.
      staged.resize(samples);
      saturated +=
          EmitRowI16U8(acc.data(), samples, job.emit.abs, staged.data());
      CopyRow(reinterpret_cast<const std::byte*>(staged.data()), samples, dst,
              true);
    }
  }
  return saturated;
}

}  // namespace convcorr::core::detail

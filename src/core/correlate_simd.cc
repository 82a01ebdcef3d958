// The engine's row kernels: Highway code compiled for every x86 target
// Highway builds (SSSE3, SSE4, AVX2, AVX-512, and the emulated and scalar
// fallbacks) and chosen at run time for the CPU it runs on. Sums accumulate
// in float32 with Highway's MulAdd: a fused multiply-add where the CPU has
// one (AVX2, AVX-512), a multiply and an add on the older targets.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/correlate_simd.cc"
#include "core/correlate_simd.h"

#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/engine.h"

HWY_BEFORE_NAMESPACE();
namespace convcorr::core::detail::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

constexpr int kU8 = static_cast<int>(Depth::kU8);
constexpr int kU16 = static_cast<int>(Depth::kU16);

template <typename T>
void ConvertTyped(const T* src, size_t n, float* dst) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<int32_t, decltype(df)> di;
  const hn::Rebind<T, decltype(df)> dt;
  const size_t lanes = hn::Lanes(df);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(dt, src + x))), df,
               dst + x);
  }
  for (; x < n; ++x) dst[x] = static_cast<float>(src[x]);
}

void ConvertRow(const std::byte* src, int type, size_t n, float* dst) {
  if (type == kU8) {
    ConvertTyped(reinterpret_cast<const uint8_t*>(src), n, dst);
  } else if (type == kU16) {
    ConvertTyped(reinterpret_cast<const uint16_t*>(src), n, dst);
  } else {
    std::memcpy(dst, src, n * sizeof(float));
  }
}

template <typename T>
void SplitTyped(const T* src, size_t n, T* t0, T* t1, T* t2) {
  const hn::ScalableTag<T> d;
  const size_t lanes = hn::Lanes(d);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    hn::Vec<decltype(d)> a, b, c;
    hn::LoadInterleaved3(d, src + 3 * x, a, b, c);
    hn::StoreU(a, d, t0 + x);
    hn::StoreU(b, d, t1 + x);
    hn::StoreU(c, d, t2 + x);
  }
  for (; x < n; ++x) {
    t0[x] = src[3 * x];
    t1[x] = src[3 * x + 1];
    t2[x] = src[3 * x + 2];
  }
}

template <typename T>
void Deinterleave3Typed(const std::byte* src, size_t n, float* d0, float* d1,
                        float* d2, std::byte* scratch) {
  T* t = reinterpret_cast<T*>(scratch);
  SplitTyped(reinterpret_cast<const T*>(src), n, t, t + n, t + 2 * n);
  ConvertTyped(t, n, d0);
  ConvertTyped(t + n, n, d1);
  ConvertTyped(t + 2 * n, n, d2);
}

void Deinterleave3(const std::byte* src, int type, size_t n, float* d0,
                   float* d1, float* d2, std::byte* scratch) {
  if (type == kU8) {
    Deinterleave3Typed<uint8_t>(src, n, d0, d1, d2, scratch);
  } else if (type == kU16) {
    Deinterleave3Typed<uint16_t>(src, n, d0, d1, d2, scratch);
  } else {
    SplitTyped(reinterpret_cast<const float*>(src), n, d0, d1, d2);
  }
}

// A vector to p: a regular store, or with kStream a non-temporal one (p
// then aligned to the vector).
template <bool kStream, class D>
HWY_INLINE void Put(D d, hn::Vec<D> v, float* p) {
  if constexpr (kStream) {
    hn::Stream(v, d, p);
  } else {
    hn::StoreU(v, d, p);
  }
}

// Rounds v half to even and saturates it to [0, max] (max at most 65535),
// NaN giving 0; `inside` is set where v was in range, i.e. where the
// rounded value needed no clamping: -0.5 <= v < max + 0.5 (max is odd, so
// max + 0.5 rounds up), never for NaN.
// Adding and subtracting 1.5 * 2^23 leaves no fraction bits for
// |v| < 2^22 under the default rounding mode, on every target (Highway
// 1.0.3's Round and NearestInt add 0.5 and truncate on its emulated
// targets, which rounds 0.49999997 up); a larger
// |v| comes out changed by at most 2, still far outside [0, max]. Max
// returns its second operand for a NaN first one on every target built
// here (x86 maxps, and the emulated targets' explicit NaN test).
template <class D>
HWY_INLINE hn::Vec<D> RoundSaturate(D d, hn::Vec<D> v, hn::Vec<D> max,
                                    hn::Mask<D>& inside) {
  const auto magic = hn::Set(d, 12582912.0f);
  const auto rounded = hn::Sub(hn::Add(v, magic), magic);
  const auto clamped = hn::Min(hn::Max(rounded, hn::Zero(d)), max);
  inside = hn::Eq(rounded, clamped);
  return clamped;
}

// A cache line of each of p's rows for every 16 floats of [x, x + floats).
HWY_INLINE void PrefetchLines(const Prefetch& p, size_t x, size_t floats) {
  for (int r = 0; r < p.count; ++r) {
    for (size_t f = 0; f < floats; f += 16) hwy::Prefetch(p.rows[r] + x + f);
  }
}

template <bool kStream>
void TapRowT(const float* const* rows, const TapGroup* groups, size_t ngroups,
             size_t width, float* out, const Prefetch& prefetch) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  size_t x = 0;
  // Eight vectors of output stay in registers while the taps are walked:
  // eight independent FMA chains hide the FMA latency on two FMA ports, and
  // each weight is broadcast once per eight vectors.
  for (; x + 8 * n <= end; x += 8 * n) {
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d),
         a4 = hn::Zero(d), a5 = hn::Zero(d), a6 = hn::Zero(d), a7 = hn::Zero(d);
    for (size_t g = 0; g < ngroups; ++g) {
      const TapGroup& group = groups[g];
      const float* row = rows[group.row] + x;
      for (int t = 0; t < group.count; ++t) {
        const auto w = hn::Set(d, group.weights[t]);
        const float* p = row + group.offsets[t];
        a0 = hn::MulAdd(w, hn::LoadU(d, p), a0);
        a1 = hn::MulAdd(w, hn::LoadU(d, p + n), a1);
        a2 = hn::MulAdd(w, hn::LoadU(d, p + 2 * n), a2);
        a3 = hn::MulAdd(w, hn::LoadU(d, p + 3 * n), a3);
        a4 = hn::MulAdd(w, hn::LoadU(d, p + 4 * n), a4);
        a5 = hn::MulAdd(w, hn::LoadU(d, p + 5 * n), a5);
        a6 = hn::MulAdd(w, hn::LoadU(d, p + 6 * n), a6);
        a7 = hn::MulAdd(w, hn::LoadU(d, p + 7 * n), a7);
      }
    }
    PrefetchLines(prefetch, x, 8 * n);
    Put<kStream>(d, a0, out + x);
    Put<kStream>(d, a1, out + x + n);
    Put<kStream>(d, a2, out + x + 2 * n);
    Put<kStream>(d, a3, out + x + 3 * n);
    Put<kStream>(d, a4, out + x + 4 * n);
    Put<kStream>(d, a5, out + x + 5 * n);
    Put<kStream>(d, a6, out + x + 6 * n);
    Put<kStream>(d, a7, out + x + 7 * n);
  }
  // The rest one vector at a time, the taps in the same order, so every
  // output sample is the same sum whichever loop computed it.
  for (; x < end; x += n) {
    auto a = hn::Zero(d);
    for (size_t g = 0; g < ngroups; ++g) {
      const TapGroup& group = groups[g];
      const float* row = rows[group.row] + x;
      for (int t = 0; t < group.count; ++t) {
        a = hn::MulAdd(hn::Set(d, group.weights[t]),
                       hn::LoadU(d, row + group.offsets[t]), a);
      }
    }
    Put<kStream>(d, a, out + x);
  }
}

void TapRow(const float* const* rows, const TapGroup* groups, size_t ngroups,
            size_t width, float* out, bool stream, const Prefetch& prefetch) {
  if (stream) {
    TapRowT<true>(rows, groups, ngroups, width, out, prefetch);
  } else {
    TapRowT<false>(rows, groups, ngroups, width, out, prefetch);
  }
}

// A symmetric 1-D kernel of 2m + 1 taps, centre c = row + m * step:
// out(x) = w[0] c(x) + sum over j = 1..m of w[j] (c(x - j step) + c(x + j
// step)), summed in that order by every loop below. Each mirror pair is
// added before its multiply: m + 1 multiply-adds and m additions instead
// of 2m + 1 multiply-adds, and the additions run on other ports.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// AVX-512: the 16 samples from row + x + k, for a compile-time k in [0,
// 32], out of the three vectors at row + x, + 16 and + 32, by valignd.
// Offsets of 3, 6 or 9 floats (the taps of an RGB row) put nearly every
// one of SymRowT's loads across two cache lines, where it costs about
// twice an aligned one: one load a vector and 2m shifts ran twice as fast
// on the Zen 5 this was measured on.
template <int k>
HWY_INLINE __m512 Window(__m512i a0, __m512i a1, __m512i a2) {
  if constexpr (k == 0) {
    return _mm512_castsi512_ps(a0);
  } else if constexpr (k < 16) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(a1, a0, k));
  } else if constexpr (k == 16) {
    return _mm512_castsi512_ps(a1);
  } else if constexpr (k < 32) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(a2, a1, k - 16));
  } else {
    return _mm512_castsi512_ps(a2);
  }
}

// acc plus pairs kJ..kM, in SymRowT's order.
template <int kStep, int kM, int kJ = 1>
HWY_INLINE __m512 SymPairs(__m512 acc, const __m512* w, __m512i a0, __m512i a1,
                           __m512i a2) {
  if constexpr (kJ > kM) {
    return acc;
  } else {
    const __m512 pair = _mm512_add_ps(Window<(kM - kJ) * kStep>(a0, a1, a2),
                                      Window<(kM + kJ) * kStep>(a0, a1, a2));
    return SymPairs<kStep, kM, kJ + 1>(_mm512_fmadd_ps(w[kJ], pair, acc), w, a0,
                                       a1, a2);
  }
}

// SymRowT's sums for the vectors at x = 0, 16, ... while row[x .. x + 47]
// lies below `to`; returns the x it stopped at.
template <bool kStream, int kStep, int kM>
size_t SymRowWindows(const float* row, const float* weights, size_t to,
                     float* out, const Prefetch& prefetch) {
  static_assert(2 * kM * kStep <= 32, "windows reach the third vector only");
  if (to < 48) return 0;
  __m512 w[kM + 1];
  for (int j = 0; j <= kM; ++j) w[j] = _mm512_set1_ps(weights[j]);
  __m512i a0 = _mm512_castps_si512(_mm512_loadu_ps(row));
  __m512i a1 = _mm512_castps_si512(_mm512_loadu_ps(row + 16));
  size_t x = 0;
  for (; x + 48 <= to; x += 16) {
    PrefetchLines(prefetch, x, 16);
    const __m512i a2 = _mm512_castps_si512(_mm512_loadu_ps(row + x + 32));
    const __m512 acc = SymPairs<kStep, kM>(
        _mm512_mul_ps(w[0], Window<kM * kStep>(a0, a1, a2)), w, a0, a1, a2);
    if constexpr (kStream) {
      _mm512_stream_ps(out + x, acc);
    } else {
      _mm512_storeu_ps(out + x, acc);
    }
    a0 = a1;
    a1 = a2;
  }
  return x;
}

// The window walk for the common (step, m): one, three and four samples a
// pixel (gray, RGB, RGBA), kernels of 3 to 9 taps; 0 for the others.
template <bool kStream>
size_t SymRowFast(const float* row, const float* w, int m, size_t step,
                  size_t to, float* out, const Prefetch& prefetch) {
#define CONVCORR_SYM(S, M)     \
  if (step == (S) && m == (M)) \
    return SymRowWindows<kStream, S, M>(row, w, to, out, prefetch);
  CONVCORR_SYM(1, 1)
  CONVCORR_SYM(1, 2)
  CONVCORR_SYM(1, 3)
  CONVCORR_SYM(1, 4)
  CONVCORR_SYM(3, 1)
  CONVCORR_SYM(3, 2)
  CONVCORR_SYM(3, 3)
  CONVCORR_SYM(3, 4)
  CONVCORR_SYM(4, 1)
  CONVCORR_SYM(4, 2)
  CONVCORR_SYM(4, 3)
  CONVCORR_SYM(4, 4)
#undef CONVCORR_SYM
  return 0;
}
#endif

template <bool kStream>
void SymRowT(const float* row, const float* w, int m, size_t step, size_t width,
             float* out, const Prefetch& prefetch) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  const float* c = row + static_cast<size_t>(m) * step;
  const auto w0 = hn::Set(d, w[0]);
  size_t x = 0;
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  // The vectors whose three windows lie within what may be read (width +
  // 2m step samples); the loops below finish the row in the same order.
  x = SymRowFast<kStream>(row, w, m, step, width + 2 * m * step, out, prefetch);
#endif
  for (; x + 4 * n <= end; x += 4 * n) {
    auto a0 = hn::Mul(w0, hn::LoadU(d, c + x));
    auto a1 = hn::Mul(w0, hn::LoadU(d, c + x + n));
    auto a2 = hn::Mul(w0, hn::LoadU(d, c + x + 2 * n));
    auto a3 = hn::Mul(w0, hn::LoadU(d, c + x + 3 * n));
    for (int j = 1; j <= m; ++j) {
      const auto wj = hn::Set(d, w[j]);
      const float* l = c + x - static_cast<size_t>(j) * step;
      const float* r = c + x + static_cast<size_t>(j) * step;
      a0 = hn::MulAdd(wj, hn::Add(hn::LoadU(d, l), hn::LoadU(d, r)), a0);
      a1 =
          hn::MulAdd(wj, hn::Add(hn::LoadU(d, l + n), hn::LoadU(d, r + n)), a1);
      a2 = hn::MulAdd(
          wj, hn::Add(hn::LoadU(d, l + 2 * n), hn::LoadU(d, r + 2 * n)), a2);
      a3 = hn::MulAdd(
          wj, hn::Add(hn::LoadU(d, l + 3 * n), hn::LoadU(d, r + 3 * n)), a3);
    }
    PrefetchLines(prefetch, x, 4 * n);
    Put<kStream>(d, a0, out + x);
    Put<kStream>(d, a1, out + x + n);
    Put<kStream>(d, a2, out + x + 2 * n);
    Put<kStream>(d, a3, out + x + 3 * n);
  }
  for (; x < end; x += n) {
    auto a = hn::Mul(w0, hn::LoadU(d, c + x));
    for (int j = 1; j <= m; ++j) {
      const float* l = c + x - static_cast<size_t>(j) * step;
      const float* r = c + x + static_cast<size_t>(j) * step;
      a = hn::MulAdd(hn::Set(d, w[j]),
                     hn::Add(hn::LoadU(d, l), hn::LoadU(d, r)), a);
    }
    Put<kStream>(d, a, out + x);
  }
}

void SymRow(const float* row, const float* w, int m, size_t step, size_t width,
            float* out, bool stream, const Prefetch& prefetch) {
  if (stream) {
    SymRowT<true>(row, w, m, step, width, out, prefetch);
  } else {
    SymRowT<false>(row, w, m, step, width, out, prefetch);
  }
}

// The same symmetric kernel down the rows: the sums of kBlock output rows
// of kB vectors from x, output row q centred on rows[q + kM]. Every row is
// loaded once into registers and serves all the outputs that read it.
template <int kBlock, int kM, size_t kB, class D>
HWY_INLINE void SymColumnSums(D d, const float* const* rows,
                              const hn::Vec<D>* w, size_t x,
                              hn::Vec<D> (&acc)[kBlock][kB]) {
  const size_t n = hn::Lanes(d);
  constexpr int kRows = kBlock + 2 * kM;
  hn::Vec<D> v[kRows][kB];
  for (int r = 0; r < kRows; ++r) {
    for (size_t b = 0; b < kB; ++b) v[r][b] = hn::LoadU(d, rows[r] + x + b * n);
  }
  for (int q = 0; q < kBlock; ++q) {
    for (size_t b = 0; b < kB; ++b) {
      acc[q][b] = hn::Mul(w[0], v[q + kM][b]);
      for (int j = 1; j <= kM; ++j) {
        acc[q][b] = hn::MulAdd(
            w[j], hn::Add(v[q + kM - j][b], v[q + kM + j][b]), acc[q][b]);
      }
    }
  }
}

// The most output rows SymColumnU8 takes.
constexpr int kRowBlockU8 = 4;

// Where SymColumn's sums go: float rows (non-temporal stores if kStream),
// or, for kU8, 8-bit rows as EmitRow stores them (|sum| if `abs`, rounded
// half to even, saturated to [0, 255]), `width` samples and not one more,
// counting the samples in range. Taken by value, not by reference, so
// that the compiler keeps them in registers across the byte stores.
template <bool kU8_, bool kStream, class D>
struct SymStore {
  static constexpr bool kU8 = kU8_;
  D d;
  void* const* out;
  size_t width;
  bool abs;
  hn::Vec<D> max = hn::Set(d, 255.0f);
  hn::Vec<D> two23 = hn::Set(d, 8388608.0f);
  // Stores a whole vector of sums v of output row q at x; returns how
  // many were in range.
  HWY_INLINE size_t operator()(int q, size_t x, hn::Vec<D> v) const {
    if constexpr (!kU8) {
      Put<kStream>(d, v, static_cast<float*>(out[q]) + x);
      return 0;
    } else {
      const hn::Rebind<uint8_t, D> d8;
      hn::Mask<D> inside;
      hn::StoreU(Bytes(v, inside), d8, static_cast<uint8_t*>(out[q]) + x);
      return hn::CountTrue(d, inside);
    }
  }
  // The same for the last vector of a row of 8-bit samples, of which only
  // width - x are stored.
  HWY_NOINLINE size_t Last(int q, size_t x, hn::Vec<D> v) const {
    const hn::Rebind<uint8_t, D> d8;
    hn::Mask<D> inside;
    HWY_ALIGN uint8_t last[HWY_MAX_BYTES / sizeof(float)];
    hn::StoreU(Bytes(v, inside), d8, last);
    std::memcpy(static_cast<uint8_t*>(out[q]) + x, last, width - x);
    return hn::CountTrue(d, hn::And(inside, hn::FirstN(d, width - x)));
  }
  HWY_INLINE auto Bytes(hn::Vec<D> v, hn::Mask<D>& inside) const {
    const hn::Rebind<uint32_t, D> du;
    const hn::Rebind<uint8_t, D> d8;
    if (abs) v = hn::Abs(v);
    const auto clamped = RoundSaturate(d, v, max, inside);
    // As in EmitTyped: the clamped integer's bits, truncated to 8.
    return hn::TruncateTo(d8, hn::BitCast(du, hn::Add(clamped, two23)));
  }
};

template <int kBlock, int kM, class Store>
size_t SymColumnT(const float* const* rows, const float* weights, size_t width,
                  const Store store) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  hn::Vec<decltype(d)> w[kM + 1];
  for (int j = 0; j <= kM; ++j) w[j] = hn::Set(d, weights[j]);
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  // The rows of a block, its accumulators and the weights in 32 registers
  // (the 8-bit store needs four more for its constants); 16 otherwise.
  constexpr size_t kB =
      (2 * kBlock + 2 * kM) * 2 + kM + 1 + (Store::kU8 ? 4 : 0) <= 32 ? 2 : 1;
#else
  constexpr size_t kB = 1;
#endif
  // 8-bit rows end with a part of a vector, stored apart.
  const size_t whole = Store::kU8 ? width / n * n : end;
  size_t inside = 0;
  size_t x = 0;
  for (; x + kB * n <= whole; x += kB * n) {
    hn::Vec<decltype(d)> acc[kBlock][kB];
    SymColumnSums<kBlock, kM, kB>(d, rows, w, x, acc);
    for (int q = 0; q < kBlock; ++q) {
      for (size_t b = 0; b < kB; ++b) inside += store(q, x + b * n, acc[q][b]);
    }
  }
  for (; x < end; x += n) {
    hn::Vec<decltype(d)> acc[kBlock][1];
    SymColumnSums<kBlock, kM, 1>(d, rows, w, x, acc);
    for (int q = 0; q < kBlock; ++q) {
      inside +=
          x + n <= whole ? store(q, x, acc[q][0]) : store.Last(q, x, acc[q][0]);
    }
  }
  return inside;
}

// Any m, from memory: rows and weights are read as the sums need them.
template <class Store>
size_t SymColumnAny(const float* const* rows, const float* w, int m, int block,
                    size_t width, const Store store) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  size_t inside = 0;
  for (int q = 0; q < block; ++q) {
    const float* const* rq = rows + q;
    for (size_t x = 0; x < end; x += n) {
      auto acc = hn::Mul(hn::Set(d, w[0]), hn::LoadU(d, rq[m] + x));
      for (int j = 1; j <= m; ++j) {
        acc = hn::MulAdd(
            hn::Set(d, w[j]),
            hn::Add(hn::LoadU(d, rq[m - j] + x), hn::LoadU(d, rq[m + j] + x)),
            acc);
      }
      inside += !Store::kU8 || x + n <= width ? store(q, x, acc)
                                              : store.Last(q, x, acc);
    }
  }
  return inside;
}

// Output rows [0, block) (1 or 4) of the kernel to `store`; returns the
// samples it counted in range.
template <class Store>
size_t SymColumnWith(const float* const* rows, const float* w, int m, int block,
                     size_t width, const Store& store) {
  const auto run = [&](auto rows_in_block) -> size_t {
    constexpr int kBlock = decltype(rows_in_block)::value;
    switch (m) {
      case 1:
        return SymColumnT<kBlock, 1>(rows, w, width, store);
      case 2:
        return SymColumnT<kBlock, 2>(rows, w, width, store);
      case 3:
        return SymColumnT<kBlock, 3>(rows, w, width, store);
      case 4:
        return SymColumnT<kBlock, 4>(rows, w, width, store);
      default:
        return SymColumnAny(rows, w, m, kBlock, width, store);
    }
  };
  return block == 4 ? run(std::integral_constant<int, 4>())
                    : run(std::integral_constant<int, 1>());
}

void SymColumn(const float* const* rows, const float* w, int m, int block,
               size_t width, float* const* out, bool stream) {
  using D = hn::ScalableTag<float>;
  void* const* to = reinterpret_cast<void* const*>(out);
  if (stream) {
    SymColumnWith(rows, w, m, block, width,
                  SymStore<false, true, D>{D(), to, width, false});
  } else {
    SymColumnWith(rows, w, m, block, width,
                  SymStore<false, false, D>{D(), to, width, false});
  }
}

uint64_t SymColumnU8(const float* const* rows, const float* w, int m, int block,
                     size_t width, bool abs, uint8_t* const* out) {
  using D = hn::ScalableTag<float>;
  void* to[kRowBlockU8];
  for (int q = 0; q < block; ++q) to[q] = out[q];
  const size_t inside = SymColumnWith(
      rows, w, m, block, width, SymStore<true, false, D>{D(), to, width, abs});
  return static_cast<uint64_t>(block) * width - inside;
}

// kB vectors of four output rows: 4 * kB accumulators.
template <bool kStream, size_t kB, class D>
HWY_INLINE void Rows4Block(D d, const float* const* rows, const RowTap4* taps,
                           size_t nruns, size_t x, float* const* out) {
  const size_t n = hn::Lanes(d);
  hn::Vec<D> acc[4][kB];
  for (size_t b = 0; b < kB; ++b) {
    acc[0][b] = hn::Zero(d);
    acc[1][b] = hn::Zero(d);
    acc[2][b] = hn::Zero(d);
    acc[3][b] = hn::Zero(d);
  }
  for (size_t r = 0; r < nruns; ++r) {
    const RowTap4& run = taps[r];
    const float* row = rows[run.row] + x;
    // The same output rows for the whole run: tests the compiler can
    // take out of the loop.
    const unsigned outputs = run.outputs;
    for (int k = 0; k < run.count; ++k) {
      const float* p = row + run.offsets[k];
      const float* w = run.weights + 4 * k;
      hn::Vec<D> v[kB];
      for (size_t b = 0; b < kB; ++b) v[b] = hn::LoadU(d, p + b * n);
        // Unrolled over the output rows so that the accumulators stay in
        // registers.
#define CONVCORR_ROW4(q)                           \
  if (outputs & (1u << (q))) {                     \
    const auto wq = hn::Set(d, w[q]);              \
    for (size_t b = 0; b < kB; ++b)                \
      acc[q][b] = hn::MulAdd(wq, v[b], acc[q][b]); \
  }
      CONVCORR_ROW4(0)
      CONVCORR_ROW4(1)
      CONVCORR_ROW4(2)
      CONVCORR_ROW4(3)
#undef CONVCORR_ROW4
    }
  }
  for (size_t q = 0; q < 4; ++q) {
    for (size_t b = 0; b < kB; ++b)
      Put<kStream>(d, acc[q][b], out[q] + x + b * n);
  }
}

template <bool kStream>
void TapRows4T(const float* const* rows, const RowTap4* taps, size_t nruns,
               size_t width, float* const* out, const Prefetch& prefetch) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  // 32 vector registers (AVX-512) hold 16 accumulators; 16 (AVX2, SSE4)
  // hold 8.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  constexpr size_t kB = 4;
#else
  constexpr size_t kB = 2;
#endif
  size_t x = 0;
  for (; x + kB * n <= end; x += kB * n) {
    Rows4Block<kStream, kB>(d, rows, taps, nruns, x, out);
    PrefetchLines(prefetch, x, kB * n);
  }
  for (; x < end; x += n) Rows4Block<kStream, 1>(d, rows, taps, nruns, x, out);
}

void TapRows4(const float* const* rows, const RowTap4* taps, size_t nruns,
              size_t width, float* const* out, bool stream,
              const Prefetch& prefetch) {
  if (stream) {
    TapRows4T<true>(rows, taps, nruns, width, out, prefetch);
  } else {
    TapRows4T<false>(rows, taps, nruns, width, out, prefetch);
  }
}

template <bool kHasS, bool kHasA, size_t kBlock, class D>
HWY_INLINE void PairBlock(D d, const float* const* rows, const PairTable& pt,
                          size_t x, float* out_s, float* out_a) {
  const size_t n = hn::Lanes(d);
  hn::Vec<D> s[kBlock], a[kBlock];
  for (size_t b = 0; b < kBlock; ++b) {
    s[b] = hn::Zero(d);
    a[b] = hn::Zero(d);
  }
  for (size_t t = 0; t < pt.count; ++t) {
    const float* p = rows[pt.r1[t]] + pt.o1[t] + x;
    const float* q = rows[pt.r2[t]] + pt.o2[t] + x;
    const auto ws = hn::Set(d, pt.s[t]);
    const auto wa = hn::Set(d, pt.a[t]);
    for (size_t b = 0; b < kBlock; ++b) {
      const auto pv = hn::LoadU(d, p + b * n);
      const auto qv = hn::LoadU(d, q + b * n);
      if (kHasS) s[b] = hn::MulAdd(ws, hn::Add(pv, qv), s[b]);
      if (kHasA) a[b] = hn::MulAdd(wa, hn::Sub(pv, qv), a[b]);
    }
  }
  // corr = S + A, conv = S - A.
  for (size_t b = 0; b < kBlock; ++b) {
    hn::StoreU(hn::Add(s[b], a[b]), d, out_s + x + b * n);
    hn::StoreU(hn::Sub(s[b], a[b]), d, out_a + x + b * n);
  }
}

template <bool kHasS, bool kHasA>
void PairRowT(const float* const* rows, const PairTable& pt, size_t width,
              float* out_s, float* out_a) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  size_t x = 0;
  for (; x + 4 * n <= end; x += 4 * n) {
    PairBlock<kHasS, kHasA, 4>(d, rows, pt, x, out_s, out_a);
  }
  for (; x < end; x += n) {
    PairBlock<kHasS, kHasA, 1>(d, rows, pt, x, out_s, out_a);
  }
}

void PairRow(const float* const* rows, const PairTable& pairs, size_t width,
             float* out_s, float* out_a) {
  if (pairs.has_s && pairs.has_a) {
    PairRowT<true, true>(rows, pairs, width, out_s, out_a);
  } else if (pairs.has_a) {
    PairRowT<false, true>(rows, pairs, width, out_s, out_a);
  } else {
    PairRowT<true, false>(rows, pairs, width, out_s, out_a);
  }
}

// The last n < lanes samples of a row go through the same vector code as
// the others, from and into zero-padded buffers, so that every sample gets
// the same arithmetic whichever part of the row it is in.
template <class D>
struct Tail {
  static constexpr size_t kMax = HWY_MAX_BYTES / sizeof(float);
  HWY_ALIGN float in[kMax] = {};
  HWY_ALIGN float out[kMax] = {};
};

template <typename T>
uint64_t EmitTyped(const float* acc, size_t n, const EmitParams& e, T* dst) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<uint32_t, decltype(df)> du;
  const hn::Rebind<T, decltype(df)> dt;
  const size_t lanes = hn::Lanes(df);
  const auto scale = hn::Set(df, e.scale);
  const auto bias = hn::Set(df, e.bias);
  const auto max = hn::Set(df, e.max);
  const auto two23 = hn::Set(df, 8388608.0f);
  // Samples in range, counted from each vector's mask.
  size_t inside_count = 0;
  // Locals, not e's fields: byte stores may alias anything, and the
  // compiler would reload the fields after every store.
  const bool affine = e.affine;
  const bool abs = e.abs;
  // One vector: the result lanes, with the in-range lanes among the first
  // `valid` counted.
  const auto convert = [&](const float* from, size_t valid) {
    auto v = hn::LoadU(df, from);
    if (affine) v = hn::MulAdd(v, scale, bias);
    if (abs) v = hn::Abs(v);
    hn::Mask<decltype(df)> inside;
    const auto clamped = RoundSaturate(df, v, max, inside);
    if (valid < lanes) inside = hn::And(inside, hn::FirstN(df, valid));
    inside_count += hn::CountTrue(df, inside);
    // An integer c in [0, 65535] plus 2^23 is the float whose bits are
    // 0x4B000000 + c: its low 16 bits are c, with no conversion (Highway's
    // ConvertTo adds an overflow fix-up that clamped values never need).
    return hn::BitCast(du, hn::Add(clamped, two23));
  };
  const auto store = [&](const auto bits, T* to) {
    hn::StoreU(hn::TruncateTo(dt, bits), dt, to);
  };
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) store(convert(acc + x, lanes), dst + x);
  if (x < n) {
    Tail<decltype(df)> tail;
    HWY_ALIGN T out[Tail<decltype(df)>::kMax] = {};
    std::memcpy(tail.in, acc + x, (n - x) * sizeof(float));
    store(convert(tail.in, n - x), out);
    std::memcpy(dst + x, out, (n - x) * sizeof(T));
  }
  return n - inside_count;
}

uint64_t EmitRow(const float* acc, size_t n, const EmitParams& e,
                 std::byte* dst) {
  if (e.type == kU8) {
    return EmitTyped(acc, n, e, reinterpret_cast<uint8_t*>(dst));
  }
  if (e.type == kU16) {
    return EmitTyped(acc, n, e, reinterpret_cast<uint16_t*>(dst));
  }
  float* out = reinterpret_cast<float*>(dst);
  if (!e.affine && !e.abs) {
    std::memcpy(out, acc, n * sizeof(float));
    return 0;
  }
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  const auto scale = hn::Set(df, e.scale);
  const auto bias = hn::Set(df, e.bias);
  const bool affine = e.affine;
  const bool abs = e.abs;
  const auto finish = [&](const float* from, float* to) {
    auto v = hn::LoadU(df, from);
    if (affine) v = hn::MulAdd(v, scale, bias);
    if (abs) v = hn::Abs(v);
    hn::StoreU(v, df, to);
  };
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) finish(acc + x, out + x);
  if (x < n) {
    Tail<decltype(df)> tail;
    std::memcpy(tail.in, acc + x, (n - x) * sizeof(float));
    finish(tail.in, tail.out);
    std::memcpy(out + x, tail.out, (n - x) * sizeof(float));
  }
  return 0;
}

template <typename T>
void Interleave3Typed(const T* s0, const T* s1, const T* s2, size_t n, T* dst) {
  const hn::ScalableTag<T> d;
  const size_t lanes = hn::Lanes(d);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    hn::StoreInterleaved3(hn::LoadU(d, s0 + x), hn::LoadU(d, s1 + x),
                          hn::LoadU(d, s2 + x), d, dst + 3 * x);
  }
  for (; x < n; ++x) {
    dst[3 * x] = s0[x];
    dst[3 * x + 1] = s1[x];
    dst[3 * x + 2] = s2[x];
  }
}

void Interleave3(const std::byte* s0, const std::byte* s1, const std::byte* s2,
                 int type, size_t n, std::byte* dst) {
  if (type == kU8) {
    Interleave3Typed(reinterpret_cast<const uint8_t*>(s0),
                     reinterpret_cast<const uint8_t*>(s1),
                     reinterpret_cast<const uint8_t*>(s2), n,
                     reinterpret_cast<uint8_t*>(dst));
  } else if (type == kU16) {
    Interleave3Typed(reinterpret_cast<const uint16_t*>(s0),
                     reinterpret_cast<const uint16_t*>(s1),
                     reinterpret_cast<const uint16_t*>(s2), n,
                     reinterpret_cast<uint16_t*>(dst));
  } else {
    Interleave3Typed(
        reinterpret_cast<const float*>(s0), reinterpret_cast<const float*>(s1),
        reinterpret_cast<const float*>(s2), n, reinterpret_cast<float*>(dst));
  }
}

void CopyRow(const std::byte* src, size_t bytes, std::byte* dst, bool stream) {
  const hn::ScalableTag<uint8_t> d;
  const size_t n = hn::Lanes(d);
  if (!stream || bytes < 4 * n) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const auto addr = reinterpret_cast<uintptr_t>(dst);
  const size_t head = (n - addr % n) % n;
  std::memcpy(dst, src, head);
  size_t i = head;
  for (; i + n <= bytes; i += n) {
    hn::Stream(hn::LoadU(d, reinterpret_cast<const uint8_t*>(src + i)), d,
               reinterpret_cast<uint8_t*>(dst + i));
  }
  std::memcpy(dst + i, src + i, bytes - i);
}

uint64_t QuantizeRow(float* v, size_t n, float max_value) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  const auto max = hn::Set(df, max_value);
  size_t inside_count = 0;
  // As in EmitTyped: round half to even and saturate (NaN to 0), counting
  // the first `valid` lanes in range.
  const auto quantize = [&](float* p, size_t valid) {
    hn::Mask<decltype(df)> inside;
    hn::StoreU(RoundSaturate(df, hn::LoadU(df, p), max, inside), df, p);
    if (valid < lanes) inside = hn::And(inside, hn::FirstN(df, valid));
    inside_count += hn::CountTrue(df, inside);
  };
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) quantize(v + x, lanes);
  if (x < n) {
    Tail<decltype(df)> tail;
    std::memcpy(tail.in, v + x, (n - x) * sizeof(float));
    quantize(tail.in, n - x);
    std::memcpy(v + x, tail.in, (n - x) * sizeof(float));
  }
  return n - inside_count;
}

bool RowFinite(const float* p, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  // v - v is 0 for finite v and NaN for NaN and infinity; NaN survives
  // the sum.
  auto acc = hn::Zero(d);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    const auto v = hn::LoadU(d, p + x);
    acc = hn::Add(acc, hn::Sub(v, v));
  }
  bool finite = hn::AllTrue(d, hn::Eq(acc, acc));
  for (; x < n; ++x) finite = finite && std::isfinite(p[x]);
  return finite;
}

template <typename T>
void AbsDiffTyped(const T* a, const T* b, size_t n, T* dst) {
  const hn::ScalableTag<T> d;
  const size_t lanes = hn::Lanes(d);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    const auto va = hn::LoadU(d, a + x);
    const auto vb = hn::LoadU(d, b + x);
    if constexpr (std::is_floating_point_v<T>) {
      hn::StoreU(hn::Abs(hn::Sub(va, vb)), d, dst + x);
    } else {
      hn::StoreU(hn::Sub(hn::Max(va, vb), hn::Min(va, vb)), d, dst + x);
    }
  }
  for (; x < n; ++x) dst[x] = a[x] > b[x] ? a[x] - b[x] : b[x] - a[x];
}

void AbsDiffRow(const std::byte* a, const std::byte* b, int type, size_t n,
                std::byte* dst) {
  if (type == kU8) {
    AbsDiffTyped(reinterpret_cast<const uint8_t*>(a),
                 reinterpret_cast<const uint8_t*>(b), n,
                 reinterpret_cast<uint8_t*>(dst));
  } else if (type == kU16) {
    AbsDiffTyped(reinterpret_cast<const uint16_t*>(a),
                 reinterpret_cast<const uint16_t*>(b), n,
                 reinterpret_cast<uint16_t*>(dst));
  } else {
    AbsDiffTyped(reinterpret_cast<const float*>(a),
                 reinterpret_cast<const float*>(b), n,
                 reinterpret_cast<float*>(dst));
  }
}

// The target this copy was compiled for, to name the dispatched one.
int64_t CompiledTarget() { return HWY_TARGET; }

}  // namespace convcorr::core::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convcorr::core {
namespace detail {

HWY_EXPORT(ConvertRow);
HWY_EXPORT(TapRows4);
HWY_EXPORT(PairRow);
HWY_EXPORT(Deinterleave3);
HWY_EXPORT(TapRow);
HWY_EXPORT(SymRow);
HWY_EXPORT(SymColumn);
HWY_EXPORT(SymColumnU8);
HWY_EXPORT(EmitRow);
HWY_EXPORT(Interleave3);
HWY_EXPORT(CopyRow);
HWY_EXPORT(AbsDiffRow);
HWY_EXPORT(QuantizeRow);
HWY_EXPORT(RowFinite);
HWY_EXPORT(CompiledTarget);

void PairRow(const float* const* rows, const PairTable& pairs, size_t width,
             float* out_s, float* out_a) {
  HWY_DYNAMIC_DISPATCH(PairRow)(rows, pairs, width, out_s, out_a);
}
void TapRows4(const float* const* rows, const RowTap4* taps, size_t nruns,
              size_t width, float* const* out, bool stream,
              const Prefetch& prefetch) {
  HWY_DYNAMIC_DISPATCH(TapRows4)
  (rows, taps, nruns, width, out, stream, prefetch);
}
void ConvertRow(const std::byte* src, int type, size_t n, float* dst) {
  HWY_DYNAMIC_DISPATCH(ConvertRow)(src, type, n, dst);
}
void Deinterleave3(const std::byte* src, int type, size_t n, float* d0,
                   float* d1, float* d2, std::byte* scratch) {
  HWY_DYNAMIC_DISPATCH(Deinterleave3)(src, type, n, d0, d1, d2, scratch);
}
void TapRow(const float* const* rows, const TapGroup* groups, size_t ngroups,
            size_t width, float* out, bool stream, const Prefetch& prefetch) {
  HWY_DYNAMIC_DISPATCH(TapRow)
  (rows, groups, ngroups, width, out, stream, prefetch);
}
void SymRow(const float* row, const float* w, int m, size_t step, size_t width,
            float* out, bool stream, const Prefetch& prefetch) {
  HWY_DYNAMIC_DISPATCH(SymRow)(row, w, m, step, width, out, stream, prefetch);
}
void SymColumn(const float* const* rows, const float* w, int m, int block,
               size_t width, float* const* out, bool stream) {
  HWY_DYNAMIC_DISPATCH(SymColumn)(rows, w, m, block, width, out, stream);
}
uint64_t SymColumnU8(const float* const* rows, const float* w, int m, int block,
                     size_t width, bool abs, uint8_t* const* out) {
  return HWY_DYNAMIC_DISPATCH(SymColumnU8)(rows, w, m, block, width, abs, out);
}
uint64_t EmitRow(const float* acc, size_t n, const EmitParams& e,
                 std::byte* dst) {
  return HWY_DYNAMIC_DISPATCH(EmitRow)(acc, n, e, dst);
}
void Interleave3(const std::byte* s0, const std::byte* s1, const std::byte* s2,
                 int type, size_t n, std::byte* dst) {
  HWY_DYNAMIC_DISPATCH(Interleave3)(s0, s1, s2, type, n, dst);
}

void CopyRow(const std::byte* src, size_t bytes, std::byte* dst, bool stream) {
  HWY_DYNAMIC_DISPATCH(CopyRow)(src, bytes, dst, stream);
}
void AbsDiffRow(const std::byte* a, const std::byte* b, int type, size_t n,
                std::byte* dst) {
  HWY_DYNAMIC_DISPATCH(AbsDiffRow)(a, b, type, n, dst);
}
uint64_t QuantizeRow(float* v, size_t n, float max) {
  return HWY_DYNAMIC_DISPATCH(QuantizeRow)(v, n, max);
}
bool RowFinite(const float* p, size_t n) {
  return HWY_DYNAMIC_DISPATCH(RowFinite)(p, n);
}

}  // namespace detail

const char* SimdTargetName() {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(detail::CompiledTarget)());
}

}  // namespace convcorr::core
#endif  // HWY_ONCE

// The engine's row kernels: defined for every SIMD target in
// correlate_simd.cc and called through Highway's dynamic dispatch.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convcorr::core::detail {

// Float rows carry this many extra samples past their end so that the row
// kernels can finish a row with whole vectors (no scalar tail): any SIMD
// width is at most 16 floats.
inline constexpr size_t kSlack = 16;

// Rows that a row kernel asks the cache for while it computes: the rows
// the next call will read, at the columns this one writes, a cache line
// of each for every line it stores. Spread out that way the requests
// overlap the arithmetic; a separate pass over a whole row before it
// (PrefetchPadded) only moves the wait.
struct Prefetch {
  static constexpr int kMaxRows = 4;
  const float* rows[kMaxRows] = {};
  int count = 0;
};

// The taps of one kernel row: out(x) += weights[t] * rows[row][x + offsets[t]].
struct TapGroup {
  int row = 0;
  int count = 0;
  const int* offsets = nullptr;
  const float* weights = nullptr;
};

// The store: result = affine ? scale * sum + bias : sum; |result| if abs;
// integer types round half to even and saturate to [0, max] (NaN -> 0).
struct EmitParams {
  bool affine = false;
  float scale = 1.0f;
  float bias = 0.0f;
  bool abs = false;
  int type = 0;  // static_cast<int>(Depth)
  float max = 0.0f;
};

// A run of TapRows4's vector loads from one input row, all serving the
// same output rows: for k < count, rows[row][x + offsets[k]] times
// weights[4 k + q] into output row q, for each q whose bit is set in
// `outputs`.
struct RowTap4 {
  int row = 0;
  unsigned outputs = 0;
  int count = 0;
  const int* offsets = nullptr;
  const float* weights = nullptr;  // four a load
};

// Four output rows at once from the rows a block of them reads (kh + 3 for
// a kernel of kh rows), each loaded vector serving every output row that
// multiplies it, so there are far fewer loads per multiply-add than in
// TapRow. Output row q sums its taps in the order of the runs `taps`;
// listed by input row and then offset, that is the order TapRow sums the
// same taps of groups in kernel rows (BuildRowTaps4). Rows must be readable as
// for TapRow; out[0..3] up to RoundUp(width). With `stream`, the stores are
// non-temporal and every out row must be aligned to 64 bytes
// (Streamable). `prefetch`: see Prefetch.
void TapRows4(const float* const* rows, const RowTap4* taps, size_t nruns,
              size_t width, float* const* out, bool stream = false,
              const Prefetch& prefetch = {});

// Mirror pairs of taps: s[t] (rows[r1[t]][x + o1[t]] + rows[r2[t]][x + o2[t]])
// summed into S and a[t] (rows[r1[t]][...] - rows[r2[t]][...]) into A.
struct PairTable {
  size_t count = 0;
  const int* r1 = nullptr;
  const int* o1 = nullptr;
  const int* r2 = nullptr;
  const int* o2 = nullptr;
  const float* s = nullptr;
  const float* a = nullptr;
  bool has_s = true;
  bool has_a = true;
};

// S*I and A*I for x in [0, RoundUp(width, lanes)) into out_s and out_a,
// then corr = S + A into out_s and conv = S - A into out_a.
void PairRow(const float* const* rows, const PairTable& pairs, size_t width,
             float* out_s, float* out_a);

// n contiguous samples of `type` at src, as float.
void ConvertRow(const std::byte* src, int type, size_t n, float* dst);
// n pixels of 3 interleaved samples of `type`, split into three float rows;
// scratch holds 3 * n samples of `type`.
void Deinterleave3(const std::byte* src, int type, size_t n, float* d0,
                   float* d1, float* d2, std::byte* scratch);
// out(x) for x in [0, RoundUp(width, lanes)): sum over the groups' taps.
// Every row must be readable up to RoundUp(width, lanes) + its largest
// offset, and out up to RoundUp(width, lanes). `stream` and `prefetch` as
// for TapRows4.
void TapRow(const float* const* rows, const TapGroup* groups, size_t ngroups,
            size_t width, float* out, bool stream = false,
            const Prefetch& prefetch = {});
// A symmetric kernel of 2m + 1 taps `step` floats apart (w[0] its centre,
// w[j] the pair j taps either side) across the row that starts at `row`:
// out(x) = w[0] c(x) + sum_{j=1..m} w[j] (c(x - j step) + c(x + j step)),
// with c(x) = row[x + m step], summed in that order, for x in
// [0, RoundUp(width, lanes)). Rows readable as for TapRow (largest offset
// 2m step); `stream` and `prefetch` as for TapRows4.
void SymRow(const float* row, const float* w, int m, size_t step, size_t width,
            float* out, bool stream = false, const Prefetch& prefetch = {});
// The same kernel down the rows: output row q < block (1 or 4) from
// rows[q .. q + 2m], centred on rows[q + m], in the same order as SymRow.
void SymColumn(const float* const* rows, const float* w, int m, int block,
               size_t width, float* const* out, bool stream = false);
// SymColumn's sums stored as 8-bit samples, as EmitRow stores them (|sum|
// if abs, rounded half to even, saturated to [0, 255]): exactly `width`
// samples to each out row. Returns how many saturated.
uint64_t SymColumnU8(const float* const* rows, const float* w, int m, int block,
                     size_t width, bool abs, uint8_t* const* out);
// Whether a row kernel may write to p with non-temporal stores: aligned to
// 64 bytes, the widest vector of any target.
inline bool Streamable(const float* p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}
// n sums at acc written as `e.type` to the contiguous dst; returns how many
// saturated.
uint64_t EmitRow(const float* acc, size_t n, const EmitParams& e,
                 std::byte* dst);
// bytes from src to dst; with `stream`, the aligned middle goes through
// non-temporal stores (no read-for-ownership of the destination, which is
// not read again soon). Call hwy::FlushStream() before other threads read.
void CopyRow(const std::byte* src, size_t bytes, std::byte* dst, bool stream);
// dst = |a - b| for n contiguous samples of `type`.
void AbsDiffRow(const std::byte* a, const std::byte* b, int type, size_t n,
                std::byte* dst);
// Rounds n floats in place half to even and saturates them to [0, max]
// (NaN to 0), as core::Quantize specifies; returns how many were clamped.
uint64_t QuantizeRow(float* v, size_t n, float max);
// True if none of the n floats at p is NaN or infinite.
bool RowFinite(const float* p, size_t n);
// Three contiguous rows of n samples of `type` interleaved into dst.
void Interleave3(const std::byte* s0, const std::byte* s1, const std::byte* s2,
                 int type, size_t n, std::byte* dst);

}  // namespace convcorr::core::detail

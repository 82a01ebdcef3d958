#include "core/stream.h"

#include <hwy/cache_control.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace convcorr::core::detail {

Job MakeJob(const ConstImageView& in, const ImageView& out,
            const kernel::Kernel& k, const EngineOptions& options,
            OutputSize size, Extent extent) {
  Job job{&in,
          &out,
          &k,
          options.border,
          OutputOrigin(k, size),
          extent,
          extent.width + k.cols() - 1,
          EmitParams{}};
  job.emit.affine = options.scale != 1.0f || options.bias != 0.0f;
  job.emit.scale = options.scale;
  job.emit.bias = options.bias;
  job.emit.abs = options.abs;
  job.emit.type = static_cast<int>(out.type);
  job.emit.max = static_cast<float>(DepthMax(out.type));
  job.ring_bytes = options.ring_bytes;
  return job;
}

namespace {

constexpr size_t kStreamBytes = size_t{32} << 20;

}  // namespace

RowUnits UnitsOf(const EngineOptions& options, int height, int quantum) {
  const int end =
      options.row_end < 0 ? height : std::min(options.row_end, height);
  const int begin = std::clamp(options.row_begin, 0, end);
  if (begin % quantum != 0 || (end % quantum != 0 && end != height)) {
    throw std::logic_error("engine rows not on the strategy's row quantum");
  }
  return {begin / quantum, (end + quantum - 1) / quantum};
}

bool ShouldStream(const ImageView& out) {
  // A ring is read back soon (it is a band on its way to an encoder).
  if (out.ring_rows > 0) return false;
  return static_cast<size_t>(out.width) * out.height * out.channels *
             SampleBytes(out.type) >=
         kStreamBytes;
}

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
  const std::ptrdiff_t row_off = RowOffset(in, iy);
  // Columns inside the image: one contiguous run.
  const int lo = std::clamp(-job.origin.x, px0, px1);
  const int hi = std::clamp(in.width - job.origin.x, lo, px1);
  if (job.packed) {
    const int lanes = job.lanes;
    if (hi > lo) {
      ConvertRow(in.base[0] + row_off +
                     static_cast<std::ptrdiff_t>(lo + job.origin.x) * lanes *
                         static_cast<std::ptrdiff_t>(sample),
                 static_cast<int>(in.type),
                 static_cast<size_t>(hi - lo) * lanes,
                 dst[0] + static_cast<size_t>(lo - px0) * lanes);
    }
    const auto edge = [&](int px) {
      const int ix = BorderIndex(px + job.origin.x, in.width, job.border.mode);
      float* d = dst[0] + static_cast<size_t>(px - px0) * lanes;
      for (int c = 0; c < lanes; ++c) {
        d[c] = ix < 0 ? job.border.value
                      : SampleAt(
                            in.base[0] + row_off +
                                (static_cast<std::ptrdiff_t>(ix) * lanes + c) *
                                    static_cast<std::ptrdiff_t>(sample),
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
    if (in.channels == 3 && IsPacked(in)) {
      s.bytes.resize(3 * count * sample);
      Deinterleave3(in.base[0] + row_off + col_off, static_cast<int>(in.type),
                    count, dst[0] + (lo - px0), dst[1] + (lo - px0),
                    dst[2] + (lo - px0), s.bytes.data());
    } else {
      for (int c = 0; c < in.channels; ++c) {
        const std::byte* src = in.base[c] + row_off + col_off;
        float* d = dst[c] + (lo - px0);
        if (in.step == 1) {
          ConvertRow(src, static_cast<int>(in.type), count, d);
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

InPlaceSpan InPlaceColumns(const Job& job) {
  const ConstImageView& in = *job.in;
  if (in.type != Depth::kF32 || !(job.packed || in.step == 1)) return {};
  const int planes = job.packed ? 1 : in.channels;
  for (int c = 0; c < planes; ++c) {
    if (reinterpret_cast<uintptr_t>(in.base[c]) % alignof(float) != 0) {
      return {};
    }
  }
  if (in.row_bytes % static_cast<std::ptrdiff_t>(sizeof(float)) != 0) {
    return {};
  }
  // Output column x reads input columns [x + origin.x, x + origin.x + kw -
  // 1]; a strip ending at `end` reads up to kSlack - 1 samples past its
  // last padded column.
  const int kw = job.k->cols();
  const int slack_px = (static_cast<int>(kSlack) + job.lanes - 1) / job.lanes;
  const int begin = std::clamp(-job.origin.x, 0, job.extent.width);
  const int end = std::clamp(in.width - job.origin.x - (kw - 1) - slack_px,
                             begin, job.extent.width);
  return {begin, end};
}

const float* InPlaceRow(const Job& job, int py, int c, int px0,
                        const float* constant) {
  const ConstImageView& in = *job.in;
  const int iy = BorderIndex(py + job.origin.y, in.height, job.border.mode);
  if (iy < 0) return constant;
  return reinterpret_cast<const float*>(in.base[c] + RowOffset(in, iy)) +
         static_cast<std::ptrdiff_t>(px0 + job.origin.x) * job.lanes;
}

void PrefetchPadded(const Job& job, int py, int px0, int px1) {
  const ConstImageView& in = *job.in;
  const int iy = BorderIndex(py + job.origin.y, in.height, job.border.mode);
  if (iy < 0) return;
  const int lo = std::clamp(px0 + job.origin.x, 0, in.width);
  const int hi = std::clamp(px1 + job.origin.x, lo, in.width);
  if (hi <= lo) return;
  const size_t sample = SampleBytes(in.type);
  const size_t step = static_cast<size_t>(in.step) * sample;
  for (int c = 0; c < (IsPacked(in) ? 1 : in.channels); ++c) {
    const std::byte* row = in.base[c] + RowOffset(in, iy);
    const size_t end = (static_cast<size_t>(hi) - 1) * step +
                       (IsPacked(in) ? in.channels * sample : sample);
    for (size_t b = static_cast<size_t>(lo) * step; b < end; b += 64) {
      hwy::Prefetch(row + b);
    }
  }
}

namespace {

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

}  // namespace

Rows::Rows(int channels, int rows_, int width)
    : stride((static_cast<size_t>(width) + kAlignFloats - 1) / kAlignFloats *
                 kAlignFloats +
             kSlack),
      rows(rows_),
      data(BufferPool::Take(stride * rows_ * channels + kAlignFloats)) {
  // The first row starts on a 64-byte boundary, and so does every other
  // (the stride is a multiple of 16 floats): the row kernels' vectors from
  // a multiple of 16 floats into a row never straddle two cache lines.
  const auto at = reinterpret_cast<uintptr_t>(data.data());
  base = data.data() + (64 - at % 64) % 64 / sizeof(float);
}

Rows::~Rows() { BufferPool::Give(std::move(data)); }

namespace {

// The default ring budget: 512 KiB, a core's own L2 on current x86.
constexpr size_t kRingBytes = size_t{512} << 10;

}  // namespace

int StripWidth(const Job& job, size_t floats_per_column) {
  const size_t budget = job.ring_bytes > 0 ? job.ring_bytes : kRingBytes;
  const size_t fit = budget / (floats_per_column * sizeof(float));
  const size_t strip = std::max<size_t>(64, fit / 16 * 16);
  return static_cast<int>(
      std::min<size_t>(strip, static_cast<size_t>(job.extent.width)));
}

}  // namespace convcorr::core::detail

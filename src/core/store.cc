#include "core/store.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace convcorr::core::detail {

namespace {

// Zeros over output row y, columns [x0, x0 + n), of every channel of v.
void ZeroRow(const ImageView& v, int y, int x0, int n) {
  const size_t sample = SampleBytes(v.type);
  const auto at = [&](int c) {
    return v.base[c] + RowOffset(v, y) +
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
// to the job's output only.
uint64_t EmitOne(const Job& job, int y, int x0, int n, const float* const* acc,
                 Scratch& s) {
  const ImageView& out = *job.out;
  const size_t sample = SampleBytes(out.type);
  const std::ptrdiff_t off =
      RowOffset(out, y) + static_cast<std::ptrdiff_t>(x0) * out.step *
                              static_cast<std::ptrdiff_t>(sample);
  const size_t count = static_cast<size_t>(n);
  uint64_t saturated = 0;
  if (job.packed) {
    const size_t samples = count * job.lanes;
    if (!job.stream) {
      return EmitRow(acc[0], samples, job.emit, out.base[0] + off);
    }
    // Through a row in L1, then non-temporal stores to memory.
    s.row.resize(samples * sample);
    const uint64_t saturated = EmitRow(acc[0], samples, job.emit, s.row.data());
    CopyRow(s.row.data(), samples * sample, out.base[0] + off, true);
    return saturated;
  }
  if (out.step == 1) {
    for (int c = 0; c < out.channels; ++c) {
      saturated += EmitRow(acc[c], count, job.emit, out.base[c] + off);
    }
    return saturated;
  }
  s.typed.resize(out.channels);
  for (int c = 0; c < out.channels; ++c) {
    s.typed[c].resize(count * sample);
    saturated += EmitRow(acc[c], count, job.emit, s.typed[c].data());
  }
  if (out.channels == 3 && IsPacked(out)) {
    Interleave3(s.typed[0].data(), s.typed[1].data(), s.typed[2].data(),
                static_cast<int>(out.type), count, out.base[0] + off);
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

}  // namespace

uint64_t Emit(const Job& job, int y, int x0, int n, const float* const* acc,
              Scratch& s) {
  const uint64_t saturated = EmitOne(job, y, x0, n, acc, s);
  if (job.copy != nullptr && job.packed && IsPacked(*job.copy) &&
      job.copy->type == job.out->type && !job.stream) {
    // The row just stored is still in the cache: copy its samples.
    const size_t sample = SampleBytes(job.out->type);
    const std::ptrdiff_t col = static_cast<std::ptrdiff_t>(x0) * job.lanes *
                               static_cast<std::ptrdiff_t>(sample);
    CopyRow(job.out->base[0] + RowOffset(*job.out, y) + col,
            static_cast<size_t>(n) * job.lanes * sample,
            job.copy->base[0] + RowOffset(*job.copy, y) + col, false);
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

bool StoresU8Directly(const Job& job) {
  return job.out->type == Depth::kU8 && !job.emit.affine &&
         job.copy == nullptr && job.zeros == nullptr;
}

bool SumsAreOutput(const Job& job) {
  const ImageView& out = *job.out;
  if (out.type != Depth::kF32 || out.channels != job.in->channels ||
      job.emit.affine || job.emit.abs || job.copy != nullptr ||
      job.zeros != nullptr || !(job.packed || out.step == 1) ||
      out.row_bytes % static_cast<std::ptrdiff_t>(sizeof(float)) != 0) {
    return false;
  }
  const int planes = job.packed ? 1 : out.channels;
  for (int c = 0; c < planes; ++c) {
    if (reinterpret_cast<uintptr_t>(out.base[c]) % alignof(float) != 0) {
      return false;
    }
  }
  return true;
}

float* OutputRow(const Job& job, int y, int c, int x0) {
  const ImageView& out = *job.out;
  return reinterpret_cast<float*>(out.base[c] + RowOffset(out, y)) +
         static_cast<std::ptrdiff_t>(x0) * out.step;
}

int StreamableColumn(const Job& job, int y, int x0, int limit) {
  // Sixteen columns step at least 64 bytes of floats, so one of them is
  // aligned when any is.
  for (int x = x0; x < std::min(limit, x0 + 16); ++x) {
    if (Streamable(OutputRow(job, y, 0, x))) return x;
  }
  return x0;
}

void DiffRows(const ImageView& corr, const ImageView& conv,
              const ImageView& diff, int y, int x0, int n) {
  const size_t sample = SampleBytes(diff.type);
  const auto at = [&](const ImageView& v, int c) {
    return v.base[c] + RowOffset(v, y) +
           static_cast<std::ptrdiff_t>(x0) * v.step *
               static_cast<std::ptrdiff_t>(sample);
  };
  if (IsPacked(diff) && IsPacked(corr) && IsPacked(conv)) {
    AbsDiffRow(at(conv, 0), at(corr, 0), static_cast<int>(diff.type),
               static_cast<size_t>(n) * diff.channels, at(diff, 0));
    return;
  }
  for (int c = 0; c < diff.channels; ++c) {
    if (diff.step == 1 && corr.step == 1 && conv.step == 1) {
      AbsDiffRow(at(conv, c), at(corr, c), static_cast<int>(diff.type),
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
      AbsDiffRow(a, b, static_cast<int>(diff.type), 1, at(diff, c) + o);
    }
  }
}

}  // namespace convcorr::core::detail

// The streaming run: a reader thread fills the input ring from the
// RowSource, the calling thread runs the engine band by band (each band on
// the engine's threads), and a writer thread drains the output ring into
// the RowSink; the three overlap, and nothing holds the whole image.
#include "core/pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/filter.h"
#include "core/threads.h"

namespace convcorr::core {

BandPlan PlanBands(const kernel::Kernel& k, const Border& border,
                   OutputSize size, int width, int height, int quantum,
                   int threads, int band_rows) {
  BandPlan plan;
  const Extent e = OutputExtent(width, height, k, size);
  const Origin o = OutputOrigin(k, size);
  const int kh = k.rows();
  quantum = std::max(quantum, 1);
  int rows = band_rows > 0 ? band_rows : std::max(256, 8 * kh);
  rows = std::max(rows, quantum * std::max(threads, 1));
  rows = (rows + quantum - 1) / quantum * quantum;
  plan.band_rows = rows;
  // Each band's input rows, after the border's mapping.
  int need = 0;
  for (int y0 = 0; y0 < e.height; y0 += rows) {
    BandPlan::Band b;
    b.y0 = y0;
    b.y1 = std::min(y0 + rows, e.height);
    int lo = std::numeric_limits<int>::max();
    int hi = -1;
    for (int py = b.y0; py < b.y1 + kh - 1; ++py) {
      const int iy = BorderIndex(py + o.y, height, border.mode);
      if (iy < 0) continue;  // the constant border reads no row
      lo = std::min(lo, iy);
      hi = std::max(hi, iy);
    }
    need = std::max(need, hi + 1);
    b.need = need;
    b.keep = lo;
    plan.bands.push_back(b);
  }
  // keep: the lowest row this band or a later one reads.
  int keep = height;
  for (auto it = plan.bands.rbegin(); it != plan.bands.rend(); ++it) {
    keep = std::min(keep, it->keep);
    it->keep = keep;
  }
  int window = 0;
  for (const BandPlan::Band& b : plan.bands) {
    window = std::max(window, b.need - std::min(b.keep, b.need));
  }
  // One band more is read while a band is computed.
  plan.input_ring = std::min(height, window + rows);
  plan.output_ring = std::min(e.height, 2 * rows);
  return plan;
}

namespace {

// The state the three stages share, under one mutex.
class Stages {
 public:
  // Waits until ready() or a stage failed; false if one failed.
  template <typename Ready>
  bool Wait(Ready ready) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return failure_ != nullptr || ready(); });
    return failure_ == nullptr;
  }
  template <typename Change>
  void Update(Change change) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      change();
    }
    cv_.notify_all();
  }
  template <typename Read>
  int Get(Read read) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return read();
  }
  void Fail(std::exception_ptr e) {
    Update([&] {
      if (failure_ == nullptr) failure_ = e;
    });
  }
  std::exception_ptr failure() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }

  int decoded = 0;   // input rows read
  int keep = 0;      // input rows below this are no longer read
  int computed = 0;  // output rows computed
  int written = 0;   // output rows handed to the sink

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::exception_ptr failure_;
};

// Rows [r, r + n) of a ring of `cap` rows, cut where the ring wraps.
template <typename Body>
void InRing(int r, int n, int cap, Body body) {
  while (n > 0) {
    const int run = std::min(n, cap - r % cap);
    body(r % cap, r, run);
    r += run;
    n -= run;
  }
}

}  // namespace

uint64_t PreparedFilter::Stream(const StreamShape& shape, RowSource& source,
                                RowSink& sink, int band_rows) const {
  if (!StreamsSamples(shape.channels, shape.in_type)) {
    throw std::logic_error("PreparedFilter::Stream: not a streaming run");
  }
  const kernel::Kernel& k = applied_;
  const int threads = ResolveThreads(params_.threads);
  const BandPlan plan =
      PlanBands(k, params_.border, params_.size, shape.width, shape.height,
                correlator_->RowQuantum(), threads, band_rows);
  const Extent e = OutputExtent(shape.width, shape.height, k, params_.size);
  const size_t in_sample = SampleBytes(shape.in_type);
  const size_t out_sample = SampleBytes(shape.out_type);
  const auto in_row = static_cast<std::ptrdiff_t>(
      static_cast<size_t>(shape.width) * shape.channels * in_sample);
  const auto out_row = static_cast<std::ptrdiff_t>(
      static_cast<size_t>(e.width) * shape.channels * out_sample);
  const int in_cap = std::max(plan.input_ring, 1);
  const int out_cap = std::max(plan.output_ring, 1);
  std::vector<std::byte> in_buf(static_cast<size_t>(in_row) * in_cap);
  std::vector<std::byte> out_buf(static_cast<size_t>(out_row) * out_cap);

  ConstImageView in;
  in.channels = shape.channels;
  in.width = shape.width;
  in.height = shape.height;
  in.type = shape.in_type;
  in.row_bytes = in_row;
  in.step = shape.channels;
  in.ring_rows = in_cap;
  ImageView out;
  out.channels = shape.channels;
  out.width = e.width;
  out.height = e.height;
  out.type = shape.out_type;
  out.row_bytes = out_row;
  out.step = shape.channels;
  out.ring_rows = out_cap;
  for (int c = 0; c < shape.channels; ++c) {
    in.base[c] = in_buf.data() + c * in_sample;
    out.base[c] = out_buf.data() + c * out_sample;
  }

  Stages st;
  // Reads ahead as far as the ring allows, in small runs so that the
  // engine starts early.
  std::thread reader([&] {
    try {
      constexpr int kRun = 32;
      for (int r = 0; r < shape.height;) {
        // Rows up to keep + in_cap - 1 overwrite only rows no band reads
        // any more (keep only grows).
        if (!st.Wait([&] { return st.keep + in_cap - r > 0; })) return;
        const int room = st.Get([&] { return st.keep + in_cap - r; });
        const int n = std::min({kRun, shape.height - r, room});
        InRing(r, n, in_cap, [&](int slot, int, int run) {
          source.Read(in_buf.data() + static_cast<size_t>(slot) * in_row,
                      in_row, run);
        });
        r += n;
        st.Update([&] { st.decoded = r; });
      }
      source.Finish();
    } catch (...) {
      st.Fail(std::current_exception());
    }
  });
  std::thread writer([&] {
    try {
      for (int w = 0; w < e.height;) {
        if (!st.Wait([&] { return st.computed > w; })) return;
        const int ready = st.Get([&] { return st.computed; });
        InRing(w, ready - w, out_cap, [&](int slot, int, int run) {
          sink.Write(out_buf.data() + static_cast<size_t>(slot) * out_row,
                     out_row, run);
        });
        w = ready;
        st.Update([&] { st.written = w; });
      }
      sink.Finish();
    } catch (...) {
      st.Fail(std::current_exception());
    }
  });

  uint64_t saturated = 0;
  try {
    EngineOptions options = engine_options();
    for (const BandPlan::Band& b : plan.bands) {
      st.Update([&] { st.keep = std::max(st.keep, b.keep); });
      if (!st.Wait([&] {
            return st.decoded >= b.need && b.y1 - st.written <= out_cap;
          })) {
        break;
      }
      options.row_begin = b.y0;
      options.row_end = b.y1;
      saturated += correlator_->Run(in, out, options);
      st.Update([&] { st.computed = b.y1; });
    }
    // Rows no band reads (if any) are read to the end of the file.
    st.Update([&] { st.keep = shape.height; });
  } catch (...) {
    st.Fail(std::current_exception());
  }
  reader.join();
  writer.join();
  if (const std::exception_ptr failure = st.failure()) {
    std::rethrow_exception(failure);
  }
  return saturated;
}

}  // namespace convcorr::core

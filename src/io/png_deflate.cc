// The image data of a large PNG, deflated in bands on the encoder's own
// threads: see png_deflate.h.
#include "io/png_deflate.h"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

#include "common/error.h"
#include "core/threads.h"

namespace convcorr::io::png {

namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;
// zlib's avail_in and avail_out are 32 bits: a band (at least one row) is
// fed and drained in pieces of at most this.
constexpr size_t kZlibPiece = size_t{1} << 30;
// Deflate with a 32 KiB window; FLEVEL 0 (zlib writes it for level 1 and
// for Z_RLE) and the check bits: the header libpng's stream starts with.
constexpr uint8_t kZlibHeader[2] = {0x78, 0x01};

// ISA-L's functions return with the upper halves of the AVX registers in
// use, and nothing clears them: until something does, SSE code on the same
// thread (zlib's) runs slower (docs/performance.md, "PNG deflate"). This
// clears them after each call.
void ClearUpperAvx() {
#if defined(__x86_64__)
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx) asm volatile("vzeroupper" ::: "memory");
#endif
}

// One row in PNG's order (R,G,B(,A), 16-bit samples big-endian) from the
// caller's (B,G,R(,A), native order).
template <int kChannels, int kBytes>
void ToPngOrder(const uint8_t* in, size_t width, uint8_t* out) {
  constexpr int kPixel = kChannels * kBytes;
  for (size_t p = 0; p < width; ++p) {
    const uint8_t* s = in + p * kPixel;
    uint8_t* d = out + p * kPixel;
    for (int k = 0; k < kChannels; ++k) {
      const int from = kChannels >= 3 && k < 3 ? 2 - k : k;
      if constexpr (kBytes == 1) {
        d[k] = s[from];
      } else {
        const uint8_t lo = s[2 * from + (kLittleEndian ? 0 : 1)];
        const uint8_t hi = s[2 * from + (kLittleEndian ? 1 : 0)];
        d[2 * k] = hi;
        d[2 * k + 1] = lo;
      }
    }
  }
}

using ToPngOrderFn = void (*)(const uint8_t*, size_t, uint8_t*);

template <int kBytes>
ToPngOrderFn OrderFor(int channels) {
  switch (channels) {
    case 1:
      return ToPngOrder<1, kBytes>;
    case 2:
      return ToPngOrder<2, kBytes>;
    case 3:
      return ToPngOrder<3, kBytes>;
    default:
      return ToPngOrder<4, kBytes>;
  }
}

// Rows that libpng would write as the caller gives them (gray and
// gray+alpha at 8 bits): no reordering.
bool InPngOrder(const PixelFormat& f) {
  return f.channels <= 2 && (f.depth == core::Depth::kU8 || !kLittleEndian);
}

// The SUB filter (png_setup_sub_row_only in libpng's pngwutil.c): filter
// type 1, then each byte minus the byte one pixel (`bpp` bytes) before it.
void SubFilter(const uint8_t* row, size_t n, size_t bpp, uint8_t* out) {
  out[0] = 1;
  const size_t head = std::min(bpp, n);
  for (size_t i = 0; i < head; ++i) out[1 + i] = row[i];
  for (size_t i = bpp; i < n; ++i) {
    out[1 + i] = static_cast<uint8_t>(row[i] - row[i - bpp]);
  }
}

}  // namespace

int RowsPerBand(size_t row_bytes) {
  const size_t rows = kBandBytes / (row_bytes + 1);
  return static_cast<int>(std::clamp<size_t>(rows, 1, 1 << 20));
}

// One band of rows: as the caller gave them, then (on a worker) filtered
// and deflated. Reused once emitted, so the buffers keep their size.
struct BandedIdat::Band {
  int rows = 0;
  bool first = false;             // starts the zlib stream
  bool last = false;              // ends it
  std::vector<uint8_t> raw;       // rows * row_bytes, the caller's layout
  std::vector<uint8_t> filtered;  // rows * (row_bytes + 1), deflate's input
  std::vector<uint8_t> out;       // the deflated bytes (out_size of them)
  size_t in_size = 0;             // filtered bytes
  size_t out_size = 0;
  uint32_t adler = 1;  // of the filtered bytes
  bool done = false;   // set under the mutex
  std::string zlib_error;
  std::exception_ptr exception;
};

// A raw deflate stream with libpng's settings for convcorr, reset per
// band; or ISA-L's (RunIsal).
struct BandedIdat::Deflater {
  z_stream stream{};
  bool ready = false;
  std::vector<uint8_t> row;         // one row in PNG's order
  std::vector<uint8_t> isal_level;  // ISA-L's level 1 buffer

  Deflater() = default;
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (ready) deflateEnd(&stream);
  }

  // Empty string if ready, else zlib's reason.
  std::string Start() {
    if (ready) {
      const int r = deflateReset(&stream);
      return r == Z_OK ? std::string() : Reason(r);
    }
    stream = z_stream{};
    const int r =
        deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_RLE);
    if (r != Z_OK) return Reason(r);
    ready = true;
    return {};
  }

  std::string Reason(int code) const {
    if (stream.msg != nullptr) return stream.msg;
    const char* text = zError(code);
    return text != nullptr ? text : "error " + std::to_string(code);
  }

  // Deflates band.filtered into band.out after `at` bytes already there;
  // empty string or zlib's reason.
  std::string Run(Band& band, size_t at) {
    if (std::string why = Start(); !why.empty()) return why;
    const size_t bound = deflateBound(&stream, band.in_size) + 64;
    if (band.out.size() < at + bound + 4) band.out.resize(at + bound + 4);
    const uint8_t* in = band.filtered.data();
    size_t left = band.in_size;
    const int end = band.last ? Z_FINISH : Z_SYNC_FLUSH;
    for (;;) {
      const size_t piece = std::min(left, kZlibPiece);
      stream.next_in = const_cast<Bytef*>(in);
      stream.avail_in = static_cast<uInt>(piece);
      const int flush = piece == left ? end : Z_NO_FLUSH;
      int r = Z_OK;
      do {
        if (band.out.size() - at < 64) band.out.resize(band.out.size() * 2);
        const size_t room = std::min(band.out.size() - at, kZlibPiece);
        stream.next_out = band.out.data() + at;
        stream.avail_out = static_cast<uInt>(room);
        r = deflate(&stream, flush);
        // Z_BUF_ERROR: no progress was possible, only with no room left.
        if (r != Z_OK && r != Z_STREAM_END &&
            (r != Z_BUF_ERROR || stream.avail_out != 0)) {
          return Reason(r);
        }
        at += room - stream.avail_out;
      } while (stream.avail_out == 0 ||
               (flush == Z_FINISH && r != Z_STREAM_END));
      if (stream.avail_in != 0) return "input left over";
      in += piece;
      left -= piece;
      if (left == 0) break;
    }
    band.out_size = at;
    // Room for the Adler-32 the last band ends with (EmitBand).
    if (band.out.size() < at + 4) band.out.resize(at + 4);
    return {};
  }

  // The same with ISA-L's igzip at level 1: raw deflate, a sync flush
  // after a band that is not the last, the final block in the last.
  std::string RunIsal(Band& band, size_t at) {
    isal_zstream z{};
    isal_deflate_init(&z);
    // Its state (the first ISAL_DEF_LVL1_REQ bytes, 20 KiB: hash table and
    // histograms; the tokens after them are written before they are read)
    // zeroed for every band, so that nothing the thread's earlier band
    // left in it can reach this band's bytes: the stream must not depend
    // on which thread deflated which band.
    if (isal_level.empty()) isal_level.resize(ISAL_DEF_LVL1_DEFAULT);
    std::fill_n(isal_level.begin(), ISAL_DEF_LVL1_REQ, uint8_t{0});
    z.level = 1;
    z.level_buf = isal_level.data();
    z.level_buf_size = static_cast<uint32_t>(isal_level.size());
    z.gzip_flag = IGZIP_DEFLATE;
    z.flush = SYNC_FLUSH;
    // Stored blocks at worst: 5 bytes per 64 KiB, and the flush.
    const size_t bound = band.in_size + band.in_size / 8192 + 1024;
    if (band.out.size() < at + bound + 4) band.out.resize(at + bound + 4);
    const uint8_t* in = band.filtered.data();
    size_t left = band.in_size;
    int r = COMP_OK;
    for (;;) {
      const size_t piece = std::min(left, kZlibPiece);
      z.next_in = const_cast<uint8_t*>(in);
      z.avail_in = static_cast<uint32_t>(piece);
      z.end_of_stream = band.last && piece == left ? 1 : 0;
      // Until the piece is in and, with room left over, flushed.
      do {
        if (band.out.size() - at < 64) band.out.resize(band.out.size() * 2);
        const size_t room = std::min(band.out.size() - at, kZlibPiece);
        z.next_out = band.out.data() + at;
        z.avail_out = static_cast<uint32_t>(room);
        r = isal_deflate(&z);
        ClearUpperAvx();
        if (r != COMP_OK) return "ISA-L error " + std::to_string(r);
        at += room - z.avail_out;
      } while (z.avail_in != 0 || z.avail_out == 0);
      in += piece;
      left -= piece;
      if (left == 0) break;
    }
    if (band.last && z.internal_state.state != ZSTATE_END) {
      return "ISA-L stream not ended";
    }
    band.out_size = at;
    if (band.out.size() < at + 4) band.out.resize(at + 4);
    return {};
  }
};

BandedIdat::BandedIdat(const PixelFormat& format, int threads,
                       std::string_view name, Emit emit, PngDeflate deflate)
    : format_(format),
      deflate_(deflate),
      row_bytes_(format.RowBytes()),
      rows_per_band_(RowsPerBand(format.RowBytes())),
      name_(name),
      emit_(std::move(emit)) {
  const int bands = (format.height + rows_per_band_ - 1) / rows_per_band_;
  const int wanted = std::min(core::ResolveThreads(threads), bands);
  if (wanted > 1) {
    workers_.reserve(static_cast<size_t>(wanted));
    for (int i = 0; i < wanted; ++i) {
      try {
        workers_.emplace_back([this] { Work(); });
      } catch (const std::system_error&) {
        break;  // no more threads: fewer workers
      }
    }
  }
  if (workers_.size() == 1) Stop();  // one worker gains nothing
  max_in_flight_ = 2 * workers_.size();
  if (workers_.empty()) own_deflater_ = std::make_unique<Deflater>();
}

BandedIdat::~BandedIdat() { Stop(); }

void BandedIdat::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    pending_.clear();
  }
  work_ready_.notify_all();
  for (core::Async& t : workers_) t.Join();
  workers_.clear();
}

void BandedIdat::WriteRows(const std::byte* src, std::ptrdiff_t stride,
                           int rows) {
  try {
    for (int i = 0; i < rows; ++i) {
      if (!filling_) {
        if (spare_.empty()) {
          filling_ = std::make_unique<Band>();
        } else {
          filling_ = std::move(spare_.back());
          spare_.pop_back();
        }
        Band& b = *filling_;
        b.rows = 0;
        b.first = bands_in_ == 0;
        b.last = false;
        b.done = false;
        b.raw.resize(row_bytes_ * static_cast<size_t>(rows_per_band_));
      }
      Band& b = *filling_;
      std::memcpy(b.raw.data() + row_bytes_ * static_cast<size_t>(b.rows),
                  src + i * stride, row_bytes_);
      ++b.rows;
      ++rows_in_;
      if (b.rows == rows_per_band_ || rows_in_ == format_.height) {
        Submit(std::move(filling_));
      }
    }
    // Whatever is done goes out now, so that the sink sees the image as it
    // is made and the bands' memory is reused.
    while (!in_flight_.empty() && EmitOldest(false)) {
    }
  } catch (...) {
    Stop();
    throw;
  }
}

void BandedIdat::Finish() {
  try {
    while (!in_flight_.empty()) EmitOldest(true);
    Stop();
  } catch (...) {
    Stop();
    throw;
  }
}

void BandedIdat::Submit(std::unique_ptr<Band> band) {
  band->last = rows_in_ == format_.height;
  ++bands_in_;
  if (workers_.empty()) {
    Compress(*band, *own_deflater_);
    EmitBand(*band);
    Recycle(std::move(band));
    return;
  }
  while (in_flight_.size() >= max_in_flight_) EmitOldest(true);
  Band* b = band.get();
  in_flight_.push_back(std::move(band));
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(b);
  }
  work_ready_.notify_one();
}

bool BandedIdat::EmitOldest(bool wait) {
  Band& b = *in_flight_.front();
  {
    std::unique_lock lock(mutex_);
    if (wait) {
      band_done_.wait(lock, [&b] { return b.done; });
    } else if (!b.done) {
      return false;
    }
  }
  EmitBand(b);
  Recycle(std::move(in_flight_.front()));
  in_flight_.pop_front();
  return true;
}

void BandedIdat::EmitBand(Band& band) {
  if (band.exception) std::rethrow_exception(band.exception);
  if (!band.zlib_error.empty()) {
    ThrowOutput(name_, "cannot write PNG (zlib: " + band.zlib_error + ")");
  }
  adler_ = static_cast<uint32_t>(
      adler32_combine(adler_, band.adler, static_cast<z_off_t>(band.in_size)));
  if (band.last) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      band.out[band.out_size++] = static_cast<uint8_t>(adler_ >> shift);
    }
  }
  emit_(band.out.data(), band.out_size);
}

void BandedIdat::Recycle(std::unique_ptr<Band> band) {
  band->exception = nullptr;
  band->zlib_error.clear();
  spare_.push_back(std::move(band));
}

void BandedIdat::Work() {
  Deflater deflater;
  for (;;) {
    Band* band = nullptr;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      band = pending_.front();
      pending_.pop_front();
    }
    Compress(*band, deflater);
    {
      std::lock_guard lock(mutex_);
      band->done = true;
    }
    band_done_.notify_one();
  }
}

void BandedIdat::Compress(Band& band, Deflater& deflater) noexcept {
  try {
    const size_t filtered_row = row_bytes_ + 1;
    band.in_size = filtered_row * static_cast<size_t>(band.rows);
    // Zeros past the input, whatever a longer band left in a reused
    // buffer: the deflaters may look a few bytes past their input (ISA-L
    // hashes ahead), and the stream must not depend on what was there.
    constexpr size_t kTail = 64;
    if (band.filtered.size() < band.in_size + kTail) {
      band.filtered.resize(band.in_size + kTail);
    }
    std::fill_n(
        band.filtered.begin() + static_cast<std::ptrdiff_t>(band.in_size),
        kTail, uint8_t{0});
    const size_t bpp =
        static_cast<size_t>(format_.channels) * format_.SampleBytes();
    const size_t width = static_cast<size_t>(format_.width);
    const bool as_is = InPngOrder(format_);
    const ToPngOrderFn order = format_.depth == core::Depth::kU16
                                   ? OrderFor<2>(format_.channels)
                                   : OrderFor<1>(format_.channels);
    std::vector<uint8_t>& row = deflater.row;
    if (!as_is) row.resize(row_bytes_);
    for (int y = 0; y < band.rows; ++y) {
      const uint8_t* in = band.raw.data() + row_bytes_ * static_cast<size_t>(y);
      if (!as_is) {
        order(in, width, row.data());
        in = row.data();
      }
      SubFilter(in, row_bytes_, bpp,
                band.filtered.data() + filtered_row * static_cast<size_t>(y));
    }
    if (deflate_ == PngDeflate::kIsal) {
      band.adler = isal_adler32(1, band.filtered.data(), band.in_size);
      ClearUpperAvx();
    } else {
      band.adler = static_cast<uint32_t>(
          adler32_z(1, band.filtered.data(), band.in_size));
    }
    size_t at = 0;
    if (band.first) {
      if (band.out.size() < sizeof kZlibHeader) band.out.resize(4096);
      std::memcpy(band.out.data(), kZlibHeader, sizeof kZlibHeader);
      at = sizeof kZlibHeader;
    }
    band.zlib_error = deflate_ == PngDeflate::kIsal ? deflater.RunIsal(band, at)
                                                    : deflater.Run(band, at);
  } catch (...) {
    band.exception = std::current_exception();
  }
}

}  // namespace convcorr::io::png

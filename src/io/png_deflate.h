// The image data of a large PNG, filtered and deflated in bands of rows on
// the encoder's own threads (png_codec.cc writes the chunks around it).
//
// Every row is filtered as libpng filters it for convcorr (the SUB filter,
// in PNG's byte order: R,G,B(,A), 16-bit samples big-endian), so the file
// decodes to the same samples. The filtered rows are cut into bands of
// about kBandBytes, whole rows, fixed by the image's geometry alone: the
// bytes written do not depend on the number of threads. Each band is
// deflated on its own as raw deflate (zlib level 1, Z_RLE, as libpng
// does; or ISA-L's igzip level 1, PngDeflate::kIsal), ending with a sync
// flush (the next band starts on a byte boundary; the last one ends the
// stream with the final block), and its Adler-32 is combined with the
// others' (adler32_combine): the pieces, in order, are one zlib stream,
// with its header once, in front of the first band, and the combined
// Adler-32 after the last. Z_RLE's matches are one byte back, so a band
// starting with an empty window loses no match; a band costs a block
// header and the flush's 4-5 bytes.
//
// Memory stays bounded: the caller's rows are copied into the band being
// filled, at most two bands per worker are in flight, and each band's
// deflated bytes are handed to `emit` (one IDAT chunk) in order as soon as
// it and every band before it are done, on the caller's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/threads.h"
#include "io/codec.h"

namespace convcorr::io::png {

// Images with fewer bytes of samples than this keep libpng's own path (one
// zlib stream, OpenCV's bytes).
inline constexpr size_t kBandedMinBytes = size_t{1} << 20;
// Filtered bytes (filter byte and row) per band, rounded down to whole
// rows; at least one row.
inline constexpr size_t kBandBytes = size_t{256} << 10;

// Rows per band for rows of `row_bytes` bytes of samples.
int RowsPerBand(size_t row_bytes);

class BandedIdat {
 public:
  // Writes one IDAT chunk's data; throws to stop the image.
  using Emit = std::function<void(const uint8_t* data, size_t size)>;

  // `threads` deflate bands in parallel (0: the machine's hardware
  // concurrency; 1, or an image of one band: no thread, all on the
  // caller's). `name` is what errors quote.
  BandedIdat(const PixelFormat& format, int threads, std::string_view name,
             Emit emit, PngDeflate deflate = PngDeflate::kZlib);
  // Stops the workers, abandoning the bands in flight.
  ~BandedIdat();
  BandedIdat(const BandedIdat&) = delete;
  BandedIdat& operator=(const BandedIdat&) = delete;

  // The next rows (the caller's layout: B,G,R(,A), native byte order).
  // Throws what `emit` throws, or Error(kOutput) if zlib fails; every
  // worker has then stopped.
  void WriteRows(const std::byte* src, std::ptrdiff_t stride, int rows);
  // After the last row: waits for the bands in flight and emits them.
  void Finish();

  // How many worker threads deflate (0: the caller's thread does).
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Band;
  struct Deflater;

  void Submit(std::unique_ptr<Band> band);
  // Emits the oldest band in flight, waiting for it if `wait`; false if it
  // is not done and `wait` is false.
  bool EmitOldest(bool wait);
  void EmitBand(Band& band);
  void Recycle(std::unique_ptr<Band> band);
  // A worker's loop.
  void Work();
  // Filters and deflates one band, on a worker or on the caller's thread;
  // failures are kept in the band.
  void Compress(Band& band, Deflater& deflater) noexcept;
  void Stop();

  PixelFormat format_;
  PngDeflate deflate_;
  size_t row_bytes_;
  int rows_per_band_;
  std::string name_;
  Emit emit_;
  int rows_in_ = 0;     // rows taken from the caller
  int bands_in_ = 0;    // bands submitted
  uint32_t adler_ = 1;  // of the bands emitted
  size_t max_in_flight_ = 0;
  std::unique_ptr<Band> filling_;
  std::deque<std::unique_ptr<Band>> in_flight_;  // submitted, in order
  std::vector<std::unique_ptr<Band>> spare_;     // emitted, for reuse
  std::unique_ptr<Deflater> own_deflater_;       // without workers

  std::mutex mutex_;
  std::condition_variable work_ready_;  // workers wait for pending_
  std::condition_variable band_done_;   // the caller waits for a band
  std::deque<Band*> pending_;           // submitted, not yet taken
  bool stop_ = false;
  std::vector<core::Async> workers_;
};

}  // namespace convcorr::io::png

// TIFF on libtiff's own API.
//
// Design. Every TIFF handle gets its error and warning handlers, its memory
// cap and its I/O through TIFFOpenOptions and client procs, with user data
// pointing at a per-handle TiffState: nothing process-wide is touched, so
// files decode and encode in parallel threads, and nothing is printed. The
// handlers keep libtiff's first error message; the call that failed is then
// reported as one line, "corrupt TIFF (...)", or "truncated TIFF (...)" when
// a read came up short during it. Exceptions never cross libtiff's C frames:
// the procs catch them and the failing call rethrows them.
//
// Decoding reads from the Source at offsets (ReadAt) when it is seekable,
// else from the whole data in memory (All). Open reads the first directory
// only. Gray (1-2 samples) and RGB (3-4 samples) images of 8/16-bit
// unsigned, 8/16/32-bit signed, 32-bit unsigned and 32/64-bit float samples
// are decoded band by band: one strip, or one row of tiles, at a time, into
// a per-handle buffer, planar or not, with any compression libtiff decodes
// (JPEG's YCbCr converted to RGB by libtiff). Everything else (palette,
// subsampled YCbCr, CMYK, 1/2/4-bit, LogLuv, ...) goes through libtiff's
// RGBA interface: 8-bit, decoded whole at the first ReadRows.
//
// Encoding writes LZW-compressed strips of about 64 KiB, scanline by
// scanline. libtiff writes the header first and, at the end, the
// directory and the header's pointer to it: to a seekable sink (a file)
// every write goes through as it comes, the strips appended and the rest
// at its offsets, so an encoder holds a strip; to one that only appends,
// the file is built in memory and written whole at the end.
//
// One file per side: tiff_handle.cc (this header: the per-handle state,
// handlers and I/O procs), tiff_reader.cc, tiff_writer.cc.
#pragma once

#include <tiffio.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/codec.h"

namespace convcorr::io::tiff {

// libtiff's cap on any one allocation it makes (tag arrays, strip and tile
// buffers). 256 MiB stops a forged header from reserving gigabytes, but a
// legitimate compressed strip is read whole, so the cap is raised to the
// input's size when that is larger; and the RGBA path, whose decoded strips
// libtiff allocates itself, reopens the file with a cap fitting the image
// once the caller has accepted its size (see RgbaDecode).
inline constexpr tmsize_t kMaxSingleAlloc = tmsize_t{256} << 20;
inline constexpr size_t kMaxMessage = 160;
inline constexpr size_t kStripBytes = 64 << 10;

// What libtiff's callbacks reach through their user data, one per handle.
struct TiffState {
  // Decoding: the input, read at offsets or from memory.
  Source* source = nullptr;
  std::span<const uint8_t> data;
  std::optional<uint64_t> size;
  // Encoding: the output file, written through to `sink` as libtiff goes
  // when the sink is seekable (`end` bytes so far), else built in `out`.
  Sink* sink = nullptr;
  uint64_t end = 0;
  // Writes dropped: an encoder abandoned before its end, whose file is
  // discarded anyway (libtiff flushes its directory on close).
  bool discard = false;
  std::vector<uint8_t> out;
  uint64_t pos = 0;
  // The first error libtiff reported since the last Reset.
  std::string error;
  bool short_read = false;
  std::exception_ptr exception;

  void Reset() {
    error.clear();
    short_read = false;
    exception = nullptr;
  }
};

// Opens `st` for reading ("r") or writing ("w", "w8") with the handlers and
// memory cap on the handle itself. Mapping is off ("m"): reads go through
// ReadProc, which sees where the data ends.
TIFF* OpenHandle(TiffState& st, const char* mode, tmsize_t cap);

}  // namespace convcorr::io::tiff

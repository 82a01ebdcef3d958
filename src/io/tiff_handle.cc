// libtiff handles with their own handlers, memory cap and I/O
// (io/tiff_handle.h).
#include "io/tiff_handle.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace convcorr::io::tiff {
namespace {

int OnError(TIFF*, void* user, const char* module, const char* fmt,
            va_list ap) {
  auto* st = static_cast<TiffState*>(user);
  if (!st->error.empty()) return 1;  // the first error is the telling one
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  // Messages that start with the file's name start with ": " here: the
  // handle's name is empty (errors quote the name once, in front).
  std::string_view text = buf;
  if (text.starts_with(": ")) text.remove_prefix(2);
  std::string m = module != nullptr && *module != '\0'
                      ? std::string(module) + ": " + std::string(text)
                      : std::string(text);
  for (char& c : m) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (m.size() > kMaxMessage) m = m.substr(0, kMaxMessage) + "...";
  st->error = m.empty() ? "unknown error" : m;
  return 1;  // handled: libtiff must not call its global handler
}

int OnWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

TiffState* StateOf(thandle_t h) { return static_cast<TiffState*>(h); }

tmsize_t ReadProc(thandle_t h, void* dst, tmsize_t n) {
  TiffState* st = StateOf(h);
  if (n <= 0) return 0;
  size_t got = 0;
  try {
    if (st->source != nullptr) {
      got = st->source->ReadAt(st->pos, dst, static_cast<size_t>(n));
    } else if (st->sink != nullptr) {
      // libtiff reads back what it wrote only to link a second image
      // directory, which the encoder never writes.
      st->error = "read back from the output";
      return -1;
    } else {
      // Memory: the input, or the output being built (libtiff reads back
      // what it wrote when it links directories).
      const std::span<const uint8_t> mem =
          st->data.empty() ? std::span<const uint8_t>(st->out) : st->data;
      if (st->pos < mem.size()) {
        got =
            std::min<uint64_t>(static_cast<uint64_t>(n), mem.size() - st->pos);
        std::memcpy(dst, mem.data() + st->pos, got);
      }
    }
  } catch (...) {
    st->exception = std::current_exception();
    return -1;
  }
  if (got < static_cast<size_t>(n)) st->short_read = true;
  st->pos += got;
  return static_cast<tmsize_t>(got);
}

tmsize_t WriteProc(thandle_t h, void* src, tmsize_t n) {
  TiffState* st = StateOf(h);
  if (n <= 0) return 0;
  if (st->discard) return n;
  try {
    const uint64_t end = st->pos + static_cast<uint64_t>(n);
    if (st->sink != nullptr) {
      // Strips are appended; the header's pointer to the directory, and
      // the directory after its out-of-line values, are written at their
      // offsets.
      if (st->pos == st->end) {
        st->sink->Write(src, static_cast<size_t>(n));
      } else {
        st->sink->WriteAt(st->pos, src, static_cast<size_t>(n));
      }
      st->end = std::max(st->end, end);
    } else {
      if (end > st->out.size()) st->out.resize(end);
      std::memcpy(st->out.data() + st->pos, src, static_cast<size_t>(n));
    }
    st->pos = end;
  } catch (...) {
    st->exception = std::current_exception();
    return -1;
  }
  return n;
}

toff_t SizeProc(thandle_t h) {
  const TiffState* st = StateOf(h);
  if (st->sink != nullptr) return st->end;
  if (st->source == nullptr) {
    return st->data.empty() ? st->out.size() : st->data.size();
  }
  return st->size.value_or(std::numeric_limits<toff_t>::max());
}

toff_t SeekProc(thandle_t h, toff_t off, int whence) {
  TiffState* st = StateOf(h);
  uint64_t base = 0;
  if (whence == SEEK_CUR) {
    base = st->pos;
  } else if (whence == SEEK_END) {
    if (st->source != nullptr && !st->size) return static_cast<toff_t>(-1);
    base = SizeProc(h);
  }
  st->pos = base + off;
  return st->pos;
}

int CloseProc(thandle_t) { return 0; }

}  // namespace

// Opens `st` for reading ("r") or writing ("w", "w8") with the handlers and
// memory cap on the handle itself. Mapping is off ("m"): reads go through
// ReadProc, which sees where the data ends.
TIFF* OpenHandle(TiffState& st, const char* mode, tmsize_t cap) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) throw std::bad_alloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, OnError, &st);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, OnWarning, &st);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, cap);
  TIFF* tif = TIFFClientOpenExt("", mode, &st, ReadProc, WriteProc, SeekProc,
                                CloseProc, SizeProc, nullptr, nullptr, opts);
  TIFFOpenOptionsFree(opts);
  return tif;
}

}  // namespace convcorr::io::tiff

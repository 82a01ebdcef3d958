// EXIF blocks (TIFF structures) read and rewritten without trusting a byte
// of them: every offset and count is checked against the size of the data
// in 64-bit arithmetic, only a fixed set of IFDs is visited (IFD0, the Exif,
// GPS and Interoperability IFDs, and IFD1), each at most once, so a loop of
// links ends; and an IFD must lie wholly inside the data to be read at all.
// When in doubt about where bytes belong, ExifForOutput keeps them: an
// unlinked thumbnail costs a few kilobytes, a cut value corrupts the EXIF.
#include "io/exif.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace convcorr::io {

namespace {

// Tags (TIFF 6.0 and EXIF 2.32).
constexpr uint16_t kTagStripOffsets = 0x0111;
constexpr uint16_t kTagOrientation = 0x0112;
constexpr uint16_t kTagTileOffsets = 0x0144;
constexpr uint16_t kTagSubIfds = 0x014A;
constexpr uint16_t kTagJpegOffset = 0x0201;  // JPEGInterchangeFormat
constexpr uint16_t kTagExifIfd = 0x8769;
constexpr uint16_t kTagGpsIfd = 0x8825;
constexpr uint16_t kTagInteropIfd = 0xA005;

// Field types.
constexpr uint16_t kTypeAscii = 2;
constexpr uint16_t kTypeShort = 3;
constexpr uint16_t kTypeLong = 4;
constexpr uint16_t kTypeIfd = 13;

constexpr uint64_t kHeaderSize = 8;
constexpr uint64_t kEntrySize = 12;
// Real IFDs hold tens of entries, DNG's IFD0 a few hundred; more than this
// is a corrupt count, and refusing it bounds the work per IFD.
constexpr uint64_t kMaxIfdEntries = 4096;
// At most this many strip or tile offsets of IFD1 are read; a thumbnail
// in more pieces is left in place (the offsets bound nothing else: a
// corrupt IFD1 may repeat a count of size / 2 in each of its entries).
constexpr uint64_t kMaxThumbnailPieces = 1 << 16;
// Offsets in a TIFF structure are 32-bit: MakeExif cannot go beyond.
constexpr uint64_t kMaxTiffSize = 0xFFFFFFFFu;

// Bytes per value of a field type; 0 for types TIFF does not define, which
// readers skip (TIFF 6.0, section 2), so their values are never followed.
uint64_t TypeSize(uint16_t type) {
  switch (type) {
    case 1:  // BYTE
    case 2:  // ASCII
    case 6:  // SBYTE
    case 7:  // UNDEFINED
      return 1;
    case 3:  // SHORT
    case 8:  // SSHORT
      return 2;
    case 4:   // LONG
    case 9:   // SLONG
    case 11:  // FLOAT
    case 13:  // IFD
      return 4;
    case 5:   // RATIONAL
    case 10:  // SRATIONAL
    case 12:  // DOUBLE
      return 8;
    default:
      return 0;
  }
}

// Tags whose values point at bytes that the value itself does not cover
// (image data, further IFDs). ExifForOutput does not follow them in the
// IFDs it keeps, so when one is there it cannot tell what a cut would lose.
bool PointsOutsideItsValue(uint16_t tag) {
  return tag == kTagStripOffsets || tag == kTagTileOffsets ||
         tag == kTagSubIfds || tag == kTagJpegOffset;
}

// The pointer tags, which are offsets and never text: ExifTexts skips them
// and MakeExif will not write them, so that a reader never follows a text.
bool IsIfdPointer(uint16_t tag) {
  return tag == kTagExifIfd || tag == kTagGpsIfd || tag == kTagInteropIfd ||
         tag == kTagSubIfds;
}

// One 12-byte IFD entry.
struct Entry {
  uint64_t pos = 0;  // offset of the entry in the data
  uint16_t tag = 0;
  uint16_t type = 0;
  uint32_t count = 0;
  uint32_t value = 0;  // the value-or-offset field, read as a LONG

  // At most 8 * 0xFFFFFFFF: no overflow in 64 bits.
  uint64_t ByteSize() const { return TypeSize(type) * count; }
  bool Inline() const { return ByteSize() <= 4; }
  // Where the value's bytes start: in the entry, or at its offset.
  uint64_t DataOffset() const { return Inline() ? pos + 8 : value; }
};

struct Ifd {
  uint64_t offset = 0;
  std::vector<Entry> entries;
  uint64_t link_pos = 0;  // offset of the next-IFD link
  uint32_t next = 0;      // the next IFD's offset, 0 for none

  uint64_t End() const { return link_pos + 4; }
  const Entry* Find(uint16_t tag) const {
    for (const Entry& e : entries) {
      if (e.tag == tag) return &e;
    }
    return nullptr;
  }
};

// A TIFF structure's bytes and byte order.
class Tiff {
 public:
  // Nothing unless the data starts with a TIFF header (byte order mark,
  // 42) whose IFD0 offset lies past the header and inside the data.
  static std::optional<Tiff> Open(std::span<const uint8_t> data) {
    if (data.size() < kHeaderSize) return std::nullopt;
    bool big_endian;
    if (data[0] == 'I' && data[1] == 'I') {
      big_endian = false;
    } else if (data[0] == 'M' && data[1] == 'M') {
      big_endian = true;
    } else {
      return std::nullopt;
    }
    Tiff tiff(data, big_endian);
    if (tiff.U16(2) != 42) return std::nullopt;  // 43 is BigTIFF: not EXIF
    const uint64_t ifd0 = tiff.U32(4);
    // Below 8, IFD0 would overlap the header, which rewriting its link
    // could then destroy.
    if (ifd0 < kHeaderSize || !tiff.Has(ifd0, 2)) return std::nullopt;
    tiff.ifd0_ = ifd0;
    return tiff;
  }

  uint64_t size() const { return data_.size(); }
  bool big_endian() const { return big_endian_; }
  uint64_t ifd0() const { return ifd0_; }
  std::span<const uint8_t> data() const { return data_; }

  bool Has(uint64_t off, uint64_t n) const {
    return off <= data_.size() && n <= data_.size() - off;
  }
  // The callers check Has first.
  uint16_t U16(uint64_t o) const {
    return big_endian_ ? (data_[o] << 8) | data_[o + 1]
                       : data_[o] | (data_[o + 1] << 8);
  }
  uint32_t U32(uint64_t o) const {
    const uint32_t a = U16(o), b = U16(o + 2);
    return big_endian_ ? (a << 16) | b : a | (b << 16);
  }

  // The IFD at `offset`, if its count, all its entries and its link lie
  // inside the data and it holds at most kMaxIfdEntries entries.
  std::optional<Ifd> ReadIfd(uint64_t offset) const {
    if (!Has(offset, 2)) return std::nullopt;
    const uint64_t n = U16(offset);
    if (n > kMaxIfdEntries || !Has(offset + 2, n * kEntrySize + 4)) {
      return std::nullopt;
    }
    Ifd ifd;
    ifd.offset = offset;
    ifd.entries.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t p = offset + 2 + i * kEntrySize;
      ifd.entries.push_back({.pos = p,
                             .tag = U16(p),
                             .type = U16(p + 2),
                             .count = U32(p + 4),
                             .value = U32(p + 8)});
    }
    ifd.link_pos = offset + 2 + n * kEntrySize;
    ifd.next = U32(ifd.link_pos);
    return ifd;
  }

  // The i-th value of a SHORT or LONG field, if it lies inside the data.
  std::optional<uint32_t> Unsigned(const Entry& e, uint64_t i) const {
    if (i >= e.count) return std::nullopt;
    const uint64_t at = e.DataOffset() + i * TypeSize(e.type);
    if (e.type == kTypeShort && Has(at, 2)) return U16(at);
    if (e.type == kTypeLong && Has(at, 4)) return U32(at);
    return std::nullopt;
  }

 private:
  Tiff(std::span<const uint8_t> data, bool big_endian)
      : data_(data), big_endian_(big_endian) {}

  std::span<const uint8_t> data_;
  bool big_endian_;
  uint64_t ifd0_ = 0;
};

// IFD0 and the IFDs it links to, except IFD1.
struct Layout {
  Ifd ifd0;
  std::optional<Ifd> exif, gps, interop;
  // A pointer tag is there but its IFD could not be read (bad type or
  // count, out of range, truncated): its bytes are somewhere unknown.
  bool unreadable_link = false;
};

// The IFD that `parent`'s pointer tag `tag` (a LONG or IFD, count 1) links
// to; nothing if the tag is absent, malformed or unreadable, or links back
// to an IFD already visited (a loop: its bytes are kept already).
std::optional<Ifd> FollowLink(const Tiff& tiff, const Ifd& parent, uint16_t tag,
                              std::vector<uint64_t>& visited,
                              bool& unreadable) {
  const Entry* e = parent.Find(tag);
  if (e == nullptr) return std::nullopt;
  if ((e->type != kTypeLong && e->type != kTypeIfd) || e->count != 1) {
    unreadable = true;
    return std::nullopt;
  }
  if (std::find(visited.begin(), visited.end(), e->value) != visited.end()) {
    return std::nullopt;
  }
  std::optional<Ifd> ifd = tiff.ReadIfd(e->value);
  if (!ifd) {
    unreadable = true;
    return std::nullopt;
  }
  visited.push_back(ifd->offset);
  return ifd;
}

std::optional<Layout> ReadLayout(const Tiff& tiff) {
  std::optional<Ifd> ifd0 = tiff.ReadIfd(tiff.ifd0());
  if (!ifd0) return std::nullopt;
  Layout l;
  l.ifd0 = std::move(*ifd0);
  std::vector<uint64_t> visited = {l.ifd0.offset};
  l.exif = FollowLink(tiff, l.ifd0, kTagExifIfd, visited, l.unreadable_link);
  l.gps = FollowLink(tiff, l.ifd0, kTagGpsIfd, visited, l.unreadable_link);
  if (l.exif) {
    l.interop =
        FollowLink(tiff, *l.exif, kTagInteropIfd, visited, l.unreadable_link);
  }
  return l;
}

// Where the bytes an IFD occupies end, with its out-of-line values (those
// that start inside the data; the others occupy nothing of it).
uint64_t IfdExtentEnd(const Tiff& tiff, const Ifd& ifd) {
  uint64_t end = ifd.End();
  for (const Entry& e : ifd.entries) {
    if (e.Inline() || e.value >= tiff.size()) continue;
    end =
        std::max(end, std::min<uint64_t>(e.value + e.ByteSize(), tiff.size()));
  }
  return end;
}

// Where the first byte of IFD1 or anything it points to lies: the IFD,
// its out-of-line values, the JPEG thumbnail, strips or tiles. Nothing if
// IFD1 cannot be read or its data offsets cannot (then where its bytes lie
// is unknown).
std::optional<uint64_t> ThumbnailStart(const Tiff& tiff, uint64_t ifd1_offset) {
  const std::optional<Ifd> ifd1 = tiff.ReadIfd(ifd1_offset);
  if (!ifd1) return std::nullopt;
  uint64_t start = ifd1->offset;
  uint64_t pieces = 0;
  for (const Entry& e : ifd1->entries) {
    if (!e.Inline()) start = std::min<uint64_t>(start, e.value);
    if (e.tag != kTagJpegOffset && e.tag != kTagStripOffsets &&
        e.tag != kTagTileOffsets) {
      continue;
    }
    const uint64_t n = e.tag == kTagJpegOffset ? 1 : e.count;
    if (n == 0 || n > kMaxThumbnailPieces - pieces) return std::nullopt;
    pieces += n;
    for (uint64_t i = 0; i < n; ++i) {
      const std::optional<uint32_t> at = tiff.Unsigned(e, i);
      if (!at) return std::nullopt;
      start = std::min<uint64_t>(start, *at);
    }
  }
  return start;
}

// Where to cut the data so that the thumbnail goes and everything kept
// stays whole; nothing if the thumbnail cannot be cut off (it lies among
// the kept bytes, or where bytes belong is not known).
std::optional<uint64_t> ThumbnailCut(const Tiff& tiff, const Layout& l) {
  if (l.unreadable_link) return std::nullopt;
  uint64_t keep_end = std::max(kHeaderSize, IfdExtentEnd(tiff, l.ifd0));
  for (const std::optional<Ifd>* ifd : {&l.exif, &l.gps, &l.interop}) {
    if (!*ifd) continue;
    keep_end = std::max(keep_end, IfdExtentEnd(tiff, **ifd));
  }
  for (const Ifd* ifd :
       {&l.ifd0, l.exif ? &*l.exif : nullptr, l.gps ? &*l.gps : nullptr,
        l.interop ? &*l.interop : nullptr}) {
    if (ifd == nullptr) continue;
    for (const Entry& e : ifd->entries) {
      if (PointsOutsideItsValue(e.tag)) return std::nullopt;
    }
  }
  const std::optional<uint64_t> start = ThumbnailStart(tiff, l.ifd0.next);
  if (!start || *start < keep_end) return std::nullopt;
  return keep_end;
}

void Put16(std::vector<uint8_t>& b, uint64_t at, uint16_t v, bool big_endian) {
  b[at + (big_endian ? 0 : 1)] = static_cast<uint8_t>(v >> 8);
  b[at + (big_endian ? 1 : 0)] = static_cast<uint8_t>(v);
}

void Put32(std::vector<uint8_t>& b, uint64_t at, uint32_t v, bool big_endian) {
  const uint16_t hi = static_cast<uint16_t>(v >> 16);
  const uint16_t lo = static_cast<uint16_t>(v);
  Put16(b, at, big_endian ? hi : lo, big_endian);
  Put16(b, at + 2, big_endian ? lo : hi, big_endian);
}

// The text of an ASCII entry up to its first NUL (all of it if it has
// none); nothing if it is empty of bytes or lies outside the data.
std::optional<std::string> AsciiText(const Tiff& tiff, const Entry& e) {
  if (e.type != kTypeAscii || e.count == 0) return std::nullopt;
  const uint64_t at = e.DataOffset();
  if (!tiff.Has(at, e.count)) return std::nullopt;
  const auto bytes = tiff.data().subspan(at, e.count);
  const auto nul = std::find(bytes.begin(), bytes.end(), uint8_t{0});
  return std::string(bytes.begin(), nul);
}

// Appends the texts of `ifd` not yet in `out` for that IFD (the first of
// two entries with the same tag is the one kept, as for Orientation).
void AppendTexts(const Tiff& tiff, const Ifd& ifd, bool exif_ifd,
                 std::vector<ExifText>& out) {
  std::vector<bool> seen(0x10000);
  for (const Entry& e : ifd.entries) {
    if (IsIfdPointer(e.tag) || seen[e.tag]) continue;
    std::optional<std::string> text = AsciiText(tiff, e);
    if (!text) continue;
    seen[e.tag] = true;
    out.push_back(
        {.exif_ifd = exif_ifd, .tag = e.tag, .text = std::move(*text)});
  }
}

// Little-endian writing for MakeExif.
void AppendLe16(std::vector<uint8_t>& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

void AppendLe32(std::vector<uint8_t>& b, uint32_t v) {
  AppendLe16(b, v & 0xFFFF);
  AppendLe16(b, v >> 16);
}

// Bytes an IFD of `texts` (plus `extra` LONG entries) and its out-of-line
// values take, each value starting on an even offset.
uint64_t IfdSize(std::span<const ExifText* const> texts, uint64_t extra) {
  uint64_t size = 2 + (texts.size() + extra) * kEntrySize + 4;
  for (const ExifText* t : texts) {
    const uint64_t n = uint64_t{t->text.size()} + 1;
    if (n > 4) size += n + (n % 2);
  }
  return size;
}

// Appends, at offset b.size() (even), an IFD of `texts` (sorted by tag)
// whose out-of-line values follow it, with a LONG entry `pointer_tag`
// holding `pointer` when `pointer_tag` is not 0; the next-IFD link is 0.
void AppendIfd(std::vector<uint8_t>& b, std::span<const ExifText* const> texts,
               uint16_t pointer_tag, uint32_t pointer) {
  const uint64_t n = texts.size() + (pointer_tag != 0 ? 1 : 0);
  // Checked by the caller: the whole structure fits 32-bit offsets.
  uint32_t value_at = static_cast<uint32_t>(b.size() + 2 + n * kEntrySize + 4);
  std::vector<uint8_t> values;
  AppendLe16(b, static_cast<uint32_t>(n));
  bool pointer_written = pointer_tag == 0;
  const auto put_pointer = [&] {
    AppendLe16(b, pointer_tag);
    AppendLe16(b, kTypeLong);
    AppendLe32(b, 1);
    AppendLe32(b, pointer);
    pointer_written = true;
  };
  for (const ExifText* t : texts) {
    if (!pointer_written && pointer_tag < t->tag) put_pointer();
    const uint32_t count = static_cast<uint32_t>(t->text.size() + 1);
    AppendLe16(b, t->tag);
    AppendLe16(b, kTypeAscii);
    AppendLe32(b, count);
    if (count <= 4) {
      const size_t at = b.size();
      b.resize(at + 4, 0);
      std::copy(t->text.begin(), t->text.end(), b.begin() + at);
    } else {
      AppendLe32(b, value_at);
      values.insert(values.end(), t->text.begin(), t->text.end());
      values.push_back(0);
      // TIFF wants values on word boundaries.
      if (values.size() % 2 != 0) values.push_back(0);
      value_at += count + (count % 2);
    }
  }
  if (!pointer_written) put_pointer();
  AppendLe32(b, 0);
  b.insert(b.end(), values.begin(), values.end());
}

}  // namespace

int ExifOrientation(std::span<const uint8_t> exif) {
  const std::optional<Tiff> tiff = Tiff::Open(exif);
  if (!tiff) return 0;
  const std::optional<Ifd> ifd0 = tiff->ReadIfd(tiff->ifd0());
  if (!ifd0) return 0;
  const Entry* e = ifd0->Find(kTagOrientation);
  if (e == nullptr || e->type != kTypeShort) return 0;
  const std::optional<uint32_t> v = tiff->Unsigned(*e, 0);
  return v && *v >= 1 && *v <= 8 ? static_cast<int>(*v) : 0;
}

std::vector<uint8_t> ExifForOutput(std::span<const uint8_t> exif,
                                   bool reset_orientation) {
  const std::optional<Tiff> tiff = Tiff::Open(exif);
  if (!tiff) return {};
  const std::optional<Layout> layout = ReadLayout(*tiff);
  if (!layout) return {};
  const bool be = tiff->big_endian();
  std::vector<uint8_t> out(exif.begin(), exif.end());
  if (reset_orientation) {
    // Every Orientation entry (a reader may take any of two) becomes SHORT
    // 1, count 1, inline: an entry has room for that whatever it held, so
    // the reset never needs to move bytes.
    for (const Entry& e : layout->ifd0.entries) {
      if (e.tag != kTagOrientation) continue;
      Put16(out, e.pos + 2, kTypeShort, be);
      Put32(out, e.pos + 4, 1, be);
      Put32(out, e.pos + 8, 0, be);
      Put16(out, e.pos + 8, 1, be);
    }
  }
  if (layout->ifd0.next == 0) return out;
  const std::optional<uint64_t> cut = ThumbnailCut(*tiff, *layout);
  Put32(out, layout->ifd0.link_pos, 0, be);
  if (cut) out.resize(*cut);
  return out;
}

std::vector<ExifText> ExifTexts(std::span<const uint8_t> exif) {
  const std::optional<Tiff> tiff = Tiff::Open(exif);
  if (!tiff) return {};
  const std::optional<Layout> layout = ReadLayout(*tiff);
  if (!layout) return {};
  std::vector<ExifText> texts;
  AppendTexts(*tiff, layout->ifd0, false, texts);
  if (layout->exif) AppendTexts(*tiff, *layout->exif, true, texts);
  return texts;
}

std::vector<uint8_t> MakeExif(const std::vector<ExifText>& texts) {
  // IFD0's texts, then the Exif IFD's, each by tag (TIFF requires
  // ascending tags), the first of equal tags kept; pointer tags dropped.
  std::vector<const ExifText*> sorted;
  for (const ExifText& t : texts) {
    if (!IsIfdPointer(t.tag)) sorted.push_back(&t);
  }
  std::stable_sort(
      sorted.begin(), sorted.end(), [](const ExifText* a, const ExifText* b) {
        return a->exif_ifd != b->exif_ifd ? b->exif_ifd : a->tag < b->tag;
      });
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const ExifText* a, const ExifText* b) {
                             return a->exif_ifd == b->exif_ifd &&
                                    a->tag == b->tag;
                           }),
               sorted.end());
  if (sorted.empty()) return {};
  const auto split =
      std::find_if(sorted.begin(), sorted.end(),
                   [](const ExifText* t) { return t->exif_ifd; });
  const std::span<const ExifText* const> ifd0(sorted.begin(), split);
  const std::span<const ExifText* const> exif(split, sorted.end());
  const bool has_exif = !exif.empty();
  const uint64_t exif_offset = kHeaderSize + IfdSize(ifd0, has_exif ? 1 : 0);
  const uint64_t total = exif_offset + (has_exif ? IfdSize(exif, 0) : 0);
  if (total > kMaxTiffSize) return {};
  std::vector<uint8_t> b = {'I', 'I', 42, 0};
  b.reserve(total);
  AppendLe32(b, kHeaderSize);
  AppendIfd(b, ifd0, has_exif ? kTagExifIfd : 0,
            static_cast<uint32_t>(exif_offset));
  if (has_exif) AppendIfd(b, exif, 0, 0);
  return b;
}

}  // namespace convcorr::io

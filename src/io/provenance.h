// Provenance: the one line of text convcorr writes into every output it
// makes, saying what made it (the cli writes it: cli/provenance.h), and
// its reader, which finds it in a file without decoding any pixel, for
// --skip-existing to tell an output of this run's settings from one made
// otherwise (docs/batch.md, "Resume").
//
// Where each format keeps it (Metadata::provenance, written by the codecs):
//   PNG   a tEXt chunk with the keyword "convcorr", before the image data
//   JPEG  a COM (comment) marker, before the frame
//   TIFF  the Software tag (305) of the first IFD, in place of the input's
//   WebP  a chunk of its own, "CVCR", after the image (an extended file)
//   PNM   a comment line "# <text>" after the magic number (P5, P6)
// PFM and BMP have no place for text: they are written without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "io/codec.h"

namespace convcorr::io {

// Every provenance starts so ("convcorr 1.2.0 command=..."); text in the
// same places that does not is another tool's and is not one.
inline constexpr std::string_view kProvenancePrefix = "convcorr ";
// The longest provenance written or read: a JPEG comment holds 65533
// bytes, and the cli keeps its text far shorter (long values are hashed).
inline constexpr size_t kMaxProvenanceSize = 16384;
// The PNG tEXt keyword and the WebP chunk that hold it.
inline constexpr char kPngProvenanceKey[] = "convcorr";
inline constexpr char kWebpProvenanceChunk[] = "CVCR";

// A provenance: kProvenancePrefix first, printable ASCII (0x20 to 0x7e)
// only, at most kMaxProvenanceSize bytes.
bool IsProvenanceText(std::string_view text);

// True if the format of extension `ext` (as io/format.h names them) holds
// a provenance: png, jpg, jpeg, jpe, tif, tiff, webp, pgm, ppm, pnm; not
// pfm or bmp.
bool HoldsProvenance(std::string_view ext);

// The provenance in the encoded image `source` holds (a seekable source,
// read from its start with ReadAt; its read position is not moved), found
// from the format's structure alone: PNG chunks up to the first IDAT, JPEG
// markers up to the first scan, the first TIFF IFD, the WebP chunks, the
// PNM header. nullopt when there is none, when the format holds none, and
// for a damaged or hostile structure: reads are bounded (at most 1024
// chunks or markers, 4096 IFD entries, kMaxProvenanceSize bytes of text),
// and nothing past the data is trusted. A read error of the source throws
// as its reads do.
std::optional<std::string> ReadProvenance(Source& source);
// The same over bytes in memory (never throws).
std::optional<std::string> ReadProvenance(std::span<const uint8_t> bytes);
// The provenance of a file; nullopt also when it cannot be opened or read.
std::optional<std::string> ReadProvenance(const std::filesystem::path& path);

}  // namespace convcorr::io

// Image formats: which one a file holds (from its first bytes), which
// extensions convcorr reads and writes and what each format can store, and
// the decoder that reads a file's header.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/image.h"
#include "io/codec.h"

namespace convcorr::io {

// The format of encoded bytes, from their first bytes: "png", "jpeg",
// "tiff", "webp", "pnm" (PNM, PAM, PFM), "bmp", "sunras", "hdr", "jp2";
// "" when none matches.
std::string SniffFormat(std::span<const uint8_t> head);

// Lowercase extension without the dot ("png"), "" if none.
std::string ExtensionOf(const std::filesystem::path& path);

// The encoding an extension names: "jpeg" for jpg/jpeg/jpe, "tiff" for
// tif/tiff, "pnm" for pbm/pgm/ppm/pnm, else the extension itself.
std::string FormatOf(std::string_view ext);

// True if convcorr writes this extension: png, jpg, jpeg, jpe, tif, tiff,
// webp, bmp, pgm, ppm, pnm, pfm.
bool IsWritableExtension(std::string_view ext);
// The extensions IsWritableExtension accepts, in that order (--format's
// --help type and completion), and joined for messages: "png, jpg, ...".
std::span<const char* const> WritableExtensions();
std::string WritableExtensionList();
// True if the extension is one of a format convcorr reads, which directory
// scans pick up and --ext accepts: png, jpg, jpeg, jpe, tif, tiff, bmp,
// dib, pbm, pgm, ppm, pnm, pam, pfm, pxm, webp, sr, ras, hdr, pic. Not jp2:
// JPEG 2000 is refused (OpenDecoder).
bool IsImageExtension(std::string_view ext);

// Throws Error(kUsage, ...) naming `name` when format `ext` cannot store
// samples of `depth` with `channels` channels (e.g. 16-bit JPEG).
void CheckEncodable(std::string_view ext, core::Depth depth, int channels,
                    std::string_view name);

// The decoder of the format `source` holds, its header read (the size is
// known, no pixel buffer exists yet). Throws Error(kInput, "input '<name>':
// <reason>") for an empty file, an unknown or corrupt format, or JPEG 2000.
std::unique_ptr<Decoder> OpenDecoder(Source& source, std::string_view name);

// True if `path` is a non-empty regular file whose image header its codec
// reads and, for PNG and JPEG, that ends with the format's end marker
// (IEND, EOI): what --skip-existing takes as a complete output.
// convcorr's own outputs are complete whenever they exist (atomic writes);
// this also rejects files another tool left truncated.
bool LooksComplete(const std::filesystem::path& path);

}  // namespace convcorr::io

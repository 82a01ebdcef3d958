// Readers of three rare formats that OpenCV's imgcodecs used to read for
// convcorr: Windows BMP (and OS/2 DIB), Sun raster and Radiance HDR. Each
// is written to deliver what OpenCV 4.6's grfmt_bmp.cpp, grfmt_sunras.cpp
// and grfmt_hdr.cpp (with rgbe.cpp) deliver for imdecode(IMREAD_UNCHANGED),
// sample for sample and with channels in OpenCV's order, including
// OpenCV's own readings of odd files (its RLE delta and end-of-line rules,
// its HDR header read in fgets() chunks of 127 bytes). One file per reader
// (bmp_reader.cc, sunras_reader.cc, hdr_reader.cc); what they share is in
// legacy_reader.h.
//
// Where OpenCV 4.6 is plainly wrong, these readers differ, always by
// refusing bad data or by keeping data OpenCV loses:
// - Truncated files are refused ("truncated ..."); OpenCV zero-fills some
//   (Sun raster) and refuses others.
// - A palette index past the palette (BMP biClrUsed, Sun colour map
//   length) is refused; OpenCV paints it black.
// - OS/2 BMPs (12-byte header) keep their colours; OpenCV turns them all
//   to gray (it never sets its colour flag on that path).
// - Sun rasters without a colour map: 8-bit is gray as stored and 1-bit is
//   white for 0, black for 1 (Sun's convention); OpenCV 4.6 returns zeros
//   (its gray palette is only filled from a colour map).
// - Sun RLE (type 2) and RGB-order (type 3) files are read; OpenCV refuses
//   them (its header check compares the Mat type, not the file type).
// - Image sizes are not capped (OpenCV refuses more than 2^30 pixels or
//   2^20 a side); the caller's pixel limit applies. HDR sizes past INT_MAX
//   are refused (OpenCV's sscanf wraps them).
//
// Open reads and checks the header only (PixelFormat known, no pixel
// buffer); the rest of the file is read into memory (Source::All) at the
// first ReadRows, as these formats are rare and small.
#pragma once

#include <memory>
#include <string_view>

#include "io/codec.h"

namespace convcorr::io {

// BMP / DIB: 1, 4 and 8-bit palettes (a palette of greys gives 1 channel,
// else B,G,R), RLE4, RLE8, 16-bit 555 and 565, 24-bit, 32-bit (B,G,R, or
// B,G,R,A with BI_BITFIELDS), bottom-up or top-down. 8-bit samples.
std::unique_ptr<Decoder> OpenBmp(Source& source, std::string_view name);

// Sun raster (.sr, .ras): 1, 8, 24 and 32-bit, standard, old, RLE
// (type 2) and RGB-order (type 3), with or without an RGB colour map.
// 8-bit samples: gray, or B,G,R.
std::unique_ptr<Decoder> OpenSunRaster(Source& source, std::string_view name);

// Radiance RGBE (.hdr, .pic), FORMAT=32-bit_rle_rgbe, flat or RLE
// scanlines: 3 float channels B,G,R.
std::unique_ptr<Decoder> OpenHdr(Source& source, std::string_view name);

}  // namespace convcorr::io

// Readers of three rare formats that OpenCV's imgcodecs used to read for
// convcorr: Windows BMP (and OS/2 DIB), Sun raster and Radiance HDR. Each
// delivers what OpenCV 4.6's imdecode(IMREAD_UNCHANGED) delivers for the
// same bytes (channels in OpenCV's order), refuses what OpenCV refuses, and
// refuses too where OpenCV would fill missing or out-of-range data with
// zeros (a truncated file, a palette index past the palette). The
// differences from OpenCV are listed in legacy_codecs.cc.
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

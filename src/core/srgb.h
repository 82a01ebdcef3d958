// Filtering in linear light (--linear): the sRGB transfer curve of IEC
// 61966-2-1, exact and piecewise, between the encoded samples of 8- and
// 16-bit images and linear values, both in the samples' own scale (0..255
// or 0..65535), so that scale, bias and abs keep their meaning. Alpha is
// linear already and never goes through the curve; float images are taken
// as linear.
#pragma once

#include <cstddef>

#include "core/image.h"

namespace convcorr::core {

// The curve on [0, 1]: encoded e to linear (e / 12.92 up to 0.04045, else
// ((e + 0.055) / 1.055)^2.4) and back (12.92 l up to 0.0031308, else
// 1.055 l^(1 / 2.4) - 0.055). Both are extended to negative values by
// symmetry (f(-x) = -f(x)) and beyond 1 by the same formula.
double SrgbToLinear(double e);
double LinearToSrgb(double l);

// `n` samples of a row in place, in the scale 0..max: encoded to linear
// (ToLinear) or linear to encoded (ToSrgb). Every `channels`-th sample from
// `alpha` on (alpha < 0: none) is left as it is. ToSrgb is within 1e-6 of
// max of the exact curve (a table with linear interpolation).
void RowToLinear(float* v, size_t n, float max, int channels, int alpha);
void RowToSrgb(float* v, size_t n, float max, int channels, int alpha);

// The colour planes of `img` (an 8- or 16-bit image's, in its scale) to
// linear and back; alpha untouched, float images left as they are.
void ImageToLinear(Image& img);
void ImageToSrgb(Image& img, Depth scale_of);

}  // namespace convcorr::core

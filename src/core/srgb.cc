#include "core/srgb.h"

#include <cmath>
#include <vector>

namespace convcorr::core {

double SrgbToLinear(double e) {
  if (e < 0) return -SrgbToLinear(-e);
  return e <= 0.04045 ? e / 12.92 : std::pow((e + 0.055) / 1.055, 2.4);
}

double LinearToSrgb(double l) {
  if (l < 0) return -LinearToSrgb(-l);
  return l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1.0 / 2.4) - 0.055;
}

namespace {

// LinearToSrgb on [0, 1] at kSteps + 1 points: between two of them the
// curve bends by at most h^2 / 8 max|f''|, below 1e-7 for h = 2^-16 (f''
// is largest just above 0.0031308, where it is about -2400).
constexpr int kSteps = 1 << 16;

const std::vector<float>& EncodeTable() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kSteps + 2);
    for (int i = 0; i <= kSteps; ++i) {
      t[i] = static_cast<float>(LinearToSrgb(static_cast<double>(i) / kSteps));
    }
    t[kSteps + 1] = t[kSteps];
    return t;
  }();
  return table;
}

float Encode01(float l, const std::vector<float>& table) {
  if (!(l >= 0.0f && l <= 1.0f)) {
    return static_cast<float>(LinearToSrgb(l));  // NaN stays NaN
  }
  const float at = l * kSteps;
  const int i = static_cast<int>(at);
  const float f = at - static_cast<float>(i);
  return table[i] + f * (table[i + 1] - table[i]);
}

// SrgbToLinear at every 8-bit and 16-bit level, in that depth's scale.
template <int kMax>
const std::vector<float>& DecodeTable() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kMax + 1);
    for (int i = 0; i <= kMax; ++i) {
      t[i] = static_cast<float>(kMax * SrgbToLinear(double{1} * i / kMax));
    }
    return t;
  }();
  return table;
}

float Decode(float v, float max) {
  // Whole levels of 8- and 16-bit images come from the tables.
  if (v >= 0.0f && v <= max && v == std::nearbyint(v)) {
    if (max == 255.0f) return DecodeTable<255>()[static_cast<int>(v)];
    if (max == 65535.0f) return DecodeTable<65535>()[static_cast<int>(v)];
  }
  return static_cast<float>(max * SrgbToLinear(double{v} / max));
}

}  // namespace

void RowToLinear(float* v, size_t n, float max, int channels, int alpha) {
  for (size_t i = 0; i < n; ++i) {
    if (alpha >= 0 && static_cast<int>(i % channels) == alpha) continue;
    v[i] = Decode(v[i], max);
  }
}

void RowToSrgb(float* v, size_t n, float max, int channels, int alpha) {
  const std::vector<float>& table = EncodeTable();
  const float inv = 1.0f / max;
  for (size_t i = 0; i < n; ++i) {
    if (alpha >= 0 && static_cast<int>(i % channels) == alpha) continue;
    v[i] = max * Encode01(v[i] * inv, table);
  }
}

void ImageToLinear(Image& img) {
  if (img.depth == Depth::kF32) return;
  const auto max = static_cast<float>(DepthMax(img.depth));
  for (Plane& p : img.color)
    RowToLinear(p.data.data(), p.data.size(), max, 1, -1);
}

void ImageToSrgb(Image& img, Depth scale_of) {
  if (scale_of == Depth::kF32) return;
  const auto max = static_cast<float>(DepthMax(scale_of));
  for (Plane& p : img.color)
    RowToSrgb(p.data.data(), p.data.size(), max, 1, -1);
}

}  // namespace convcorr::core

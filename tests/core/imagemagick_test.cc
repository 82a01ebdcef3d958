// --compat imagemagick's arithmetic (core/imagemagick.h) pinned to what
// Debian 12's ImageMagick 6.9.11 Q16 gave for the same 3x1 images:
// `convert in.png -morphology Correlate '3x1: ...' out.png` (and out.pgm,
// out.tif; -depth 16 for the quanta). The photo-sized comparisons against
// the tool itself are tests/oracle/compat_oracle.py.
#include <gtest/gtest.h>

#include <vector>

#include "core/filter.h"
#include "core/image.h"

namespace convcorr::core {
namespace {

Plane Row(std::vector<float> v) {
  Plane p(static_cast<int>(v.size()), 1);
  p.data = std::move(v);
  return p;
}

Image Gray(std::vector<float> v) {
  Image img;
  img.width = static_cast<int>(v.size());
  img.height = 1;
  img.color.push_back(Row(std::move(v)));
  return img;
}

// ImageMagick's filter for an 8-bit output (quanta of 257 per level),
// correlate with -virtual-pixel edge.
Image FilterAsImageMagick(const Image& in, const kernel::Kernel& k,
                          int threads = 1) {
  FilterParams params;
  params.border = {BorderMode::kReplicate};
  params.threads = threads;
  params.imagemagick = ImageMagickArithmetic{};
  return Filter(in, k, params);
}

std::vector<float> Quanta(const Plane& p) {
  std::vector<float> q;
  for (float v : p.data) q.push_back(v * 257.0f);
  return q;
}

// 0.123 * 257 * 3 + 0.456 * 257 * 4 + 0.421 * 257 * 167 is 18632.5, but
// ImageMagick's double sum of rounded products is 18632.499999999996, so
// its quantum is 18632: 72 in 8 bits. The same sum in float32 samples
// (what convcorr did before) lands on 18632.5 and gives 73.
TEST(ImageMagick, SumsProductsOfQuantaInDouble) {
  const Image in = Gray({3, 4, 167});
  const kernel::Kernel k(1, 3, {0.123, 0.456, 0.421});
  const Image out = FilterAsImageMagick(in, k);
  EXPECT_EQ(Quanta(out.color[0]), (std::vector<float>{879, 18632, 37766}));
  Image pnm = out;
  EXPECT_EQ(Quantize(pnm, Depth::kU8, Rounding::kImageMagick), 0u);
  EXPECT_EQ(pnm.color[0].data, (std::vector<float>{3, 72, 147}));
  // The PNG writer truncates: 37766 is 146.95 levels.
  Image png = out;
  EXPECT_EQ(Quantize(png, Depth::kU8, Rounding::kImageMagickPng), 0u);
  EXPECT_EQ(png.color[0].data, (std::vector<float>{3, 72, 146}));
  // Threads split rows; every sample is summed the same way.
  EXPECT_EQ(FilterAsImageMagick(in, k, 4).color[0], out.color[0]);
}

// The two 8-bit conversions of a quantum: ScaleQuantumToChar rounds
// (643 = 2.502 levels -> 3), SetImageDepth truncates (-> 2); quanta that
// are whole levels (771 = 3 * 257) agree. Alpha under the PNG writer is
// truncated as opacity, so 643 (opacity 64892, 252.5 levels -> 252) gives
// 255 - 252 = 3.
TEST(Quantize, ImageMagickPngTruncatesQuantaAndAlphaAsOpacity) {
  Image img = Gray({643.0f / 257, 770.0f / 257, 771.0f / 257, -1.0f, 300.0f});
  img.alpha = Row({643.0f / 257, 770.0f / 257, 771.0f / 257, 0.0f, 255.0f});
  Image rounded = img;
  EXPECT_EQ(Quantize(rounded, Depth::kU8, Rounding::kImageMagick), 2u);
  EXPECT_EQ(rounded.color[0].data, (std::vector<float>{3, 3, 3, 0, 255}));
  EXPECT_EQ(rounded.alpha->data, (std::vector<float>{3, 3, 3, 0, 255}));
  EXPECT_EQ(Quantize(img, Depth::kU8, Rounding::kImageMagickPng), 2u);
  EXPECT_EQ(img.color[0].data, (std::vector<float>{2, 2, 3, 0, 255}));
  EXPECT_EQ(img.alpha->data, (std::vector<float>{3, 3, 3, 0, 255}));
  // 16-bit outputs are the quanta themselves, whatever the writer.
  Image wide = Gray({1.5f, 70000.0f});
  EXPECT_EQ(Quantize(wide, Depth::kU16, Rounding::kImageMagickPng), 1u);
  EXPECT_EQ(wide.color[0].data, (std::vector<float>{2, 65535}));
}

// With alpha, each colour product is weighted by the tap's alpha and the
// sum divided by the weights' sum; alpha is filtered as opacity. RGBA
// (200,100,0,255), (50,60,70,0), (10,20,30,128) with 0.25, 0.5, 0.25:
// ImageMagick's -depth 16 quanta, its PNG (truncating) and its PGM/TIFF
// (rounding) 8-bit samples.
TEST(ImageMagick, WeightsColoursByAlphaAndFiltersOpacity) {
  Image in;
  in.width = 3;
  in.height = 1;
  in.color = {Row({200, 50, 10}), Row({100, 60, 20}), Row({0, 70, 30})};
  in.alpha = Row({255, 0, 128});
  const Image out =
      FilterAsImageMagick(in, kernel::Kernel(1, 3, {0.25, 0.5, 0.25}));
  EXPECT_EQ(Quanta(out.color[0]), (std::vector<float>{51400, 35081, 2570}));
  EXPECT_EQ(Quanta(out.color[1]), (std::vector<float>{25700, 18829, 5140}));
  EXPECT_EQ(Quanta(out.color[2]), (std::vector<float>{0, 2577, 7710}));
  EXPECT_EQ(Quanta(*out.alpha), (std::vector<float>{49151, 24608, 24672}));
  Image png = out;
  Quantize(png, Depth::kU8, Rounding::kImageMagickPng);
  EXPECT_EQ(png.color[0].data, (std::vector<float>{200, 136, 10}));
  EXPECT_EQ(png.color[1].data, (std::vector<float>{100, 73, 20}));
  EXPECT_EQ(png.color[2].data, (std::vector<float>{0, 10, 30}));
  EXPECT_EQ(png.alpha->data, (std::vector<float>{192, 96, 96}));
  Image rounded = out;
  Quantize(rounded, Depth::kU8, Rounding::kImageMagick);
  EXPECT_EQ(rounded.color[0].data, (std::vector<float>{200, 137, 10}));
  EXPECT_EQ(rounded.alpha->data, (std::vector<float>{191, 96, 96}));
}

// An opaque image with alpha is divided by the kernel's sum (0.9 here),
// where the same image without alpha is not; a fully transparent window
// gives colour 0, not NaN (PerceptibleReciprocal), and an opacity of
// 0.9 * 65535: alpha 6553 (ImageMagick's txt: output).
TEST(ImageMagick, OpaqueAlphaNormalisesAndTransparentGivesZero) {
  const kernel::Kernel box(1, 3, {0.3, 0.3, 0.3});
  Image opaque = Gray({100, 100, 100});
  EXPECT_EQ(Quanta(FilterAsImageMagick(opaque, box).color[0]),
            (std::vector<float>{23130, 23130, 23130}));  // 90 levels
  opaque.alpha = Row({255, 255, 255});
  EXPECT_EQ(Quanta(FilterAsImageMagick(opaque, box).color[0]),
            (std::vector<float>{25700, 25700, 25700}));  // 100 levels
  Image clear = Gray({100, 200, 50});
  clear.alpha = Row({0, 0, 0});
  const Image out = FilterAsImageMagick(clear, box);
  EXPECT_EQ(out.color[0].data, (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(Quanta(*out.alpha), (std::vector<float>{6553, 6553, 6553}));
}

}  // namespace
}  // namespace convcorr::core

// Kernels drawn as images (src/kernel/image_kernel.h): the file an @FILE
// spec names, the weights normalised to sum 1 or kept raw, the default
// anchor, and every refusal with its exact message (docs/kernels.md,
// "Image kernels"). Decoding is io's and is tested there (WeightPlane)
// and through the binary (tests/cli/cli_psf_test.cc).
#include "kernel/image_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/kernel.h"

namespace convcorr::kernel {
namespace {

// The message of the kernel spec error `f` throws, or why it is not one.
std::string SpecMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kKernelSpec) return "(wrong kind)";
    return e.what();
  }
  return "(no error)";
}

TEST(ImageKernel, SpecFileNameIsWhatParseSpecReads) {
  EXPECT_EQ(SpecFileName("@psf.png"),
            std::optional<std::string_view>("psf.png"));
  EXPECT_EQ(SpecFileName("  @ dir/psf.PNG \n"),
            std::optional<std::string_view>("dir/psf.PNG"));
  EXPECT_EQ(SpecFileName("@k.txt"), std::optional<std::string_view>("k.txt"));
  EXPECT_EQ(SpecFileName("@"), std::nullopt);
  EXPECT_EQ(SpecFileName("@  "), std::nullopt);
  EXPECT_EQ(SpecFileName("sobel-x"), std::nullopt);
  EXPECT_EQ(SpecFileName("1,2,3"), std::nullopt);
  EXPECT_EQ(SpecFileName("x@psf.png"), std::nullopt);
}

TEST(ImageKernel, NormalisedToSumOneWithTheCentreAnchor) {
  // 3 columns x 2 rows, as an 8-bit image gives them (samples / 255).
  const std::vector<double> samples = {0, 51 / 255.0, 102 / 255.0,
                                       0, 0,          102 / 255.0};
  const Kernel k = KernelFromImage("@p.png", "p.png", 2, 3, samples, false);
  EXPECT_EQ(k.rows(), 2);
  EXPECT_EQ(k.cols(), 3);
  // The anchor of any kernel: (cols/2, rows/2), so an even side takes the
  // tap right of / below the middle.
  EXPECT_EQ(k.anchor_x(), 1);
  EXPECT_EQ(k.anchor_y(), 1);
  EXPECT_EQ(k.offset(), 0);
  const std::vector<double> want = {0, 0.2, 0.4, 0, 0, 0.4};
  double total = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(k.weights()[i], want[i], 1e-15) << i;
    total += k.weights()[i];
  }
  EXPECT_NEAR(total, 1.0, 1e-15);
  // Each weight is sample / sum: a sum other than 1 divides.
  const Kernel half =
      KernelFromImage("@p.png", "p.png", 1, 2, {0.5, 1.5}, false);
  EXPECT_EQ(half.weights(), (std::vector<double>{0.25, 0.75}));
  // Negative samples (a float image) are divided by the sum as well.
  const Kernel signed_k =
      KernelFromImage("@p.pfm", "p.pfm", 1, 3, {-0.5, 2, 0.5}, false);
  EXPECT_EQ(signed_k.weights(), (std::vector<double>{-0.25, 1, 0.25}));
}

TEST(ImageKernel, RawKeepsTheSamples) {
  const std::vector<double> samples = {0, 0.2, 0.4, 1, 0.25, 3};
  const Kernel k = KernelFromImage("@p.png", "p.png", 3, 2, samples, true);
  EXPECT_EQ(k.weights(), samples);
  EXPECT_EQ(k.anchor_x(), 1);
  EXPECT_EQ(k.anchor_y(), 1);
  // All black is a zero kernel when raw, as the spec "0,0;0,0" is.
  const Kernel zero =
      KernelFromImage("@b.png", "b.png", 2, 2, {0, 0, 0, 0}, true);
  EXPECT_EQ(zero.weights(), (std::vector<double>{0, 0, 0, 0}));
  // A single pixel is the identity either way.
  EXPECT_EQ(KernelFromImage("@d.png", "d.png", 1, 1, {0.5}, false).weights(),
            std::vector<double>{1.0});
}

TEST(ImageKernel, ASumOfZeroCannotBeNormalised) {
  EXPECT_EQ(
      SpecMessage([] {
        KernelFromImage("@black.png", "black.png", 2, 2, {0, 0, 0, 0}, false);
      }),
      "kernel spec '@black.png': image 'black.png' is all black: its "
      "samples sum to 0, so they cannot be normalised to sum 1");
  EXPECT_EQ(SpecMessage([] {
              KernelFromImage("@dog.pfm", "dog.pfm", 1, 3, {-1, 2, -1}, false);
            }),
            "kernel spec '@dog.pfm': the samples of image 'dog.pfm' sum to "
            "0, so they cannot be normalised to sum 1; --psf-raw uses them "
            "as they are");
  EXPECT_EQ(
      KernelFromImage("@dog.pfm", "dog.pfm", 1, 3, {-1, 2, -1}, true).weights(),
      (std::vector<double>{-1, 2, -1}));
}

TEST(ImageKernel, SamplesMustBeFinite) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (bool raw : {false, true}) {
    EXPECT_EQ(
        SpecMessage([&] {
          KernelFromImage("@f.pfm", "f.pfm", 2, 3, {0, 1, 0, 0, 0, nan}, raw);
        }),
        "kernel spec '@f.pfm': image 'f.pfm' has a sample that is not a "
        "finite number at x=2 y=1");
    EXPECT_EQ(SpecMessage([&] {
                KernelFromImage("@f.pfm", "f.pfm", 1, 2, {-inf, 1}, raw);
              }),
              "kernel spec '@f.pfm': image 'f.pfm' has a sample that is not a "
              "finite number at x=0 y=0");
  }
  // Finite samples whose sum is not.
  const double big = std::numeric_limits<double>::max();
  EXPECT_EQ(SpecMessage([&] {
              KernelFromImage("@f.pfm", "f.pfm", 1, 2, {big, big}, true);
            }),
            "kernel spec '@f.pfm': the sum of |weights| must be finite");
  // A sum so small that the quotients overflow.
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(SpecMessage([&] {
              KernelFromImage("@f.pfm", "f.pfm", 1, 3, {1, -1, tiny}, false);
            }),
            "kernel spec '@f.pfm': the sum of |weights| must be finite");
}

TEST(ImageKernel, TheKernelSizeLimitHolds) {
  EXPECT_NO_THROW(CheckImageKernelSize("@p.png", "p.png", 1, 1));
  EXPECT_NO_THROW(
      CheckImageKernelSize("@p.png", "p.png", kMaxKernelSide, kMaxKernelSide));
  EXPECT_EQ(
      SpecMessage([] { CheckImageKernelSize("@w.png", "w.png", 1026, 3); }),
      "kernel spec '@w.png': image 'w.png' is 1026x3: each side must be 1 to "
      "1025 (the largest kernel)");
  EXPECT_EQ(
      SpecMessage([] { CheckImageKernelSize("@t.png", "t.png", 5, 100000); }),
      "kernel spec '@t.png': image 't.png' is 5x100000: each side must be 1 "
      "to 1025 (the largest kernel)");
  EXPECT_EQ(SpecMessage([] { CheckImageKernelSize("@z.png", "z.png", 0, 0); }),
            "kernel spec '@z.png': image 'z.png' is 0x0: each side must be 1 "
            "to 1025 (the largest kernel)");
  // KernelFromImage checks it too.
  EXPECT_EQ(SpecMessage([] {
              KernelFromImage("@w.png", "w.png", 1, 1026,
                              std::vector<double>(1026, 1.0), false);
            }),
            "kernel spec '@w.png': image 'w.png' is 1026x1: each side must be "
            "1 to 1025 (the largest kernel)");
}

TEST(ImageKernel, FileSizeAndUnreadableMessages) {
  EXPECT_NO_THROW(CheckKernelFileSize("@p.png", "p.png", kMaxKernelFileBytes));
  EXPECT_EQ(SpecMessage([] {
              CheckKernelFileSize("@p.png", "p.png", kMaxKernelFileBytes + 1);
            }),
            "kernel spec '@p.png': file 'p.png' is larger than 64 MiB");
  EXPECT_EQ(SpecMessage([] {
              ThrowUnreadableImageKernel("@ p.png", "p.png",
                                         "truncated PNG (the image data ends "
                                         "early)");
            }),
            "kernel spec '@ p.png': cannot read image 'p.png': truncated PNG "
            "(the image data ends early)");
  // The file name is quoted as every spec quote is: control characters
  // shown as spaces.
  EXPECT_EQ(SpecMessage([] {
              ThrowUnreadableImageKernel("@a\nb.png", "a\nb.png",
                                         "no such file or directory");
            }),
            "kernel spec '@a b.png': cannot read image 'a b.png': no such file "
            "or directory");
}

}  // namespace
}  // namespace convcorr::kernel

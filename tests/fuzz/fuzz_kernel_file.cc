// libFuzzer harness: the readers of kernel files made by other tools
// (NumPy .npy, libvips .mat), which take bytes from anywhere. The first
// byte picks the reader; the rest is the file. Either a valid kernel
// (size within 1..1025, anchor inside, finite weights and offset) or one
// kKernelSpec error of one line; and what parses must write back in the
// same format and read back to the same kernel.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "fuzz_check.h"
#include "kernel/formats.h"
#include "kernel/kernel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  if (size == 0) return 0;
  const bool npy = data[0] % 2 == 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  const std::string_view spec = npy ? "@fuzz.npy" : "@fuzz.mat";
  const auto read = [&](std::string_view b) {
    return npy ? kernel::internal::ReadNpy(spec, spec.substr(1), b)
               : kernel::internal::ReadVipsMat(spec, spec.substr(1), b);
  };
  std::optional<kernel::Kernel> k;
  try {
    k = read(bytes);
  } catch (const Error& e) {
    fuzz::Require(e.kind() == ErrorKind::kKernelSpec,
                  "a kernel file error is not of kind kKernelSpec");
    fuzz::RequireOneLine(e.what(), "kernel spec '@fuzz.");
    return 0;
  }
  fuzz::RequireWellFormed(*k);
  // Written back in its own format, it reads back the same (the .mat form
  // writes integers over a scale: equal to within that rounding).
  const std::string again = kernel::WriteKernel(
      *k, npy ? kernel::KernelFormat::kNpy : kernel::KernelFormat::kVips, spec);
  const kernel::Kernel back = read(again);
  fuzz::Require(back.rows() == k->rows() && back.cols() == k->cols() &&
                    back.offset() == k->offset(),
                "a kernel written back reads back with another shape");
  for (size_t i = 0; i < k->weights().size(); ++i) {
    const double a = k->weights()[i];
    const double b = back.weights()[i];
    fuzz::Require(npy ? a == b : std::abs(a - b) <= 1e-12 * std::abs(a),
                  "a kernel written back reads back with other weights");
  }
  return 0;
}

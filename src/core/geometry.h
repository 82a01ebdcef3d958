// Where an output lies on its input: the output's size for `same`, `valid`
// and `full`, and the input position its first window starts at. Shared by
// the reference and the fast engine.
#pragma once

#include "kernel/kernel.h"

namespace convcorr::core {

enum class OutputSize { kSame, kValid, kFull };

// Output size of a plane of `width` x `height` filtered with `k` (valid needs
// k no larger than the image: returns 0x0 otherwise).
struct Extent {
  int width = 0;
  int height = 0;
};
Extent OutputExtent(int width, int height, const kernel::Kernel& k,
                    OutputSize size);

// Offset of the output origin in input coordinates: output (y, x) reads the
// input window whose top-left tap is at (y + origin.y, x + origin.x).
struct Origin {
  int x = 0;
  int y = 0;
};
Origin OutputOrigin(const kernel::Kernel& k, OutputSize size);

}  // namespace convcorr::core

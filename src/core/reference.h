// The reference correlation: the oracle every fast path is checked against.
#pragma once

#include "core/border.h"
#include "core/geometry.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// Reference correlation of one plane: plain loops, accumulation in double,
// never optimised: the oracle for every fast path.
//   same:  O(y,x) = sum K(i,j) I(y+i-ay, x+j-ax)
//   valid: O(y,x) = sum K(i,j) I(y+i, x+j)
//   full:  O(y,x) = sum K(i,j) I(y+i-(kh-1), x+j-(kw-1))
// Samples outside the plane come from `border`. Rows are split over
// `threads` threads (0 = all cores); the result does not depend on it.
Plane CorrelateReference(const Plane& in, const kernel::Kernel& k,
                         const Border& border, OutputSize size, int threads);

}  // namespace convcorr::core

// The direct and sparse strategies (core/direct.cc) against the reference
// on every SIMD target, over widths that exercise the 4-vector blocks and
// the single vectors of every vector length, with all borders, sizes,
// anchors, kernel shapes and thread counts (CheckMethodAgainstReference).
#include <gtest/gtest.h>

#include "core/engine_util.h"
#include "core/filter.h"

namespace {

using convcorr::core::Method;
using convcorr::testing::CheckMethodAgainstReference;

TEST_P(SimdTest, DirectAgreesWithReference) {
  CheckMethodAgainstReference(Method::kDirect, 2026);
}

TEST_P(SimdTest, SparseAgreesWithReference) {
  CheckMethodAgainstReference(Method::kSparse, 31);
}

}  // namespace

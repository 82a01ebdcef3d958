// Helpers for the tests of the fast engine (the *_test.cc files named after
// src/core's strategies, Correlator, PairCorrelator, the store and the row
// kernels): error bounds against the reference, a comparison that reports
// the first bad pixel, random kernels of a given structure, typed images,
// and SimdTest, the fixture that runs a test on every SIMD target.
#pragma once

#include <gtest/gtest.h>
#include <hwy/tests/hwy_gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "core/filter.h"
#include "kernel/kernel.h"

namespace convcorr::testing {

// Bound on |simd - reference|: the SIMD path accumulates kh*kw products in
// float32 with FMA, each step rounding by at most u = 2^-24 of a partial sum
// no larger than sum |K| max|I|; the reference adds one final rounding.
double Bound(const kernel::Kernel& k, double max_input);

// Bound on |fft - reference|: the float32 transforms round in each of their
// log2(nh*nw) stages (at most 21 for the tile sizes the engine picks, so 24
// here) by about 2^-24 of a magnitude no larger than sum|K| max|I| per
// output; the factor 8 covers the forward and inverse transforms and the
// spectrum product. Observed errors stay below a tenth of this bound.
double FftBound(const kernel::Kernel& k, double max_input);

// Compares and reports the first bad pixel.
::testing::AssertionResult Agrees(const core::Plane& simd,
                                  const core::Plane& ref, double bound);

// A random kernel with about a third of its taps zero, so that the sparse
// strategy has zeros to skip.
kernel::Kernel SparseKernel(int kh, int kw, std::mt19937& rng);

// A random rank-1 kernel: the outer product of random column and row.
kernel::Kernel OuterProduct(int kh, int kw, std::mt19937& rng);

// A random kernel of rank `rank`: a sum of that many random outer products.
kernel::Kernel SumOfOuterProducts(int kh, int kw, int rank, std::mt19937& rng);

// `method` against the reference over widths that exercise the 4-vector
// blocks and the single vectors of every vector length, kernel shapes,
// anchors, borders, output sizes and thread counts.
void CheckMethodAgainstReference(core::Method method, uint32_t seed);

// Samples of one type in memory, planar (one buffer per channel) or
// interleaved (one buffer, step 3), and the views of them.
struct TypedImage {
  core::Depth type;
  bool interleaved;
  int width, height;
  std::vector<std::vector<std::byte>> buffers;

  TypedImage(core::Depth t, bool inter, int w, int h);
  std::byte* At(int c, int y, int x);
  void Set(int c, int y, int x, float v);
  float Get(int c, int y, int x);
  core::ImageView View();
  core::ConstImageView ConstView();
};

}  // namespace convcorr::testing

// The engine's tests on every SIMD target compiled into it that this CPU
// can run (Highway's per-target tests), the scalar fallback included: one
// fixture for all the files, instantiated once in correlate_simd_test.cc,
// so each test is SimdTestGroup/SimdTest.Name/TARGET. Outside namespace
// convcorr: Highway's instantiation macro names ::testing unqualified,
// which convcorr::testing would hide.
class SimdTest : public hwy::TestWithParamTarget {};

// The stops of the diverging colour map (DivergingColor, colormap.cc), for
// the heat map's SIMD row kernel (rows_simd.cc) too. Private to diff.
#pragma once

namespace convcorr::diff::detail {

struct Stop {
  double t;
  double r, g, b;
};

// ColorBrewer RdBu stops, with pure white at 0 so that "no difference" is
// exactly white; lightness falls monotonically towards both ends. Stop i
// sits at t = i / 4.
inline constexpr Stop kPositive[] = {{0.0, 255, 255, 255},
                                     {0.25, 253, 219, 199},
                                     {0.5, 244, 165, 130},
                                     {0.75, 214, 96, 77},
                                     {1.0, 178, 24, 43}};
inline constexpr Stop kNegative[] = {{0.0, 255, 255, 255},
                                     {0.25, 209, 229, 240},
                                     {0.5, 146, 197, 222},
                                     {0.75, 67, 147, 195},
                                     {1.0, 33, 102, 172}};

}  // namespace convcorr::diff::detail

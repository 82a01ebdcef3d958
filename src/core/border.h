// Border modes: how samples outside the image are made up.
#pragma once

namespace convcorr::core {

enum class BorderMode { kReflect101, kReflect, kReplicate, kConstant, kWrap };

struct Border {
  BorderMode mode = BorderMode::kReflect101;
  float value = 0.0f;  // for kConstant
};

// Maps a coordinate p (any integer) to an index in [0, n) for every mode but
// kConstant, extending the row repeatedly as SciPy does for any distance.
// Returns -1 for kConstant when p is outside [0, n). n >= 1.
int BorderIndex(int p, int n, BorderMode mode);

}  // namespace convcorr::core

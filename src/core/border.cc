#include "core/border.h"

namespace convcorr::core {

namespace {

// Non-negative remainder.
int Mod(int p, int period) {
  const int m = p % period;
  return m < 0 ? m + period : m;
}

}  // namespace

int BorderIndex(int p, int n, BorderMode mode) {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case BorderMode::kConstant:
      return -1;
    case BorderMode::kReplicate:
      return p < 0 ? 0 : n - 1;
    case BorderMode::kWrap:
      return Mod(p, n);
    case BorderMode::kReflect: {
      // cba|abcdefgh|hgf: period 2n, the second half mirrored.
      const int m = Mod(p, 2 * n);
      return m < n ? m : 2 * n - 1 - m;
    }
    case BorderMode::kReflect101: {
      // dcb|abcdefgh|gfe: period 2n-2; a single sample repeats itself.
      if (n == 1) return 0;
      const int m = Mod(p, 2 * n - 2);
      return m < n ? m : 2 * n - 2 - m;
    }
  }
  return -1;
}

}  // namespace convcorr::core

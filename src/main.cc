#include <malloc.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  // Freed image buffers stay with the process for the next file: without
  // this, glibc returns blocks of several MB to the kernel after every
  // file (its mmap and trim thresholds adapt upwards only so far), and the
  // next file faults the same pages in again, zeroed: about 70% of a
  // full-HD photo's CPU time, and what kept --jobs 2 from scaling
  // (docs/performance.md, "Photo I/O"). 32 MiB is the largest threshold
  // glibc accepts on 64-bit; larger buffers are still mapped per use.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return convcorr::cli::Main(argc, argv);
}

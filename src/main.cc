#include <malloc.h>
#include <sys/resource.h>

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
  // A batch keeps each job's outputs open until they are flushed and
  // renamed (up to five per compare job, for every file in flight): allow
  // as many descriptors as the hard limit does.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return convcorr::cli::Main(argc, argv);
}

// The benchmarks' clock: CPU seconds of this process (wall time is unreliable on a shared machine).
#pragma once

#include <ctime>

namespace bench {

inline double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline double seconds_since(double t0) { return cpu_now() - t0; }

} // namespace bench

// Progress of a sweep on stderr: one live line on a terminal, a log line every `interval_s` otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace tomosweep {

class Progress {
public:
  /// `total` jobs of which `already` were done before this run (resumed); `tty` selects the live line.
  Progress(std::size_t total, std::size_t already, bool tty, double interval_s = 10.0, std::FILE* out = stderr);
  /// Record `done` jobs finished in this run, `failed` of them failed.
  void update(std::size_t done, std::size_t failed);
  /// Final line.
  void finish();
  /// "12/40 done, 1 failed, 3.2 jobs/min, 8:45 left" for the given counts and elapsed seconds.
  static std::string line(std::size_t done, std::size_t total, std::size_t failed, double elapsed_s,
                          std::size_t done_this_run);

private:
  std::size_t total_, already_, done_ = 0, failed_ = 0;
  bool tty_;
  double interval_s_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
};

} // namespace tomosweep

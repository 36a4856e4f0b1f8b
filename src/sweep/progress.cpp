#include "sweep/progress.hpp"

#include <cmath>
#include <cstdio>

namespace tomosweep {
namespace {

std::string clock_text(double s) {
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

} // namespace

Progress::Progress(std::size_t total, std::size_t already, bool tty, double interval_s, std::FILE* out)
    : total_(total), already_(already), tty_(tty), interval_s_(interval_s), out_(out),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

std::string Progress::line(std::size_t done, std::size_t total, std::size_t failed, double elapsed_s,
                           std::size_t done_this_run) {
  char buf[160];
  const double rate = elapsed_s > 0 ? 60.0 * static_cast<double>(done_this_run) / elapsed_s : 0.0;
  std::string left = "--";
  if (done_this_run > 0 && done < total)
    left = clock_text(elapsed_s / static_cast<double>(done_this_run) * static_cast<double>(total - done));
  else if (done >= total)
    left = "0:00";
  std::snprintf(buf, sizeof buf, "%zu/%zu done, %zu failed, %.1f jobs/min, %s left", done, total, failed, rate,
                left.c_str());
  return buf;
}

void Progress::update(std::size_t done, std::size_t failed) {
  done_ = done;
  failed_ = failed;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (since < 0.2 && done_ + already_ < total_) return;
    std::fprintf(out_, "\r\033[K%s", line(done_ + already_, total_, failed_, elapsed, done_).c_str());
  } else {
    if (since < interval_s_) return;
    std::fprintf(out_, "tomosweep: %s\n", line(done_ + already_, total_, failed_, elapsed, done_).c_str());
  }
  std::fflush(out_);
  last_ = now;
}

void Progress::finish() {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(out_, "%stomosweep: %s in %s\n", tty_ ? "\r\033[K" : "",
               line(done_ + already_, total_, failed_, elapsed, done_).c_str(), clock_text(elapsed).c_str());
  std::fflush(out_);
}

} // namespace tomosweep

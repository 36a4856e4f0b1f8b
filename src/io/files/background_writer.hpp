// Writing files while the computation goes on: tasks run one after another on a thread of their own, so that a
// job's disk time (each large file is written with O_DIRECT and fsync'ed, atomic_file.hpp) overlaps its next
// stages instead of adding to them. tomosweep simulate writes a job's volumes this way as each becomes final.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace tomosweep {

class BackgroundWriter {
public:
  BackgroundWriter();
  /// Waits for the tasks posted so far (their errors are dropped: call rethrow() first to see them).
  ~BackgroundWriter();
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  /// Queue a task. After a task has thrown, the ones queued after it are skipped.
  void post(std::function<void()> task);
  /// Block until every task posted so far has run (or been skipped). Never throws.
  void drain() noexcept;
  /// drain(), then throw the first task's exception, if any (once).
  void rethrow();

private:
  void loop();
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::function<void()>> tasks_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

} // namespace tomosweep

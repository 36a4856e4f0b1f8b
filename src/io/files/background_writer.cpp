#include "io/files/background_writer.hpp"

#include <utility>

namespace tomosweep {

BackgroundWriter::BackgroundWriter() : thread_([this] { loop(); }) {}

BackgroundWriter::~BackgroundWriter() {
  drain();
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BackgroundWriter::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void BackgroundWriter::drain() noexcept {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return tasks_.empty() && !busy_; });
}

void BackgroundWriter::rethrow() {
  drain();
  std::exception_ptr e;
  {
    std::lock_guard lock(mutex_);
    e = std::exchange(error_, nullptr);
  }
  if (e) std::rethrow_exception(e);
}

void BackgroundWriter::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (tasks_.empty()) return; // stop_, and nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    const bool skip = error_ != nullptr;
    busy_ = true;
    lock.unlock();
    std::exception_ptr e;
    if (!skip) {
      try {
        task();
      } catch (...) {
        e = std::current_exception();
      }
    }
    task = nullptr;
    lock.lock();
    busy_ = false;
    if (e && !error_) error_ = e;
    if (tasks_.empty()) idle_.notify_all();
  }
}

} // namespace tomosweep

// io/files/background_writer: tasks in order on a thread of their own, errors, draining; also run under
// ThreadSanitizer (label tsan).
#include "io/files/background_writer.hpp"

#include "core/errors.hpp"
#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace tomosweep;
using test_util::error_of;

TEST(background_writer, runs_tasks_in_order_and_reports_the_first_error_once) {
  BackgroundWriter w;
  std::vector<int> ran; // written by the writer's thread only, read after drain()
  for (int i = 0; i < 5; ++i) w.post([&ran, i] { ran.push_back(i); });
  w.drain();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_NO_THROW(w.rethrow());
  // A task that throws: the ones queued after it are skipped, its error comes out of rethrow() once.
  w.post([] { fail_io("cannot write /no/such/file: disk full"); });
  w.post([&ran] { ran.push_back(99); });
  EXPECT_EQ(error_of([&] { w.rethrow(); }), "cannot write /no/such/file: disk full");
  EXPECT_EQ(ran.size(), 5u);
  EXPECT_NO_THROW(w.rethrow());
  // And it goes on working.
  w.post([&ran] { ran.push_back(5); });
  w.rethrow();
  EXPECT_EQ(ran.back(), 5);
}

TEST(background_writer, tasks_read_what_the_poster_still_reads) {
  // As tomosweep simulate: the job's thread goes on reading a volume that a task writes out.
  std::vector<float> volume(1 << 20, 1.0f);
  double written = 0, read = 0;
  BackgroundWriter w;
  w.post([&] {
    for (float v : volume) written += v;
  });
  for (float v : volume) read += v;
  w.rethrow();
  EXPECT_EQ(written, read);
}

TEST(background_writer, destruction_waits_for_the_tasks) {
  std::atomic<int> done{0};
  {
    BackgroundWriter w;
    for (int i = 0; i < 3; ++i)
      w.post([&done] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++done;
      });
  }
  EXPECT_EQ(done.load(), 3);
}


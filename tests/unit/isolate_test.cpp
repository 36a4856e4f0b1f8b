// run_isolated (src/cli/isolate.hpp): a reader run in a child process; its crash, or a loop that burns CPU,
// becomes one line on stderr and exit code 1, and a normal end passes its exit code and stderr on unchanged.
#include "cli/isolate.hpp"
#include "core/errors.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

using tomosweep::cli::run_isolated;

namespace {

/// Exit code and stderr of run_isolated(file, body, cpu_limit_s), stderr captured through a temporary file.
std::pair<int, std::string> isolated(const std::function<int()>& body) {
  std::fflush(stderr);
  testing::internal::CaptureStderr();
  const int rc = run_isolated("corpus.h5", body);
  return {rc, testing::internal::GetCapturedStderr()};
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true; // the sanitizer's report of the child's crash is kept before the line
#else
constexpr bool kSanitized = false;
#endif

std::string last_line(const std::string& s) {
  const std::string t = s.substr(0, s.size() - (!s.empty() && s.back() == '\n'));
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1) + "\n";
}

} // namespace

TEST(run_isolated, passes_exit_code_and_stderr_of_a_normal_end) {
  auto [rc, err] = isolated([] {
    std::fputs("tomosweep: a warning\n", stderr);
    return 3;
  });
  EXPECT_EQ(rc, 3);
  EXPECT_EQ(err, "tomosweep: a warning\n");
}

TEST(run_isolated, reports_what_the_child_throws_in_one_line) {
  auto [rc, err] = isolated([]() -> int { tomosweep::fail("corpus.h5: no job 7 in the corpus"); });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err, "tomosweep: error: corpus.h5: no job 7 in the corpus\n");
}

TEST(run_isolated, a_crash_of_the_child_is_one_line) {
  auto [rc, err] = isolated([]() -> int {
    std::fputs("free(): invalid pointer\n", stderr); // what glibc prints on its way down
    std::raise(SIGSEGV);
    return 0;
  });
  EXPECT_EQ(rc, 1);
  const std::string line = "tomosweep: error: corpus.h5: reading it crashed the HDF5 library (Segmentation fault "
                           "(signal 11)): the file is damaged\n";
  if (kSanitized) // the sanitizer reports the SEGV, then aborts (tools/test.sh: ASAN_OPTIONS=abort_on_error=1)
    EXPECT_EQ(last_line(err).rfind("tomosweep: error: corpus.h5: reading it crashed the HDF5 library (", 0), 0u) << err;
  else
    EXPECT_EQ(err, line);
}

TEST(run_isolated, a_child_that_spins_is_stopped_at_its_cpu_limit) {
  auto [rc, err] = isolated([] {
    tomosweep::cli::allow_cpu_seconds(1);
    volatile unsigned long n = 0;
    for (;;) n = n + 1;
    return 0;
  });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(last_line(err), "tomosweep: error: corpus.h5: reading it used up the CPU time it was allowed (a loop inside "
                            "the HDF5 library on damaged metadata): the file is damaged\n");
}

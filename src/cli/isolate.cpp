#include "cli/isolate.hpp"

#include "core/errors.hpp"
#include "core/system.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>

namespace tomosweep::cli {
namespace {

std::string signal_name(int sig) {
  const char* d = strsignal(sig);
  std::string s = d ? d : "signal";
  s += " (signal " + std::to_string(sig) + ")";
  if (sig == SIGKILL) s += ", perhaps the system ran out of memory";
  return s;
}

/// Everything a pipe gives until its writer closes it.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0)
      out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      return out;
  }
}

// Under a sanitizer the child's report of the crash is what a developer wants: keep it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

} // namespace

void allow_cpu_seconds(double seconds) {
  rusage use{};
  getrusage(RUSAGE_SELF, &use);
  const double used = double(use.ru_utime.tv_sec + use.ru_stime.tv_sec) +
                      1e-6 * double(use.ru_utime.tv_usec + use.ru_stime.tv_usec);
  rlimit cpu{};
  getrlimit(RLIMIT_CPU, &cpu);
  const double soft = std::ceil(used + std::max(seconds, 1.0));
  cpu.rlim_cur = cpu.rlim_max == RLIM_INFINITY ? rlim_t(soft) : std::min(cpu.rlim_max, rlim_t(soft));
  setrlimit(RLIMIT_CPU, &cpu);
}

int report_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ReportedError&) {
    // printed where it was thrown
  } catch (const ConfigError& e) {
    if (launcher_rank() == 0) print_error(e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "tomosweep: error: out of memory (reduce the box, raise the pixel size, or run fewer "
                         "ranks per node)\n");
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  return 1;
}

int run_isolated(const std::string& file, const std::function<int()>& body) {
  std::cout.flush();
  std::fflush(nullptr);
  int err[2];
  if (pipe(err) != 0) return report_errors(body); // no pipe to be had: read in this process
  const pid_t pid = fork();
  if (pid < 0) {
    close(err[0]), close(err[1]);
    return report_errors(body);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // the reader ends with the command that waits for it
    const rlimit no_core{0, 0};       // a crash inside libhdf5 is reported in one line, not with a core file
    setrlimit(RLIMIT_CORE, &no_core);
    close(err[0]);
    dup2(err[1], STDERR_FILENO);
    close(err[1]);
    const int rc = report_errors(body);
    std::cout.flush();
    std::fflush(nullptr);
    _exit(rc);
  }
  // The child's stderr comes through here: passed on when it ends normally; when it dies of a signal, what
  // the C library printed on its way down ("free(): invalid pointer") gives way to the one line below.
  close(err[1]);
  const std::string messages = read_all(err[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      print_error(file + ": cannot wait for the reading process: " + std::strerror(errno));
      return 1;
    }
  if (WIFEXITED(status) || kSanitized) std::fwrite(messages.data(), 1, messages.size(), stderr);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  const int sig = WTERMSIG(status);
  if (sig == SIGXCPU)
    print_error(file + ": reading it used up the CPU time it was allowed (a loop inside the HDF5 library on "
                       "damaged metadata): the file is damaged");
  else
    print_error(file + ": reading it crashed the HDF5 library (" + signal_name(sig) + "): the file is damaged");
  return 1;
}

} // namespace tomosweep::cli

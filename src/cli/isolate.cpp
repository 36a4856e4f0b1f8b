#include "cli/isolate.hpp"

#include "core/errors.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <new>

namespace tomosweep::cli {
namespace {

/// Rank of this process under an MPI launcher, from its environment (0 when run alone).
int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}

std::string signal_name(int sig) {
  const char* d = strsignal(sig);
  std::string s = d ? d : "signal";
  s += " (signal " + std::to_string(sig) + ")";
  if (sig == SIGKILL) s += ", perhaps the system ran out of memory";
  return s;
}

} // namespace

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
  const pid_t pid = fork();
  if (pid < 0) return report_errors(body); // no child to be had: read in this process
  if (pid == 0) {
    const rlimit no_core{0, 0}; // a crash inside libhdf5 is reported in one line, not with a core file
    setrlimit(RLIMIT_CORE, &no_core);
    const int rc = report_errors(body);
    std::cout.flush();
    std::fflush(nullptr);
    _exit(rc);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      print_error(file + ": cannot wait for the reading process: " + std::strerror(errno));
      return 1;
    }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  print_error(file + ": reading it crashed the HDF5 library (" + signal_name(WTERMSIG(status)) +
              "): the file is damaged");
  return 1;
}

} // namespace tomosweep::cli

#include "core/system.hpp"

#include <csignal>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace tomosweep {

int ranks_on_node() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  return 1;
}

double memory_per_rank_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<double>(pages) * static_cast<double>(page) / ranks_on_node();
}

int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}

void fault_point(const char* name) {
  static const std::string spec = [] {
    const char* v = std::getenv("TOMOSWEEP_FAULT_AT");
    return std::string(v ? v : "");
  }();
  if (spec.empty()) return;
  const auto at = spec.find('@'), hash = spec.find('#');
  if (spec.substr(0, std::min(at, hash)) != name) return;
  if (at != std::string::npos && std::atoi(spec.c_str() + at + 1) != launcher_rank()) return;
  static int calls = 0;
  const int count = hash == std::string::npos ? 1 : std::atoi(spec.c_str() + hash + 1);
  if (++calls == count) std::raise(SIGKILL);
}

void prefault_for_write(void* p, std::size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (bytes < (std::size_t(1) << 20)) return;
  static const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE); // best effort
#else
  (void)p, (void)bytes;
#endif
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

} // namespace tomosweep

#include "core/system.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace tomosweep {

double memory_per_rank_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  int local = 1;
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = std::getenv(var)) {
      local = std::max(1, std::atoi(v));
      break;
    }
  return static_cast<double>(pages) * static_cast<double>(page) / local;
}

} // namespace tomosweep

#include "sweep/validate.hpp"

#include "core/errors.hpp"
#include "core/system.hpp"
#include "job/job.hpp"
#include "model/scene.hpp"

namespace tomosweep {

std::vector<std::size_t> first_replicates(const Sweep& sweep) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i)
    if (sweep.jobs[i].replicate == 0) out.push_back(i);
  return out;
}

void validate_jobs(const Sweep& sweep, const std::vector<std::size_t>& jobs, const StructureSet& structures) {
  const double available = memory_per_rank_bytes();
  for (std::size_t i : jobs) {
    const SweepJob& j = sweep.jobs.at(i);
    try {
      validate_model(j.config.model, structures);
      check_job_memory(j.config, available);
    } catch (const Error& e) {
      fail(sweep.file, ": job ", j.job_id, " (condition ", j.condition, "): ", e.what());
    }
  }
}

} // namespace tomosweep

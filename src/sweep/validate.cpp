#include "sweep/validate.hpp"

#include "core/errors.hpp"
#include "core/system.hpp"
#include "job/job.hpp"
#include "model/scene.hpp"

#include <set>

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

std::size_t check_counts(const Sweep& sweep, const StructureSet& structures) {
  bool model_swept = false;
  for (const std::string& a : sweep.axes) model_swept = model_swept || a.rfind("model.", 0) == 0;
  std::set<int> packed_replicates;
  std::size_t packed = 0;
  for (const SweepJob& j : sweep.jobs) {
    bool counted = false;
    for (const Layer& l : j.config.model.layers)
      for (const ParticleSpec& s : l.particles) counted = counted || s.count_min >= 0;
    if (!counted || (!model_swept && !packed_replicates.insert(j.replicate).second)) continue;
    try {
      build_scene(j.config.model, structures, j.config.run.seed, j.replicate);
    } catch (const Error& e) {
      fail(sweep.file, ": job ", j.job_id, " (condition ", j.condition, ", replicate ", j.replicate, "): ", e.what());
    }
    ++packed;
  }
  return packed;
}

} // namespace tomosweep

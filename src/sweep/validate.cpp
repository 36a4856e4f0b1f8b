#include "sweep/validate.hpp"

#include "core/errors.hpp"
#include "core/system.hpp"
#include "job/job.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"

#include <cmath>
#include <set>
#include <string>

namespace tomosweep {

std::vector<std::size_t> first_replicates(const Sweep& sweep) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i)
    if (sweep.jobs[i].replicate == 0) out.push_back(i);
  return out;
}

void validate_jobs(const Sweep& sweep, const std::vector<std::size_t>& jobs, const StructureSet& structures,
                   double budget, int max_ranks) {
  const double available = budget > 0 ? budget : memory_per_rank_bytes();
  for (std::size_t i : jobs) {
    const SweepJob& j = sweep.jobs.at(i);
    try {
      validate_model(j.config.model, structures);
      // With a budget from `run` or `check` a job over it needs a group (on one rank too: start more); `simulate`
      // (no budget given) has one rank and its machine's memory.
      const int g = max_ranks > 1 || budget > 0 ? job_group_size(j.config, available) : 1;
      if (g == 1) {
        check_job_memory(j.config, available);
      } else {
        const auto n = grid_shape(j.config.model.box_A, j.config.model.pixel_size_A);
        if (g == 0)
          fail("a job of ", n[0], " x ", n[1], " x ", n[2], " voxels does not fit ", std::lround(available / 1e6),
               " MB per rank even on a group of ", max_group_size(j.config),
               " ranks (one per 64 slices; raise model.pixel_size_A, shrink model.box_A or raise --memory-per-rank)");
        if (const std::string p = group_job_problem(j.config); !p.empty())
          fail("a job of ", n[0], " x ", n[1], " x ", n[2], " voxels needs a group of ", g, " ranks at ",
               std::lround(available / 1e6), " MB per rank, and ", p);
        if (g > max_ranks)
          fail("a job of ", n[0], " x ", n[1], " x ", n[2], " voxels needs a group of ", g, " ranks at ",
               std::lround(available / 1e6), " MB per rank, and the run has ", max_ranks,
               " (start more ranks or raise --memory-per-rank)");
      }
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

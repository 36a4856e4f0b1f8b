// tomosweep check: every job of a sweep validated (settings, structures, memory), nothing run.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "io/structures/structure_file.hpp"
#include "job/job.hpp"
#include "sweep/validate.hpp"

#include "core/system.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>

namespace tomosweep::cli {

int cmd_check(int argc, char** argv) {
  po::options_description named("options");
  std::string sweep_path, memory;
  named.add_options()("sweep", po::value(&sweep_path)->required(), "sweep or job file (TOML)")(
      "memory-per-rank", po::value(&memory),
      "memory a rank may use, e.g. 180M or 4G (default: the node's memory / the ranks on it): shows the rank group "
      "each larger job needs");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "check SWEEP.toml [--memory-per-rank SIZE]", named, pos, vm)) return 0;
  const double budget = memory.empty() ? memory_per_rank_bytes() : parse_memory_size("--memory-per-rank", memory);
  const Sweep sweep = load_sweep(sweep_path); // every job's settings, all problems at once
  const StructureSet structures = load_structures(sweep_sources(sweep), sweep_folder(sweep_path));
  validate_jobs(sweep, first_replicates(sweep), structures, budget, 1 << 20); // any number of ranks
  const std::size_t packed = check_counts(sweep, structures); // particle counts: pack the scenes that have them

  double worst_MB = 0;
  std::size_t worst_job = 0;
  for (const SweepJob& j : sweep.jobs) {
    const double mb = job_memory_bytes(j.config) / 1e6;
    if (mb > worst_MB) {
      worst_MB = mb;
      worst_job = j.job_id;
    }
  }
  std::printf("%s: ok\n", sweep_path.c_str());
  std::printf("  jobs          %zu (%zu conditions x %d replicates, mode %s)\n", sweep.jobs.size(), sweep.conditions,
              sweep.replicates, sweep.mode.c_str());
  std::printf("  structures    %zu loaded\n", structures.size());
  if (packed) std::printf("  counts        reached in %zu packed scene%s\n", packed, packed == 1 ? "" : "s");
  const ModelParams& m = sweep.jobs[worst_job].config.model;
  std::printf("  largest job   %llu: %.0f x %.0f x %.0f voxels at %.2f A, about %.0f MB of memory\n",
              static_cast<unsigned long long>(worst_job), std::round(m.box_A[0] / m.pixel_size_A),
              std::round(m.box_A[1] / m.pixel_size_A), std::round(m.box_A[2] / m.pixel_size_A), m.pixel_size_A,
              worst_MB);
  // The rank groups of the jobs larger than the budget (docs/sweep.md, "Rank groups").
  std::map<int, std::size_t> groups;
  for (const SweepJob& j : sweep.jobs) ++groups[job_group_size(j.config, budget)];
  std::printf("  per rank      %.0f MB of memory:", budget / 1e6);
  for (const auto& [g, n] : groups)
    std::printf(" %zu job%s on %d rank%s%s", n, n == 1 ? "" : "s", g, g == 1 ? "" : "s",
                g == groups.rbegin()->first ? "" : ",");
  if (const int g = groups.rbegin()->first; g > 1) {
    const SweepJob& big = *std::max_element(sweep.jobs.begin(), sweep.jobs.end(), [](const SweepJob& a, const SweepJob& b) {
      return job_memory_bytes(a.config) < job_memory_bytes(b.config);
    });
    std::printf(" (job %llu on %d ranks: about %.0f MB on each)", static_cast<unsigned long long>(big.job_id), g,
                group_memory_bytes(big.config, job_group_size(big.config, budget)) / 1e6);
  }
  std::printf("\n");
  return 0;
}

} // namespace tomosweep::cli

// Subcommands that work on one machine without MPI: simulate, check, structure.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "core/system.hpp"
#include "core/tilt_scheme.hpp"
#include "io/config/config_file.hpp"
#include "io/files/job_files.hpp"
#include "io/files/mrc.hpp"
#include "io/files/particles_file.hpp"
#include "io/structures/describe.hpp"
#include "io/structures/structure_file.hpp"
#include "io/sweep_file.hpp"
#include "job/job.hpp"
#include "model/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

namespace tomosweep::cli {
namespace fs = std::filesystem;

namespace {

std::string parent_dir(const std::string& path) {
  const fs::path p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

/// Peak resident memory of this process so far, MB (VmHWM; 0 where /proc is missing).
double peak_rss_MB() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kB = 0;
      status >> kB;
      return kB / 1024;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

} // namespace

int cmd_simulate(int argc, char** argv) {
  po::options_description named("options");
  std::string sweep_path, out;
  std::uint64_t job_id = 0;
  named.add_options()("sweep", po::value(&sweep_path)->required(),
                      "sweep or job file (TOML)")("out", po::value(&out)->required(), "output folder (created)")(
      "job", po::value(&job_id)->default_value(0), "job id in the sweep's job table (see tomosweep expand)");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "simulate SWEEP.toml --out DIR [--job N]", named, pos, vm)) return 0;

  const Sweep sweep = load_sweep(sweep_path);
  if (job_id >= sweep.jobs.size())
    fail("--job ", job_id, " is not in ", sweep_path, ", whose jobs are 0..", sweep.jobs.size() - 1);
  const SweepJob& job = sweep.jobs[job_id];
  const JobConfig& config = job.config;
  const StructureSet structures = load_structures(model_sources(config.model), parent_dir(sweep_path));
  try {
    validate_model(config.model, structures);
    check_job_memory(config, memory_per_rank_bytes());
  } catch (const Error& e) {
    fail(sweep_path, ": job ", job_id, ": ", e.what());
  }

  // Peak memory is sampled as each stage starts, so the figure printed for a stage is the peak reached
  // by the end of the stage before it; the last stage's comes after the job.
  std::vector<double> peak_MB;
  const JobResult r = run_job(config, structures, job.job_id, job.replicate, [&](const std::string& stage) {
    peak_MB.push_back(peak_rss_MB());
    std::fprintf(stderr, "tomosweep: %s...\n", stage.c_str());
  });
  peak_MB.push_back(peak_rss_MB());

  std::fprintf(stderr, "tomosweep: writing %s\n", out.c_str());
  write_job_files(out, r, "job-" + std::to_string(job.job_id));

  double total = 0;
  for (std::size_t i = 0; i < r.timings.size(); ++i) {
    const StageTiming& t = r.timings[i];
    const double peak = i + 1 < peak_MB.size() ? peak_MB[i + 1] : 0;
    std::fprintf(stderr, "tomosweep: %-14s %8.3f s   peak memory %7.1f MB\n", t.stage.c_str(), t.seconds, peak);
    total += t.seconds;
  }
  std::fprintf(stderr, "tomosweep: %-14s %8.3f s  (%d x %d x %d voxels at %.2f A, %zu tilts, %zu particles)\n", "total",
               total, r.tomogram.nx, r.tomogram.ny, r.tomogram.nz, r.tomogram.voxel_A, r.series.tilts.size(),
               r.particles.size());
  return 0;
}

int cmd_structure(int argc, char** argv) {
  po::options_description named("options");
  std::string file;
  double pixel_A = 0;
  named.add_options()("file", po::value(&file)->required(), "PDB or mmCIF file, optionally .gz")(
      "pixel-size", po::value(&pixel_A)->default_value(0), "also report the size in voxels at this pixel size (A)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "structure FILE [--pixel-size A]", named, pos, vm)) return 0;
  if (is_synthetic(file)) {
    std::cout << describe_structure(make_synthetic(file), pixel_A);
    return 0;
  }
  StructureReadInfo info;
  const AtomicStructure s = read_structure(file, &info);
  std::cout << describe_structure(s, pixel_A);
  for (const std::string& note : info.notes) std::cout << "  note          " << note << "\n";
  return 0;
}

int cmd_check(int argc, char** argv) {
  po::options_description named("options");
  std::string sweep_path;
  named.add_options()("sweep", po::value(&sweep_path)->required(), "sweep or job file (TOML)");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "check SWEEP.toml", named, pos, vm)) return 0;
  const Sweep sweep = load_sweep(sweep_path); // every job's settings, all problems at once
  const StructureSet structures = load_structures(sweep_sources(sweep), parent_dir(sweep_path));

  double worst_MB = 0;
  std::size_t worst_job = 0;
  for (const SweepJob& j : sweep.jobs) {
    try {
      if (j.replicate == 0) validate_model(j.config.model, structures);
    } catch (const Error& e) {
      fail(sweep_path, ": job ", j.job_id, ": ", e.what());
    }
    const double mb = job_memory_bytes(j.config) / 1e6;
    if (mb > worst_MB) {
      worst_MB = mb;
      worst_job = j.job_id;
    }
  }
  try {
    check_job_memory(sweep.jobs[worst_job].config, memory_per_rank_bytes());
  } catch (const Error& e) {
    fail(sweep_path, ": job ", worst_job, ": ", e.what());
  }
  std::printf("%s: ok\n", sweep_path.c_str());
  std::printf("  jobs          %zu (%zu conditions x %d replicates, mode %s)\n", sweep.jobs.size(), sweep.conditions,
              sweep.replicates, sweep.mode.c_str());
  std::printf("  structures    %zu loaded\n", structures.size());
  const ModelParams& m = sweep.jobs[worst_job].config.model;
  std::printf("  largest job   %llu: %.0f x %.0f x %.0f voxels at %.2f A, about %.0f MB of memory\n",
              static_cast<unsigned long long>(worst_job), std::round(m.box_A[0] / m.pixel_size_A),
              std::round(m.box_A[1] / m.pixel_size_A), std::round(m.box_A[2] / m.pixel_size_A), m.pixel_size_A,
              worst_MB);
  return 0;
}

} // namespace tomosweep::cli

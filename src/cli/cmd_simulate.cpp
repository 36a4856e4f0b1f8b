// tomosweep simulate: one job of a sweep, run here and written as files (no corpus, no MPI).
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "core/system.hpp"
#include "io/files/background_writer.hpp"
#include "io/files/job_files.hpp"
#include "io/structures/structure_file.hpp"
#include "job/job.hpp"
#include "sweep/validate.hpp"

#include <cstdio>
#include <unistd.h>
#include <filesystem>
#include <memory>
#include <utility>
#include <fstream>

namespace tomosweep::cli {
namespace {

/// Peak resident memory of this process so far, MiB (VmHWM; 0 where /proc is missing).
double peak_rss_MiB() {
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

/// Stage times with the peak memory reached by the end of each, then the total and the job's size.
void print_timings(const JobResult& r, const std::vector<double>& peak_MB) {
  double total = 0;
  for (std::size_t i = 0; i < r.timings.size(); ++i) {
    const StageTiming& t = r.timings[i];
    const double peak = i + 1 < peak_MB.size() ? peak_MB[i + 1] : 0;
    std::fprintf(stderr, "tomosweep: %-14s %8.3f s   peak memory %7.1f MiB\n", t.stage.c_str(), t.seconds, peak);
    total += t.seconds;
  }
  std::fprintf(stderr, "tomosweep: %-14s %8.3f s  (%d x %d x %d voxels at %.2f A, %zu tilts, %zu particles)\n", "total",
               total, r.tomogram.nx, r.tomogram.ny, r.tomogram.nz, r.tomogram.voxel_A, r.series.tilts.size(),
               r.particles.size());
}

/// Fail before any work when `out` cannot become a folder of files: it, or its nearest existing ancestor, is not a
/// folder, or that folder is not writable.
void check_output_folder(const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(out, ec);
  if (ec) fail("--out ", out, ": ", ec.message());
  for (fs::path q = p;; q = q.parent_path()) {
    const fs::file_status st = fs::status(q, ec);
    if (fs::exists(st)) {
      if (!fs::is_directory(st))
        fail("--out ", out, ": ", q == p ? "it exists and is not a folder" : q.string() + " is not a folder");
      if (::access(q.c_str(), W_OK) != 0)
        fail("--out ", out, ": ", q == p ? std::string("the folder") : q.string(), " is not writable");
      return;
    }
    if (q == q.parent_path()) return;
  }
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
  check_output_folder(out);
  const StructureSet structures = load_structures(model_sources(job.config.model), sweep_folder(sweep_path));
  validate_jobs(sweep, {static_cast<std::size_t>(job_id)}, structures);

  // Peak memory is sampled as each stage starts, so the figure printed for a stage is the peak reached
  // by the end of the stage before it; the last stage's comes after the job.
  // Each file is written as soon as its array is final, on a thread of its own while the job goes on (the disk
  // time overlaps the next stages): the specimen volumes during the tilt series, the series during the
  // tomograms, the tomograms during the prior. The tilt series is freed once written and the tomograms made,
  // so that the prior does not find it still held.
  std::vector<double> peak_MB;
  const auto on_stage = [&](const std::string& stage) {
    peak_MB.push_back(peak_rss_MiB());
    std::fprintf(stderr, "tomosweep: %s...\n", stage.c_str());
  };
  BackgroundWriter writer;
  JobHooks hooks;
  hooks.spare_core = usable_cores() > 1;
  hooks.specimen_ready = [&](SpecimenVolumes& s) {
    std::fprintf(stderr, "tomosweep: writing the model, atlas and instances to %s\n", out.c_str());
    std::filesystem::create_directories(out); // once the job has got this far
    // The writer takes the atlas and instances and frees them once written (5 bytes per voxel not held through
    // the tomograms); the potential stays the job's.
    auto labels = std::make_shared<std::pair<Volume<std::uint8_t>, Volume<std::uint32_t>>>(
        std::exchange(s.atlas, {}), std::exchange(s.instances, {}));
    writer.post([&out, &s, labels]() mutable {
      write_specimen_files(out, s.potential, labels->first, labels->second);
      labels.reset();
    });
  };
  hooks.series_ready = [&](const TiltSeries& series) {
    std::fprintf(stderr, "tomosweep: writing the tilt series to %s\n", out.c_str());
    writer.post([&out, &series] { write_series_files(out, "tilt_series", series); });
  };
  hooks.series_done = [&](JobResult& r) {
    writer.rethrow(); // the series is written: free it
    r.series.images = Volume<float>();
    for (Volume<float>& h : r.series.halves) h = Volume<float>();
    std::fprintf(stderr, "tomosweep: writing the tomogram to %s\n", out.c_str());
    writer.post([&out, &r] { write_tomogram_files(out, r); });
  };
  hooks.drain = [&] { writer.drain(); };
  const JobResult r = run_job(job.config, structures, job.job_id, job.replicate, on_stage, hooks);
  peak_MB.push_back(peak_rss_MiB());

  std::fprintf(stderr, "tomosweep: writing %s\n", out.c_str());
  writer.rethrow();
  std::filesystem::create_directories(out);
  write_prior_and_tables(out, r, "job-" + std::to_string(job.job_id));
  print_timings(r, peak_MB);
  return 0;
}

} // namespace tomosweep::cli

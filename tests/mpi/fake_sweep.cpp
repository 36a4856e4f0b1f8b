// `tomosweep run` with a stand-in job function, for the MPI tests and the coordinator benchmark: each job
// makes small deterministic arrays from (seed, job id, its settings), so corpora from 1, 2 and 3 ranks,
// and from an interrupted and resumed run, must be identical.
//   fake_sweep SWEEP.toml OUT.h5 [--resume] [--force] [--fail-job ID] [--sleep-ms MS] [--pipeline] [--work DIR]
//              [--keep-work]
// --pipeline runs the real pipeline (run_job) instead, as `tomosweep run` does.
#include "core/rng.hpp"
#include "sweep/run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

using namespace tomosweep;

namespace {

JobResult fake_job(const SweepJob& job, long long fail_job, int sleep_ms) {
  if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  if (static_cast<long long>(job.job_id) == fail_job) fail("fake job ", job.job_id, " failed on purpose");
  const JobConfig& c = job.config;
  const double px = c.model.pixel_size_A;
  const int nx = static_cast<int>(std::lround(c.model.box_A[0] / px));
  const int ny = static_cast<int>(std::lround(c.model.box_A[1] / px));
  const int nz = static_cast<int>(std::lround(c.model.box_A[2] / px));
  Rng rng(c.run.seed, Purpose::test, job.job_id);
  JobResult r;
  r.job_id = job.job_id;
  r.replicate = job.replicate;
  r.tomogram = Volume<float>(nx, ny, nz, px);
  r.prior = Volume<float>(nx, ny, nz, px);
  r.atlas = Volume<std::uint8_t>(nx, ny, nz, px);
  r.instances = Volume<std::uint32_t>(nx, ny, nz, px);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) {
        r.tomogram(x, y, z) = static_cast<float>(rng.normal() * c.imaging.defocus_um);
        r.prior(x, y, z) = static_cast<float>(x + 10 * y + 100 * z + job.replicate);
        r.atlas(x, y, z) = static_cast<std::uint8_t>((x / 4 + y / 4 + job.replicate) % 3);
        r.instances(x, y, z) = r.atlas(x, y, z) ? static_cast<std::uint32_t>(1 + (x / 4) % 5) : 0u;
      }
  const TiltParams& t = c.imaging.tilt;
  const int ntilts = static_cast<int>(std::floor((t.max_deg - t.min_deg) / t.step_deg + 1e-9)) + 1;
  r.series.images = Volume<float>(nx, ny, ntilts, px);
  for (float& v : r.series.images.data) v = static_cast<float>(rng.poisson(5.0));
  for (int i = 0; i < ntilts; ++i) {
    TiltRecord rec;
    rec.angle_deg = rec.actual_angle_deg = t.min_deg + i * t.step_deg;
    rec.acquisition_index = i;
    rec.dose_e_per_A2 = c.imaging.dose_e_per_A2 / ntilts;
    rec.defocus_um = c.imaging.defocus_um;
    r.series.tilts.push_back(rec);
  }
  r.classes = {{1, "actin", "builtin:actin-filament"}, {2, "ribosome", "structures/4v6x.cif"}};
  for (std::uint32_t i = 1; i <= 5; ++i) {
    PlacedParticle p;
    p.instance = i;
    p.label = 1 + static_cast<int>(i % 2);
    p.source = r.classes[static_cast<std::size_t>(p.label - 1)].source;
    p.position_A = {rng.uniform(-100, 100), rng.uniform(-100, 100), rng.uniform(-25, 25)};
    r.particles.push_back(p);
  }
  r.timings = {{"fake", 0.0}};
  return r;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fake_sweep SWEEP.toml OUT.h5 [--resume] [--force] [--fail-job ID] [--sleep-ms MS] "
                         "[--pipeline] [--work DIR] [--keep-work] [--memory-per-rank MB]\n");
    return 2;
  }
  RunOptions o;
  o.sweep_path = argv[1];
  o.output = argv[2];
  long long fail_job = -1;
  int sleep_ms = 0;
  bool pipeline = false;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--resume"))
      o.resume = true;
    else if (!std::strcmp(argv[i], "--force"))
      o.force = true;
    else if (!std::strcmp(argv[i], "--fail-job") && i + 1 < argc)
      fail_job = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--sleep-ms") && i + 1 < argc)
      sleep_ms = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--pipeline"))
      pipeline = true;
    else if (!std::strcmp(argv[i], "--memory-per-rank") && i + 1 < argc)
      o.memory_per_rank = std::atof(argv[++i]) * 1e6; // MB
    else if (!std::strcmp(argv[i], "--work") && i + 1 < argc)
      o.work_dir = argv[++i];
    else if (!std::strcmp(argv[i], "--keep-work"))
      o.keep_work = true;
  }
  try {
    const JobFactory fake = [&](const Sweep&, const JobLimits&) -> JobFunctions {
      return JobFunction([=](const SweepJob& job) { return fake_job(job, fail_job, sleep_ms); });
    };
    const RunSummary s = run_sweep(o, pipeline ? pipeline_job_factory() : fake);
    if (s.root && s.complete)
      std::fprintf(stderr, "fake_sweep: %s is complete\n", o.output.c_str());
    else if (s.root)
      std::fprintf(stderr, "fake_sweep: %zu jobs, %zu failed, %zu run on %d ranks, %zu on rank groups\n", s.jobs,
                   s.failed, s.ran, s.ranks, s.group_jobs);
  } catch (const ReportedError&) {
    return 1; // printed where it was thrown
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tomosweep: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

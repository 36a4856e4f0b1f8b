// Sweep benchmarks (figures, not pass/fail); run through bench_sweep.sh for 1 and 2 ranks.
//   bench_sweep overhead N          N empty jobs through the coordinator: overhead per job (rank 0)
//   bench_sweep jobs SWEEP OUT MS   a sweep whose jobs each burn MS ms of CPU: jobs per minute
//   bench_sweep gather DIR JOBS N   stage JOBS jobs of N^3 voxels, then time absorbing them into a corpus: MB/s
#include "sweep/coordinator.hpp"
#include "sweep/gather.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

using namespace tomosweep;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int overhead(int n) {
  MpiSession mpi;
  std::vector<std::size_t> order(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = static_cast<std::size_t>(i);
  mpi.barrier();
  for (const bool root_works : {true, false}) {
    if (!root_works && mpi.size() == 1) break;
    mpi.barrier();
    const CoordinatorStats s = run_distributed(
        mpi, order, [](std::size_t) { return true; }, {}, root_works);
    if (mpi.rank() == 0)
      std::printf("coordinator overhead: %d empty jobs on %d ranks%s in %.3f s = %.2f us per job (rank 0 ran %zu)\n", n,
                  mpi.size(), root_works ? "" : ", rank 0 only coordinating", s.seconds, 1e6 * s.seconds / n, s.local);
  }
  return 0;
}

int jobs(const char* sweep, const char* out, int ms) {
  RunOptions o;
  o.sweep_path = sweep;
  o.output = out;
  o.force = true;
  const RunSummary s = run_sweep(o, [ms](const Sweep&, const JobLimits&) -> JobFunctions {
    return JobFunction([ms](const SweepJob& job) {
      const auto t0 = Clock::now();
      volatile double x = 0;
      while (since(t0) * 1000 < ms)
        for (int i = 0; i < 10000; ++i) x = x + std::sqrt(static_cast<double>(i));
      JobResult r;
      r.job_id = job.job_id;
      r.tomogram = Volume<float>(8, 8, 8, 10.0, 1.0f);
      return r;
    });
  });
  if (s.root)
    std::printf("jobs: %zu jobs of %d ms CPU on %d ranks in %.2f s = %.1f jobs/min (ideal %.1f)\n", s.jobs, ms, s.ranks,
                s.run_s, 60.0 * static_cast<double>(s.jobs) / s.run_s, 60000.0 * s.ranks / ms);
  return 0;
}

int gather(const std::string& dir, int njobs, int n) {
  MpiSession mpi;
  if (mpi.rank() == 0) std::filesystem::create_directories(dir);
  mpi.barrier();
  for (int j = 0; j < njobs; ++j) {
    const std::string path = stage_path(dir, static_cast<std::uint64_t>(j));
    if (mpi.rank() == j % mpi.size()) {
      JobResult r;
      r.tomogram = Volume<float>(n, n, n, 10.0);
      for (std::size_t i = 0; i < r.tomogram.size(); ++i) r.tomogram.data[i] = static_cast<float>(i % 977) * 0.1f;
      r.prior = r.tomogram;
      r.atlas = Volume<std::uint8_t>(n, n, n, 10.0);
      r.instances = Volume<std::uint32_t>(n, n, n, 10.0);
      for (std::size_t i = 0; i < r.atlas.size(); ++i) {
        r.atlas.data[i] = static_cast<std::uint8_t>((i / 4096) % 4);
        r.instances.data[i] = static_cast<std::uint32_t>(i / 20000);
      }
      write_stage(path, static_cast<std::uint64_t>(j), 0, &r, "", {"tomogram", "prior", "atlas", "instances"}, 0);
    }
  }
  mpi.barrier();
  const std::string out = dir + "/gather.h5";
  const auto t0 = Clock::now();
  if (mpi.rank() == 0) { // the gather is rank 0's: it absorbs every stage file, as a run does between its jobs
    {
      CorpusWriter writer(out);
      for (int j = 0; j < njobs; ++j) {
        const auto id = static_cast<std::uint64_t>(j);
        writer.absorb(stage_path(dir, id), CorpusJobEntry{.job_id = id});
      }
    }
    fsync_path(out);
  }
  mpi.barrier();
  const double s = since(t0);
  if (mpi.rank() == 0) {
    const double mb = static_cast<double>(njobs) * std::pow(n, 3) * (4 + 4 + 1 + 4) / 1e6;
    std::printf("gather: %d jobs of %d^3 (%.0f MB of arrays) on %d ranks in %.2f s = %.0f MB/s\n", njobs, n, mb,
                mpi.size(), s, mb / s);
    std::filesystem::remove_all(dir);
  }
  mpi.barrier();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "overhead" && argc == 3) return overhead(std::atoi(argv[2]));
  if (mode == "jobs" && argc == 5) return jobs(argv[2], argv[3], std::atoi(argv[4]));
  if (mode == "gather" && argc == 5) return gather(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  std::fprintf(stderr, "usage: bench_sweep overhead N | jobs SWEEP OUT MS | gather DIR JOBS N\n");
  return 2;
}

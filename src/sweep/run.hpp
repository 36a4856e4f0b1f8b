// `tomosweep run`: expand a sweep, run its jobs on all ranks, stage each, gather one corpus.
#pragma once

#include "job/job.hpp"
#include "sweep/sweep.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace tomosweep {

struct RunOptions {
  std::string sweep_path;
  std::string output = "corpus.h5";
  std::string work_dir;       ///< stage files; default OUTPUT.work (must be shared by all ranks)
  bool resume = false;        ///< run only the jobs not yet staged in the work dir
  bool force = false;         ///< overwrite an existing corpus and discard staged jobs
  bool keep_work = false;     ///< keep the stage files after the corpus is written
  double log_interval_s = 10; ///< progress log period when stderr is not a terminal
};

/// Runs one job of a sweep (throws on failure).
using JobFunction = std::function<JobResult(const SweepJob&)>;
/// Builds this rank's job function once the sweep is read (e.g. loads the structures).
using JobFactory = std::function<JobFunction(const Sweep&)>;

/// The real pipeline: load_structures of every source named by the model, validate_jobs (replicate 0 of
/// each condition), then run_job with the rank's SceneCache.
JobFactory pipeline_job_factory();

struct RunSummary {
  std::size_t jobs = 0;   ///< jobs in the sweep
  std::size_t ran = 0;    ///< jobs run by this invocation (all ranks)
  std::size_t failed = 0; ///< failed jobs in the corpus
  int ranks = 1;
  double run_s = 0;      ///< the jobs' phase, from the first job handed out to the last one finished
  double gather_s = 0;   ///< rank 0's time absorbing staged jobs into the corpus and finishing it, wherever spent
  double tail_s = 0;     ///< from the last job's end to the corpus under its final name (the gather left then)
  bool root = true;      ///< this process is rank 0
  bool complete = false; ///< --resume found the corpus already complete: nothing ran
};

/// Collective over every rank. Setup errors (bad sweep, existing corpus, ...) are thrown on every rank
/// alike; errors after jobs start end all ranks (MPI_Abort).
RunSummary run_sweep(const RunOptions& options, const JobFactory& factory);

/// Jobs in the order they are handed out: estimated cost (voxels x tilts) descending, then job id.
std::vector<std::size_t> dispatch_order(const Sweep& sweep, const std::vector<std::size_t>& todo);

} // namespace tomosweep

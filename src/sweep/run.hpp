// `tomosweep run`: expand a sweep, run its jobs on all ranks, stage each, gather one corpus.
#pragma once

#include "job/job.hpp"
#include "sweep/coordinator.hpp"
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
  double memory_per_rank = 0; ///< bytes a rank may use; a larger job runs on a rank group (0: the node's memory
                              ///< divided by the ranks on the node, the least over the nodes)
};

/// What the jobs of a run may use: every rank's memory budget, and the ranks of the run.
struct JobLimits {
  double memory_per_rank = 0; ///< bytes (0: no limit)
  int ranks = 1;
};

class RankGroup; // a rank group's communicator (sweep/group_job.hpp)

/// Runs this rank's part of one job on a rank group (sweep/group_job.hpp); throws on failure, which ends the run.
using GroupJobFunction = std::function<JobResult(const SweepJob&, const RankGroup&)>;

/// Runs one job of a sweep (throws on failure).
using JobFunction = std::function<JobResult(const SweepJob&)>;
/// A rank's job functions: one rank's jobs, and rank groups' (empty: jobs that need a group are refused).
struct JobFunctions {
  JobFunctions(JobFunction s = {}, GroupJobFunction g = {}) : single(std::move(s)), group(std::move(g)) {}
  JobFunction single;
  GroupJobFunction group;
};
/// Builds this rank's job functions once the sweep is read (e.g. loads the structures, validates the jobs within
/// the limits).
using JobFactory = std::function<JobFunctions(const Sweep&, const JobLimits&)>;

/// The real pipeline: load_structures of every source named by the model, validate_jobs (replicate 0 of
/// each condition, within the limits), then run_job (run_group_job on a group) with the rank's SceneCache.
JobFactory pipeline_job_factory();

struct RunSummary {
  std::size_t jobs = 0;   ///< jobs in the sweep
  std::size_t ran = 0;    ///< jobs run by this invocation (all ranks)
  std::size_t failed = 0; ///< failed jobs in the corpus
  std::size_t group_jobs = 0; ///< jobs of this invocation run on rank groups
  int largest_group = 1;      ///< the largest group's ranks
  double memory_per_rank = 0; ///< the budget the groups were planned for (bytes)
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

/// The scenes (SceneCache keys) and cost tiers of the jobs in `order`, so that a rank takes the jobs of the scene it
/// has built while they last (JobPicker).
JobAffinity dispatch_affinity(const Sweep& sweep, const std::vector<std::size_t>& order);

} // namespace tomosweep

// Dynamic job distribution: rank 0 hands out jobs one at a time to whichever rank asks, and works on
// jobs itself in between (its coordinator runs in a thread that polls for requests), so 2 ranks on 2
// cores do twice the work of one. Jobs differ in cost (pixel size changes a volume cubically), which
// is why the distribution is dynamic and why `order` should put the expensive jobs first.
#pragma once

#include "sweep/mpi_session.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace tomosweep {

/// Runs one job (an index into the caller's job list); returns false if the job failed (its failure
/// is recorded by the function itself). An exception means the rank cannot go on: the run is aborted.
using WorkFunction = std::function<bool(std::size_t index)>;

/// Called on rank 0 after each finished job with the counts so far.
using ProgressFunction = std::function<void(std::size_t done, std::size_t failed)>;

/// Called on rank 0's main thread (the one that runs its jobs; never on the coordinator thread) with the jobs
/// finished and staged since its last call, on any rank: after each of rank 0's own jobs, and, once no job is
/// left to hand out, as the other ranks finish theirs. An exception ends every rank (MPI_Abort). On 3 or more
/// ranks, when the call after rank 0's job takes longer than the job (twice in a row), rank 0 stops taking jobs
/// and only makes these calls: the work it does in them is then what limits the run.
using FinishedFunction = std::function<void(const std::vector<std::size_t>& indices)>;

/// What lets jobs go out of `order`: per position in `order`, the job's scene (jobs of one scene share a packing, kept
/// in the rank's SceneCache) and its tier (consecutive positions of equal estimated cost). Empty: strict order.
struct JobAffinity {
  std::vector<int> scene;
  std::vector<int> tier;
};

/// Which job a rank takes next. Jobs go out tier by tier in `order`; within the first tier that has jobs left, a
/// rank takes the first job of the scene it took last, else the first job of a scene no other rank took last,
/// else the first job left. So on N ranks each scene is packed about once instead of up to N times, while
/// expensive jobs still go first. Not thread-safe.
class JobPicker {
public:
  JobPicker(const std::vector<std::size_t>& order, JobAffinity affinity, int ranks);
  /// The job `rank` takes next; false when none is left.
  bool next(int rank, std::size_t& index);

private:
  std::size_t take(int rank, std::size_t pos);
  const std::vector<std::size_t>& order_;
  JobAffinity affinity_;
  std::vector<bool> taken_;
  std::vector<std::size_t> next_same_; ///< the next position of the same scene (order_.size(): none)
  std::vector<std::size_t> cursor_;    ///< per scene: no position before it is left
  std::vector<int> last_;              ///< per rank: the scene it took last (-1: none)
  std::vector<int> holders_;           ///< per scene: ranks that took it last
  std::size_t head_ = 0;               ///< no position before it is left
};

struct CoordinatorStats {
  std::size_t done = 0; ///< jobs finished (rank 0: all ranks; others: their own)
  std::size_t failed = 0;
  std::size_t local = 0; ///< jobs run on this rank
  double seconds = 0;    ///< wall time of the distribution phase
  /// Rank 0: when the last job was reported finished (the start of the distribution when there was none).
  std::chrono::steady_clock::time_point last_finished{};
};

/// Jobs handed out before the sweep starts (the jobs of rank groups): each rank runs its own `jobs` first, in order
/// (the ranks of a group run its jobs together); the group's root `reports` them finished to rank 0. `total` (rank
/// 0): how many such jobs all ranks run.
struct AssignedJobs {
  std::vector<std::size_t> jobs;
  std::vector<bool> reports;
  std::size_t total = 0;
};

/// Collective: every rank calls it; only rank 0's `order` and `affinity` are used. Returns when every job is done.
/// With `root_works` false (and more than one rank) rank 0 only coordinates (and calls `finished` once, at the end).
CoordinatorStats run_distributed(const MpiSession& mpi, const std::vector<std::size_t>& order, const WorkFunction& work,
                                 const ProgressFunction& progress = {}, bool root_works = true,
                                 const FinishedFunction& finished = {}, const AssignedJobs& assigned = {},
                                 const JobAffinity& affinity = {});

} // namespace tomosweep

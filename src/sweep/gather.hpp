// The gather: a sweep's stage files into one corpus, while the sweep runs. Rank 0 absorbs the jobs into
// OUTPUT.tmp as they are staged (the stage file holds its arrays in the corpus's layout, so absorbing is a copy
// of stored chunks), between its own jobs, in one fixed order (the absorb order: the sweep's dispatch order, by
// job cost, whatever the rank count), a job staged early waiting for those before it; after the last job only
// the jobs staged meanwhile, the index and the rename are left. The same HDF5 calls in the same order make the
// same file: the corpus is byte for byte the same for any rank count and for a resumed run. Serial HDF5 on one
// thread of rank 0: the other ranks never touch the corpus.
#pragma once

#include "io/corpus/corpus.hpp"
#include "sweep/sweep.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tomosweep {

/// Job ids staged in a work folder and their stage files (complete stage files only; temporaries are
/// ignored).
std::map<std::uint64_t, std::string> staged_jobs(const std::string& work);

/// Remove a work folder once its corpus is complete: the stage files, the sweep marker, the lock, the folder
/// (only if nothing else is left in it).
void remove_work(const std::string& work);

/// What the corpus records of a sweep (its jobs point into `sweep`, which must outlive the index).
CorpusIndex corpus_index(const Sweep& sweep);

/// Rank 0's corpus while the sweep runs. Not thread-safe: one thread calls it (rank 0's job thread).
class Gatherer {
public:
  /// Create OUTPUT.tmp (a file left by a killed run is truncated). `todo` (indices into sweep.jobs) are the
  /// jobs this run will stage; every other job of the sweep is staged already (--resume).
  Gatherer(const Sweep& sweep, const std::string& work, const std::string& output,
           const std::vector<std::size_t>& todo);

  /// These jobs (indices into sweep.jobs) are staged: absorb, in the absorb order, every staged job from the
  /// first one not absorbed yet.
  void absorb(const std::vector<std::size_t>& staged);
  /// Absorb what is left (every job must be staged), write the index, rename to OUTPUT, write the jobs' wall
  /// times to OUTPUT.timings.tsv and, unless `keep_work`, remove the work folder. Returns the number of failed
  /// jobs.
  std::size_t finish(bool keep_work);

  /// Seconds spent absorbing and finishing so far.
  double seconds() const { return seconds_; }

private:
  /// Absorb, in the absorb order, every staged job from the first one not absorbed yet.
  void absorb_staged();

  const Sweep& sweep_;
  std::string work_, output_;
  CorpusIndex index_;
  CorpusWriter writer_;
  std::vector<StageInfo> infos_; ///< by job position; job_id set once absorbed
  std::vector<std::size_t> order_; ///< the absorb order (dispatch_order of every job)
  std::vector<bool> staged_;
  std::size_t next_ = 0; ///< order_[next_] is the first job not absorbed
  double seconds_ = 0;
};

} // namespace tomosweep

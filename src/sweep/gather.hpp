// The gather: a sweep's stage files into one corpus, while the sweep runs. Rank 0 absorbs each job into
// OUTPUT.tmp as soon as it is staged (the stage file holds its arrays in the corpus's layout, so absorbing is a
// copy of stored chunks), between its own jobs; after the last job only the jobs staged meanwhile, the index and
// the rename are left. Serial HDF5 on one thread of rank 0: the other ranks never touch the corpus.
#pragma once

#include "io/corpus/corpus.hpp"
#include "sweep/sweep.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
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
  /// jobs this run will stage; every other job of the sweep is staged already (--resume) and waits in a backlog.
  Gatherer(const Sweep& sweep, const std::string& work, const std::string& output,
           const std::vector<std::size_t>& todo);

  /// Absorb the stage files of these jobs (indices into sweep.jobs) now.
  void absorb(const std::vector<std::size_t>& indices);
  /// Absorb at most `n` jobs of the backlog.
  void absorb_backlog(std::size_t n);
  /// Absorb what is left (every job must be staged), write the index, rename to OUTPUT and, unless
  /// `keep_work`, remove the work folder. Returns the number of failed jobs.
  std::size_t finish(bool keep_work);

  /// Seconds spent absorbing and finishing so far.
  double seconds() const { return seconds_; }

private:
  void absorb_one(std::size_t index);

  const Sweep& sweep_;
  std::string work_, output_;
  CorpusIndex index_;
  CorpusWriter writer_;
  std::vector<StageInfo> infos_; ///< by job position; job_id set once absorbed
  std::vector<bool> absorbed_;
  std::deque<std::size_t> backlog_;
  double seconds_ = 0;
};

} // namespace tomosweep

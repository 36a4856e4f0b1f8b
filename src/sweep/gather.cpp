#include "sweep/gather.hpp"

#include "core/system.hpp"
#include "io/files/atomic_file.hpp"
#include "sweep/run.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <numeric>
#include <sstream>

namespace tomosweep {
namespace fs = std::filesystem;

void remove_work(const std::string& work) {
  std::error_code ec;
  for (const auto& [id, path] : staged_jobs(work)) {
    remove_stage(path);
    fault_point("work-removal");
  }
  fs::remove(work + "/sweep.toml", ec);
  fs::remove(work + "/lock", ec); // held until this process ends; a new run makes its own
  fs::remove(work, ec);           // only if empty
}

std::map<std::uint64_t, std::string> staged_jobs(const std::string& work) {
  std::map<std::uint64_t, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(work, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("job-", 0) != 0 || name.size() < 8 || name.compare(name.size() - 3, 3, ".h5") != 0) continue;
    const std::string digits = name.substr(4, name.size() - 7);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    out[std::stoull(digits)] = e.path().string();
  }
  return out;
}

CorpusIndex corpus_index(const Sweep& sweep) {
  CorpusIndex index{.name = sweep.base.run.name,
                    .sweep_file = sweep.file,
                    .sweep_text = sweep.text,
                    .sweep_mode = sweep.mode,
                    .axes = sweep.axes,
                    .seed = sweep.seed,
                    .sweep_seed = sweep.sweep_seed,
                    .replicates = sweep.replicates,
                    .conditions = sweep.conditions,
                    .jobs = {}};
  for (const SweepJob& j : sweep.jobs)
    index.jobs.push_back({.job_id = j.job_id,
                          .condition = j.condition,
                          .replicate = j.replicate,
                          .test_split = j.test_split,
                          .values = &j.values,
                          .config = &j.config});
  return index;
}

namespace {
/// The absorb order: the dispatch order of every job of the sweep (largest first, then by job id).
std::vector<std::size_t> absorb_order(const Sweep& sweep) {
  std::vector<std::size_t> all(sweep.jobs.size());
  std::iota(all.begin(), all.end(), std::size_t(0));
  return dispatch_order(sweep, all);
}
} // namespace

Gatherer::Gatherer(const Sweep& sweep, const std::string& work, const std::string& output,
                   const std::vector<std::size_t>& todo)
    : sweep_(sweep), work_(work), output_(output), index_(corpus_index(sweep)), writer_(output + ".tmp"),
      infos_(sweep.jobs.size()), order_(absorb_order(sweep)), staged_(sweep.jobs.size(), true) {
  for (std::size_t i : todo) staged_[i] = false;
}

void Gatherer::absorb(const std::vector<std::size_t>& staged) {
  for (std::size_t i : staged) staged_[i] = true;
  absorb_staged();
}

void Gatherer::absorb_staged() {
  const auto t0 = std::chrono::steady_clock::now();
  for (; next_ < order_.size() && staged_[order_[next_]]; ++next_) {
    const std::size_t index = order_[next_];
    infos_[index] = writer_.absorb(stage_path(work_, sweep_.jobs[index].job_id), index_.jobs[index]);
    fault_point("absorbed");
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::size_t Gatherer::finish(bool keep_work) {
  // Jobs whose report has not reached rank 0's job thread yet are staged too once every rank is done.
  std::fill(staged_.begin(), staged_.end(), true);
  absorb_staged();
  const auto t0 = std::chrono::steady_clock::now();
  writer_.finish(output_, index_, infos_);
  std::size_t failed = 0;
  for (const StageInfo& s : infos_) failed += s.ok ? 0 : 1;
  // The jobs' wall times are measurements, which differ from run to run: beside the corpus, not in it.
  std::ostringstream tsv;
  tsv << "job_id\tstatus\tseconds\tstage_seconds\n";
  for (const std::size_t i : order_) {
    const StageInfo& s = infos_[i];
    tsv << s.job_id << '\t' << (s.ok ? "ok" : "failed") << '\t' << s.seconds << '\t' << s.timings << '\n';
  }
  write_file_atomically(output_ + ".timings.tsv", tsv.str());
  if (!keep_work) remove_work(work_);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return failed;
}

} // namespace tomosweep

#include "sweep/gather.hpp"

#include "core/system.hpp"

#include <chrono>
#include <filesystem>

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

Gatherer::Gatherer(const Sweep& sweep, const std::string& work, const std::string& output,
                   const std::vector<std::size_t>& todo)
    : sweep_(sweep), work_(work), output_(output), index_(corpus_index(sweep)), writer_(output + ".tmp"),
      infos_(sweep.jobs.size()), absorbed_(sweep.jobs.size(), false) {
  std::vector<bool> will_run(sweep.jobs.size(), false);
  for (std::size_t i : todo) will_run[i] = true;
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i)
    if (!will_run[i]) backlog_.push_back(i);
}

void Gatherer::absorb_one(std::size_t index) {
  if (absorbed_[index]) return;
  const SweepJob& job = sweep_.jobs[index];
  infos_[index] = writer_.absorb(stage_path(work_, job.job_id), index_.jobs[index]);
  absorbed_[index] = true;
  fault_point("absorbed");
}

void Gatherer::absorb(const std::vector<std::size_t>& indices) {
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i : indices) absorb_one(i);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Gatherer::absorb_backlog(std::size_t n) {
  std::vector<std::size_t> some;
  for (; n > 0 && !backlog_.empty(); --n, backlog_.pop_front()) some.push_back(backlog_.front());
  absorb(some);
}

std::size_t Gatherer::finish(bool keep_work) {
  absorb_backlog(backlog_.size());
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < absorbed_.size(); ++i)
    if (!absorbed_[i]) rest.push_back(i);
  absorb(rest); // jobs whose report has not reached rank 0's job thread yet: none once every rank is done
  const auto t0 = std::chrono::steady_clock::now();
  writer_.finish(output_, index_, infos_);
  std::size_t failed = 0;
  for (const StageInfo& s : infos_) failed += s.ok ? 0 : 1;
  if (!keep_work) remove_work(work_);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return failed;
}

} // namespace tomosweep

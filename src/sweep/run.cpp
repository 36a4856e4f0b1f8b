#include "sweep/run.hpp"

#include "core/system.hpp"
#include "core/tilt_scheme.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/atomic_file.hpp"
#include "io/structures/structure_file.hpp"
#include "model/scene.hpp"
#include "sweep/coordinator.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <unistd.h>

namespace tomosweep {
namespace fs = std::filesystem;
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Job ids staged in the work dir (complete stage files only; temporaries are ignored).
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

/// Rank 0's setup: output and work dir checks. Returns the jobs still to run (indices into sweep.jobs).
std::vector<std::size_t> prepare_work(const RunOptions& o, const std::string& work, const Sweep& sweep) {
  if (fs::exists(o.output) && !o.force) fail_io(o.output, ": corpus exists (use --force to overwrite it)");
  fs::create_directories(work);
  // Temporaries of jobs that were in flight when a run was killed.
  for (const auto& e : fs::directory_iterator(work))
    if (e.path().filename().string().find(".h5.tmp.") != std::string::npos) fs::remove(e.path());
  const std::string marker = work + "/sweep.toml";
  auto staged = staged_jobs(work);
  if (fs::exists(marker) && read_file_bytes(marker) != sweep.text && !o.force)
    fail_io(work, ": work folder holds a different sweep (", marker, " differs from ", sweep.file,
            "); use --force to start over or another --work folder");
  if (!staged.empty() && !o.resume && !o.force)
    fail_io(work, ": work folder holds ", staged.size(),
            " staged jobs (use --resume to finish them, --force to discard)");
  if (o.force && !o.resume) {
    for (const auto& [id, path] : staged) fs::remove(path);
    staged.clear();
  }
  write_file_atomically(marker, sweep.text);
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i)
    if (!staged.count(sweep.jobs[i].job_id)) todo.push_back(i);
  return todo;
}

} // namespace

std::vector<std::size_t> dispatch_order(const Sweep& sweep, const std::vector<std::size_t>& todo) {
  std::vector<std::pair<double, std::size_t>> cost;
  for (std::size_t i : todo) {
    const JobConfig& c = sweep.jobs[i].config;
    const double px = c.model.pixel_size_A > 0 ? c.model.pixel_size_A : 1;
    const double voxels = (c.model.box_A[0] / px) * (c.model.box_A[1] / px) * (c.model.box_A[2] / px);
    const double tilts = tilt_count(c.imaging.tilt) + (c.prior.enabled ? tilt_count(c.prior.tilt) : 0);
    cost.push_back({-voxels * tilts, i});
  }
  std::stable_sort(cost.begin(), cost.end());
  std::vector<std::size_t> out;
  for (const auto& [c, i] : cost) out.push_back(i);
  return out;
}

namespace {

/// The scenes a rank has built, so that the imaging conditions of one replicate share one packing.
/// A scene depends on the replicate and the model settings; the pixel size only changes how it is
/// rasterized, so conditions that differ only in imaging (or pixel size) share their scene.
class SceneCache {
public:
  explicit SceneCache(const Sweep& sweep) {
    for (std::size_t a = 0; a < sweep.axes.size(); ++a)
      if (sweep.axes[a].rfind("model.", 0) == 0 && sweep.axes[a] != "model.pixel_size_A") model_axes_.push_back(a);
  }

  const Scene& scene(const SweepJob& job, const StructureSet& structures) {
    std::string key = std::to_string(job.replicate);
    for (std::size_t a : model_axes_) key.append("|").append(job.values[a] ? format_setting(*job.values[a]) : "-");
    std::lock_guard lock(mutex_);
    auto it = scenes_.find(key);
    if (it == scenes_.end()) {
      if (scenes_.size() >= kMaxScenes) scenes_.clear();
      it = scenes_.emplace(key, build_scene(job.config.model, structures, job.config.run.seed, job.replicate)).first;
    }
    return it->second;
  }

private:
  static constexpr std::size_t kMaxScenes = 16;
  std::vector<std::size_t> model_axes_;
  std::map<std::string, Scene> scenes_;
  std::mutex mutex_;
};

} // namespace

JobFactory pipeline_job_factory() {
  return [](const Sweep& sweep) -> JobFunction {
    const fs::path dir = fs::path(sweep.file).parent_path();
    auto structures =
        std::make_shared<StructureSet>(load_structures(sweep_sources(sweep), dir.empty() ? "." : dir.string()));
    // Every condition's model against the structures (e.g. particles larger than a box), before any job.
    for (const SweepJob& j : sweep.jobs) {
      if (j.replicate != 0) continue;
      try {
        validate_model(j.config.model, *structures);
        check_job_memory(j.config, memory_per_rank_bytes());
      } catch (const Error& e) {
        fail(sweep.file, ": job ", j.job_id, " (condition ", j.condition, "): ", e.what());
      }
    }
    return [structures, cache = std::make_shared<SceneCache>(sweep)](const SweepJob& job) {
      return run_job(job.config, *structures, cache->scene(job, *structures), job.job_id, job.replicate);
    };
  };
}

RunSummary run_sweep(const RunOptions& o, const JobFactory& factory) {
  MpiSession mpi;
  RunSummary summary;
  summary.ranks = mpi.size();
  summary.root = mpi.rank() == 0;
  const std::string problem = launcher_size_problem(mpi.size(), [](const char* v) { return std::getenv(v); });
  if (!problem.empty()) throw Error(problem);

  // Setup: every rank reads and validates the sweep and builds its job function; rank 0 checks the
  // output and the work folder. The outcome is agreed on before anything runs, so no rank waits alone.
  const std::string work = o.work_dir.empty() ? o.output + ".work" : o.work_dir;
  Sweep sweep;
  JobFunction job_fn;
  std::vector<std::size_t> todo;
  std::string error;
  bool config_error = false;
  try {
    sweep = load_sweep(o.sweep_path);
    job_fn = factory(sweep);
    if (mpi.rank() == 0) todo = prepare_work(o, work, sweep);
  } catch (const ConfigError& e) {
    error = e.what();
    config_error = true;
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!mpi.all_ok(error.empty())) {
    if (error.empty()) throw Error("setup failed on another rank (see its message)");
    if (config_error) throw ConfigError(error);
    throw Error(error);
  }
  summary.jobs = sweep.jobs.size();

  // Run: rank 0 hands out jobs; each rank stages what it runs.
  const bool tty = ::isatty(2) == 1;
  Progress progress(sweep.jobs.size(), sweep.jobs.size() - todo.size(), tty, o.log_interval_s);
  const auto outputs = sweep.base.run.outputs;
  WorkFunction work_fn = [&](std::size_t index) {
    const SweepJob& job = sweep.jobs[index];
    const auto t0 = std::chrono::steady_clock::now();
    std::string failure;
    JobResult result;
    try {
      result = job_fn(job);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    write_stage(stage_path(work, job.job_id), job.job_id, job.replicate, failure.empty() ? &result : nullptr, failure,
                outputs, seconds_since(t0));
    return failure.empty();
  };
  const auto order = mpi.rank() == 0 ? dispatch_order(sweep, todo) : std::vector<std::size_t>{};
  const CoordinatorStats stats =
      run_distributed(mpi, order, work_fn, [&](std::size_t d, std::size_t f) { progress.update(d, f); });
  if (mpi.rank() == 0) progress.finish();
  summary.ran = stats.done;
  summary.run_s = stats.seconds;

  // Gather: rank 0 lists the stage files, every rank writes its share into OUTPUT.tmp, rank 0 indexes it
  // and renames it to OUTPUT. A failure here cannot be agreed on cheaply mid-collective: abort.
  const auto t_gather = std::chrono::steady_clock::now();
  const std::string tmp = o.output + ".tmp";
  std::vector<StageInfo> infos;
  std::string encoded, gather_error;
  if (mpi.rank() == 0) {
    try {
      const auto staged = staged_jobs(work);
      for (const SweepJob& j : sweep.jobs) {
        auto it = staged.find(j.job_id);
        if (it == staged.end()) fail_io(work, ": job ", j.job_id, " was not staged");
        infos.push_back(read_stage_info(it->second));
      }
      encoded = encode_stage_infos(infos);
    } catch (const std::exception& e) {
      gather_error = e.what();
    }
  }
  if (!mpi.all_ok(gather_error.empty())) {
    if (mpi.rank() == 0) throw Error(gather_error);
    throw Error("gather failed on rank 0 (see its message)");
  }
  if (mpi.size() > 1) infos = decode_stage_infos(mpi.broadcast(encoded));
  try {
    write_corpus_arrays(tmp, infos, mpi.rank(), mpi.size(), mpi.size() > 1);
  } catch (const std::exception& e) {
    mpi.abort(e.what());
  }
  mpi.barrier();
  if (mpi.rank() == 0) {
    try {
      finish_corpus(tmp, o.output, sweep, infos);
    } catch (const std::exception& e) {
      mpi.abort(e.what());
    }
    for (const StageInfo& s : infos) summary.failed += s.ok ? 0 : 1;
    if (!o.keep_work) {
      std::error_code ec;
      for (const StageInfo& s : infos) fs::remove(s.path, ec);
      fs::remove(work + "/sweep.toml", ec);
      fs::remove(work, ec); // only if empty
    }
  }
  summary.gather_s = seconds_since(t_gather);
  mpi.barrier();
  return summary;
}

} // namespace tomosweep

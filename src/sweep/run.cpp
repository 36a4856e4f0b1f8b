#include "sweep/run.hpp"

#include "core/system.hpp"
#include "core/tilt_scheme.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/atomic_file.hpp"
#include "io/files/folder_lock.hpp"
#include "io/structures/structure_file.hpp"
#include "job/scene_cache.hpp"
#include "sweep/coordinator.hpp"
#include "sweep/gather.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/progress.hpp"
#include "sweep/validate.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <fcntl.h>
#include <unistd.h>

namespace tomosweep {
namespace fs = std::filesystem;
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Rank 0's view of the work to do: the jobs still to run, the work folder's lock, held for the whole run, and
/// whether the corpus is already complete (--resume after a finished run).
struct WorkPlan {
  std::vector<std::size_t> todo; ///< indices into sweep.jobs
  FolderLock lock;
  bool complete = false;
};

/// Staged jobs that read back whole (verify_stage); a damaged one is removed with a warning, so it runs again.
void drop_damaged_stages(std::map<std::uint64_t, std::string>& staged) {
  for (auto it = staged.begin(); it != staged.end();) {
    try {
      verify_stage(it->second);
      ++it;
    } catch (const IoError& e) {
      print_warning(std::string(e.what()) + "; job " + std::to_string(it->first) + " runs again");
      fs::remove(it->second);
      it = staged.erase(it);
    }
  }
}

/// The corpus will be writable where it goes: its folder exists (made if missing) and takes a new file. Checked
/// before any job, so that a wrong -o never costs a run. Runs before the work folder's lock is taken, so an existing
/// OUTPUT.tmp (another run's gather in flight, or a killed one's) is only opened, never truncated or removed.
void check_output_folder(const std::string& output) {
  const fs::path folder = fs::path(output).parent_path();
  std::error_code ec;
  if (!folder.empty()) fs::create_directories(folder, ec);
  if (ec) fail_io(folder.string(), ": cannot create the corpus folder: ", ec.message());
  // OUTPUT.tmp itself may be the growing corpus of a run in progress on this work folder (refused later, by the
  // lock): an existing one is left alone, and the folder must take new files.
  const std::string probe = output + ".tmp";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  const bool existed = fd < 0 && errno == EEXIST;
  if (existed) fd = ::open(probe.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail_io(output, ": cannot write the corpus there: ", errno_message(probe));
  ::close(fd);
  if (!existed) ::unlink(probe.c_str());
}

/// The work folder of a run whose corpus is complete (killed after its final rename): removed unless kept.
void remove_finished_work(const std::string& work, const Sweep& sweep, bool keep) {
  if (keep || !fs::exists(work + "/sweep.toml") || read_file_bytes(work + "/sweep.toml") != sweep.text) return;
  const FolderLock lock(work);
  remove_work(work);
}

/// Rank 0's setup: output and work dir checks, under the work folder's lock.
WorkPlan prepare_work(const RunOptions& o, const std::string& work, const Sweep& sweep) {
  WorkPlan plan;
  if (fs::exists(o.output) && !o.force) {
    if (!o.resume) fail_io(o.output, ": corpus exists (use --force to overwrite it)");
    if (corpus_sweep_text(o.output) != sweep.text)
      fail_io(o.output, ": corpus exists and was made from another sweep than ", sweep.file,
              " (use --force to overwrite it)");
    remove_finished_work(work, sweep, o.keep_work);
    plan.complete = true;
    return plan;
  }
  check_output_folder(o.output);
  fs::create_directories(work);
  plan.lock = FolderLock(work); // before anything in the folder is touched: another run may own it
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
  drop_damaged_stages(staged);
  write_file_atomically(marker, sweep.text);
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i)
    if (!staged.count(sweep.jobs[i].job_id)) plan.todo.push_back(i);
  fault_point("setup");
  return plan;
}

/// Swept model settings that change a scene. The pixel size only changes how a scene is rasterized, so
/// conditions that differ only in imaging (or pixel size) share their scene.
std::vector<std::size_t> scene_axes(const Sweep& sweep) {
  std::vector<std::size_t> out;
  for (std::size_t a = 0; a < sweep.axes.size(); ++a)
    if (sweep.axes[a].rfind("model.", 0) == 0 && sweep.axes[a] != "model.pixel_size_A") out.push_back(a);
  return out;
}

/// A job's key in the SceneCache: its replicate and its values of the scene axes.
std::string scene_key(const SweepJob& job, const std::vector<std::size_t>& axes) {
  std::string key = std::to_string(job.replicate);
  for (std::size_t a : axes) key.append("|").append(job.values[a] ? format_setting(*job.values[a]) : "-");
  return key;
}

/// What every rank knows once the setup is agreed on.
struct RunSetup {
  Sweep sweep;
  JobFunction job_fn;
  std::string work; ///< stage folder
  WorkPlan plan;    ///< jobs still to run and the work folder's lock (rank 0 only); `complete` on every rank
};

/// Every rank reads and validates the sweep and builds its job function; rank 0 checks the output and the
/// work folder. The outcome is agreed on before anything runs, so no rank waits alone: a problem on any
/// rank is thrown on every rank.
RunSetup setup_run(const MpiSession& mpi, const RunOptions& o, const JobFactory& factory) {
  const std::string problem = launcher_size_problem(mpi.size(), [](const char* v) { return std::getenv(v); });
  if (!problem.empty()) throw Error(problem);
  RunSetup setup;
  setup.work = o.work_dir.empty() ? o.output + ".work" : o.work_dir;
  std::string error;
  bool config_error = false;
  try {
    setup.sweep = load_sweep(o.sweep_path);
    setup.job_fn = factory(setup.sweep);
    if (mpi.rank() == 0) setup.plan = prepare_work(o, setup.work, setup.sweep);
  } catch (const ConfigError& e) {
    error = e.what();
    config_error = true;
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!mpi.all_ok(error.empty())) {
    // A launcher ends every rank once one exits with an error, maybe before another has printed its message:
    // so each message is printed here (a config error, which every rank finds alike, by rank 0 alone), and no
    // rank leaves the barrier, and so exits, before every message is out.
    if (!error.empty() && (!config_error || mpi.rank() == 0)) print_error(error);
    mpi.barrier();
    throw ReportedError(error.empty() ? "setup failed on another rank (see its message)" : error);
  }
  if (mpi.size() > 1) setup.plan.complete = mpi.broadcast(setup.plan.complete ? "1" : "0") == "1";
  return setup;
}

/// Rank 0 hands out the jobs still to run; each rank stages what it runs; rank 0 absorbs every staged job into the
/// corpus between its own jobs (`gatherer`, rank 0 only), with one job of a resumed run's backlog each time.
CoordinatorStats run_jobs(const MpiSession& mpi, const RunOptions& o, const RunSetup& setup, Gatherer* gatherer) {
  const Sweep& sweep = setup.sweep;
  const bool tty = ::isatty(2) == 1;
  const std::vector<std::size_t>& todo = setup.plan.todo;
  Progress progress(sweep.jobs.size(), sweep.jobs.size() - todo.size(), tty, o.log_interval_s);
  const auto outputs = sweep.base.run.outputs;
  WorkFunction work_fn = [&](std::size_t index) {
    const SweepJob& job = sweep.jobs[index];
    const auto t0 = std::chrono::steady_clock::now();
    std::string failure;
    JobResult result;
    try {
      result = setup.job_fn(job);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    write_stage(stage_path(setup.work, job.job_id), job.job_id, job.replicate, failure.empty() ? &result : nullptr,
                failure, outputs, seconds_since(t0));
    fault_point("job-staged");
    return failure.empty();
  };
  FinishedFunction absorb;
  if (gatherer)
    absorb = [gatherer](const std::vector<std::size_t>& indices) {
      gatherer->absorb(indices);
      gatherer->absorb_backlog(1);
    };
  const auto order = mpi.rank() == 0 ? dispatch_order(sweep, todo) : std::vector<std::size_t>{};
  const CoordinatorStats stats = run_distributed(
      mpi, order, work_fn, [&](std::size_t d, std::size_t f) { progress.update(d, f); }, true, absorb);
  if (mpi.rank() == 0) progress.finish();
  return stats;
}

/// Collective end of the run: rank 0 absorbs what is left, writes the index and renames the corpus (a failure
/// ends every rank); the others wait for it. Returns the failed jobs (rank 0).
std::size_t finish_gather(const MpiSession& mpi, Gatherer* gatherer, bool keep_work) {
  fault_point("gather");
  std::size_t failed = 0;
  if (gatherer) {
    try {
      failed = gatherer->finish(keep_work);
    } catch (const std::exception& e) {
      mpi.abort(e.what());
    }
  }
  mpi.barrier();
  return failed;
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

JobFactory pipeline_job_factory() {
  return [](const Sweep& sweep) -> JobFunction {
    auto structures = std::make_shared<StructureSet>(load_structures(sweep_sources(sweep), sweep_folder(sweep.file)));
    // Every condition's model against the structures (e.g. particles larger than a box), before any job.
    validate_jobs(sweep, first_replicates(sweep), *structures);
    return [structures, axes = scene_axes(sweep), cache = std::make_shared<SceneCache>()](const SweepJob& job) {
      const Scene& scene = cache->scene(scene_key(job, axes), job.config, *structures, job.replicate);
      return run_job(job.config, *structures, scene, job.job_id, job.replicate);
    };
  };
}

RunSummary run_sweep(const RunOptions& o, const JobFactory& factory) {
  MpiSession mpi;
  RunSummary summary;
  summary.ranks = mpi.size();
  summary.root = mpi.rank() == 0;
  const RunSetup setup = setup_run(mpi, o, factory);
  summary.jobs = setup.sweep.jobs.size();
  if (setup.plan.complete) {
    summary.complete = true;
    return summary;
  }

  // Rank 0's corpus grows while the jobs run (a failure to create it ends every rank).
  std::unique_ptr<Gatherer> gatherer;
  if (mpi.rank() == 0) {
    try {
      gatherer = std::make_unique<Gatherer>(setup.sweep, setup.work, o.output, setup.plan.todo);
    } catch (const std::exception& e) {
      mpi.abort(e.what());
    }
  }
  const CoordinatorStats stats = run_jobs(mpi, o, setup, gatherer.get());
  summary.ran = stats.done;
  summary.run_s = stats.seconds;
  summary.failed = finish_gather(mpi, gatherer.get(), o.keep_work);
  if (gatherer) {
    summary.gather_s = gatherer->seconds();
    summary.tail_s = seconds_since(stats.last_finished);
  }
  return summary;
}

} // namespace tomosweep

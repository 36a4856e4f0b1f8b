#include "sweep/run.hpp"

#include "core/system.hpp"
#include "core/tilt_scheme.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/atomic_file.hpp"
#include "io/files/folder_lock.hpp"
#include "io/structures/structure_file.hpp"
#include "job/scene_cache.hpp"
#include "model/rasterize.hpp"
#include "sweep/coordinator.hpp"
#include "sweep/gather.hpp"
#include "sweep/group_job.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/progress.hpp"
#include "sweep/validate.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
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
      remove_stage(it->second);
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
  // Part files of a rank group's job killed before its stage file was written.
  for (const auto& e : fs::directory_iterator(work)) {
    const std::string name = e.path().filename().string();
    const auto dot = name.find(".part-");
    if (name.rfind("job-", 0) == 0 && dot != std::string::npos &&
        !fs::exists(work + "/" + name.substr(0, dot) + ".h5"))
      fs::remove(e.path());
  }
  if (fs::exists(marker) && read_file_bytes(marker) != sweep.text && !o.force)
    fail_io(work, ": work folder holds a different sweep (", marker, " differs from ", sweep.file,
            "); use --force to start over or another --work folder");
  if (!staged.empty() && !o.resume && !o.force)
    fail_io(work, ": work folder holds ", staged.size(),
            " staged jobs (use --resume to finish them, --force to discard)");
  if (o.force && !o.resume) {
    for (const auto& [id, path] : staged) remove_stage(path);
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
  JobFunctions job_fns;
  JobLimits limits;
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
  // The memory budget of every rank: the least over the ranks, so that every rank plans the same groups.
  setup.limits.ranks = mpi.size();
  setup.limits.memory_per_rank = o.memory_per_rank > 0 ? o.memory_per_rank : memory_per_rank_bytes();
  if (mpi.size() > 1)
    setup.limits.memory_per_rank =
        boost::mpi::all_reduce(boost::mpi::communicator(), setup.limits.memory_per_rank, boost::mpi::minimum<double>());
  std::string error;
  bool config_error = false;
  try {
    setup.sweep = load_sweep(o.sweep_path);
    setup.job_fns = factory(setup.sweep, setup.limits);
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

/// The jobs of rank groups, planned alike on every rank: each job larger than a rank's budget goes to one of the
/// groups of its size (consecutive ranks from rank 0, as many as fit), the least loaded (by voxels x tilts), larger
/// groups first; the other jobs are handed out one at a time as before.
struct GroupPlan {
  std::vector<std::size_t> singles; ///< the jobs of one rank (rank 0's list is the one used)
  AssignedJobs assigned;            ///< this rank's group jobs, in order
  std::map<std::size_t, std::shared_ptr<RankGroup>> group_of; ///< job index -> this rank's group for it
  std::size_t group_jobs = 0;
  int largest = 1;
};

double job_cost(const JobConfig& c) {
  const double px = c.model.pixel_size_A > 0 ? c.model.pixel_size_A : 1;
  const double voxels = (c.model.box_A[0] / px) * (c.model.box_A[1] / px) * (c.model.box_A[2] / px);
  return voxels * (tilt_count(c.imaging.tilt) + (c.prior.enabled ? tilt_count(c.prior.tilt) : 0));
}

GroupPlan plan_groups(const MpiSession& mpi, const RunSetup& setup) {
  GroupPlan plan;
  std::vector<std::size_t> todo = setup.plan.todo;
  if (mpi.size() > 1) { // rank 0's list, on every rank
    std::string text;
    for (std::size_t i : todo) text += std::to_string(i) + " ";
    text = mpi.broadcast(text);
    todo.clear();
    std::istringstream in(text);
    for (std::size_t i; in >> i;) todo.push_back(i);
  }
  std::map<int, std::vector<std::size_t>, std::greater<int>> by_size;
  for (std::size_t i : todo) {
    const int g = mpi.size() > 1 ? job_group_size(setup.sweep.jobs[i].config, setup.limits.memory_per_rank) : 1;
    if (g <= 1)
      plan.singles.push_back(i);
    else
      by_size[std::min(g, mpi.size())].push_back(i);
  }
  boost::mpi::communicator world;
  for (const auto& [g, jobs] : by_size) {
    const int groups = mpi.size() / g;
    const bool member = mpi.rank() < groups * g;
    auto group = std::make_shared<RankGroup>();
    group->comm = world.split(member ? mpi.rank() / g : groups + mpi.rank(), mpi.rank());
    std::vector<double> load(static_cast<std::size_t>(groups), 0.0);
    for (std::size_t i : dispatch_order(setup.sweep, jobs)) {
      const auto k = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[k] += job_cost(setup.sweep.jobs[i].config);
      if (member && static_cast<int>(k) == mpi.rank() / g) {
        plan.assigned.jobs.push_back(i);
        plan.assigned.reports.push_back(group->comm.rank() == 0);
        plan.group_of[i] = group;
      }
    }
    plan.group_jobs += jobs.size();
    plan.largest = std::max(plan.largest, g);
  }
  plan.assigned.total = plan.group_jobs;
  if (plan.group_jobs > 0 && boost::mpi::environment::thread_level() < boost::mpi::threading::multiple)
    throw Error("this MPI library does not offer MPI_THREAD_MULTIPLE, which rank 0 needs to run a rank group's job "
                "beside its coordinator thread (raise --memory-per-rank so that every job fits one rank)");
  return plan;
}

/// Rank 0 hands out the jobs still to run; each rank stages what it runs; rank 0 absorbs every staged job into the
/// corpus between its own jobs (`gatherer`, rank 0 only; in its absorb order, a resumed run's staged jobs among
/// them). The jobs of rank groups run first, on their groups (`groups`).
CoordinatorStats run_jobs(const MpiSession& mpi, const RunOptions& o, const RunSetup& setup, const GroupPlan& groups,
                          Gatherer* gatherer) {
  const Sweep& sweep = setup.sweep;
  const bool tty = ::isatty(2) == 1;
  const std::vector<std::size_t>& todo = setup.plan.todo;
  Progress progress(sweep.jobs.size(), sweep.jobs.size() - todo.size(), tty, o.log_interval_s);
  const auto outputs = sweep.base.run.outputs;
  WorkFunction work_fn = [&](std::size_t index) {
    const SweepJob& job = sweep.jobs[index];
    const auto t0 = std::chrono::steady_clock::now();
    if (const auto g = groups.group_of.find(index); g != groups.group_of.end()) {
      // A group's job: each rank stages its slab as a part file, then the root the stage file. A failure ends the
      // run (the group's other ranks would wait for the failed one).
      const boost::mpi::communicator& comm = g->second->comm;
      if (!setup.job_fns.group) throw Error("job " + std::to_string(job.job_id) + " needs a rank group");
      JobResult result = setup.job_fns.group(job, *g->second);
      const std::string stage = stage_path(setup.work, job.job_id);
      const int nz = grid_shape(job.config.model.box_A, job.config.model.pixel_size_A)[2];
      write_stage_part(stage, comm.rank(), job.job_id, result, slab_plan(nz, comm.size()).z0(comm.rank()), nz,
                       outputs);
      comm.barrier();
      if (comm.rank() == 0) {
        result.potential = {}, result.atlas = {}, result.instances = {}, result.tomogram = {}, result.prior = {};
        result.tomogram_odd = {}, result.tomogram_even = {};
        write_stage(stage, job.job_id, job.replicate, &result, "", outputs, seconds_since(t0), comm.size());
      }
      fault_point("job-staged");
      return true;
    }
    std::string failure;
    JobResult result;
    try {
      result = setup.job_fns.single(job);
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
    absorb = [gatherer](const std::vector<std::size_t>& indices) { gatherer->absorb(indices); };
  const auto order = mpi.rank() == 0 ? dispatch_order(sweep, groups.singles) : std::vector<std::size_t>{};
  const CoordinatorStats stats = run_distributed(
      mpi, order, work_fn, [&](std::size_t d, std::size_t f) { progress.update(d, f); }, true, absorb,
      groups.assigned, dispatch_affinity(sweep, order));
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
  for (std::size_t i : todo) cost.push_back({-job_cost(sweep.jobs[i].config), i});
  std::stable_sort(cost.begin(), cost.end());
  std::vector<std::size_t> out;
  for (const auto& [c, i] : cost) out.push_back(i);
  return out;
}

JobAffinity dispatch_affinity(const Sweep& sweep, const std::vector<std::size_t>& order) {
  JobAffinity a;
  const auto axes = scene_axes(sweep);
  std::map<std::string, int> ids;
  double previous = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const SweepJob& job = sweep.jobs[order[k]];
    a.scene.push_back(ids.emplace(scene_key(job, axes), static_cast<int>(ids.size())).first->second);
    const double cost = job_cost(job.config);
    a.tier.push_back(k == 0 ? 0 : a.tier.back() + (cost != previous ? 1 : 0));
    previous = cost;
  }
  return a;
}

JobFactory pipeline_job_factory() {
  return [](const Sweep& sweep, const JobLimits& limits) -> JobFunctions {
    auto structures = std::make_shared<StructureSet>(load_structures(sweep_sources(sweep), sweep_folder(sweep.file)));
    // Every condition's model against the structures (e.g. particles larger than a box), and its memory against
    // the ranks' budget, before any job.
    validate_jobs(sweep, first_replicates(sweep), *structures, limits.memory_per_rank, limits.ranks);
    auto cache = std::make_shared<SceneCache>();
    auto rasters = std::make_shared<RasterCache>();
    const auto axes = scene_axes(sweep);
    const double budget = limits.memory_per_rank;
    // A rank whose CPU affinity holds two cores per rank of the node (a sweep run alone, or ranks not bound to
    // cores) runs its jobs on two threads (JobHooks::spare_core): the same results, sooner.
    const bool spare = usable_cores() >= 2 * ranks_on_node();
    JobFunction single = [structures, axes, cache, rasters, budget, spare](const SweepJob& job) {
      const std::string key = scene_key(job, axes);
      const Scene& scene = cache->scene(key, job.config, *structures, job.replicate);
      // The conditions of one scene that differ only in imaging share its rasterization, while the budget leaves
      // room for a second copy of the volumes beside the job.
      const double room = budget > 0 ? budget - job_memory_bytes(job.config) : 1e300;
      JobHooks hooks;
      hooks.spare_core = spare;
      hooks.specimen = [&](const Scene& s) {
        const ModelParams& m = job.config.model;
        return rasters->specimen(raster_key(key, m.pixel_size_A, m.potential), s, *structures, m.pixel_size_A,
                                 m.potential, room, spare);
      };
      return run_job(job.config, *structures, scene, job.job_id, job.replicate, {}, hooks);
    };
    GroupJobFunction group = [structures, axes, cache](const SweepJob& job, const RankGroup& g) {
      const Scene& scene = cache->scene(scene_key(job, axes), job.config, *structures, job.replicate);
      return run_group_job(g.comm, job.config, *structures, scene, job.job_id, job.replicate);
    };
    return JobFunctions(single, group);
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
  const GroupPlan groups = plan_groups(mpi, setup);
  summary.group_jobs = groups.group_jobs;
  summary.largest_group = groups.largest;
  summary.memory_per_rank = setup.limits.memory_per_rank;
  const CoordinatorStats stats = run_jobs(mpi, o, setup, groups, gatherer.get());
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

#include "sweep/coordinator.hpp"

#include <algorithm>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/status.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace tomosweep {
namespace {

constexpr int kTagRequest = 1; // worker -> 0: {finished index or -1, ok}
constexpr int kTagJob = 2;     // 0 -> worker: index
constexpr int kTagStop = 3;    // 0 -> worker: no more jobs
constexpr int kTagDone = 4;    // worker -> 0: {finished assigned index, ok}, no answer

using Clock = std::chrono::steady_clock;

/// Job queue, counters and the finished jobs not yet passed on, shared by rank 0's coordinator thread and its
/// working main thread.
class Queue {
public:
  Queue(const std::vector<std::size_t>& order, const JobAffinity& affinity, int ranks, const ProgressFunction& progress,
        std::size_t assigned)
      : picker_(order, affinity, ranks), progress_(progress), total_(order.size() + assigned), last_(Clock::now()) {}
  bool next(int rank, std::size_t& index) {
    std::lock_guard lock(mutex_);
    return picker_.next(rank, index);
  }
  void finished(std::size_t index, bool ok) {
    std::lock_guard lock(mutex_);
    ++done_;
    if (!ok) ++failed_;
    pending_.push_back(index);
    last_ = Clock::now();
    if (progress_) progress_(done_, failed_);
    changed_.notify_one();
  }
  /// The finished jobs not yet taken.
  std::vector<std::size_t> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(pending_, {});
  }
  /// Waits until a finished job is not yet taken or every job is done; takes them (none: every job is done).
  std::vector<std::size_t> wait_and_take() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !pending_.empty() || done_ == total_; });
    return std::exchange(pending_, {});
  }
  std::size_t done() const { return done_; }
  std::size_t failed() const { return failed_; }
  Clock::time_point last_finished() const { return last_; }

private:
  JobPicker picker_;
  const ProgressFunction& progress_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::size_t> pending_;
  std::size_t total_;
  std::size_t done_ = 0, failed_ = 0;
  Clock::time_point last_;
};

bool run_one(const MpiSession& mpi, const WorkFunction& work, std::size_t index) {
  try {
    return work(index);
  } catch (const std::exception& e) {
    mpi.abort(e.what());
  }
}

/// Rank 0's coordinator thread: answers requests until every worker has been told to stop.
void serve(boost::mpi::communicator world, Queue& queue) {
  int active = world.size() - 1;
  auto spin_until = Clock::now();
  while (active > 0) {
    auto st = world.iprobe(boost::mpi::any_source, boost::mpi::any_tag);
    if (!st) {
      // Poll instead of a blocking receive, which in Open MPI spins on a core that rank 0's own jobs
      // need: spin briefly after each message (the next request often follows at once), then sleep 1 ms (a
      // request waits at most that; 100 us cost rank 0 about a fifth of its system time in wake-ups).
      if (Clock::now() < spin_until)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(1000));
      continue;
    }
    spin_until = Clock::now() + std::chrono::microseconds(500);
    int msg[2];
    if (st->tag() == kTagDone) { // a rank group's job, finished
      world.recv(st->source(), kTagDone, msg, 2);
      queue.finished(static_cast<std::size_t>(msg[0]), msg[1] != 0);
      continue;
    }
    world.recv(st->source(), kTagRequest, msg, 2);
    if (msg[0] >= 0) queue.finished(static_cast<std::size_t>(msg[0]), msg[1] != 0);
    std::size_t index = 0;
    if (queue.next(st->source(), index)) {
      const long long i = static_cast<long long>(index);
      world.send(st->source(), kTagJob, i);
    } else {
      world.send(st->source(), kTagStop);
      --active;
    }
  }
}

/// Rank 0: its own jobs, passing finished jobs on after each; then, until every job is done, the others' jobs
/// as they finish.
void run_root(const MpiSession& mpi, Queue& queue, const WorkFunction& work, const FinishedFunction& finished,
              CoordinatorStats& stats, bool root_works, const AssignedJobs& assigned) {
  auto pass_on = [&](const std::vector<std::size_t>& indices) {
    if (!finished || indices.empty()) return;
    try {
      finished(indices);
    } catch (const std::exception& e) {
      mpi.abort(e.what());
    }
  };
  boost::mpi::communicator world;
  std::thread coordinator;
  if (mpi.size() > 1 && !root_works)
    serve(world, queue);
  else if (mpi.size() > 1)
    coordinator = std::thread(serve, world, std::ref(queue));
  // On 3 or more ranks, once absorbing what the others finished during rank 0's job takes longer than the job
  // itself (twice in a row), rank 0 is the bottleneck of the gather: it stops taking jobs and only passes on.
  for (std::size_t k = 0; k < assigned.jobs.size(); ++k) {
    const bool ok = run_one(mpi, work, assigned.jobs[k]);
    ++stats.local;
    if (assigned.reports[k]) queue.finished(assigned.jobs[k], ok);
    pass_on(queue.take());
  }
  int slow_passes = 0;
  std::size_t index = 0;
  while (slow_passes < 2 && queue.next(0, index)) {
    const auto start = Clock::now();
    const bool ok = run_one(mpi, work, index);
    ++stats.local;
    queue.finished(index, ok);
    const auto ran = Clock::now();
    pass_on(queue.take());
    const bool slow = mpi.size() > 2 && finished && Clock::now() - ran > ran - start;
    slow_passes = slow ? slow_passes + 1 : 0;
  }
  if (finished)
    for (auto indices = queue.wait_and_take(); !indices.empty(); indices = queue.wait_and_take()) pass_on(indices);
  if (coordinator.joinable()) coordinator.join();
  pass_on(queue.take());
  stats.done = queue.done();
  stats.failed = queue.failed();
  stats.last_finished = queue.last_finished();
}

} // namespace

JobPicker::JobPicker(const std::vector<std::size_t>& order, JobAffinity affinity, int ranks)
    : order_(order), affinity_(std::move(affinity)), taken_(order.size(), false),
      last_(static_cast<std::size_t>(std::max(ranks, 1)), -1) {
  const std::size_t n = order.size();
  const auto& scene = affinity_.scene;
  if (scene.size() != n || affinity_.tier.size() != n || std::any_of(scene.begin(), scene.end(), [](int s) { return s < 0; })) {
    affinity_ = {};
    return;
  }
  const int scenes = n == 0 ? 0 : *std::max_element(scene.begin(), scene.end()) + 1;
  next_same_.assign(n, n);
  cursor_.assign(static_cast<std::size_t>(scenes), n);
  holders_.assign(static_cast<std::size_t>(scenes), 0);
  for (std::size_t p = n; p-- > 0;) {
    auto& first = cursor_[static_cast<std::size_t>(scene[p])];
    next_same_[p] = first;
    first = p;
  }
}

bool JobPicker::next(int rank, std::size_t& index) {
  const std::size_t n = order_.size();
  while (head_ < n && taken_[head_]) ++head_;
  if (head_ == n) return false;
  std::size_t pick = head_;
  if (!affinity_.scene.empty()) {
    const int tier = affinity_.tier[head_];
    const int own = last_[static_cast<std::size_t>(rank)];
    std::size_t p = n;
    if (own >= 0) { // the first job left of the rank's last scene
      auto& first = cursor_[static_cast<std::size_t>(own)];
      while (first < n && taken_[first]) first = next_same_[first];
      p = first;
    }
    if (p < n && affinity_.tier[p] == tier) {
      pick = p;
    } else { // a scene no other rank is on (a bounded look ahead: the first job left is always a fair choice)
      constexpr std::size_t kLookAhead = 4096;
      for (std::size_t q = head_, k = 0; q < n && affinity_.tier[q] == tier && k < kLookAhead; ++q, ++k)
        if (!taken_[q] && holders_[static_cast<std::size_t>(affinity_.scene[q])] == 0) {
          pick = q;
          break;
        }
    }
  }
  index = order_[take(rank, pick)];
  return true;
}

std::size_t JobPicker::take(int rank, std::size_t pos) {
  taken_[pos] = true;
  if (!affinity_.scene.empty()) {
    int& last = last_[static_cast<std::size_t>(rank)];
    if (last >= 0) --holders_[static_cast<std::size_t>(last)];
    last = affinity_.scene[pos];
    ++holders_[static_cast<std::size_t>(last)];
  }
  return pos;
}

CoordinatorStats run_distributed(const MpiSession& mpi, const std::vector<std::size_t>& order, const WorkFunction& work,
                                 const ProgressFunction& progress, bool root_works, const FinishedFunction& finished,
                                 const AssignedJobs& assigned, const JobAffinity& affinity) {
  const auto t0 = Clock::now();
  CoordinatorStats stats;
  boost::mpi::communicator world;
  if (mpi.rank() == 0) {
    Queue queue(order, affinity, mpi.size(), progress, assigned.total);
    run_root(mpi, queue, work, finished, stats, root_works, assigned);
  } else {
    for (std::size_t k = 0; k < assigned.jobs.size(); ++k) {
      const bool ok = run_one(mpi, work, assigned.jobs[k]);
      ++stats.local;
      if (!assigned.reports[k]) continue;
      ++stats.done;
      if (!ok) ++stats.failed;
      int done[2] = {static_cast<int>(assigned.jobs[k]), ok ? 1 : 0};
      world.send(0, kTagDone, done, 2);
    }
    int msg[2] = {-1, 1};
    for (;;) {
      world.send(0, kTagRequest, msg, 2);
      long long index = 0;
      boost::mpi::status st = world.probe(0, boost::mpi::any_tag);
      if (st.tag() == kTagStop) {
        world.recv(0, kTagStop);
        break;
      }
      world.recv(0, kTagJob, index);
      const bool ok = run_one(mpi, work, static_cast<std::size_t>(index));
      ++stats.local;
      ++stats.done;
      if (!ok) ++stats.failed;
      msg[0] = static_cast<int>(index);
      msg[1] = ok ? 1 : 0;
    }
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return stats;
}

} // namespace tomosweep

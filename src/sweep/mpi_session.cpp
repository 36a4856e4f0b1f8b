#include "sweep/mpi_session.hpp"

#include "core/errors.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>

namespace tomosweep {

struct MpiSession::Impl {
  std::optional<boost::mpi::environment> env;
  boost::mpi::communicator world;
};

MpiSession::MpiSession() : impl_(std::make_unique<Impl>()) {
  if (!boost::mpi::environment::initialized()) {
#ifdef OPEN_MPI
    const std::string pml = one_node_pml([](const char* v) { return std::getenv(v); });
    if (!pml.empty()) ::setenv("OMPI_MCA_pml", pml.c_str(), 0);
#endif
    impl_->env.emplace(boost::mpi::threading::multiple, /*abort_on_exception=*/false);
  }
  // Rank 0's coordinator thread and its job thread both call MPI: one at a time, but at once while rank 0 runs a rank
  // group's job ("multiple", which run_sweep asks for then; docs/reliability.md).
  if (boost::mpi::environment::thread_level() < boost::mpi::threading::serialized)
    throw Error("this MPI library does not offer MPI_THREAD_SERIALIZED, which tomosweep's coordinator thread "
                "needs (Open MPI and MPICH built with thread support do)");
  impl_->world = boost::mpi::communicator();
  rank_ = impl_->world.rank();
  size_ = impl_->world.size();
}

MpiSession::~MpiSession() = default;

void MpiSession::barrier() const { impl_->world.barrier(); }

std::string MpiSession::broadcast(const std::string& text, int root) const {
  std::string out = text;
  boost::mpi::broadcast(impl_->world, out, root);
  return out;
}

bool MpiSession::all_ok(bool ok) const {
  return boost::mpi::all_reduce(impl_->world, ok ? 1 : 0, boost::mpi::minimum<int>()) == 1;
}

void MpiSession::abort(const std::string& message) const {
  std::fprintf(stderr, "tomosweep: error: %s (rank %d)\n", message.c_str(), rank_);
  std::fflush(stderr);
  impl_->world.abort(1);
  std::abort(); // not reached
}

std::string launcher_size_problem(int world_size, const EnvGetter& env) {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    const char* v = env(var);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n <= 0) return std::string("cannot read launcher task count ") + var + "='" + v + "'";
    if (n == world_size) return {};
    return "the launcher started " + std::to_string(n) + " tasks (" + var + "=" + v + ") but mpi sees " +
           std::to_string(world_size) + (world_size == 1 ? " rank" : " ranks") +
           ": tomosweep was started without mpi support in the launcher (with srun use --mpi=pmix, or use mpirun)";
  }
  return {};
}

std::string one_node_pml(const EnvGetter& env) {
  const auto set = [&](const char* var) {
    const char* v = env(var);
    return v != nullptr && *v != '\0';
  };
  const auto is = [&](const char* var, const std::string& value) { return set(var) && value == env(var); };
  if (set("OMPI_MCA_pml")) return {};
  bool one_node = false;
  if (set("OMPI_COMM_WORLD_SIZE"))
    one_node = is("OMPI_COMM_WORLD_LOCAL_SIZE", env("OMPI_COMM_WORLD_SIZE"));
  else if (set("SLURM_STEP_NUM_NODES"))
    one_node = is("SLURM_STEP_NUM_NODES", "1");
  else
    one_node = !set("PMIX_RANK") && !set("PMI_RANK");
  return one_node ? "ob1" : "";
}

} // namespace tomosweep

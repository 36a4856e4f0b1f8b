// The MPI runtime as seen by the sweep: initialisation, rank and size, the few collectives the sweep
// needs, and the launcher check. The only header of the sweep that stands for MPI; MPI itself stays in
// the .cpp files of src/sweep.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace tomosweep {

class MpiSession {
public:
  /// Initialise MPI (thread level "serialized": rank 0 runs a coordinator thread beside its own jobs),
  /// or join an MPI already initialised. Works without a launcher (one rank).
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  void barrier() const;
  /// `text` of rank `root` on every rank.
  std::string broadcast(const std::string& text, int root = 0) const;
  /// True on every rank iff `ok` is true on every rank.
  bool all_ok(bool ok) const;
  /// Print "tomosweep: error: MESSAGE (rank R)" and end every rank (MPI_Abort).
  [[noreturn]] void abort(const std::string& message) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
};

/// Reads an environment variable (nullptr when unset); replaceable in tests.
using EnvGetter = std::function<const char*(const char*)>;

/// Empty if the MPI world size matches what the launcher promised (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
/// PMIX_SIZE or SLURM_STEP_NUM_TASKS, the first set), else the error message: srun without PMI, or
/// a tomosweep built against another MPI, starts N singletons that would each run the whole sweep.
std::string launcher_size_problem(int world_size, const EnvGetter& env);

/// The point-to-point layer Open MPI is asked for (OMPI_MCA_pml) when every rank is on this node: "ob1" (with
/// shared memory between the ranks). Left to choose, Open MPI first tries its layers for network hardware (cm with
/// its PSM, PSM2 and OFI transports, and UCX where the build has it), whose probing ranks on one node do not need:
/// 0.2 s of MPI_Init's 0.33 s with Debian's Open MPI, which then settles on ob1 anyway. Empty, Open MPI choosing as
/// usual, when OMPI_MCA_pml is set (the user's choice) or the ranks may be on several nodes. One node: no launcher
/// (one rank), OMPI_COMM_WORLD_LOCAL_SIZE equal to OMPI_COMM_WORLD_SIZE (mpirun), or SLURM_STEP_NUM_NODES=1 (srun).
std::string one_node_pml(const EnvGetter& env);

} // namespace tomosweep

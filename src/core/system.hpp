// Facts about the machine a job runs on (callers decide; physics never asks).
#pragma once

#include <cstddef>

namespace tomosweep {

/// The ranks an MPI launcher started on this node (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS,
/// SLURM_NTASKS_PER_NODE), 1 when run alone: known before MPI is initialised.
int ranks_on_node();

/// Physical memory of this machine in bytes, divided among ranks_on_node(); 0 if unknown.
double memory_per_rank_bytes();

/// Rank of this process as an MPI launcher's environment gives it (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK,
/// SLURM_PROCID), 0 when run alone: known before MPI is initialised.
int launcher_rank();

/// The cores this process may run on (its CPU affinity: taskset, Slurm's binding), at least 1.
int usable_cores();

/// Maps in the pages of [p, p + bytes) at once, before they are first written: one call instead of a page fault per
/// 4 KiB page, which costs about 2 us in a virtual machine (several times the kernel's zeroing of the page). For
/// blocks of 1 MiB or more (smaller ones: nothing); best effort: nothing where the kernel lacks
/// MADV_POPULATE_WRITE (Linux before 5.14) or refuses.
void prefault_for_write(void* p, std::size_t bytes);

/// Fault injection for the reliability tests (tests/mpi/test_faults.py): when the environment variable
/// TOMOSWEEP_FAULT_AT is "NAME", "NAME@RANK" or "NAME@RANK#COUNT", the COUNT-th (default first) call of
/// fault_point(NAME) on that MPI rank (any rank when omitted; the rank as the launcher's environment gives it)
/// ends the process with SIGKILL, as a node failure or a time limit would. Unset: nothing happens.
void fault_point(const char* name);

} // namespace tomosweep

// Facts about the machine a job runs on (callers decide; physics never asks).
#pragma once

namespace tomosweep {

/// Physical memory of this machine in bytes, divided among the ranks an MPI launcher started on this
/// node (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS, SLURM_NTASKS_PER_NODE); 0 if unknown.
double memory_per_rank_bytes();

} // namespace tomosweep

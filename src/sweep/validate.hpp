// One validation of the jobs a command will run, shared by run, check and simulate: each job's model
// against the loaded structures (e.g. a particle larger than the box) and its memory against what one rank
// of this machine has.
#pragma once

#include "model/structure.hpp"
#include "sweep/sweep.hpp"

#include <cstddef>
#include <vector>

namespace tomosweep {

/// Replicate 0 of every condition (indices into sweep.jobs): the replicates of a condition share its
/// settings, so these are the jobs to validate.
std::vector<std::size_t> first_replicates(const Sweep& sweep);

/// Validate the given jobs (indices into sweep.jobs) in order; the first problem is thrown as Error
/// "FILE: job N (condition C): MESSAGE".
/// A job larger than `memory_per_rank_bytes` runs on a group of ranks (job_group_size): refused when `max_ranks`
/// cannot give it one, or its settings need one rank (group_job_problem). Without a budget (<= 0:
/// memory_per_rank_bytes()) and with one rank, a job larger than that is refused as too large for the machine.
void validate_jobs(const Sweep& sweep, const std::vector<std::size_t>& jobs, const StructureSet& structures,
                   double memory_per_rank_bytes = 0, int max_ranks = 1);

/// Pack the scene of every job whose model has particle entries with a `count` (once per replicate, or once per
/// job when a model.* setting is swept) and throw "FILE: job N (condition C, replicate R): ..." for the first
/// count not reached. Returns the number of scenes packed (0 without counts). `tomosweep check` runs it.
std::size_t check_counts(const Sweep& sweep, const StructureSet& structures);

} // namespace tomosweep

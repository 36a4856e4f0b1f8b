// A job larger than one rank's memory, run on a group of ranks (a sub-communicator of the sweep): each rank
// holds a z slab of the job's volumes, in whole 64-slice chunks of the corpus (so that each rank stages its own
// slab's chunks, and the gather copies them as stored).
//
// The group's root (its rank 0) runs the pipeline of run_job with a projector and a back projector that reach
// the slabs; the other ranks serve them:
// - projection: each image is summed slab after slab in z order, passed from rank to rank (so the sums, and the
//   images, are those of one rank bit for bit), a few views at a time so that the ranks work as a pipeline;
// - the root does the CTF, the counting and the WBP filter, as on one rank;
// - back projection: the filtered images go to every rank a block of rows at a time (the whole stack when the
//   views have residuals or another axis azimuth), and each rank back-projects its slab;
// - the "bandlimit" prior is a 3D filter through FFTW3-MPI (sweep/group_fft.hpp).
// Everything but that prior is identical to the job run on one rank; the prior agrees within rounding.
#pragma once

#include "job/job.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>

namespace tomosweep {

/// The z slabs of a volume nz slices deep on `ranks` ranks: rank k holds [z0(k), z1(k)), `block` slices each (a
/// multiple of 64, the corpus's chunk depth) but the last.
struct SlabPlan {
  int nz = 0, block = 0, ranks = 1;
  int z0(int k) const;
  int z1(int k) const;
};
SlabPlan slab_plan(int nz, int ranks);

/// A rank group: the communicator of its ranks (its rank 0 is the group's root).
class RankGroup {
public:
  boost::mpi::communicator comm;
};

/// Run one job on the ranks of `group` (collective over it). Every rank gets its slab of the volumes (potential,
/// atlas, instances, tomograms, prior) in its JobResult; the group's root also gets the rest of the job (tilt
/// series, particles, classes, timings). The settings group_job_problem (job/job.hpp) names are refused on every
/// rank alike, before any work.
JobResult run_group_job(const boost::mpi::communicator& group, const JobConfig& config,
                        const StructureSet& structures, const Scene& scene, std::uint64_t job_id, int replicate);

} // namespace tomosweep

// One job end to end: scene -> rasterize -> series -> reconstruct -> ground truths. Values in, values out:
// no files, no MPI. `tomosweep simulate` and the sweep workers both call run_job.
#pragma once

#include "core/projector.hpp"
#include "core/tilt_series.hpp"
#include "reconstruct/wbp.hpp"
#include "core/volume.hpp"
#include "job/job_config.hpp"
#include "model/particles.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"
#include "model/structure.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tomosweep {

struct StageTiming {
  std::string stage;
  double seconds = 0;
};

struct JobResult {
  std::uint64_t job_id = 0;
  int replicate = 0;
  Volume<float> potential;         ///< specimen potential, volts (mean over each voxel)
  TiltSeries series;               ///< noisy tilt series, electrons per pixel, on detector_shape's detector
  TiltSeries prior_series;         ///< ideal series (intensity, no noise) when the prior or an output needs one
  Volume<float> tomogram;          ///< WBP of the noisy series, XYZ
  Volume<float> prior;             ///< noise-free target of prior.method, volts, XYZ, same grid as the tomogram
  Volume<float> tomogram_odd;      ///< WBP of the odd half-dose series (imaging.half_series), else empty
  Volume<float> tomogram_even;     ///< WBP of the even half-dose series (imaging.half_series), else empty
  Volume<std::uint8_t> atlas;      ///< class label per voxel, 0 = background
  Volume<std::uint32_t> instances; ///< particle instance per voxel, 0 = none
  std::vector<ClassInfo> classes;
  std::vector<PlacedParticle> particles;
  std::vector<StageTiming> timings;
};

/// Called with a stage name as each stage starts (for progress display); may be empty.
using StageCallback = std::function<void(const std::string& stage)>;

/// What a caller that writes a job's outputs while the job runs (tomosweep simulate) is shown, on the job's thread.
/// Any may be empty. A callee may read what it is shown from another thread until `drain` returns.
struct JobHooks {
  /// The specimen volumes (potential, atlas, instances), final from here on. The job reads only the potential
  /// after this: the callee may take the atlas and instances (the result then holds what it left in their place).
  std::function<void(SpecimenVolumes& specimen)> specimen_ready;
  /// The noisy tilt series, final from here on (its tomograms are made next).
  std::function<void(const TiltSeries& series)> series_ready;
  /// The tomograms are made and the job is done with its tilt series: the callee may take the series out of `r`
  /// (and free it) so that it is not held through the prior.
  std::function<void(JobResult& r)> series_done;
  /// Blocks until the caller reads nothing it was shown any more: called before the specimen volumes move into the
  /// result, and, when the job throws, before any of them is freed (must not throw then).
  std::function<void()> drain;
  /// The caller has a core to spare while the job runs (`tomosweep simulate`, a sweep's rank with two cores per rank
  /// of its node): granular ice's texture is then made on a second thread while the particles are splatted, and the
  /// projections, the tilts' imaging (simulate_series) and the back projection (reconstruct_tomogram) run on two
  /// threads. The same volumes and series either way.
  bool spare_core = false;
  /// The scene's specimen volumes at the job's pixel size and potential mode, if the caller has them (a sweep's
  /// RasterCache: the imaging conditions of one scene share one rasterization), made with spare_core's texture
  /// thread; empty: run_job rasterizes.
  std::function<SpecimenVolumes(const Scene& scene)> specimen;
};

/// Estimated peak memory of one job in bytes: the specimen volumes, tomogram, prior and their working
/// buffers, and the noisy and ideal tilt series (measured for the 600 x 600 x 60 cytoplasm job: 0.58 GB with
/// the bandlimit prior, 0.76 GB with the wbp prior).
double job_memory_bytes(const JobConfig& config);

/// The number of CTF slabs the job's tilt series uses: imaging.ctf_slabs, "auto" resolved (ctf_slab_count) for
/// the box's thickness at the model's pixel size, at most the box's voxels along z.
int job_ctf_slabs(const JobConfig& config);

/// Throw a one-line error if a job needs more memory than `available_bytes` (the caller's machine).
void check_job_memory(const JobConfig& config, double available_bytes);

/// What in a job's settings needs its whole volume on one rank, so that a rank group cannot run it (empty: nothing),
/// as the end of a sentence: granular ice, acquisition binning, gold's amplitude term, SIRT.
std::string group_job_problem(const JobConfig& config);

/// The most ranks a group can use for a job: one per 64 slices (the corpus's chunk depth) of its volume.
int max_group_size(const JobConfig& config);

/// Estimated peak memory in bytes of the busiest rank of a group of g ranks running the job (sweep/group_job.hpp):
/// the root holds its slab of the volumes and the tilt series, the others their slab and the images passed
/// along (the whole filtered series when the views cannot be sent a block of rows at a time). g = 1:
/// job_memory_bytes.
double group_memory_bytes(const JobConfig& config, int g);

/// The fewest ranks whose per-rank memory (group_memory_bytes) fits `budget_bytes` (1 if it fits one rank;
/// budget <= 0: 1); 0 if no group up to max_group_size fits.
int job_group_size(const JobConfig& config, double budget_bytes);

/// How the imaging half of a job reaches its potential (volts, on the job's grid): run_job gives functions of the
/// volume it holds; a rank group's root (sweep/group_job.hpp) gives functions that reach the slabs of its ranks.
struct PotentialAccess {
  Projector project;               ///< projections of the potential (the ideal series)
  Projector project_imaged;        ///< the noisy series' (the fine potential of acquisition binning); empty: project
  BackProjector back_project;      ///< the tomograms' back projection; empty: of the whole grid
  std::function<Volume<float>(double ice_V)> bandlimited_prior; ///< the "bandlimit" prior
  std::function<void()> series_made; ///< called once the noisy series exists (may be empty)
};

/// The imaging half of run_job with the potential reached through `access`: the tilt series, tomograms and prior
/// of `scene` on `grid` into `r` (stage timings appended), the same calls in the same order as run_job.
void image_job(const JobConfig& config, const Scene& scene, const Grid& grid, double ice_thickness_A,
               const PotentialAccess& access, std::uint64_t job_id, JobResult& r, const StageCallback& on_stage = {});

/// Run the whole pipeline of one job. Deterministic in (config, structures, job_id, replicate).
JobResult run_job(const JobConfig& config, const StructureSet& structures, std::uint64_t job_id, int replicate,
                  const StageCallback& on_stage = {}, const JobHooks& hooks = {});

/// The same from a scene already built by build_scene(config.model, structures, config.run.seed, replicate),
/// so that the imaging conditions of one replicate share one packing (the result is identical).
JobResult run_job(const JobConfig& config, const StructureSet& structures, const Scene& scene, std::uint64_t job_id,
                  int replicate, const StageCallback& on_stage = {}, const JobHooks& hooks = {});

} // namespace tomosweep

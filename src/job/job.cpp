#include "job/job.hpp"

#include "job/specimen_terms.hpp"

#include "core/projector.hpp"
#include "core/tilt_scheme.hpp"
#include "model/atoms.hpp"
#include "model/features.hpp"
#include "model/rasterize.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/ctf.hpp"
#include "simulate/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tomosweep {
namespace {

/// Times consecutive stages and announces each as it starts.
class Stages {
public:
  Stages(std::vector<StageTiming>& out, const StageCallback& cb) : out_(out), cb_(cb) {}
  ~Stages() { stop(); }
  void start(const std::string& name) {
    stop();
    if (cb_) cb_(name);
    out_.push_back({name, 0});
    t0_ = std::chrono::steady_clock::now();
    running_ = true;
  }
  void stop() {
    if (!running_) return;
    out_.back().seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    running_ = false;
  }

private:
  std::vector<StageTiming>& out_;
  const StageCallback& cb_;
  std::chrono::steady_clock::time_point t0_;
  bool running_ = false;
};

bool wants(const JobConfig& c, const char* output) {
  return std::find(c.run.outputs.begin(), c.run.outputs.end(), output) != c.run.outputs.end();
}

/// Pixels of one image of a series with this tilt scheme on `grid` (the detector of detector_shape).
double detector_pixels(const Grid& grid, const TiltParams& t) {
  const TiltSeries s = plan_series(t, 0, 0, 0, 0);
  const std::array<int, 2> d = detector_shape(grid, s.nominal_views);
  return double(d[0]) * d[1];
}

/// Whether the prior needs the ideal series.
bool ideal_series_needed(const JobConfig& c) {
  return c.prior.enabled && (c.prior.method == PriorMethod::wbp || wants(c, "prior_series"));
}

} // namespace

double job_memory_bytes(const JobConfig& config) {
  const ModelParams& m = config.model;
  const std::array<int, 3> n = grid_shape(m.box_A, m.pixel_size_A);
  const Grid grid{n[0], n[1], n[2], m.pixel_size_A};
  const double voxels = double(n[0]) * n[1] * n[2];
  const double tilts = tilt_count(config.imaging.tilt);
  const double ideal = ideal_series_needed(config) ? tilt_count(config.prior.tilt) : 0;
  // Potential, atlas, instances, tomogram and prior (4 + 1 + 4 + 4 + 4 bytes per voxel) stay; rasterizing
  // needs about as much again for a moment, before the series exist. The noisy series (on its detector) is
  // held twice (kept and filtered), the ideal series once; the bandlimit prior's FFT buffer is a volume.
  const double volumes = voxels * 17;
  // With n > 1 CTF slabs the n projection stacks and the output are held at once.
  const int slabs = job_ctf_slabs(config);
  const double noisy_stacks = slabs > 1 ? slabs + 1 : 2;
  const double series = (detector_pixels(grid, config.imaging.tilt) * 4 * noisy_stacks * tilts +
                         (ideal > 0 ? detector_pixels(grid, config.prior.tilt) * 4 * ideal : 0)) *
                        (config.imaging.half_series ? 2 : 1);
  const bool bandlimit = config.prior.enabled && config.prior.method == PriorMethod::bandlimit;
  // Acquisition binning b images b^3 voxels per voxel on b^2 pixels per pixel (below).
  const int b = config.imaging.ideal ? 1 : config.imaging.acquisition_binning;
  const double b2 = double(b) * b, b3 = b2 * b;
  // Amplitude term of gold: its volume fraction and its projected path per tilt; ice surfaces: each pixel's ice
  // path per tilt and two lookup tables of at most 2^22 floats (job/specimen_terms.hpp); at the imaged pixel.
  const double imaged_pixels = detector_pixels(grid, config.imaging.tilt) * b2;
  const double extras =
      (config.imaging.gold_absorption_mfp_A > 0 && m.beads.count > 0 ? voxels * b3 * 4 + imaged_pixels * 4 * tilts
                                                                     : 0) +
      (m.ice_surface.enabled() ? imaged_pixels * 4 * tilts + 2 * 4194304.0 * 4 : 0);
  // Granular ice: rasterizing holds 13 bytes per voxel plus the texture and its FFT buffer (4 + 4); ice surfaces
  // add the ice fraction of each voxel (4).
  const double per_voxel = (m.ice && m.ice_texture == IceTexture::granular ? 21 : 13) + (m.ice_surface.enabled() ? 4 : 0);
  double rasterize = voxels * per_voxel;
  // Acquisition binning b: the fine rasterization (b^3 voxels each) while the coarse volumes (9 bytes per voxel)
  // wait; then the fine potential and the fine series (b^2 pixels each, once) beside the coarse volumes.
  if (b > 1) {
    rasterize = std::max(rasterize, voxels * (9 + b3 * per_voxel));
    const double fine_series = imaged_pixels * 4 * tilts;
    const double fine_stacks = (slabs > 1 ? slabs + 1 : 1) + (config.imaging.half_series ? 2 : 0);
    rasterize = std::max(rasterize, volumes + voxels * b3 * 4 + fine_series * fine_stacks + extras);
  }
  return std::max(volumes + series + extras + (bandlimit ? voxels * 4 : 0), rasterize) + 50e6;
}

int job_ctf_slabs(const JobConfig& config) {
  const double pA = config.model.pixel_size_A;
  const int nz = grid_shape(config.model.box_A, pA)[2];
  return std::clamp(ctf_slab_count(config.imaging, nz * pA, pA), 1, nz);
}

std::string group_job_problem(const JobConfig& c) {
  if (!c.imaging.ideal && c.imaging.acquisition_binning > 1)
    return "imaging.acquisition_binning > 1 needs the whole volume on one rank";
  if (c.imaging.gold_absorption_mfp_A > 0 && c.model.beads.count > 0)
    return "imaging.gold_absorption_mfp_A > 0 needs the whole volume on one rank";
  if (c.reconstruction.method == ReconMethod::sirt) return "reconstruction.method = \"sirt\" needs the whole volume on one rank";
  return {};
}

int max_group_size(const JobConfig& config) {
  const int nz = grid_shape(config.model.box_A, config.model.pixel_size_A)[2];
  return std::max(1, (nz + 63) / 64);
}

double group_memory_bytes(const JobConfig& config, int g) {
  if (g <= 1) return job_memory_bytes(config);
  const ModelParams& m = config.model;
  const std::array<int, 3> n = grid_shape(m.box_A, m.pixel_size_A);
  const Grid grid{n[0], n[1], n[2], m.pixel_size_A};
  const int chunks = (n[2] + 63) / 64;
  const double slab = double(n[0]) * n[1] * std::min(n[2], (chunks + g - 1) / g * 64);
  const double tilts = tilt_count(config.imaging.tilt);
  const double image = detector_pixels(grid, config.imaging.tilt) * 4;
  // Each rank: its slab of potential, atlas, instances, tomogram and prior (17 bytes per voxel, 8 more with half
  // tomograms); rasterizing needs 13 per voxel for a moment; the bandlimit prior's FFTW-MPI buffers about 8.
  const bool bandlimit = config.prior.enabled && config.prior.method == PriorMethod::bandlimit;
  const double volumes = slab * (17 + (config.imaging.half_series ? 8 : 0) + (bandlimit ? 8 : 0));
  // Granular ice: its texture's slab and FFTW-MPI buffer (8) beside the rasterizing.
  const double own = std::max(volumes, slab * (m.ice && m.ice_texture == IceTexture::granular ? 21 : 13));
  // The root: the noisy series as on one rank (stacks of the CTF slabs, halves), and the ideal one.
  const int slabs = job_ctf_slabs(config);
  const double ideal = ideal_series_needed(config) ? tilt_count(config.prior.tilt) : 0;
  const double series = (image * (slabs > 1 ? slabs + 1 : 2) * tilts +
                         (ideal > 0 ? detector_pixels(grid, config.prior.tilt) * 4 * ideal : 0)) *
                        (config.imaging.half_series ? 2 : 1);
  const double ice = m.ice_surface.enabled() ? image * tilts + 2 * 4194304.0 * 4 : 0;
  // The others: two messages of up to 8 views, or the whole filtered series when it goes out as one stack.
  const bool whole_stack = config.imaging.tilt.axis_azimuth_deg != 0 || config.imaging.tilt.shift_sd_A > 0 ||
                           config.imaging.tilt.rotation_sd_deg > 0 || config.imaging.tilt.magnification_sd > 0;
  const double passed = whole_stack ? image * std::max(tilts, ideal) : 2 * 8 * image;
  return std::max(own + series + ice, own + passed) + 50e6;
}

int job_group_size(const JobConfig& config, double budget_bytes) {
  if (!(budget_bytes > 0) || job_memory_bytes(config) <= budget_bytes) return 1;
  for (int g = 2; g <= max_group_size(config); ++g)
    if (group_memory_bytes(config, g) <= budget_bytes) return g;
  return 0;
}

void check_job_memory(const JobConfig& config, double available_bytes) {
  const double need = job_memory_bytes(config);
  if (available_bytes > 0 && need > available_bytes) {
    const std::array<int, 3> n = grid_shape(config.model.box_A, config.model.pixel_size_A);
    fail("a job of ", n[0], " x ", n[1], " x ", n[2], " voxels needs about ", std::round(need / 1e8) / 10,
         " GB of memory and ", std::round(available_bytes / 1e8) / 10,
         " GB are available (raise model.pixel_size_A or shrink model.box_A)");
  }
}

namespace {

/// The layers of the scene that continue beyond the box: the carbon film (with its hole), over the medium.
std::vector<ExteriorLayer> exterior_layers(const Scene& scene, PotentialMode mode, double medium_V) {
  if (!scene.carbon.present) return {};
  const CarbonFilm& c = scene.carbon;
  return {{c.z_A, c.thickness_A, carbon_potential_V(mode) - medium_V, c.hole_x_A, c.hole_y_A, c.hole_radius_A}};
}

/// Threads for the job's projections, imaging and back projection: 2 with a core to spare (JobHooks::spare_core).
int threads_of(const JobHooks& hooks) { return hooks.spare_core ? 2 : 1; }

/// The potential (volts) of the scene at pixel / bin on bin times the grid `coarse` (the same box): what a
/// series acquired at a finer pixel images (imaging.acquisition_binning). Atlas and instances are not kept.
Volume<float> fine_potential(const Scene& scene, const StructureSet& structures, const Grid& coarse, int bin,
                             PotentialMode mode) {
  Scene fine = scene;
  fine.box_A = {coarse.nx * coarse.voxel_A, coarse.ny * coarse.voxel_A, coarse.nz * coarse.voxel_A};
  SpecimenVolumes v = rasterize(fine, structures, coarse.voxel_A / bin, mode);
  if (v.potential.nx != coarse.nx * bin || v.potential.ny != coarse.ny * bin || v.potential.nz != coarse.nz * bin)
    fail("acquisition binning ", bin, " rasterized ", v.potential.nx, " x ", v.potential.ny, " x ", v.potential.nz,
         " voxels for a grid of ", coarse.nx, " x ", coarse.ny, " x ", coarse.nz);
  return std::move(v.potential);
}

/// Mean of each bin^3 block of `fine` (volts, mean over each voxel of the coarse grid).
Volume<float> block_mean(const Volume<float>& fine, int bin) {
  Volume<float> out(fine.nx / bin, fine.ny / bin, fine.nz / bin, fine.voxel_A * bin);
  for (int z = 0; z < fine.nz; ++z)
    for (int y = 0; y < fine.ny; ++y)
      for (int x = 0; x < fine.nx; ++x) out(x / bin, y / bin, z / bin) += fine(x, y, z);
  const float scale = 1.0f / static_cast<float>(bin * bin * bin);
  for (float& v : out.data) v *= scale;
  return out;
}

/// The prior of config.prior.method (and the ideal series when it or the output "prior_series" needs one).
void make_prior(const JobConfig& config, const Grid& grid, const PotentialAccess& access, double ice_V,
                const std::vector<ExteriorLayer>& exterior, const SpecimenTerms& terms, Stages& stages, JobResult& r) {
  if (ideal_series_needed(config)) {
    stages.start("prior series");
    TiltSeries ideal =
        simulate_ideal_series(grid, access.project, config.imaging, config.prior.tilt, ice_V, exterior, terms);
    if (config.prior.method == PriorMethod::wbp) {
      if (wants(config, "prior_series")) {
        r.prior_series = ideal;
      } else {
        r.prior_series.tilts = ideal.tilts;
        r.prior_series.axis_azimuth_deg = ideal.axis_azimuth_deg;
      }
      // The ideal series (179 images by default) is the largest buffer of a job: reuse it for filtering.
      stages.start("prior");
      r.prior = reconstruct_tomogram(std::move(ideal), grid, config.reconstruction, access.back_project);
      return;
    }
    r.prior_series = std::move(ideal);
  }
  stages.start("prior");
  r.prior = access.bandlimited_prior(ice_V);
}

/// The imaging half of a job (run_job and image_job): series, tomograms, prior, from the potential on `grid` as
/// `access` reaches it; its series images `imaged_grid` (the fine grid of acquisition binning `bin`).
void image(const JobConfig& config, const Scene& scene, const Grid& grid, const Grid& imaged_grid, int bin,
           double ice_thickness_A, const PotentialAccess& access, std::uint64_t job_id, Stages& stages, JobResult& r,
           const JobHooks& hooks) {
  // The box sits in a laterally infinite ice slab (images and the prior show the potential against ice), and
  // a carbon film continues beyond it.
  const double ice_V = scene.ice ? ice_potential_V(config.model.potential) : 0.0;
  const std::vector<ExteriorLayer> exterior = exterior_layers(scene, config.model.potential, ice_V);
  JobSpecimenTerms terms; // ice surfaces, amplitude term of gold and carbon (all off by default)
  job_specimen_terms(scene, config, ice_V, terms, bin);
  stages.start("tilt series");
  r.series = simulate_series(imaged_grid, access.project_imaged ? access.project_imaged : access.project,
                             config.imaging, ice_thickness_A, config.run.seed, job_id, ice_V, exterior, terms.terms,
                             threads_of(hooks));
  if (access.series_made) access.series_made();
  if (hooks.series_ready) hooks.series_ready(r.series);

  stages.start("tomogram");
  r.tomogram = reconstruct_tomogram(r.series, grid, config.reconstruction, access.back_project,
                                    threads_of(hooks));
  if (config.imaging.half_series) {
    // Noise2Noise pairs: the two halves have independent counts of half the dose each.
    stages.start("half tomograms");
    r.tomogram_odd = reconstruct_tomogram(half_series(r.series, 0), grid, config.reconstruction, access.back_project);
    r.tomogram_even = reconstruct_tomogram(half_series(r.series, 1), grid, config.reconstruction, access.back_project);
  }

  if (hooks.series_done) {
    stages.stop();
    hooks.series_done(r);
  }

  if (config.prior.enabled) make_prior(config, grid, access, ice_V, exterior, terms.terms, stages, r);
  stages.stop();
}

} // namespace

JobResult run_job(const JobConfig& config, const StructureSet& structures, std::uint64_t job_id, int replicate,
                  const StageCallback& on_stage, const JobHooks& hooks) {
  // The scene depends on (seed, replicate) and the model only: every imaging condition of one replicate
  // images the same specimen.
  if (on_stage) on_stage("scene");
  const auto t0 = std::chrono::steady_clock::now();
  const Scene scene = build_scene(config.model, structures, config.run.seed, replicate);
  const double scene_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  JobResult r = run_job(config, structures, scene, job_id, replicate, on_stage, hooks);
  r.timings.insert(r.timings.begin(), StageTiming{"scene", scene_s});
  return r;
}

JobResult run_job(const JobConfig& config, const StructureSet& structures, const Scene& scene, std::uint64_t job_id,
                  int replicate, const StageCallback& on_stage, const JobHooks& hooks) {
  JobResult r;
  r.job_id = job_id;
  r.replicate = replicate;
  Stages stages(r.timings, on_stage);
  r.classes = scene.classes;
  r.particles = scene.particles;

  stages.start("rasterize");
  SpecimenVolumes specimen =
      hooks.specimen ? hooks.specimen(scene)
                     : rasterize(scene, structures, config.model.pixel_size_A, config.model.potential, hooks.spare_core);
  const Grid grid = specimen.potential.grid();
  // Acquisition at a finer pixel: the series images the potential rasterized at pixel / bin, and the prior and the
  // model are its block means, so that they show what was imaged.
  const int bin = config.imaging.ideal ? 1 : config.imaging.acquisition_binning;
  Volume<float> fine;
  if (bin > 1) {
    stages.start("rasterize fine");
    fine = fine_potential(scene, structures, grid, bin, config.model.potential);
    specimen.potential = block_mean(fine, bin);
  }

  // A caller shown the volumes may read them until drained: before they move into r, and on the way out of an
  // exception (this guard goes before `specimen`, `fine` and r's members do).
  struct Drain {
    const JobHooks& hooks;
    ~Drain() {
      if (hooks.drain) hooks.drain();
    }
  } drain{hooks};
  if (hooks.specimen_ready) hooks.specimen_ready(specimen);

  // The series images the fine potential (freed once the series exist), the prior the coarse one.
  PotentialAccess access;
  access.project = volume_projector(specimen.potential, threads_of(hooks));
  if (bin > 1) access.project_imaged = volume_projector(fine, threads_of(hooks));
  access.series_made = [&fine] { fine = Volume<float>(); };
  access.bandlimited_prior = [&](double ice_V) {
    return bandlimited_prior(specimen.potential, ice_V, config.reconstruction);
  };
  image(config, scene, grid, bin > 1 ? fine.grid() : grid, bin, specimen.ice_thickness_A, access, job_id, stages, r,
        hooks);

  if (hooks.drain) hooks.drain();
  r.potential = std::move(specimen.potential);
  r.atlas = std::move(specimen.atlas);
  r.instances = std::move(specimen.instances);
  return r;
}

void image_job(const JobConfig& config, const Scene& scene, const Grid& grid, double ice_thickness_A,
               const PotentialAccess& access, std::uint64_t job_id, JobResult& r, const StageCallback& on_stage) {
  Stages stages(r.timings, on_stage);
  image(config, scene, grid, grid, 1, ice_thickness_A, access, job_id, stages, r, JobHooks{});
}

} // namespace tomosweep

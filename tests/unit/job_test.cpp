// One job end to end: shapes, determinism, and the scene shared across imaging conditions.
#include "core/projector.hpp"
#include "expect_error.hpp"
#include "job/job.hpp"
#include "job/scene_cache.hpp"
#include "model/synthetic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace tomosweep;
using test_util::error_of;

namespace {

JobConfig small_config() {
  JobConfig c;
  c.run.seed = 11;
  c.run.replicates = 2;
  c.model.box_A = {600, 500, 200};
  c.model.pixel_size_A = 10;
  Layer layer;
  layer.max_density = 0.15;
  ParticleSpec spec;
  spec.source = "synthetic:globular?mass_kDa=300";
  spec.class_name = "complex";
  layer.particles.push_back(spec);
  c.model.layers.push_back(layer);
  c.imaging.tilt.min_deg = -60;
  c.imaging.tilt.max_deg = 60;
  c.imaging.tilt.step_deg = 10;
  c.prior.tilt.step_deg = 6;
  return c;
}

StructureSet structures_for(const JobConfig& c) {
  StructureSet s;
  for (const Layer& l : c.model.layers)
    for (const ParticleSpec& p : l.particles) s.emplace(p.source, make_synthetic(p.source));
  return s;
}

} // namespace

TEST(job, outputs_share_the_model_grid) {
  const JobConfig c = small_config();
  const JobResult r = run_job(c, structures_for(c), 0, 0);
  EXPECT_EQ(r.potential.nx, 60);
  EXPECT_EQ(r.potential.ny, 50);
  EXPECT_EQ(r.potential.nz, 20);
  EXPECT_TRUE(r.tomogram.same_shape(r.potential));
  EXPECT_TRUE(r.prior.same_shape(r.potential));
  EXPECT_TRUE(r.atlas.same_shape(r.potential));
  EXPECT_TRUE(r.instances.same_shape(r.potential));
  EXPECT_EQ(r.series.tilts.size(), 13u);
  EXPECT_EQ(r.series.images.nz, 13);
  EXPECT_TRUE(r.prior_series.tilts.empty()); // the default bandlimit prior needs no ideal series
  ASSERT_FALSE(r.particles.empty());
  ASSERT_EQ(r.classes.size(), 1u);
  EXPECT_EQ(r.classes[0].label, 1);
  EXPECT_EQ(r.classes[0].name, "complex");
  for (float v : r.tomogram.data) ASSERT_TRUE(std::isfinite(v));
  for (float v : r.prior.data) ASSERT_TRUE(std::isfinite(v));
  std::size_t labelled = 0;
  for (auto a : r.atlas.data) labelled += a == 1;
  EXPECT_GT(labelled, 0u);
}

TEST(job, reruns_are_byte_identical) {
  const JobConfig c = small_config();
  const StructureSet s = structures_for(c);
  const JobResult a = run_job(c, s, 3, 1), b = run_job(c, s, 3, 1);
  EXPECT_EQ(a.series.images.data, b.series.images.data);
  EXPECT_EQ(a.tomogram.data, b.tomogram.data);
  EXPECT_EQ(a.prior.data, b.prior.data);
  EXPECT_EQ(a.atlas.data, b.atlas.data);
  EXPECT_EQ(a.instances.data, b.instances.data);
}

TEST(job, imaging_conditions_of_one_replicate_image_the_same_scene) {
  JobConfig c = small_config();
  const StructureSet s = structures_for(c);
  const JobResult a = run_job(c, s, 0, 1);
  c.imaging.defocus_um = 2;
  c.imaging.dose_e_per_A2 = 40;
  const JobResult b = run_job(c, s, 1, 1);
  EXPECT_EQ(a.atlas.data, b.atlas.data);
  EXPECT_EQ(a.potential.data, b.potential.data);
  EXPECT_EQ(a.prior.data, b.prior.data);
  EXPECT_NE(a.series.images.data, b.series.images.data);
  // Another replicate is another specimen.
  const JobResult other = run_job(c, s, 2, 0);
  EXPECT_NE(other.atlas.data, a.atlas.data);
}

TEST(job, noise_depends_on_the_job_id) {
  const JobConfig c = small_config();
  const StructureSet s = structures_for(c);
  const JobResult a = run_job(c, s, 0, 0), b = run_job(c, s, 1, 0);
  EXPECT_NE(a.series.images.data, b.series.images.data);
}

TEST(job, stages_are_timed_in_order) {
  const JobConfig c = small_config();
  std::vector<std::string> seen;
  const JobResult r = run_job(c, structures_for(c), 0, 0, [&](const std::string& st) { seen.push_back(st); });
  const std::vector<std::string> expected{"scene", "rasterize", "tilt series", "tomogram", "prior"};
  EXPECT_EQ(seen, expected);
  ASSERT_EQ(r.timings.size(), expected.size());
  for (const StageTiming& t : r.timings) EXPECT_GE(t.seconds, 0);
}

TEST(job, the_wbp_prior_reconstructs_an_ideal_series_on_the_detector) {
  JobConfig c = small_config();
  c.prior.method = PriorMethod::wbp;
  const JobResult r = run_job(c, structures_for(c), 0, 0);
  EXPECT_EQ(r.prior_series.tilts.size(), 30u);     // -89..85 step 6 stays inside [-89, 89]
  EXPECT_TRUE(r.prior_series.images.data.empty()); // not kept unless "prior_series" is an output
  EXPECT_TRUE(r.prior.same_shape(r.potential));
  // The noisy series' detector holds the tilted box: wider than the 60 x 50 x 20 box.
  EXPECT_EQ(r.series.images.nx, detector_shape(r.potential.grid(), r.series.views)[0]);
  EXPECT_GT(r.series.images.nx, 60);
  EXPECT_EQ(r.series.images.ny, 50);
}

TEST(job, both_priors_of_ice_alone_are_zero_and_of_particles_agree) {
  // The job gives the pipeline its ice level: ice alone is invisible in either prior (a wrong level would
  // leave a constant in the bandlimit prior and walls in the wbp prior).
  JobConfig ice = small_config();
  ice.model.layers.clear();
  ice.model.ice_texture = IceTexture::none; // a uniform level (granular ice is not uniform)
  for (PriorMethod m : {PriorMethod::bandlimit, PriorMethod::wbp}) {
    ice.prior.method = m;
    const JobResult r = run_job(ice, {}, 0, 0);
    for (float v : r.prior.data) ASSERT_LT(std::abs(v), 1e-4) << name_of(m);
  }
  JobConfig c = small_config();
  c.prior.tilt.step_deg = 2;
  const StructureSet s = structures_for(c);
  const JobResult band = run_job(c, s, 0, 0);
  c.prior.method = PriorMethod::wbp;
  const JobResult wbp = run_job(c, s, 0, 0);
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < band.prior.size(); ++i)
    ab += band.prior.data[i] * wbp.prior.data[i], aa += band.prior.data[i] * band.prior.data[i],
        bb += wbp.prior.data[i] * wbp.prior.data[i];
  EXPECT_GT(ab / std::sqrt(aa * bb), 0.9);
}

TEST(job, a_carbon_film_has_no_edge_at_the_box_faces) {
  // Ideal images at 0 degrees on a detector wider than the box: just outside the box the film's exterior line
  // integral (its excess over ice) continues what the box's last column projects, row by row.
  JobConfig c = small_config();
  c.model.layers.clear();
  c.model.carbon.enabled = true;
  c.model.carbon.thickness_A = 100;
  c.model.ice_texture = IceTexture::none; // steps of the film alone, not of granular ice
  c.prior.method = PriorMethod::wbp;
  c.prior.tilt.angles_deg = {-30, 0, 30};
  c.prior.tilt.order = TiltOrder::list;
  c.run.outputs.push_back("prior_series");
  const JobResult r = run_job(c, {}, 0, 0);
  const Volume<float>& im = r.prior_series.images;
  ASSERT_EQ(im.nx, 64);                                                   // 60 + 2 on each side at 0 degrees
  const double film = 2 * r.prior_series.sigma_e_rad_per_V_A * 3.0 * 100; // contrast of >= 3 V over 100 A
  int rows_with_film = 0, steps = 0;
  for (int y = 0; y < im.ny; ++y)
    for (auto [out, in] : {std::pair{1, 2}, std::pair{62, 61}}) {
      steps += std::abs(im(out, y, 1) - im(in, y, 1)) > 0.05 * film;
      rows_with_film += 1 - im(in, y, 1) > 0.5 * film;
    }
  EXPECT_GT(rows_with_film, 10);
  EXPECT_LE(steps, 4); // only where the hole's edge (a circle: two rows per crossing at most) meets a face
}

TEST(job, half_series_gives_two_independent_half_dose_tomograms) {
  JobConfig c = small_config();
  c.imaging.half_series = true;
  const JobResult r = run_job(c, structures_for(c), 0, 0);
  ASSERT_TRUE(r.tomogram_odd.same_shape(r.tomogram));
  ASSERT_TRUE(r.tomogram_even.same_shape(r.tomogram));
  EXPECT_NE(r.tomogram_odd.data, r.tomogram_even.data);
  // Reconstruction is linear and the halves' counts sum to the full series: the halves average to about
  // the full tomogram (exactly up to the per-image contrast normalisation).
  double num = 0, den = 0;
  for (std::size_t i = 0; i < r.tomogram.size(); ++i) {
    const double avg = 0.5 * (r.tomogram_odd.data[i] + r.tomogram_even.data[i]);
    num += (avg - r.tomogram.data[i]) * (avg - r.tomogram.data[i]);
    den += r.tomogram.data[i] * r.tomogram.data[i];
  }
  EXPECT_LT(num / den, 0.05);
}

TEST(job, no_half_tomograms_unless_asked) {
  const JobConfig c = small_config();
  const JobResult r = run_job(c, structures_for(c), 0, 0);
  EXPECT_TRUE(r.tomogram_odd.data.empty());
  EXPECT_TRUE(r.tomogram_even.data.empty());
}

TEST(job, memory_estimate_grows_with_the_box_and_bounds_a_real_job) {
  JobConfig c = small_config();
  const double small = job_memory_bytes(c);
  c.model.pixel_size_A = 5; // 8x the voxels, 4x the pixels
  EXPECT_GT(job_memory_bytes(c), 4 * (small - 50e6));
  // The 600 x 600 x 60 cytoplasm job peaks at 0.58 GB with the bandlimit prior and at 0.76 GB with the wbp
  // prior (tomosweep simulate): the estimate must cover both.
  c.model.box_A = {7920, 7920, 792};
  c.model.pixel_size_A = 13.2;
  c.imaging.tilt = TiltParams{};
  c.prior = PriorParams{};
  EXPECT_GT(job_memory_bytes(c), 0.58e9);
  EXPECT_LT(job_memory_bytes(c), 1.0e9);
  c.prior.method = PriorMethod::wbp;
  EXPECT_GT(job_memory_bytes(c), 0.76e9);
  EXPECT_LT(job_memory_bytes(c), 1.2e9);
  // sweeps/bench/thon-rings.toml (1024 x 1024 x 60 at 2 A, one tilt, no prior) peaks at 1.28 GB while
  // rasterizing granular ice.
  c.model.box_A = {2048, 2048, 120};
  c.model.pixel_size_A = 2;
  c.imaging.tilt.angles_deg = {0};
  c.imaging.tilt.order = TiltOrder::list;
  c.prior.enabled = false;
  EXPECT_GT(job_memory_bytes(c), 1.28e9);
  EXPECT_LT(job_memory_bytes(c), 1.6e9);
}

TEST(job, too_large_a_box_is_refused_with_the_sizes) {
  JobConfig c = small_config();
  c.model.box_A = {100000, 100000, 2000};
  c.model.pixel_size_A = 2;
  c.imaging.ctf_slabs = 1; // "auto" would hold 10 slab projections of this 2000 A box
  EXPECT_EQ(error_of([&] { check_job_memory(c, 24e9); }),
            "a job of 50000 x 50000 x 1000 voxels needs about 52760.1 GB of memory and 24 GB are "
            "available (raise model.pixel_size_A or shrink model.box_A)");
  EXPECT_NO_THROW(check_job_memory(small_config(), 24e9));
}

TEST(job, acquisition_binning_images_a_finer_potential_on_the_same_grid) {
  JobConfig c = small_config();
  const JobResult one = run_job(c, structures_for(c), 0, 0);
  c.imaging.acquisition_binning = 2;
  const JobResult two = run_job(c, structures_for(c), 0, 0);
  // Atlas, prior and tomogram stay on the model grid; the series comes out on the same detector and pixel.
  EXPECT_EQ(two.atlas.data, one.atlas.data);
  EXPECT_TRUE(two.tomogram.same_shape(one.tomogram));
  EXPECT_TRUE(two.prior.same_shape(one.prior));
  EXPECT_EQ(two.series.images.nx, one.series.images.nx);
  EXPECT_EQ(two.series.images.ny, one.series.images.ny);
  EXPECT_EQ(two.series.images.voxel_A, 10);
  EXPECT_EQ(two.series.ctf->pixel_A, 10);
  // Counts per output pixel: the flat of a binned pixel is that of a 10 A pixel.
  EXPECT_NEAR(two.series.tilts[3].flat_e_per_pixel, one.series.tilts[3].flat_e_per_pixel,
              1e-9 * one.series.tilts[3].flat_e_per_pixel);
  // The model is the block mean of the finer potential: same mean as the 10 A rasterization, not the same voxels.
  double m1 = 0, m2 = 0;
  for (std::size_t i = 0; i < one.potential.data.size(); ++i) m1 += one.potential.data[i], m2 += two.potential.data[i];
  EXPECT_NEAR(m2 / m1, 1, 0.01);
  EXPECT_NE(two.potential.data, one.potential.data);
  // The memory estimate holds the rasterization of 8 times the voxels (21 bytes each with granular ice).
  c.model.box_A = {4000, 4000, 400};
  const double fine_rasterization = 8 * 400.0 * 400 * 40 * 21;
  EXPECT_GT(job_memory_bytes(c), fine_rasterization);
  c.imaging.acquisition_binning = 1;
  EXPECT_LT(job_memory_bytes(c), fine_rasterization / 4);
}

TEST(job, acquisition_binning_images_gold_absorption_on_the_fine_grid) {
  // A gold bead with its amplitude term, imaged at 10 A and at 5 A binned to 10 A: the bead's darkest pixel over
  // the background is about the same (the gold fraction is on the grid the series is imaged from).
  JobConfig c = small_config();
  c.model.layers.clear();
  c.model.beads.count = 1;
  c.model.beads.radius_A = 60;
  c.imaging.gold_absorption_mfp_A = 100;
  c.imaging.dose_e_per_A2 = 1e5;
  c.imaging.defocus_um = 0.5;
  c.imaging.tilt = {};
  c.imaging.tilt.min_deg = c.imaging.tilt.max_deg = 0;
  c.prior.enabled = false;
  auto darkest_over_median = [&](int bin) {
    c.imaging.acquisition_binning = bin;
    const JobResult r = run_job(c, structures_for(c), 0, 0);
    std::vector<float> px = r.series.images.data;
    std::sort(px.begin(), px.end());
    return px.front() / px[px.size() / 2];
  };
  const double one = darkest_over_median(1), two = darkest_over_median(2);
  EXPECT_LT(one, 0.6); // exp(-120 / 100) = 0.30 at the centre, blurred by the pixel
  EXPECT_NEAR(two, one, 0.15);
}

// Rank groups (sweep/group_job.hpp): which settings need one rank, how many ranks a job can use, and the group a
// budget asks for.
TEST(job, group_sizes_follow_the_budget) {
  JobConfig c = small_config();
  c.model.box_A = {4000, 4000, 2600}; // 400 x 400 x 260 voxels at 10 A: 5 chunks of 64 slices
  c.model.pixel_size_A = 10;
  EXPECT_EQ(group_job_problem(c), "");
  EXPECT_EQ(max_group_size(c), 5);
  const double one = job_memory_bytes(c);
  EXPECT_EQ(group_memory_bytes(c, 1), one);
  // Fewer slices per rank, less memory per rank: the busiest rank holds 3, 2, 2, 1 chunks on 2, 3, 4, 5 ranks.
  EXPECT_LT(group_memory_bytes(c, 2), one);
  EXPECT_LT(group_memory_bytes(c, 3), group_memory_bytes(c, 2));
  EXPECT_EQ(group_memory_bytes(c, 4), group_memory_bytes(c, 3)); // both: 2 chunks on the busiest rank
  EXPECT_LT(group_memory_bytes(c, 5), group_memory_bytes(c, 4));
  EXPECT_EQ(job_group_size(c, 0), 1);
  EXPECT_EQ(job_group_size(c, one), 1);
  EXPECT_EQ(job_group_size(c, group_memory_bytes(c, 2)), 2);
  EXPECT_EQ(job_group_size(c, group_memory_bytes(c, 3)), 3);
  EXPECT_EQ(job_group_size(c, group_memory_bytes(c, 5)), 5);
  EXPECT_EQ(job_group_size(c, group_memory_bytes(c, 5) - 1), 0);
  JobConfig sirt = c;
  sirt.reconstruction.method = ReconMethod::sirt;
  EXPECT_EQ(group_job_problem(sirt), "reconstruction.method = \"sirt\" needs the whole volume on one rank");
  JobConfig binned = c;
  binned.imaging.acquisition_binning = 2;
  EXPECT_EQ(group_job_problem(binned), "imaging.acquisition_binning > 1 needs the whole volume on one rank");
  JobConfig gold = c;
  gold.imaging.gold_absorption_mfp_A = 500;
  EXPECT_EQ(group_job_problem(gold), ""); // no beads: nothing to absorb
  gold.model.beads.count = 2;
  EXPECT_EQ(group_job_problem(gold), "imaging.gold_absorption_mfp_A > 0 needs the whole volume on one rank");
}

namespace {
Scene film_scene(int replicate) {
  Scene sc;
  sc.box_A = {240, 200, 120};
  sc.carbon.present = true;
  sc.carbon.thickness_A = 30;
  sc.carbon.z_A = -30;
  sc.carbon.hole_radius_A = 60 + 10 * replicate;
  sc.ice_texture = IceTexture::granular;
  sc.seed = 3, sc.replicate = replicate;
  return sc;
}
void expect_same(const SpecimenVolumes& a, const SpecimenVolumes& b) {
  EXPECT_EQ(a.potential.data, b.potential.data);
  EXPECT_EQ(a.atlas.data, b.atlas.data);
  EXPECT_EQ(a.instances.data, b.instances.data);
  EXPECT_EQ(a.potential.voxel_A, b.potential.voxel_A);
  EXPECT_EQ(a.ice_thickness_A, b.ice_thickness_A);
}
} // namespace

TEST(raster_cache, repeats_the_last_rasterization_and_keeps_only_what_fits) {
  const Scene a = film_scene(0), b = film_scene(1);
  const SpecimenVolumes va = rasterize(a, {}, 4, PotentialMode::fast), vb = rasterize(b, {}, 4, PotentialMode::fast);
  const double bytes = double(va.potential.size()) * 9;
  RasterCache cache;
  const std::string ka = raster_key("0", 4, PotentialMode::fast), kb = raster_key("1", 4, PotentialMode::fast);
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, 1e300), va);
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, 1e300), va);
  EXPECT_EQ(cache.hits(), 1u);
  expect_same(cache.specimen(kb, b, {}, 4, PotentialMode::fast, 1e300), vb); // another scene: made again
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, 1e300), va); // one entry: made again
  EXPECT_EQ(cache.hits(), 1u);
  // A job without room for a second copy takes the cached volumes; the next one makes them again.
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, bytes - 1), va);
  EXPECT_EQ(cache.hits(), 2u);
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, bytes - 1), va); // not kept: no room
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, bytes), va);
  EXPECT_EQ(cache.hits(), 2u);
  expect_same(cache.specimen(ka, a, {}, 4, PotentialMode::fast, bytes), va);
  EXPECT_EQ(cache.hits(), 3u);
  // The key tells pixel sizes and potential modes apart.
  EXPECT_NE(raster_key("0", 4, PotentialMode::fast), raster_key("0", 4.5, PotentialMode::fast));
  EXPECT_NE(raster_key("0", 4, PotentialMode::fast), raster_key("0", 4, PotentialMode::form_factor));
  EXPECT_EQ(raster_key("0|2.5", 10, PotentialMode::fast), "0|2.5|px 10|mode 0");
}

TEST(raster_cache, a_job_given_the_volumes_equals_a_job_that_rasterizes) {
  const JobConfig c = small_config();
  const StructureSet st = structures_for(c);
  const Scene scene = build_scene(c.model, st, c.run.seed, 0);
  RasterCache cache;
  JobHooks hooks;
  hooks.specimen = [&](const Scene& s) {
    return cache.specimen("k", s, st, c.model.pixel_size_A, c.model.potential, 1e300);
  };
  const JobResult plain = run_job(c, st, scene, 5, 0);
  for (int i = 0; i < 2; ++i) {
    const JobResult cached = run_job(c, st, scene, 5, 0, {}, hooks);
    EXPECT_EQ(cached.potential.data, plain.potential.data);
    EXPECT_EQ(cached.atlas.data, plain.atlas.data);
    EXPECT_EQ(cached.instances.data, plain.instances.data);
    EXPECT_EQ(cached.series.images.data, plain.series.images.data);
    EXPECT_EQ(cached.tomogram.data, plain.tomogram.data);
  }
  EXPECT_EQ(cache.hits(), 1u);
  // With a core to spare (a sweep's rank with two cores): texture thread, two-thread imaging, the same job.
  RasterCache spare_cache;
  JobHooks spare;
  spare.spare_core = true;
  spare.specimen = [&](const Scene& s) {
    return spare_cache.specimen("k", s, st, c.model.pixel_size_A, c.model.potential, 1e300, spare.spare_core);
  };
  const JobResult two = run_job(c, st, scene, 5, 0, {}, spare);
  EXPECT_EQ(two.potential.data, plain.potential.data);
  EXPECT_EQ(two.series.images.data, plain.series.images.data);
  EXPECT_EQ(two.tomogram.data, plain.tomogram.data);
  EXPECT_EQ(two.prior.data, plain.prior.data);
}


// Issue 8, the specimen half: ice surfaces (rough, wedged, per-pixel path), contamination, the amplitude term of
// gold and carbon.
#include "core/conventions.hpp"
#include "core/ice_slab.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "job/job.hpp"
#include "model/atoms.hpp"
#include "model/features.hpp"
#include "model/ice_surface.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/absorption.hpp"
#include "simulate/ctf.hpp"
#include "simulate/pipeline.hpp"

#include "image_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace tomosweep;

namespace {

std::vector<TiltView> views_deg(std::initializer_list<double> tilts, double azimuth_deg = 0) {
  std::vector<TiltView> v;
  for (double t : tilts) v.push_back({t * kDegToRad, azimuth_deg * kDegToRad});
  return v;
}

ImagingParams single_tilt(double deg) {
  ImagingParams p;
  p.damage = false;
  p.tilt.angles_deg = {deg};
  p.tilt.order = TiltOrder::list;
  return p;
}

IceSurfaceParams rough(double roughness_A, double correlation_A, double gradient_A_per_um = 0) {
  IceSurfaceParams s;
  s.roughness_A = roughness_A;
  s.correlation_A = correlation_A;
  s.gradient_A_per_um = gradient_A_per_um;
  return s;
}

using test_util::edge_centre_ratio;

} // namespace

TEST(ice_surface, a_flat_slab_has_the_old_path_and_changes_no_byte) {
  const Grid g{48, 40, 12, 10.0};
  IceSlab flat;
  flat.half_thickness_A = 60; // fills the box's z range
  const auto views = views_deg({-60, -20, 0, 35, 60});
  const auto det = detector_shape(g, views);
  const IceSlabLookup ice = ice_lookup(flat, g, views, det[0], det[1]);
  std::vector<float> path(std::size_t(det[0]) * det[1]);
  for (const TiltView& v : views) {
    ice_path_lengths(ice, v, det[0], det[1], g.voxel_A, path.data());
    for (float l : path) ASSERT_NEAR(l, 120 / std::cos(v.tilt_rad), 1e-4);
  }
  Volume<float> stack(det[0], det[1], int(views.size()), g.voxel_A);
  add_ice_exterior(stack, views, g, ice, 4.57);
  for (float x : stack.data) ASSERT_EQ(x, 0.0f);
  // A whole series with the flat slab given explicitly is the series without it, byte for byte.
  Volume<float> v(g, 4.57f);
  v(20, 20, 6) += 3;
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 20};
  SpecimenTerms terms;
  terms.ice_slab = &flat;
  const TiltSeries a = simulate_series(v, p, 120, 3, 1, 4.57), b = simulate_series(v, p, 120, 3, 1, 4.57, {}, terms);
  EXPECT_EQ(a.images.data, b.images.data);
}

TEST(ice_surface, surfaces_are_deterministic_with_the_requested_rms_and_correlation) {
  const IceSurfaceParams p = rough(20, 500);
  const std::array<double, 3> box{4000, 4000, 600};
  const IceSlab a = make_ice_slab(p, box, 7, 0), b = make_ice_slab(p, box, 7, 0), c = make_ice_slab(p, box, 7, 1);
  EXPECT_EQ(a.top.kx, b.top.kx);
  EXPECT_EQ(a.bottom.phase, b.bottom.phase);
  EXPECT_NE(a.top.kx, c.top.kx);
  EXPECT_DOUBLE_EQ(a.top_A(1e6, -3e5), b.top_A(1e6, -3e5)); // defined everywhere, far beyond the box too
  // Over replicates: var h = roughness^2, cov(h(r), h(r + d)) = roughness^2 exp(-d^2 / (2 corr^2)).
  double var = 0, cov = 0, cross = 0;
  int n = 0;
  for (int rep = 0; rep < 200; ++rep) {
    const IceSlab s = make_ice_slab(p, box, 7, rep);
    for (int k = 0; k < 20; ++k) {
      const double x = 3000.0 * k, y = -1500.0 * k;
      const double h = s.top_A(x, y) - 300, h2 = s.top_A(x + 500, y) - 300, hb = s.bottom_A(x, y) + 300;
      var += h * h, cov += h * h2, cross += h * hb, ++n;
    }
  }
  EXPECT_NEAR(var / n, 400, 0.1 * 400);
  EXPECT_NEAR(cov / n, 400 * std::exp(-0.5), 0.12 * 400);
  EXPECT_NEAR(cross / n, 0, 0.1 * 400); // the two surfaces are independent
}

TEST(ice_surface, path_lengths_match_a_ray_march_through_the_surfaces) {
  const Grid g{40, 36, 10, 10.0};
  const IceSlab s = make_ice_slab(rough(25, 300, 400), {400, 360, 100}, 3, 0);
  for (double az : {0.0, 30.0}) {
    const auto views = views_deg({-60, 0, 45}, az);
    const auto det = detector_shape(g, views);
    const IceSlabLookup ice = ice_lookup(s, g, views, det[0], det[1]);
    std::vector<float> path(std::size_t(det[0]) * det[1]);
    for (const TiltView& v : views) {
      ice_path_lengths(ice, v, det[0], det[1], g.voxel_A, path.data());
      const ViewRays rays(v);
      for (int j = 0; j < det[1]; j += 7)
        for (int i = 0; i < det[0]; i += 5) {
          const DetectorRay r = rays.at(voxel_centre_A(i, det[0], 10), voxel_centre_A(j, det[1], 10));
          double inside = 0; // march in z: 0.05 A steps over +-300 A
          for (double z = -300; z < 300; z += 0.05) {
            const double x = r.x0 + z * r.dx, y = r.y0 + z * r.dy;
            inside += (z > s.bottom_A(x, y) && z < s.top_A(x, y)) ? 0.05 : 0.0;
          }
          ASSERT_NEAR(path[std::size_t(j) * det[0] + i], inside * r.inv_cos, 0.3 * r.inv_cos)
              << "tilt " << v.tilt_rad << " az " << az << " pixel " << i << "," << j;
        }
    }
  }
}

TEST(ice_surface, a_thicker_pixel_is_darker_by_beer_lambert) {
  // A wedge (2000 A/um: thickness 400 A + 0.2 x) in vacuum-free imaging: no phase (empty box, ice_V 0), so each
  // column's mean counts are flat x exp(-(L - t / cos) / imfp), L its own ice path.
  const Grid g{64, 64, 4, 5.0};
  IceSlab s;
  s.half_thickness_A = 200;
  s.slope = 0.1;
  for (double deg : {0.0, 40.0}) {
    ImagingParams p = single_tilt(deg);
    p.dose_e_per_A2 = 2e5;
    SpecimenTerms terms;
    terms.ice_slab = &s;
    const Volume<float> empty(g);
    const TiltSeries ts = simulate_series(empty, p, 400, 1, 1, 0, {}, terms);
    const double flat = ts.tilts[0].flat_e_per_pixel, t = deg * kDegToRad;
    EXPECT_NEAR(flat, 2e5 * 25 * std::exp(-400 / (std::cos(t) * 3800)) * 0.84, 1e-6 * flat); // nominal thickness
    const int nu = ts.images.nx, nv = ts.images.ny;
    for (int i : {4, nu / 2, nu - 5}) {
      double mean = 0;
      for (int j = 0; j < nv; ++j) mean += ts.images(i, j, 0) / nv;
      // The ray of column i crosses the wedge at x(z) = u / cos t + z tan t: solve top and bottom exactly.
      const double u = voxel_centre_A(i, nu, 5.0), x0 = u / std::cos(t), tn = std::tan(t);
      const double zt = (200 + 0.1 * x0) / (1 - 0.1 * tn), zb = (-200 - 0.1 * x0) / (1 + 0.1 * tn);
      const double L = (zt - zb) / std::cos(t);
      const double want = flat * std::exp(-(L - 400 / std::cos(t)) / 3800);
      EXPECT_NEAR(mean, want, 4 * std::sqrt(want / nv)) << deg << " column " << i;
    }
  }
}

TEST(ice_surface, rasterized_ice_and_its_exterior_give_the_phase_of_the_ice_path) {
  // Inside the box the potential holds ice only between the surfaces; beyond it add_ice_exterior continues
  // them: projection + exterior = ice_V (L - L_planes) for every pixel (L the pixel's ice path, L_planes that
  // through the mean slab, whose phase is linear in u and left out), i.e. a laterally infinite slab between the
  // two surfaces.
  ModelParams m;
  m.box_A = {600, 500, 300};
  m.ice_texture = IceTexture::none;
  m.ice_surface = rough(15, 200, 300);
  const Scene scene = build_scene(m, {}, 5, 0);
  ASSERT_TRUE(scene.ice_surface);
  const double pix = 5, ice_V = ice_potential_V(m.potential);
  const SpecimenVolumes sv = rasterize(scene, {}, pix, m.potential);
  const Grid g = sv.potential.grid();
  // A column's ice fills [bottom, top] at its centre.
  const double xc = voxel_centre_A(30, g.nx, pix), yc = voxel_centre_A(40, g.ny, pix);
  double column = 0;
  for (int z = 0; z < g.nz; ++z) column += sv.potential(30, 40, z) * pix / ice_V;
  EXPECT_NEAR(column, std::min(150.0, scene.ice_slab.top_A(xc, yc)) - std::max(-150.0, scene.ice_slab.bottom_A(xc, yc)),
              1e-3);
  for (double az : {0.0, 30.0}) {
    const auto views = views_deg({-55, 0, 30}, az);
    const auto det = detector_shape(g, views);
    Volume<float> stack = project(sv.potential, views, det[0], det[1], 0, -1, float(ice_V));
    const IceSlabLookup ice = ice_lookup(scene.ice_slab, g, views, det[0], det[1]);
    add_ice_exterior(stack, views, g, ice, ice_V);
    IceSlab planes = scene.ice_slab; // the mean slab, whose linear phase is left out
    planes.top = planes.bottom = {};
    const IceSlabLookup mean = ice_lookup(planes, g, views, det[0], det[1]);
    std::vector<float> path(std::size_t(det[0]) * det[1]), plane_path(path.size());
    for (std::size_t k = 0; k < views.size(); ++k) {
      ice_path_lengths(ice, views[k], det[0], det[1], pix, path.data());
      ice_path_lengths(mean, views[k], det[0], det[1], pix, plane_path.data());
      double err = 0, sig = 0;
      int n = 0;
      for (int j = 2; j < det[1] - 2; ++j)
        for (int i = 2; i < det[0] - 2; ++i) {
          const std::size_t q = std::size_t(j) * det[0] + i;
          const double want = ice_V * (path[q] - plane_path[q]);
          err += std::pow(stack.slice(int(k))[q] - want, 2), sig += want * want, ++n;
        }
      // Voxelisation (columns sampled at their centres, linear interpolation) leaves a few per cent.
      EXPECT_LT(std::sqrt(err / sig), 0.05) << "azimuth " << az << " view " << k;
    }
  }
}

TEST(ice_surface, a_rough_or_wedged_ice_slab_reconstructs_flat) {
  // An ice-only slab with rough surfaces (20 A rms, 200 A correlation) and a wedge, or a steep wedge alone:
  // tomogram and both priors keep the flatness figure of issue 8 within 1.5 (granular texture, as by default).
  // Without leaving out the mean slab's linear phase, the wedge alone gave 1.8 for the wbp prior.
  JobConfig c;
  c.run.seed = 4;
  c.model.box_A = {1280, 1280, 640};
  c.model.pixel_size_A = 20;
  c.imaging.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 4};
  c.imaging.dose_e_per_A2 = 60;
  c.prior.tilt.step_deg = 2;
  for (const IceSurfaceParams& surface : {rough(20, 200, 50), rough(0, 200, 500)})
    for (PriorMethod method : {PriorMethod::bandlimit, PriorMethod::wbp}) {
      c.model.ice_surface = surface;
      c.prior.method = method;
      const JobResult r = run_job(c, {}, 0, 0);
      const double tomogram = edge_centre_ratio(r.tomogram), prior = edge_centre_ratio(r.prior);
      EXPECT_LE(tomogram, 1.5);
      EXPECT_GE(tomogram, 1 / 1.5);
      EXPECT_LE(prior, 1.5) << surface.roughness_A << " " << int(method);
      EXPECT_GE(prior, 1 / 1.5) << surface.roughness_A << " " << int(method);
    }
}

TEST(contamination, blobs_sit_on_the_surfaces_with_their_own_label) {
  ModelParams m;
  m.box_A = {2000, 2000, 400};
  m.beads = {.count = 2, .radius_A = 50};
  m.contamination = {
      .density_per_um2 = 200, .radius_min_A = 60, .radius_max_A = 120, .material = ContaminationMaterial::hydrocarbon};
  const Scene a = build_scene(m, {}, 9, 0), b = build_scene(m, {}, 9, 0), c = build_scene(m, {}, 9, 1);
  ASSERT_FALSE(a.contamination.empty());
  EXPECT_GT(a.contamination.size(), 4u); // Poisson(200 x 0.04 um^2) per surface: 16 in all
  EXPECT_LT(a.contamination.size(), 30u);
  ASSERT_EQ(a.contamination.size(), b.contamination.size()); // deterministic per seed and replicate
  EXPECT_EQ(a.contamination[0].centre_A.x, b.contamination[0].centre_A.x);
  EXPECT_NE(a.contamination[0].centre_A.x, c.contamination[0].centre_A.x);
  EXPECT_EQ(a.beads[0].centre_A.x, build_scene(
                                       [&] {
                                         ModelParams q = m;
                                         q.contamination = {};
                                         return q;
                                       }(),
                                       {}, 9, 0)
                                       .beads[0]
                                       .centre_A.x); // the features drawn before it do not move
  // The class comes after the other features.
  ASSERT_EQ(a.classes.size(), 2u);
  EXPECT_EQ(a.classes[1].name, "contamination");
  EXPECT_EQ(a.contamination_label, 2);
  const SpecimenVolumes v = rasterize(a, {}, 10, PotentialMode::form_factor);
  for (const Bead& blob : a.contamination) {
    EXPECT_TRUE(std::abs(std::abs(blob.centre_A.z) - 200) < 1e-9); // on the flat surfaces (the box's z faces)
    EXPECT_GE(blob.radius_A, 60);
    EXPECT_LE(blob.radius_A, 120);
    // The voxel just inside the face under the blob's centre is contamination, potential and label.
    const int x = int(std::lround(voxel_index(blob.centre_A.x, 200, 10))),
              y = int(std::lround(voxel_index(blob.centre_A.y, 200, 10))), z = blob.centre_A.z > 0 ? 39 : 0;
    // (at least: blobs may overlap, and their potentials add)
    EXPECT_GE(v.potential(x, y, z), contamination_potential_V(ContaminationMaterial::hydrocarbon, m.potential) - 1e-3);
    EXPECT_EQ(v.atlas(x, y, z), a.contamination_label);
  }
  // On rough, thinner ice the blobs sit on the surfaces, in the box's vacuum.
  m.ice_surface = rough(10, 400);
  m.ice_surface.thickness_A = 200;
  const Scene r = build_scene(m, {}, 9, 0);
  ASSERT_FALSE(r.contamination.empty());
  for (const Bead& blob : r.contamination) {
    const double x = blob.centre_A.x, y = blob.centre_A.y;
    EXPECT_LT(std::min(std::abs(blob.centre_A.z - r.ice_slab.top_A(x, y)),
                       std::abs(blob.centre_A.z - r.ice_slab.bottom_A(x, y))),
              1e-9);
    EXPECT_LT(std::abs(blob.centre_A.z), 140); // 100 +- a few roughness
  }
  for (const Bead& bead : r.beads) { // beads stay in the ice
    EXPECT_LE(bead.centre_A.z + bead.radius_A, r.ice_slab.top_A(bead.centre_A.x, bead.centre_A.y));
    EXPECT_GE(bead.centre_A.z - bead.radius_A, r.ice_slab.bottom_A(bead.centre_A.x, bead.centre_A.y));
  }
}

TEST(amplitude, strong_object_intensity_conserves_flux_and_has_the_weak_limit) {
  const int n = 96;
  const double pix = 4;
  Image path(n, n, pix);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const double r2 = std::pow((x - 47.5) * pix, 2) + std::pow((y - 40.5) * pix, 2);
      path(x, y) = float(r2 < 60 * 60 ? 2 * std::sqrt(60 * 60 - r2) : 0); // a 60 A sphere's chords
    }
  ImagingParams p;
  p.envelope_B_A2 = 0;
  const Ctf ctf = ctf_from(p, pix);
  const CtfGrid grid = ctf_grid(ctf, n, n);
  // A pure phase object of several radians: intensity never negative, its mean is 1 (|H| = 1).
  const double sigma = interaction_constant_rad_per_V_A(300), strong = sigma * 29.9 * 2;
  const Image i0 = strong_object_intensity(path, strong, 0, ctf, grid, 5e4, 0);
  double mean = 0, lo = 1e9;
  for (float v : i0.data) mean += v / i0.data.size(), lo = std::min(lo, double(v));
  EXPECT_NEAR(mean, 1, 1e-4);
  EXPECT_GE(lo, 0);
  // With absorption the mean is that of exp(-mu path).
  const double mu = 1 / 300.0;
  const Image i1 = strong_object_intensity(path, strong, mu, ctf, grid, 5e4, 0.5);
  double m1 = 0, want = 0;
  for (std::size_t j = 0; j < path.data.size(); ++j) m1 += i1.data[j], want += std::exp(-mu * path.data[j]);
  EXPECT_NEAR(m1 / want, 1, 1e-4);
  // A weak phase object: 1 + 2 F^-1[CTF . F[phi]], the linear model's contrast (up to the mean, which it drops).
  const double weak = 1e-5;
  const Image iw = strong_object_intensity(path, weak, 0, ctf, grid, 5e4, 0);
  Image phi(n, n, pix);
  for (std::size_t j = 0; j < phi.data.size(); ++j) phi.data[j] = float(weak * path.data[j]);
  const Image c = ctf_contrast(fft_forward(phi), ctf, grid, 5e4, 0, {});
  double dm = 0, err = 0, sig = 0;
  for (std::size_t j = 0; j < c.data.size(); ++j) dm += (iw.data[j] - 1 - c.data[j]) / c.data.size();
  for (std::size_t j = 0; j < c.data.size(); ++j)
    err += std::pow(iw.data[j] - 1 - c.data[j] - dm, 2), sig += std::pow(c.data[j], 2);
  EXPECT_LT(std::sqrt(err / sig), 0.02);
}

TEST(amplitude, a_gold_bead_is_darker_by_its_absorption_and_off_changes_nothing) {
  Scene scene;
  scene.box_A = {640, 640, 320};
  scene.beads = {Bead{{0, 0, 0}, 80}};
  scene.gold_label = 1;
  const double pix = 8;
  const PotentialMode mode = PotentialMode::form_factor;
  const SpecimenVolumes sv = rasterize(scene, {}, pix, mode);
  const Volume<float> gold = gold_fraction(scene, pix);
  const double ice_V = ice_potential_V(mode);
  // No aberrations and no amplitude contrast: the phase is invisible, the image is exp(-path / mfp).
  ImagingParams p = single_tilt(0);
  p.defocus_um = 0, p.cs_mm = 0, p.amplitude_contrast = 0, p.envelope_B_A2 = 0;
  p.dose_e_per_A2 = 1e6;
  p.gold_absorption_mfp_A = 250;
  SpecimenTerms terms;
  terms.gold = &gold;
  terms.gold_excess_V = gold_potential_V(mode) - ice_V;
  const TiltSeries s = simulate_series(sv.potential, p, 320, 2, 1, ice_V, {}, terms);
  const std::vector<TiltView> views = s.views;
  const Volume<float> f = project(gold, views, s.images.nx, s.images.ny);
  const int cx = s.images.nx / 2, cy = s.images.ny / 2;
  double centre = 0, fc = 0, bg = 0;
  for (int dy = -1; dy <= 0; ++dy)
    for (int dx = -1; dx <= 0; ++dx) centre += s.images(cx + dx, cy + dy, 0) / 4, fc += f(cx + dx, cy + dy, 0) / 4;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) bg += s.images(x, y, 0) / 64;
  EXPECT_NEAR(fc, 160, 8); // the projected gold path through the centre: the diameter
  EXPECT_NEAR(bg, s.tilts[0].flat_e_per_pixel, 4 * std::sqrt(bg / 64));
  EXPECT_NEAR(centre / bg, std::exp(-fc / 250), 0.01);
  // Off (mfp 0), or without gold, the series is the one without terms, byte for byte.
  p.gold_absorption_mfp_A = 0;
  const TiltSeries off = simulate_series(sv.potential, p, 320, 2, 1, ice_V, {}, terms);
  const TiltSeries none = simulate_series(sv.potential, p, 320, 2, 1, ice_V);
  EXPECT_EQ(off.images.data, none.images.data);
}

TEST(amplitude, gold_at_defocus_is_not_clipped_and_carbon_absorbs_beyond_the_box) {
  // Fast mode gold (66.8 V) of radius 60 A: ~5 rad of projected phase. The linear term clips (expected counts
  // below 0 at 5 um underfocus); as a strong object the bead is dark with fringes and never clipped.
  Scene scene;
  scene.box_A = {640, 640, 320};
  scene.beads = {Bead{{0, 0, 0}, 60}};
  scene.gold_label = 1;
  const PotentialMode mode = PotentialMode::fast;
  const SpecimenVolumes sv = rasterize(scene, {}, 8, mode);
  const Volume<float> gold = gold_fraction(scene, 8);
  ImagingParams p = single_tilt(0);
  p.dose_e_per_A2 = 1e6;
  p.envelope_B_A2 = 200;
  SpecimenTerms terms;
  terms.gold = &gold;
  terms.gold_excess_V = gold_potential_V(mode) - 4.5;
  const TiltSeries lin = simulate_series(sv.potential, p, 320, 2, 1, 4.5);
  p.gold_absorption_mfp_A = 1e6; // phase only
  const TiltSeries wave = simulate_series(sv.potential, p, 320, 2, 1, 4.5, {}, terms);
  const auto zeros = [](const TiltSeries& s) { return std::count(s.images.data.begin(), s.images.data.end(), 0.0f); };
  EXPECT_GT(zeros(lin), 10);
  EXPECT_EQ(zeros(wave), 0);
  // Carbon: a film of 150 A outside a hole; beside the box too, its pixels carry exp(-t / (cos mfp)).
  ImagingParams q = single_tilt(40);
  q.dose_e_per_A2 = 1e6;
  q.carbon_absorption_mfp_A = 1000;
  SpecimenTerms carbon;
  carbon.carbon = {ExteriorLayer{0, 150, 0, 1e5, 0, 1e5 - 100}}; // hole edge at x = 100 A, carbon for x < 100
  const Volume<float> empty(Grid{80, 80, 40, 8});
  const TiltSeries cs = simulate_series(empty, q, 320, 2, 1, 0, {}, carbon);
  const double flat = cs.tilts[0].flat_e_per_pixel, t = 40 * kDegToRad;
  double left = 0, right = 0;
  const int nu = cs.images.nx;
  for (int j = 0; j < 80; ++j) left += cs.images(1, j, 0) / 80, right += cs.images(nu - 2, j, 0) / 80;
  EXPECT_NEAR(left / flat, std::exp(-150 / (std::cos(t) * 1000)), 0.002);
  EXPECT_NEAR(right / flat, 1, 0.002);
}

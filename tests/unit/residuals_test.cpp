// Acquisition residuals: per-tilt image shift, rotation, magnification, defocus jitter and tilt-axis offset,
// drawn in plan_series, applied by the projector, recorded per tilt, and reconstruction with either geometry.
#include "core/conventions.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "io/files/tilt_table.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/pipeline.hpp"

#include "image_test_util.hpp"
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <numeric>
#include <utility>

using namespace tomosweep;

namespace {

double image_sum(const Volume<float>& s, int i) {
  return std::accumulate(s.slice(i), s.slice(i) + static_cast<std::size_t>(s.nx) * s.ny, 0.0);
}

TiltParams residual_scheme() {
  TiltParams t{.min_deg = -60, .max_deg = 60, .step_deg = 2, .axis_azimuth_deg = 10, .angle_error_deg = 0.3};
  t.shift_sd_A = 5;
  t.rotation_sd_deg = 0.7;
  t.magnification_sd = 0.01;
  t.defocus_jitter_um = 0.2;
  t.axis_offset_deg = 1.5;
  t.motion_sd_A = 4;
  return t;
}

// One bright voxel at (+6, -4) voxels from the centre of a 2 A box, seen at tilt 0 (u = x, v = y).
Volume<float> one_voxel() {
  Volume<float> v(21, 21, 5, 2.0);
  v(10 + 6, 10 - 4, 2) = 1;
  return v;
}

} // namespace

TEST(residuals, zero_deviations_give_todays_series_exactly) {
  TiltParams t{.min_deg = -40, .max_deg = 40, .step_deg = 4, .axis_azimuth_deg = 25, .angle_error_deg = 0.5};
  const TiltSeries s = plan_series(t, 80, 2.5, 7, 3);
  for (std::size_t i = 0; i < s.tilts.size(); ++i) {
    const TiltRecord& r = s.tilts[i];
    const TiltView& v = s.views[i];
    // As planned before the residuals existed: actual angle, scheme azimuth, defocus, and no warp.
    EXPECT_EQ(v.tilt_rad, r.actual_angle_deg * kDegToRad);
    EXPECT_EQ(v.azimuth_rad, 25 * kDegToRad);
    EXPECT_EQ(v.defocus_A, 2.5 * kAngstromPerMicrometre);
    EXPECT_FALSE(v.warped());
    EXPECT_FALSE(s.nominal_views[i].warped());
    EXPECT_EQ(r.defocus_um, 2.5);
    EXPECT_EQ(r.shift_x_A, 0);
    EXPECT_EQ(r.shift_y_A, 0);
    EXPECT_EQ(r.rotation_deg, 0);
    EXPECT_EQ(r.magnification, 1);
    EXPECT_EQ(r.defocus_jitter_um, 0);
    EXPECT_EQ(r.axis_offset_deg, 0);
    EXPECT_EQ(r.motion_x_A, 0);
    EXPECT_EQ(r.motion_y_A, 0);
    EXPECT_FALSE(std::signbit(r.shift_x_A) || std::signbit(r.shift_y_A) || std::signbit(r.rotation_deg) ||
                 std::signbit(r.defocus_jitter_um) || std::signbit(r.axis_offset_deg)); // +0: tables print "0"
  }
}

TEST(residuals, a_shift_moves_a_projected_point_by_the_shift) {
  const Volume<float> v = one_voxel();
  TiltView whole{0, 0}, fraction{0, 0};
  whole.shift_u_A = 4, whole.shift_v_A = -6;      // 2 and -3 pixels
  fraction.shift_u_A = 3, fraction.shift_v_A = 1; // 1.5 and 0.5 pixels
  const Volume<float> s = project(v, {{0, 0}, whole, fraction}, 21, 21);
  const auto [u0, v0] = test_util::centroid(s, 0);
  const auto [u1, v1] = test_util::centroid(s, 1);
  const auto [u2, v2] = test_util::centroid(s, 2);
  EXPECT_NEAR(u0 - 10, 6, 1e-6);
  EXPECT_NEAR(v0 - 10, -4, 1e-6);
  EXPECT_NEAR(u1 - u0, 2, 1e-6);
  EXPECT_NEAR(v1 - v0, -3, 1e-6);
  EXPECT_NEAR(u2 - u0, 1.5, 1e-6);
  EXPECT_NEAR(v2 - v0, 0.5, 1e-6);
  EXPECT_EQ(s(16 + 2, 6 - 3, 1), s(16, 6, 0)); // a whole-pixel shift moves the image exactly
}

TEST(residuals, rotation_and_magnification_act_about_the_image_centre) {
  const Volume<float> v = one_voxel();
  TiltView quarter{0, 0}, rot{0, 0}, mag{0, 0};
  quarter.rotation_rad = 90 * kDegToRad;
  rot.rotation_rad = 30 * kDegToRad;
  mag.magnification = 1.1;
  const Volume<float> s = project(v, {quarter, rot, mag}, 21, 21);
  // (u', v') = m R(phi) (u, v) with (u, v) = (6, -4) pixels.
  const auto [u0, v0] = test_util::centroid(s, 0);
  EXPECT_NEAR(u0 - 10, 4, 1e-5);
  EXPECT_NEAR(v0 - 10, 6, 1e-5);
  const double c = std::cos(30 * kDegToRad), sn = std::sin(30 * kDegToRad);
  const auto [u1, v1] = test_util::centroid(s, 1);
  EXPECT_NEAR(u1 - 10, 6 * c + 4 * sn, 0.05);
  EXPECT_NEAR(v1 - 10, 6 * sn - 4 * c, 0.05);
  const auto [u2, v2] = test_util::centroid(s, 2);
  EXPECT_NEAR(u2 - 10, 6.6, 0.05);
  EXPECT_NEAR(v2 - 10, -4.4, 0.05);
  // Values are sampled, not rescaled: a magnified image covers m^2 the pixels at the same line integrals.
  const double plain = image_sum(project(v, {{0, 0}}, 21, 21), 0);
  EXPECT_NEAR(image_sum(s, 2), 1.21 * plain, 0.03 * plain);
  EXPECT_NEAR(image_sum(s, 1), plain, 0.03 * plain);
}

TEST(residuals, warped_projection_and_back_projection_stay_adjoint) {
  Volume<float> x(23, 17, 9, 2.5);
  Rng rng(5, Purpose::test, 1);
  for (float& a : x.data) a = static_cast<float>(rng.normal());
  std::vector<TiltView> views{{0.3, 0}, {-0.5, 0}, {0.4, 0.5}};
  views[0].shift_u_A = 3.7, views[0].rotation_rad = 0.05;
  views[1].magnification = 1.03, views[1].shift_v_A = -2.2;
  views[2].rotation_rad = -0.02, views[2].shift_u_A = 1.1, views[2].magnification = 0.98;
  const int nu = 27, nv = 21;
  const Volume<float> px = project(x, views, nu, nv);
  Volume<float> y(nu, nv, 3, 2.5);
  for (float& a : y.data) a = static_cast<float>(rng.normal());
  const Volume<float> pty = back_project(y, views, x.grid());
  const double a = std::inner_product(px.data.begin(), px.data.end(), y.data.begin(), 0.0);
  const double b = std::inner_product(x.data.begin(), x.data.end(), pty.data.begin(), 0.0);
  EXPECT_NEAR(a, b, 1e-5 * std::abs(a));
}

TEST(residuals, exterior_layers_follow_the_shifted_image) {
  const Grid grid{20, 20, 10, 1.0};
  const std::vector<ExteriorLayer> film{{.z_A = 1, .thickness_A = 4, .excess_V = 2, .hole_x_A = 3, .hole_radius_A = 6}};
  TiltView plain{0.5, 0}, shifted{0.5, 0};
  shifted.shift_u_A = 2, shifted.shift_v_A = -1;
  Volume<float> s(32, 24, 2, 1.0);
  add_exterior(s, {plain, shifted}, grid, film);
  double total = 0;
  for (int j = 1; j < 24; ++j)
    for (int i = 0; i < 30; ++i) {
      EXPECT_EQ(s(i + 2, j - 1, 1), s(i, j, 0)) << i << ' ' << j;
      total += s(i, j, 0);
    }
  EXPECT_GT(total, 0);
}

TEST(residuals, recorded_residuals_are_the_ones_applied_and_seeded) {
  const TiltParams t = residual_scheme();
  const TiltSeries a = plan_series(t, 100, 3, 7, 2), b = plan_series(t, 100, 3, 7, 2), c = plan_series(t, 100, 3, 7, 5);
  TiltParams none = t;
  none.shift_sd_A = none.rotation_sd_deg = none.magnification_sd = none.defocus_jitter_um = none.axis_offset_deg = 0;
  const TiltSeries z = plan_series(none, 100, 3, 7, 2);
  const int n = static_cast<int>(a.tilts.size());
  double s2 = 0, r2 = 0, m2 = 0, d2 = 0;
  for (int i = 0; i < n; ++i) {
    const TiltRecord& r = a.tilts[i];
    const TiltView& v = a.views[i];
    EXPECT_EQ(r.shift_x_A, b.tilts[i].shift_x_A);
    EXPECT_EQ(r.magnification, b.tilts[i].magnification);
    EXPECT_EQ(r.actual_angle_deg, z.tilts[i].actual_angle_deg); // own stream: angle errors unchanged
    EXPECT_EQ(r.axis_offset_deg, a.tilts[0].axis_offset_deg);   // one per series
    EXPECT_EQ(v.shift_u_A, r.shift_x_A);
    EXPECT_EQ(v.shift_v_A, r.shift_y_A);
    EXPECT_EQ(v.rotation_rad, (r.rotation_deg + r.axis_offset_deg) * kDegToRad);
    EXPECT_EQ(v.magnification, r.magnification);
    EXPECT_EQ(v.azimuth_rad, 10 * kDegToRad + r.axis_offset_deg * kDegToRad);
    EXPECT_EQ(r.defocus_um, 3 + r.defocus_jitter_um);
    EXPECT_EQ(v.defocus_A, r.defocus_um * kAngstromPerMicrometre);
    EXPECT_EQ(a.nominal_views[i].tilt_rad, z.nominal_views[i].tilt_rad); // nominal views have no residuals
    EXPECT_FALSE(a.nominal_views[i].warped());
    EXPECT_EQ(a.nominal_views[i].defocus_A, 3e4);
    s2 += r.shift_x_A * r.shift_x_A + r.shift_y_A * r.shift_y_A;
    r2 += r.rotation_deg * r.rotation_deg;
    m2 += (r.magnification - 1) * (r.magnification - 1);
    d2 += r.defocus_jitter_um * r.defocus_jitter_um;
  }
  EXPECT_NE(a.tilts[4].shift_y_A, c.tilts[4].shift_y_A); // another job, another draw
  EXPECT_NE(a.tilts[0].axis_offset_deg, 0);
  EXPECT_NEAR(std::sqrt(s2 / (2 * n)), 5, 1.0);
  EXPECT_NEAR(std::sqrt(r2 / n), 0.7, 0.15);
  EXPECT_NEAR(std::sqrt(m2 / n), 0.01, 0.002);
  EXPECT_NEAR(std::sqrt(d2 / n), 0.2, 0.04);
}

TEST(residuals, tilt_table_stores_every_residual) {
  const TiltSeries s = plan_series(residual_scheme(), 100, 3, 7, 2);
  const TiltRecord back = tilt_record(tilt_row(s.tilts[3]));
  EXPECT_EQ(back.shift_x_A, s.tilts[3].shift_x_A);
  EXPECT_EQ(back.shift_y_A, s.tilts[3].shift_y_A);
  EXPECT_EQ(back.rotation_deg, s.tilts[3].rotation_deg);
  EXPECT_EQ(back.magnification, s.tilts[3].magnification);
  EXPECT_EQ(back.defocus_jitter_um, s.tilts[3].defocus_jitter_um);
  EXPECT_EQ(back.axis_offset_deg, s.tilts[3].axis_offset_deg);
  EXPECT_EQ(back.motion_x_A, s.tilts[3].motion_x_A);
  EXPECT_EQ(back.motion_y_A, s.tilts[3].motion_y_A);
  EXPECT_NE(back.motion_y_A, 0);
  const std::string tsv = tilt_table_tsv(s.tilts);
  EXPECT_EQ(tsv.substr(0, tsv.find('\n')),
            "# index\tangle_deg\tactual_angle_deg\tacquisition_index\tdose_e_per_A2\tcumulative_dose_e_per_A2"
            "\tdefocus_um\tshift_x_A\tshift_y_A\trotation_deg\tmagnification\tdefocus_jitter_um\taxis_offset_deg"
            "\tmotion_x_A\tmotion_y_A");
}

namespace {

// A noise-free series of `phantom` along the actual views of `s` (contrast line integrals: images 1 + P x).
TiltSeries imaged(TiltSeries s, const Volume<float>& phantom) {
  const Volume<float> p = project(phantom, s.views, phantom.nx, phantom.ny);
  s.images = p;
  for (float& a : s.images.data) a += 1;
  for (TiltRecord& r : s.tilts) r.flat_e_per_pixel = 1;
  return s;
}

double rms_difference(const Volume<float>& a, const Volume<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) d += std::pow(a.data[i] - b.data[i], 2);
  return std::sqrt(d / static_cast<double>(a.data.size()));
}

} // namespace

TEST(residuals, true_geometry_reconstructs_the_residual_series_better) {
  Volume<float> phantom(48, 48, 16, 4.0);
  for (auto [cx, cy, cz] : {std::array<int, 3>{14, 20, 8}, {30, 30, 6}, {24, 12, 9}, {36, 18, 8}})
    for (int z = 0; z < 16; ++z)
      for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 48; ++x)
          phantom(x, y, z) +=
              static_cast<float>(std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz)) / 8.0));
  TiltParams t{.min_deg = -60, .max_deg = 60, .step_deg = 4};
  const TiltSeries clean = imaged(plan_series(t, 100, 3, 1, 0), phantom);
  t.shift_sd_A = 8;
  t.rotation_sd_deg = 1;
  t.magnification_sd = 0.01;
  const TiltSeries residual = imaged(plan_series(t, 100, 3, 1, 0), phantom);
  ReconParams p;
  const Volume<float> reference = reconstruct_tomogram(clean, phantom.grid(), p);
  const Volume<float> nominal = reconstruct_tomogram(residual, phantom.grid(), p);
  p.true_geometry = true;
  const Volume<float> truth = reconstruct_tomogram(residual, phantom.grid(), p);
  const double e_nominal = rms_difference(nominal, reference), e_truth = rms_difference(truth, reference);
  EXPECT_LT(e_truth, 0.5 * e_nominal) << e_truth << " vs " << e_nominal;
  // Without residuals the option changes nothing: the actual views are the nominal ones.
  EXPECT_EQ(reconstruct_tomogram(clean, phantom.grid(), p).data, reference.data);
}

// ---- Beam-induced motion: a straight-line drift during each exposure blurs the image (simulate/pipeline) ----

TEST(residuals, motion_is_drawn_after_the_other_residuals_and_recorded) {
  TiltParams t = residual_scheme(), still = residual_scheme();
  still.motion_sd_A = 0;
  const TiltSeries a = plan_series(t, 100, 3, 7, 2), b = plan_series(still, 100, 3, 7, 2);
  double m2 = 0;
  for (std::size_t i = 0; i < a.tilts.size(); ++i) {
    const TiltRecord &r = a.tilts[i], &q = b.tilts[i];
    // Drawn last: every other residual, and the views, are those of the series without motion.
    EXPECT_EQ(r.shift_x_A, q.shift_x_A);
    EXPECT_EQ(r.defocus_jitter_um, q.defocus_jitter_um);
    EXPECT_EQ(a.views[i].rotation_rad, b.views[i].rotation_rad);
    EXPECT_EQ(q.motion_x_A, 0);
    m2 += r.motion_x_A * r.motion_x_A + r.motion_y_A * r.motion_y_A;
  }
  EXPECT_NEAR(std::sqrt(m2 / (2.0 * a.tilts.size())), 4, 0.8);
  EXPECT_EQ(plan_series(t, 100, 3, 7, 2).tilts[5].motion_y_A, a.tilts[5].motion_y_A); // seeded
}

TEST(residuals, motion_blurs_the_image_by_the_uniform_motion_kernel) {
  // One 0-degree image of a random specimen, practically noise-free (1e9 e/A^2), without damage or envelope:
  // the image with drift d equals the still image filtered by sinc(pi k.d), and not by another drift.
  Volume<float> v(48, 40, 8, 2.0);
  Rng rng(3, Purpose::test, 8);
  for (float& x : v.data) x = static_cast<float>(rng.uniform(-1, 1));
  ImagingParams p;
  p.damage = false;
  p.envelope_B_A2 = 0;
  p.dose_e_per_A2 = 1e9;
  p.tilt.angles_deg = {0};
  p.tilt.order = TiltOrder::list;
  const TiltSeries still = simulate_series(v, p, 100, 1, 1);
  p.tilt.motion_sd_A = 6;
  const TiltSeries moved = simulate_series(v, p, 100, 1, 1);
  const double dx = moved.tilts[0].motion_x_A, dy = moved.tilts[0].motion_y_A;
  ASSERT_GT(std::hypot(dx, dy), 3); // a drift of more than a pixel and a half
  auto filtered = [&](double ax, double ay) {
    Spectrum2 s = fft_forward(stack_image(still.images, 0));
    const int nx = s.nx, ny = s.ny, nkx = nx / 2 + 1;
    for (int ky = 0; ky < ny; ++ky)
      for (int kx = 0; kx < nkx; ++kx) {
        const double a = kPi * (kx * ax / nx + fft_freq(ky, ny) * ay / ny) / 2.0;
        s.data[static_cast<std::size_t>(ky) * nkx + kx] *= static_cast<float>(a == 0 ? 1 : std::sin(a) / a);
      }
    return fft_inverse(s, 2.0).data;
  };
  auto rms_diff = [&](const std::vector<float>& want) {
    const Image got = stack_image(moved.images, 0);
    double d = 0, m = 0;
    for (float x : got.data) m += x;
    m /= double(got.data.size());
    double var = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
      d += std::pow(got.data[i] - want[i], 2), var += std::pow(got.data[i] - m, 2);
    return std::sqrt(d / var); // relative to the image's contrast
  };
  const double right = rms_diff(filtered(dx, dy)), across = rms_diff(filtered(-dy, dx));
  EXPECT_LT(right, 0.02) << across;
  EXPECT_GT(across, 10 * right);
  EXPECT_NEAR(image_sum(moved.images, 0), image_sum(still.images, 0), 1e-5 * image_sum(still.images, 0)); // dose kept
}

namespace {

// A deterministic volume with structure at every scale (so that every slab and every view matters).
Volume<float> slab_test_volume(int nx, int ny, int nz) {
  Volume<float> v(nx, ny, nz, 7.0);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        v(x, y, z) = static_cast<float>(std::sin(0.37 * x + 0.11 * y * y - 0.23 * z) + 0.01 * ((x * 7 + y * 13 + z * 29) % 17));
  return v;
}

Volume<float> slices_of(const Volume<float>& v, int z0, int z1) {
  Volume<float> out(v.nx, v.ny, z1 - z0, v.voxel_A);
  std::copy(v.data.begin() + static_cast<std::ptrdiff_t>(v.index(0, 0, z0)),
            v.data.begin() + static_cast<std::ptrdiff_t>(v.index(0, 0, 0) + static_cast<std::size_t>(v.nx) * v.ny * z1),
            out.data.begin());
  return out;
}

} // namespace

// A rank group projects its slabs one after another onto the same images (sweep/group_job.hpp): the images must be
// project()'s bit for bit, for views at azimuth 0, at another azimuth (a rotated volume) and with residuals, and for
// a z range that starts and ends inside slabs.
TEST(projector, slab_after_slab_equals_one_projection) {
  const Volume<float> v = slab_test_volume(23, 19, 30);
  std::vector<TiltView> views{{0.3, 0}, {-0.5, 0}, {0.0, 0}, {0.4, 0.5}, {-0.2, 0.5}};
  TiltView warped{0.25, 0};
  warped.shift_u_A = 9, warped.rotation_rad = 0.02, warped.magnification = 1.01;
  views.push_back(warped);
  const auto det = detector_shape(v.grid(), views);
  for (const auto& [z0, z1] : {std::pair{0, 30}, std::pair{5, 23}}) {
    const Volume<float> whole = project(v, views, det[0], det[1], z0, z1, 0.25f);
    Volume<float> stack(det[0], det[1], static_cast<int>(views.size()), v.voxel_A);
    for (const auto& [s0, s1] : {std::pair{0, 11}, std::pair{11, 12}, std::pair{12, 30}})
      project_slab_onto(stack, slices_of(v, s0, s1), s0, v.nz, views, z0, z1, 0.25f);
    warp_views(stack, views);
    EXPECT_EQ(stack.data, whole.data) << z0 << ".." << z1;
  }
}

// Each rank of a group back-projects its own slab: back_project_slab and back_project_rows_slab give back_project's
// slices bit for bit.
TEST(projector, back_projection_of_a_slab_equals_its_slices) {
  const Grid grid{23, 19, 30, 7.0};
  std::vector<TiltView> views{{0.3, 0}, {-0.5, 0}, {0.0, 0}, {0.4, 0.5}};
  TiltView warped{0.25, 0};
  warped.shift_v_A = -6, warped.magnification = 0.99;
  views.push_back(warped);
  const auto det = detector_shape(grid, views);
  const Volume<float> images = project(slab_test_volume(23, 19, 30), views, det[0], det[1]);
  const Volume<float> whole = back_project(images, views, grid);
  for (const auto& [z0, z1] : {std::pair{0, 11}, std::pair{11, 12}, std::pair{12, 30}})
    EXPECT_EQ(back_project_slab(images, views, grid, z0, z1).data, slices_of(whole, z0, z1).data) << z0;
  // By rows: views at azimuth 0 without residuals.
  const std::vector<TiltView> plain{{0.3, 0}, {-0.5, 0}, {0.0, 0}};
  const auto pd = detector_shape(grid, plain);
  const Volume<float> pimages = project(slab_test_volume(23, 19, 30), plain, pd[0], pd[1]);
  const ImageRows rows = [&](int y0, int y1, float* out) {
    for (int t = 0; t < pimages.nz; ++t)
      for (int y = y0; y < y1; ++y)
        std::copy_n(pimages.data.data() + pimages.index(0, y, t), pimages.nx,
                    out + (static_cast<std::size_t>(t) * (y1 - y0) + (y - y0)) * pimages.nx);
  };
  const Volume<float> pwhole = back_project(pimages, plain, grid);
  for (const auto& [z0, z1] : {std::pair{0, 11}, std::pair{11, 30}})
    EXPECT_EQ(back_project_rows_slab(pimages.nx, rows, plain, grid, z0, z1).data, slices_of(pwhole, z0, z1).data);
}

// Microscope simulation: tilt schemes, projector, CTF, dose/detector, damage, pipeline.
#include "core/conventions.hpp"
#include "core/fft.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "expect_error.hpp"
#include "io/config/config_imaging.hpp"
#include "model/atoms.hpp"
#include "model/rasterize.hpp"
#include "simulate/ctf.hpp"
#include "simulate/detector.hpp"
#include "simulate/pipeline.hpp"

#include "image_test_util.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <string>
#include <utility>

using namespace tomosweep;
using test_util::error_of;

namespace {

Volume<float> random_volume(int nx, int ny, int nz, std::uint64_t id, double voxel_A = 1.0) {
  Volume<float> v(nx, ny, nz, voxel_A);
  Rng rng(1, Purpose::test, id);
  for (float& x : v.data) x = static_cast<float>(rng.uniform(-1, 1));
  return v;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

std::vector<int> order_of(const TiltParams& t) { return acquisition_order(t, tilt_angles_deg(t)); }

ImagingParams quiet_params() {
  ImagingParams p;
  p.damage = false;
  p.tilt.angles_deg = {0};
  p.tilt.order = TiltOrder::list;
  return p;
}

} // namespace

TEST(tilt_scheme, range_is_inclusive_and_ascending) {
  TiltParams t;
  const std::vector<double> a = tilt_angles_deg(t);
  ASSERT_EQ(a.size(), 61u);
  EXPECT_DOUBLE_EQ(a.front(), -60);
  EXPECT_DOUBLE_EQ(a.back(), 60);
  t.min_deg = -89, t.max_deg = 89, t.step_deg = 1;
  EXPECT_EQ(tilt_angles_deg(t).size(), 179u);
}

TEST(tilt_scheme, dose_symmetric_order_alternates_from_zero) {
  TiltParams t{.min_deg = -6, .max_deg = 6, .step_deg = 2};
  // ascending: -6 -4 -2 0 2 4 6 -> indices 0..6; Hagen: 0, +2, -2, +4, -4, +6, -6
  EXPECT_EQ(order_of(t), (std::vector<int>{3, 4, 2, 5, 1, 6, 0}));
  t.group_size = 2; // 0, +2, +4, -2, -4, +6, -6
  EXPECT_EQ(order_of(t), (std::vector<int>{3, 4, 5, 2, 1, 6, 0}));
  t.group_size = 1;
  t.min_deg = -2; // uneven ranges: the longer side continues alone
  EXPECT_EQ(order_of(t), (std::vector<int>{1, 2, 0, 3, 4}));
}

TEST(tilt_scheme, bidirectional_unidirectional_and_list_orders) {
  TiltParams t{.min_deg = -4, .max_deg = 4, .step_deg = 2, .order = TiltOrder::bidirectional};
  EXPECT_EQ(order_of(t), (std::vector<int>{2, 1, 0, 3, 4}));
  t.first_branch = FirstBranch::positive;
  EXPECT_EQ(order_of(t), (std::vector<int>{2, 3, 4, 1, 0}));
  t.start_deg = -2;
  t.first_branch = FirstBranch::negative;
  EXPECT_EQ(order_of(t), (std::vector<int>{1, 0, 2, 3, 4}));
  t.order = TiltOrder::unidirectional;
  EXPECT_EQ(order_of(t), (std::vector<int>{0, 1, 2, 3, 4}));
  t.order = TiltOrder::list;
  t.angles_deg = {10, -20, 0};
  EXPECT_EQ(order_of(t), (std::vector<int>{2, 0, 1}));
  t.angles_deg = {0}; // a single micrograph
  EXPECT_EQ(order_of(t), (std::vector<int>{0}));
}

TEST(tilt_scheme, cumulative_dose_follows_acquisition_order) {
  TiltParams t{.min_deg = -6, .max_deg = 6, .step_deg = 2};
  const auto r = plan_tilts(t, 70, 1, 0);
  ASSERT_EQ(r.size(), 7u);
  std::vector<const TiltRecord*> by_acq(7);
  for (const auto& x : r) by_acq[x.acquisition_index] = &x;
  double cum = 0;
  for (const TiltRecord* x : by_acq) {
    EXPECT_NEAR(x->cumulative_dose_e_per_A2, cum, 1e-12);
    EXPECT_NEAR(x->dose_e_per_A2, 10, 1e-12);
    cum += x->dose_e_per_A2;
  }
  EXPECT_DOUBLE_EQ(by_acq[0]->angle_deg, 0);
  EXPECT_DOUBLE_EQ(by_acq[1]->angle_deg, 2);
  EXPECT_DOUBLE_EQ(by_acq[2]->angle_deg, -2);
}

TEST(tilt_scheme, series_views_carry_actual_and_nominal_angles_and_the_defocus) {
  TiltParams t{.min_deg = -6, .max_deg = 6, .step_deg = 2, .axis_azimuth_deg = 30, .angle_error_deg = 0.5};
  const TiltSeries s = plan_series(t, 70, 3, 7, 2);
  const std::vector<TiltRecord> r = plan_tilts(t, 70, 7, 2);
  ASSERT_EQ(s.tilts.size(), 7u);
  ASSERT_EQ(s.views.size(), 7u);
  ASSERT_EQ(s.nominal_views.size(), 7u);
  EXPECT_EQ(s.axis_azimuth_deg, 30);
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(s.tilts[i].actual_angle_deg, r[i].actual_angle_deg);
    EXPECT_EQ(s.tilts[i].cumulative_dose_e_per_A2, r[i].cumulative_dose_e_per_A2);
    EXPECT_EQ(r[i].defocus_um, 0); // the scheme knows no defocus
    EXPECT_EQ(s.tilts[i].defocus_um, 3);
    EXPECT_EQ(s.views[i].tilt_rad, r[i].actual_angle_deg * kDegToRad);
    EXPECT_EQ(s.nominal_views[i].tilt_rad, r[i].angle_deg * kDegToRad);
    for (const TiltView& v : {s.views[i], s.nominal_views[i]}) {
      EXPECT_EQ(v.azimuth_rad, 30 * kDegToRad);
      EXPECT_EQ(v.defocus_A, 3e4);
    }
  }
}

TEST(tilt_scheme, tilt_count_is_the_number_of_angles) {
  std::vector<TiltParams> schemes{
      TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 3},
      TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 0.1},
      TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 7},   // does not divide the range
      TiltParams{.min_deg = -45, .max_deg = 44.9, .step_deg = 3}, // max just short of a step
      TiltParams{.min_deg = -0.3, .max_deg = 0.3, .step_deg = 0.1},
      TiltParams{.min_deg = -89.9, .max_deg = 89.9, .step_deg = 0.001},
      TiltParams{.min_deg = -57, .max_deg = 63, .step_deg = 1.2},
      TiltParams{.min_deg = 10, .max_deg = 10, .step_deg = 5},
      TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 180},
      TiltParams{.angles_deg = {30, -30, 0, 12.5}},
      TiltParams{.angles_deg = {0}},
  };
  for (double step = 0.05; step < 10; step *= 1.37)
    schemes.push_back(TiltParams{.min_deg = -61.1, .max_deg = 59.3, .step_deg = step});
  for (const TiltParams& t : schemes)
    EXPECT_EQ(static_cast<std::size_t>(tilt_count(t)), tilt_angles_deg(t).size())
        << t.min_deg << ".." << t.max_deg << " by " << t.step_deg;
  EXPECT_EQ(tilt_count(TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 3}), 41);
  EXPECT_EQ(tilt_count(TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 0.1}), 1201);
  EXPECT_EQ(tilt_count(TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 7}), 18);
  // Both fail on the same schemes, with the same message.
  const std::pair<TiltParams, std::string> bad[] = {
      {TiltParams{.step_deg = 0}, "tilt step 0 deg must be positive"},
      {TiltParams{.min_deg = 10, .max_deg = 0}, "tilt range 10..0 deg is empty"},
      {TiltParams{.min_deg = -89, .max_deg = 90, .step_deg = 1}, "tilt angle 90 deg is outside (-90, 90)"},
      {TiltParams{.angles_deg = {0, 5, 0}}, "tilt angle 0 deg appears twice"},
      {TiltParams{.angles_deg = {0, 95}}, "tilt angle 95 deg is outside (-90, 90)"},
  };
  for (const auto& [t, message] : bad) {
    EXPECT_EQ(error_of([&] { tilt_count(t); }), message);
    EXPECT_EQ(error_of([&] { tilt_angles_deg(t); }), message);
  }
}

TEST(tilt_scheme, per_tilt_dose_list_and_cos_weighting) {
  TiltParams t{.angles_deg = {30, -30, 0}, .order = TiltOrder::list};
  t.dose_weighting = DoseWeighting::list;
  t.doses_e_per_A2 = {5, 7, 1}; // for 30, -30, 0 as written
  const auto r = plan_tilts(t, 0, 1, 0);
  EXPECT_DOUBLE_EQ(r[0].dose_e_per_A2, 7); // -30
  EXPECT_DOUBLE_EQ(r[1].dose_e_per_A2, 1); // 0
  EXPECT_DOUBLE_EQ(r[2].dose_e_per_A2, 5); // 30
  EXPECT_DOUBLE_EQ(r[2].cumulative_dose_e_per_A2, 0);
  EXPECT_DOUBLE_EQ(r[0].cumulative_dose_e_per_A2, 5);
  EXPECT_DOUBLE_EQ(r[1].cumulative_dose_e_per_A2, 12);
  t.doses_e_per_A2 = {1, 2};
  EXPECT_EQ(error_of([&] { plan_tilts(t, 0, 1, 0); }), "per-tilt dose list has 2 values for 3 tilts");
  TiltParams c{.angles_deg = {0, 60}, .order = TiltOrder::list};
  c.dose_weighting = DoseWeighting::cos;
  const auto rc = plan_tilts(c, 30, 1, 0);
  EXPECT_NEAR(rc[0].dose_e_per_A2, 10, 1e-9);
  EXPECT_NEAR(rc[1].dose_e_per_A2, 20, 1e-9);
}

TEST(tilt_scheme, angle_errors_are_seeded) {
  TiltParams t;
  t.angle_error_deg = 0.5;
  const auto a = plan_tilts(t, 100, 7, 3), b = plan_tilts(t, 100, 7, 3), c = plan_tilts(t, 100, 7, 4);
  double sum2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].actual_angle_deg, b[i].actual_angle_deg);
    sum2 += std::pow(a[i].actual_angle_deg - a[i].angle_deg, 2);
  }
  EXPECT_NE(a[5].actual_angle_deg, c[5].actual_angle_deg);
  EXPECT_NEAR(std::sqrt(sum2 / a.size()), 0.5, 0.2);
}

TEST(tilt_scheme, bad_schemes_fail_with_message) {
  TiltParams t{.min_deg = -89, .max_deg = 90, .step_deg = 1};
  EXPECT_EQ(error_of([&] { tilt_angles_deg(t); }), "tilt angle 90 deg is outside (-90, 90)");
}

TEST(projector, forward_and_back_projection_are_adjoint) {
  const Volume<float> x = random_volume(23, 17, 9, 1, 2.5);
  std::vector<TiltView> views;
  for (double t : {-61.0, -13.0, 0.0, 29.0, 75.0}) views.push_back({t * kDegToRad, 0});
  views.push_back({40 * kDegToRad, 30 * kDegToRad}); // general (azimuth) path
  views.push_back({-20 * kDegToRad, -95 * kDegToRad});
  const int nu = 25, nv = 17;
  const Volume<float> px = project(x, views, nu, nv);
  Volume<float> y = random_volume(nu, nv, static_cast<int>(views.size()), 2);
  const Volume<float> pty = back_project(y, views, x.grid());
  const double a = dot(px.data, y.data), b = dot(x.data, pty.data);
  EXPECT_NEAR(a, b, 1e-5 * std::abs(a));
}

TEST(projector, projection_conserves_the_integral) {
  Volume<float> v(32, 20, 8, 3.0);
  for (int z = 2; z < 6; ++z)
    for (int y = 5; y < 15; ++y)
      for (int x = 10; x < 22; ++x) v(x, y, z) = 1.5f;
  const double total = std::accumulate(v.data.begin(), v.data.end(), 0.0);
  const Volume<float> s = project(v, {{0.3, 0}, {-0.9, 0}, {0.5, 0.7}}, 32, 20);
  for (int i = 0; i < 3; ++i) {
    const double sum = std::accumulate(s.slice(i), s.slice(i) + 32 * 20, 0.0);
    // Azimuth views resample the volume bilinearly, which conserves the integral only to ~0.1 %.
    EXPECT_NEAR(sum, total * 3.0, (i == 2 ? 2e-3 : 1e-5) * total * 3.0) << i;
  }
}

TEST(projector, tilt_sign_and_azimuth_follow_imod_geometry) {
  // One voxel at x = +6, y = -3, z = +4 voxels from the centre of an odd box.
  Volume<float> v(21, 21, 11, 1.0);
  v(10 + 6, 10 - 3, 5 + 4) = 1;
  const double t = 30 * kDegToRad;
  const Volume<float> s = project(v, {{t, 0}, {-t, 0}, {t, 90 * kDegToRad}}, 21, 21);
  auto [u0, v0] = test_util::centroid(s, 0);
  EXPECT_NEAR(u0 - 10, 6 * std::cos(t) - 4 * std::sin(t), 1e-5); // x' = x cos t - z sin t
  EXPECT_NEAR(v0 - 10, -3, 1e-5);
  auto [u1, v1] = test_util::centroid(s, 1);
  EXPECT_NEAR(u1 - 10, 6 * std::cos(t) + 4 * std::sin(t), 1e-5);
  // Azimuth 90 deg: axis along -x, u0 = y, v = -x.
  auto [u2, v2] = test_util::centroid(s, 2);
  EXPECT_NEAR(u2 - 10, -3 * std::cos(t) - 4 * std::sin(t), 1e-5);
  EXPECT_NEAR(v2 - 10, -6, 1e-5);
}

TEST(projector, fast_and_general_paths_agree) {
  const Volume<float> x = random_volume(19, 13, 7, 3);
  const Volume<float> a = project(x, {{0.4, 0}}, 19, 13), b = project(x, {{0.4, 1e-12}}, 19, 13);
  double max_diff = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i)
    max_diff = std::max(max_diff, std::abs(double(a.data[i]) - b.data[i]));
  EXPECT_LT(max_diff, 1e-4);
}

TEST(ctf, wavelength_and_interaction_constant_match_tables) {
  EXPECT_NEAR(electron_wavelength_A(300), 0.019687, 2e-6);
  EXPECT_NEAR(electron_wavelength_A(200), 0.025079, 2e-6);
  EXPECT_NEAR(electron_wavelength_A(100), 0.037014, 2e-6);
  EXPECT_NEAR(interaction_constant_rad_per_V_A(300), 6.526e-4, 2e-6);
  EXPECT_NEAR(interaction_constant_rad_per_V_A(200), 7.288e-4, 2e-6);
}

TEST(ctf, zeros_match_closed_form) {
  for (double kv : {100.0, 200.0, 300.0})
    for (double d_um : {0.5, 2.0, 5.0}) {
      ImagingParams p;
      p.voltage_kV = kv;
      const Ctf c = ctf_from(p, 1.0);
      const double d = d_um * 1e4, l = c.wavelength_A;
      const std::vector<double> z = c.zeros_per_A(d, 5);
      ASSERT_EQ(z.size(), 5u);
      for (int n = 0; n < 5; ++n) {
        // Closed form without Cs as a cross-check at low frequency: pi l d k^2 + asin(Q) ~ (n+1) pi.
        const double k = z[n];
        EXPECT_NEAR(c.value(k, 0, d), 0, 1e-9) << kv << " " << d_um << " " << n;
        EXPECT_LT(c.value(k * 0.999, 0, d) * c.value(k * 1.001, 0, d), 0);
        if (n == 0 && d_um >= 2) {
          EXPECT_NEAR(k, std::sqrt((kPi - std::asin(0.07)) / (kPi * l * d)), 0.02 * k);
        }
      }
    }
}

TEST(ctf, envelope_phase_plate_and_sign) {
  ImagingParams p;
  const Ctf c = ctf_from(p, 2.0);
  EXPECT_NEAR(c.envelope(0.05), std::exp(-150 * 0.05 * 0.05 / 4), 1e-12); // exp(-B k^2 / 4), B = 150 A^2
  EXPECT_NEAR(c.envelope(0), 1, 1e-12);
  EXPECT_NEAR(c.value(0, 0, 5e4), -0.07, 1e-12); // amplitude contrast: protein dark
  EXPECT_LT(c.value(0.005, 0, 5e4), 0);          // underfocus: negative first lobe
  ImagingParams v = p;
  v.phase_shift_deg = 90;
  EXPECT_NEAR(ctf_from(v, 2.0).value(0, 0, 0), -std::cos(std::asin(0.07)), 1e-12);
}

TEST(ctf, astigmatism_moves_zeros_along_the_major_axis) {
  ImagingParams p;
  p.astigmatism_um = 1.0;
  p.astigmatism_angle_deg = 0;
  const Ctf c = ctf_from(p, 1.0);
  const double k = 0.02;
  EXPECT_NEAR(c.chi(k, 0, 2e4), c.chi(0, k, 2e4) + kPi * c.wavelength_A * 1e4 * k * k, 1e-9);
}

TEST(ctf, image_filter_is_the_closed_form_ctf) {
  ImagingParams p;
  const int n = 64;
  const Ctf c = ctf_from(p, 3.0);
  Image delta(n, n, 3.0);
  delta(5, 9) = 1;
  const Spectrum2 s = fft_forward(delta);
  const Spectrum2 out = fft_forward(ctf_contrast(s, c, 2e4, 0.0, {}));
  for (int ky = 0; ky < n; ky += 7)
    for (int kx = 1; kx <= n / 2; kx += 5) {
      const double want = 2 * c.value(kx / (n * 3.0), fft_freq(ky, n) / (n * 3.0), 2e4);
      const std::complex<double> r =
          std::complex<double>(out.data[ky * (n / 2 + 1) + kx]) / std::complex<double>(s.data[ky * (n / 2 + 1) + kx]);
      EXPECT_NEAR(r.real(), want, 1e-4);
      EXPECT_NEAR(r.imag(), 0, 1e-4);
    }
}

TEST(ctf, defocus_gradient_sign_and_magnitude) {
  // Positive tilt: the +x side is more underfocused by u tan(tilt). A point at column u responds like the
  // untilted CTF at defocus D + u tan(t), not D - u tan(t).
  ImagingParams p;
  p.envelope_B_A2 = 20; // 0.9 of Nyquist at 1 A per pixel: the rings far out tell the two defoci apart
  const int n = 256;
  const double pA = 1.0, t = 60 * kDegToRad, d = 1.5e4;
  const Ctf c = ctf_from(p, pA);
  for (int side : {-1, 1}) {
    const int x0 = 128 + side * 100;
    Image delta(n, 64, pA);
    delta(x0, 32) = 1;
    const Spectrum2 s = fft_forward(delta);
    const double u = (x0 - 0.5 * (n - 1)) * pA;
    const Image tilted = ctf_contrast(s, c, d, t, {});
    const Image right = ctf_contrast(s, c, d + u * std::tan(t), 0, {});
    const Image wrong = ctf_contrast(s, c, d - u * std::tan(t), 0, {});
    auto rel_error = [&](const Image& a, const Image& b) { // over a window around the point
      double e = 0, bb = 0;
      for (int y = 32 - 6; y <= 32 + 6; ++y)
        for (int x = x0 - 6; x <= x0 + 6; ++x) e += std::pow(a(x, y) - b(x, y), 2), bb += b(x, y) * b(x, y);
      return std::sqrt(e / bb);
    };
    EXPECT_LT(rel_error(tilted, right), 0.1) << side;
    EXPECT_GT(rel_error(tilted, wrong), 0.3) << side;
  }
}

TEST(detector, transmission_law) {
  EXPECT_NEAR(transmission(3800, 0, 3800, 1), std::exp(-1.0), 1e-12);
  EXPECT_NEAR(transmission(1900, 60 * kDegToRad, 3800, 1), std::exp(-1.0), 1e-12);
  EXPECT_NEAR(transmission(1000, 0, 3800, 2), std::exp(-2000.0 / 3800), 1e-12);
  EXPECT_NEAR(flat_counts(2, 10, 0.5, 0.8), 2 * 100 * 0.5 * 0.8, 1e-12);
}

TEST(detector, damage_attenuation_is_monotone_in_exposure_and_frequency) {
  EXPECT_DOUBLE_EQ(damage_attenuation(0.1, 0, 300), 1);
  double prev = 1;
  for (double n : {1.0, 5.0, 20.0, 80.0}) {
    const double a = damage_attenuation(0.1, n, 300);
    EXPECT_LT(a, prev);
    prev = a;
  }
  EXPECT_LT(damage_attenuation(0.2, 20, 300), damage_attenuation(0.05, 20, 300));
  // Grant & Grigorieff: N_e(1/4 A^-1) = 0.245 * 4^1.665 + 2.81
  EXPECT_NEAR(critical_exposure_e_per_A2(0.25, 300), 0.245 * std::pow(4.0, 1.665) + 2.81, 1e-9);
}

TEST(pipeline, transmitted_mean_counts_match_the_formula) {
  ImagingParams p = quiet_params();
  p.tilt.angles_deg = {-60, 0, 30, 45};
  p.tilt.dose_weighting = DoseWeighting::list;
  p.tilt.doses_e_per_A2 = {1, 2, 3, 4};
  const double ice = 2000, pA = 4;
  const Volume<float> empty(64, 64, 4, pA);
  const TiltSeries s = simulate_series(empty, p, ice, 5, 1);
  ASSERT_EQ(s.images.nz, 4);
  for (int i = 0; i < 4; ++i) {
    const double a = s.tilts[i].angle_deg * kDegToRad;
    const double want = s.tilts[i].dose_e_per_A2 * pA * pA * std::exp(-ice / (std::cos(a) * 3800)) * 0.84;
    EXPECT_NEAR(s.tilts[i].flat_e_per_pixel, want, 1e-9 * want);
    const std::size_t n = 64 * 64;
    double mean = 0, var = 0;
    for (std::size_t j = 0; j < n; ++j) mean += s.images.slice(i)[j];
    mean /= n;
    for (std::size_t j = 0; j < n; ++j) var += std::pow(s.images.slice(i)[j] - mean, 2);
    var /= n - 1;
    EXPECT_NEAR(mean, want, 4 * std::sqrt(want / n)) << i;
    // Poisson: variance equals the mean (relative standard error of a variance ~ sqrt(2/n)).
    EXPECT_NEAR(var / want, 1, 4 * std::sqrt(2.0 / n)) << i;
    EXPECT_EQ(s.images.slice(i)[7], std::round(s.images.slice(i)[7])); // counts are integers
  }
}

TEST(pipeline, same_seed_same_bytes_other_job_other_noise) {
  ImagingParams p = quiet_params();
  p.damage = true;
  const Volume<float> v = random_volume(24, 20, 6, 4, 5);
  const TiltSeries a = simulate_series(v, p, 500, 3, 9), b = simulate_series(v, p, 500, 3, 9);
  const TiltSeries c = simulate_series(v, p, 500, 3, 10);
  EXPECT_EQ(a.images.data, b.images.data);
  EXPECT_NE(a.images.data, c.images.data);
}

TEST(pipeline, half_series_sum_to_the_full_dose) {
  ImagingParams p = quiet_params();
  p.half_series = true;
  p.tilt.angles_deg = {-30, 0, 30};
  const Volume<float> v = random_volume(32, 32, 4, 5, 8);
  const TiltSeries s = simulate_series(v, p, 300, 1, 2);
  for (std::size_t j = 0; j < s.images.data.size(); ++j)
    ASSERT_EQ(s.images.data[j], s.halves[0].data[j] + s.halves[1].data[j]);
  EXPECT_NE(s.halves[0].data, s.halves[1].data);
  const TiltSeries h = half_series(s, 1);
  double sum = 0, flat = 0;
  for (int i = 0; i < 3; ++i) flat += h.tilts[i].flat_e_per_pixel * 32 * 32;
  for (float x : h.images.data) sum += x;
  EXPECT_NEAR(sum / flat, 1, 0.02);
  EXPECT_NEAR(h.tilts[1].dose_e_per_A2 * 2, s.tilts[1].dose_e_per_A2, 1e-12);
}

TEST(pipeline, damage_grows_with_cumulative_dose_in_acquisition_order) {
  // A strong random phantom, tilts within 2 degrees: the high-frequency power of each image falls with the
  // dose received before it, in dose-symmetric acquisition order (0, +1, -1, +2, -2).
  ImagingParams p = quiet_params();
  p.damage = true;
  p.damage_noise_rad_A_per_e_A2 = 0;
  p.envelope_B_A2 = 0;
  p.defocus_um = 1;
  p.tilt = TiltParams{.min_deg = -2, .max_deg = 2, .step_deg = 1};
  p.dose_e_per_A2 = 100;
  Volume<float> v = random_volume(64, 64, 2, 6, 10);
  for (float& x : v.data) x *= 20;
  const TiltSeries s = simulate_series(v, p, 100, 1, 1);
  std::vector<double> power(5);
  for (int i = 0; i < 5; ++i) {
    Image img = stack_image(s.images, i);
    const double flat = s.tilts[i].flat_e_per_pixel;
    for (float& x : img.data) x = static_cast<float>(x / flat - 1);
    const Spectrum2 f = fft_forward(img);
    for (int ky = 0; ky < 64; ++ky)
      for (int kx = 8; kx < 20; ++kx) power[i] += std::norm(f.data[ky * 33 + kx]);
  }
  std::vector<double> by_acq(5);
  for (int i = 0; i < 5; ++i) by_acq[s.tilts[i].acquisition_index] = power[i];
  for (int k = 1; k < 5; ++k) EXPECT_LT(by_acq[k], by_acq[k - 1]) << k;
  EXPECT_DOUBLE_EQ(s.tilts[2].cumulative_dose_e_per_A2, 0); // 0 deg first
}

TEST(pipeline, prime_image_size_works) {
  ImagingParams p = quiet_params();
  p.tilt.angles_deg = {-60, 0, 60};
  p.dose_e_per_A2 = 30;
  const Volume<float> v = random_volume(401, 401, 3, 7, 10);
  const TiltSeries s = simulate_series(v, p, 300, 1, 1);
  ASSERT_EQ(s.images.nx, 405); // the detector: 401 rounded up to 3^4 5, odd like 401
  ASSERT_EQ(s.images.ny, 401); // rows stay the volume's: a prime size
  const std::size_t n = 405u * 401u;
  for (int i = 0; i < 3; ++i) {
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j) {
      ASSERT_TRUE(std::isfinite(s.images.slice(i)[j]));
      sum += s.images.slice(i)[j];
    }
    EXPECT_NEAR(sum / double(n) / s.tilts[i].flat_e_per_pixel, 1, 0.01);
  }
}

TEST(pipeline, ideal_series_is_linear_perfect_contrast_for_any_range) {
  ImagingParams p;
  const Volume<float> v = random_volume(16, 12, 6, 8, 4);
  const TiltSeries s = simulate_ideal_series(v, p, TiltParams{.min_deg = -89, .max_deg = 89, .step_deg = 1}, 0.3);
  ASSERT_EQ(s.images.nz, 179);
  const std::array<int, 2> d = detector_shape(v.grid(), s.nominal_views);
  ASSERT_EQ(s.images.nx, d[0]);
  ASSERT_EQ(s.images.ny, d[1]);
  // I = 1 - 2 sigma_e P, P the projection of the potential minus the ice level (0.3 V here).
  const Volume<float> proj = project(v, s.nominal_views, d[0], d[1], 0, -1, 0.3f);
  const double sigma = interaction_constant_rad_per_V_A(300);
  for (int i : {0, 89, 178}) {
    for (int j = 0; j < d[0] * d[1]; j += 13) EXPECT_NEAR(s.images.slice(i)[j], 1 - 2 * sigma * proj.slice(i)[j], 1e-5);
    EXPECT_EQ(s.tilts[i].flat_e_per_pixel, 1);
  }
}

TEST(pipeline, cts_order_and_options_run) {
  ImagingParams p = quiet_params();
  p.noise_order = NoiseOrder::cts;
  p.detector_mtf = DetectorMtf::sinc;
  p.ctf_slabs = 3;
  p.tilt.angles_deg = {-40, 20};
  const Volume<float> v = random_volume(30, 26, 6, 9, 5);
  const TiltSeries s = simulate_series(v, p, 300, 1, 1);
  for (float x : s.images.data) ASSERT_TRUE(std::isfinite(x));
}

TEST(detector, sinc_mtf_at_nyquist) {
  EXPECT_DOUBLE_EQ(sinc_mtf(0, 0), 1);
  EXPECT_NEAR(sinc_mtf(1, 0), 2 / kPi, 1e-12);
  EXPECT_NEAR(sinc_mtf(1, 1), 4 / (kPi * kPi), 1e-12);
}

namespace {
// Mean power of the contrast (counts / flat - 1) of image i in a ring of radius k_lo..k_hi (1/A).
double ring_power(const TiltSeries& s, int i, double k_lo, double k_hi) {
  Image img = stack_image(s.images, i);
  for (float& x : img.data) x = static_cast<float>(x / s.tilts[i].flat_e_per_pixel - 1);
  const Spectrum2 f = fft_forward(img);
  double sum = 0;
  int n = 0;
  for (int ky = 0; ky < img.ny; ++ky)
    for (int kx = 0; kx < img.nx / 2 + 1; ++kx) {
      const double k = std::hypot(kx / (img.nx * img.pixel_A), fft_freq(ky, img.ny) / (img.ny * img.pixel_A));
      if (k >= k_lo && k < k_hi) sum += std::norm(f.data[static_cast<std::size_t>(ky) * (img.nx / 2 + 1) + kx]), ++n;
    }
  return sum / n;
}
} // namespace

TEST(pipeline, shot_noise_is_white_in_physical_order_and_ctf_shaped_in_cts_order) {
  ImagingParams p = quiet_params();
  p.defocus_um = 2;
  p.envelope_B_A2 = 0;
  const Volume<float> empty(128, 128, 2, 2.0);
  const Ctf c = ctf_from(p, 2.0);
  const double zero = c.zeros_per_A(2e4, 1)[0];
  // First maximum of |CTF| between k = 0 and the first zero: chi + asin(Q) = pi / 2.
  const double peak = std::sqrt((kPi / 2 - std::asin(0.07)) / (kPi * c.wavelength_A * 2e4));
  const TiltSeries phys = simulate_series(empty, p, 100, 1, 1);
  EXPECT_NEAR(ring_power(phys, 0, zero - 0.003, zero + 0.003) / ring_power(phys, 0, peak - 0.003, peak + 0.003), 1,
              0.3);
  p.noise_order = NoiseOrder::cts;
  const TiltSeries cts = simulate_series(empty, p, 100, 1, 1);
  EXPECT_LT(ring_power(cts, 0, zero - 0.003, zero + 0.003) / ring_power(cts, 0, peak - 0.003, peak + 0.003), 0.2);
}

TEST(pipeline, slab_ctf_puts_the_top_of_the_specimen_at_higher_defocus) {
  // Material only in the top half (z > 0, downstream, away from the source): with 2 slabs its CTF uses D + z_slab, the
  // same as one slab at defocus D + z_slab, and not D - z_slab.
  ImagingParams p = quiet_params();
  p.dose_e_per_A2 = 1e7;
  p.defocus_um = 1;
  p.envelope_B_A2 = 0; // the depth shows far out: the phase of D +- 25 A differs by 0.8 rad at Nyquist
  Volume<float> v(64, 64, 100, 1.0);
  Rng rng(4, Purpose::test, 4);
  for (int z = 50; z < 100; ++z)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) v(x, y, z) = static_cast<float>(rng.uniform());
  const double z_slab = (0.5 * (50 + 99) - 49.5) * 1.0; // centre of the top slab, A
  p.ctf_slabs = 2;
  const TiltSeries slabs = simulate_series(v, p, 100, 1, 1);
  p.ctf_slabs = 1;
  p.defocus_um = 1 + z_slab / 1e4;
  const TiltSeries right = simulate_series(v, p, 100, 1, 1);
  p.defocus_um = 1 - z_slab / 1e4;
  const TiltSeries wrong = simulate_series(v, p, 100, 1, 1);
  auto corr = [](const Volume<float>& a, const Volume<float>& b) {
    double ma = 0, mb = 0, ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ma += a.data[i], mb += b.data[i];
    ma /= a.size(), mb /= b.size();
    for (std::size_t i = 0; i < a.size(); ++i)
      ab += (a.data[i] - ma) * (b.data[i] - mb), aa += std::pow(a.data[i] - ma, 2), bb += std::pow(b.data[i] - mb, 2);
    return ab / std::sqrt(aa * bb);
  };
  EXPECT_GT(corr(slabs.images, right.images), 0.99);
  EXPECT_LT(corr(slabs.images, wrong.images), 0.95);
}

TEST(pipeline, auto_ctf_slabs_keep_each_slab_within_the_depth_of_field) {
  ImagingParams p; // ctf_slabs = "auto", -60..60
  const double lambda = electron_wavelength_A(300);
  EXPECT_NEAR(depth_of_field_A(4, 300), 32 / lambda, 1e-9);
  // A 500 A box: its path along the beam at 60 degrees is 1000 A; one slab at 10 and 4 A, more below.
  EXPECT_EQ(ctf_slab_count(p, 500, 10), 1);
  EXPECT_EQ(ctf_slab_count(p, 500, 4), 1);
  EXPECT_EQ(ctf_slab_count(p, 500, 3), 2);
  for (double pixel : {1.0, 2.0, 2.5, 3.0, 5.0}) {
    const int n = ctf_slab_count(p, 500, pixel);
    const double path = 500 / std::cos(60 * kDegToRad), dof = depth_of_field_A(pixel, 300);
    EXPECT_LE(path / n, dof) << pixel;               // each slab's path within the depth of field
    EXPECT_GT(path / (n - 1 + 1e-12), dof) << pixel; // and no more slabs than that needs
  }
  p.tilt.angles_deg = {0};
  p.tilt.order = TiltOrder::list;
  EXPECT_EQ(ctf_slab_count(p, 500, 2), 2); // 500 A / 406 A at 0 degrees alone
  p.ctf_slabs = 7;
  EXPECT_EQ(ctf_slab_count(p, 500, 10), 7); // an integer is used as written
  p.ctf_slabs = 0;
  p.noise_order = NoiseOrder::cts;
  EXPECT_EQ(ctf_slab_count(p, 500, 2), 1); // its CTF acts after counting: slabs would change nothing
}

TEST(pipeline, auto_ctf_slabs_image_as_the_resolved_count) {
  // 150 A at 1 A per pixel, one 0-degree image: the depth of field is 102 A, so "auto" is 2 slabs.
  ImagingParams p = quiet_params();
  p.dose_e_per_A2 = 1e6;
  p.envelope_B_A2 = 0;
  const Volume<float> v = random_volume(32, 32, 150, 9, 1.0);
  ASSERT_EQ(ctf_slab_count(p, 150, 1.0), 2);
  const TiltSeries automatic = simulate_series(v, p, 150, 1, 1);
  p.ctf_slabs = 2;
  EXPECT_EQ(simulate_series(v, p, 150, 1, 1).images.data, automatic.images.data);
  p.ctf_slabs = 1;
  EXPECT_NE(simulate_series(v, p, 150, 1, 1).images.data, automatic.images.data);
}

// ---- Acquisition at a finer pixel, Fourier-binned to the output pixel ----

namespace {
// A cosine image of nx x ny at pixel_A with cycles (fx, fy) per image along x and y, about the image centre.
Image cosine_image(int nx, int ny, double pixel_A, double fx, double fy) {
  Image img(nx, ny, pixel_A);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x)
      img(x, y) = static_cast<float>(
          10 + std::cos(2 * kPi * (fx * (x - 0.5 * (nx - 1)) / nx + fy * (y - 0.5 * (ny - 1)) / ny)));
  return img;
}

// Centroid (column, row) of the squared contrast (I / flat - 1)^2 of image t: it moves with the image.
std::pair<double, double> contrast_centroid(const TiltSeries& s, int t) {
  Volume<float> c(s.images.nx, s.images.ny, 1, s.images.voxel_A);
  for (int y = 0; y < c.ny; ++y)
    for (int x = 0; x < c.nx; ++x)
      c(x, y, 0) = static_cast<float>(std::pow(s.images(x, y, t) / s.tilts[t].flat_e_per_pixel - 1, 2));
  return test_util::centroid(c, 0);
}
} // namespace

TEST(binning, nothing_above_the_output_nyquist_folds_back) {
  // 48 x 40 output pixels (Nyquist: 24 and 20 cycles per image) from n times as many fine pixels at 1 A.
  for (int n : {2, 3}) {
    const int nx = 48 * n, ny = 40 * n;
    // Above the output Nyquist (and below the fine one): gone, only the mean (n^2 times, counts per pixel) stays.
    const Image high = fourier_bin(cosine_image(nx, ny, 1.0, 31, 7), n);
    EXPECT_EQ(high.nx, 48);
    EXPECT_EQ(high.ny, 40);
    EXPECT_EQ(high.pixel_A, n);
    for (float v : high.data) EXPECT_NEAR(v, 10.0 * n * n, 1e-3 * n * n);
    // A plain sum over each block would fold it back to |31 - 48| = 17 cycles with amplitude ~ n^2 sinc.
    // Below the output Nyquist: kept, sampled at the centre of each block (the same cosine about the centre).
    const Image low = fourier_bin(cosine_image(nx, ny, 1.0, 9, -5), n);
    const Image want = cosine_image(48, 40, double(n), 9, -5);
    for (std::size_t i = 0; i < low.data.size(); ++i) EXPECT_NEAR(low.data[i], n * n * want.data[i], 1e-3 * n * n);
  }
  EXPECT_EQ(fourier_bin(cosine_image(10, 8, 1.0, 3, 1), 1).data, cosine_image(10, 8, 1.0, 3, 1).data);
}

TEST(binning, a_binned_series_is_the_series_at_the_output_pixel) {
  // Smooth blobs at 1 A, imaged at 1 A and binned by 2, against the block-mean potential imaged at 2 A: the same
  // detector, the same counts per pixel, and the same image where both are band limited (no shift of the centre).
  Volume<float> fine(64, 48, 16, 1.0);
  for (auto [cx, cy, cz] : {std::array<double, 3>{20, 14, 7}, {41, 30, 9}, {33, 22, 5}})
    for (int z = 0; z < 16; ++z)
      for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x)
          fine(x, y, z) += static_cast<float>(
              20 * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz)) / 18.0));
  Volume<float> coarse(32, 24, 8, 2.0);
  for (int z = 0; z < 16; ++z)
    for (int y = 0; y < 48; ++y)
      for (int x = 0; x < 64; ++x) coarse(x / 2, y / 2, z / 2) += fine(x, y, z) / 8;
  ImagingParams p = quiet_params();
  p.tilt.angles_deg = {-30, 0, 30};
  p.dose_e_per_A2 = 1e9;
  p.defocus_um = 0.5;
  p.envelope_B_A2 = 400; // the CTF stays well below both Nyquists
  const TiltSeries direct = simulate_series(coarse, p, 100, 1, 1);
  p.acquisition_binning = 2;
  const TiltSeries binned = simulate_series(fine, p, 100, 1, 1);
  ASSERT_EQ(binned.images.nx, direct.images.nx);
  ASSERT_EQ(binned.images.ny, direct.images.ny);
  EXPECT_EQ(binned.images.voxel_A, 2);
  for (int t = 0; t < 3; ++t) {
    EXPECT_NEAR(binned.tilts[t].flat_e_per_pixel, direct.tilts[t].flat_e_per_pixel,
                1e-6 * direct.tilts[t].flat_e_per_pixel);
    const auto [ub, vb] = contrast_centroid(binned, t);
    const auto [ud, vd] = contrast_centroid(direct, t);
    EXPECT_NEAR(ub, ud, 0.05) << t; // aligned to a twentieth of a pixel
    EXPECT_NEAR(vb, vd, 0.05) << t;
  }
  double ab = 0, aa = 0, bb = 0;
  const double f = direct.tilts[1].flat_e_per_pixel;
  for (std::size_t i = 0; i < direct.images.data.size(); ++i) {
    const double a = binned.images.data[i] / f - 1, b = direct.images.data[i] / f - 1;
    ab += a * b, aa += a * a, bb += b * b;
  }
  EXPECT_GT(ab / std::sqrt(aa * bb), 0.95);
  Volume<float> odd(63, 48, 16, 1.0);
  EXPECT_EQ(error_of<Error>([&] { simulate_series(odd, p, 100, 1, 1); }),
            "acquisition binning 2 needs a potential of a multiple of 2 voxels, got 63 x 48 x 16");
}

// ---- [imaging], tilt and [reconstruction] tables (io/config_imaging) ----

namespace {
struct Read {
  ImagingParams imaging;
  ReconParams recon;
  std::vector<std::string> problems;
};
Read read_text(const std::string& text) {
  const toml::table root = parse_toml(text, "job.toml");
  Problems problems;
  Read r;
  TableReader top(root, "job.toml", "", problems);
  if (auto t = top.table("imaging")) r.imaging = read_imaging(*t);
  if (auto t = top.table("reconstruction")) r.recon = read_reconstruction(*t);
  r.problems = problems.lines;
  return r;
}
} // namespace

TEST(config_imaging, reads_every_key_with_cts_defaults) {
  const Read r = read_text(R"([imaging]
voltage_kV = 200
defocus_um = 3.5
astigmatism_um = 0.2
detector_mtf = "sinc"
noise_order = "cts"
half_series = true
[imaging.tilt]
min_deg = -54
max_deg = 54
step_deg = 3
order = "bidirectional"
start_deg = -20
axis_azimuth_deg = 30
angle_error_deg = 0.3
dose_weighting = "cos"
[reconstruction]
cutoff = 0.4
method = "sirt"
sirt_iterations = 5
)");
  EXPECT_TRUE(r.problems.empty()) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(r.imaging.voltage_kV, 200);
  EXPECT_EQ(r.imaging.defocus_um, 3.5);
  EXPECT_EQ(r.imaging.cs_mm, 2.7); // default
  EXPECT_EQ(r.imaging.detector_mtf, DetectorMtf::sinc);
  EXPECT_TRUE(r.imaging.half_series);
  EXPECT_EQ(r.imaging.tilt.step_deg, 3);
  EXPECT_EQ(r.imaging.tilt.order, TiltOrder::bidirectional);
  EXPECT_EQ(r.imaging.tilt.axis_azimuth_deg, 30);
  EXPECT_EQ(r.imaging.tilt.dose_weighting, DoseWeighting::cos);
  EXPECT_EQ(r.recon.cutoff, 0.4);
  EXPECT_EQ(r.recon.falloff, 0.035);
  EXPECT_EQ(r.recon.method, ReconMethod::sirt);
  EXPECT_EQ(r.recon.sirt_iterations, 5);
}

TEST(config_imaging, problems_name_file_line_and_key) {
  const Read r = read_text(R"([imaging]
defocus_um = "five"
dqe = 1.5
colour = 3
tilt = { order = "spiral", dose_weighting = "list", doses_e_per_A2 = [1, 2] }
)");
  ASSERT_EQ(r.problems.size(), 5u);
  EXPECT_EQ(r.problems[0], "job.toml:2:14: imaging.defocus_um: expected a number, got a string");
  EXPECT_EQ(r.problems[1], "job.toml:3:7: imaging.dqe: expected a number in [1e-06, 1], got 1.5");
  EXPECT_EQ(r.problems[2], "job.toml:5:18: imaging.tilt.order: expected one of 'dose-symmetric', 'bidirectional', "
                           "'unidirectional', 'list', got 'spiral'");
  EXPECT_EQ(r.problems[3], "job.toml:5:70: imaging.tilt.doses_e_per_A2: expected 61 doses (one per tilt), got 2");
  EXPECT_EQ(r.problems[4], "job.toml:4:1: unknown key 'imaging.colour'");
}

// ---- Issue 8, geometry (laterally infinite specimen, oblique azimuths): detector_shape and coverage ----

namespace {

// Back projection of one view's all-ones image: at each voxel, the total weight with which that view sees it.
Volume<float> coverage(const Grid& g, const TiltView& v) {
  const std::array<int, 2> d = detector_shape(g, {v});
  return back_project(Volume<float>(d[0], d[1], 1, g.voxel_A, 1.0f), {v}, g);
}

} // namespace

TEST(projector_coverage, every_voxel_gets_every_tilt_at_azimuth_0) {
  // A thick box: at 30-60 degrees its tilted projection is wider than nx.
  const Grid g{24, 10, 20, 2.0};
  for (double t : {-60.0, -35.0, 0.0, 13.0, 50.0}) {
    const Volume<float> c = coverage(g, {t * kDegToRad, 0});
    // Linear weights of each voxel sum to 1 when both detector columns exist (times voxel_A).
    for (float w : c.data) ASSERT_NEAR(w, g.voxel_A, 1e-5) << t;
  }
  EXPECT_EQ(detector_shape(g, {{0, 0}}), (std::array<int, 2>{24, 10}));
}

TEST(projector_coverage, every_voxel_gets_every_tilt_at_oblique_azimuths) {
  // At 45 and 30 degrees the corner triangles of the XY area used to fall outside an nx x ny detector.
  const Grid g{32, 32, 8, 1.0};
  for (double az : {45.0, 30.0, -120.0}) {
    for (double t : {-60.0, 0.0, 40.0}) {
      const Volume<float> c = coverage(g, {t * kDegToRad, az * kDegToRad});
      const float lo = *std::min_element(c.data.begin(), c.data.end());
      EXPECT_GT(lo, 0.5f) << az << " " << t; // bilinear resampling: about 1, never missing
    }
    const std::array<int, 2> d = detector_shape(g, {{0, az * kDegToRad}});
    const double ca = std::abs(std::cos(az * kDegToRad)), sa = std::abs(std::sin(az * kDegToRad));
    EXPECT_GE(d[0], 32 * (ca + sa)) << az;
    EXPECT_GE(d[1], 32 * (ca + sa)) << az;
  }
}

TEST(projector_coverage, a_uniform_level_is_invisible_and_outside_is_the_level) {
  // project(..., level) gives the projection of volume - level with level outside the box: a box at the
  // level projects to 0 at every view, and a feature on it projects as it does alone.
  Volume<float> box(20, 14, 6, 3.0, 4.5f), feature(20, 14, 6, 3.0);
  box(7, 5, 2) += 2, feature(7, 5, 2) = 2;
  const std::vector<TiltView> views{{0.9, 0}, {-0.5, 0}, {0.3, 0.8}};
  const std::array<int, 2> d = detector_shape(box.grid(), views);
  const Volume<float> a = project(box, views, d[0], d[1], 0, -1, 4.5f), b = project(feature, views, d[0], d[1]);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a.data[i], b.data[i], 1e-4);
}

TEST(projector_coverage, a_film_that_covers_the_box_continues_beyond_it) {
  // A 5 V film 4 voxels thick filling the box laterally, on a 4.5 V medium: with its exterior the images are
  // flat (a laterally infinite layer), 5 V x 8 A / cos(t); without, they fall to 0 beside the box.
  const Grid g{24, 12, 10, 2.0};
  Volume<float> v(g, 4.5f);
  for (int z = 3; z < 7; ++z)
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x) v(x, y, z) += 5.0f;
  const std::vector<TiltView> views{{50 * kDegToRad, 0}, {-35 * kDegToRad, 0}, {60 * kDegToRad, 30 * kDegToRad}};
  const std::array<int, 2> d = detector_shape(g, views);
  Volume<float> s = project(v, views, d[0], d[1], 0, -1, 4.5f);
  add_exterior(s, views, g, {{0.0, 8.0, 5.0}}); // voxels 3..6 of 10 at 2 A: z in [-4, 4]
  for (int k = 0; k < 3; ++k) {
    const double want = 5.0 * 8.0 / std::cos(views[k].tilt_rad);
    // Away from the detector's rim (where the bilinear resampling of the rotated view meets the grid's edge);
    // the voxel-driven projector's own ripple on a tilted slab is up to 3%, inside the box as at its faces.
    for (int j = 2; j < d[1] - 2; ++j)
      for (int i = 2; i < d[0] - 2; ++i) ASSERT_NEAR(s(i, j, k), want, 0.05 * want) << k << " " << i << " " << j;
  }
}

TEST(projector_coverage, exterior_line_integrals_match_a_numerical_integral) {
  // A film with a hole beside a small box, views at two azimuths: compare with a fine sum along each ray.
  const Grid g{16, 12, 8, 5.0};
  const ExteriorLayer film{3.0, 12.0, 2.0, 50.0, -20.0, 45.0};
  const std::vector<TiltView> views{{0.6, 0}, {-1.1, 0.7}};
  Volume<float> s(40, 30, 2, g.voxel_A);
  add_exterior(s, views, g, {film}, -20.0, 8.0); // clipped: the slab's top 1 A is outside
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 30; j += 3)
      for (int i = 0; i < 40; i += 3) {
        const double u = voxel_centre_A(i, 40, 5.0), vv = voxel_centre_A(j, 30, 5.0);
        const TiltView& w = views[k];
        const double c = std::cos(w.tilt_rad), ca = std::cos(w.azimuth_rad), sa = std::sin(w.azimuth_rad);
        double sum = 0;
        const int n = 4000;
        for (int q = 0; q < n; ++q) {
          const double z = -3.0 + 11.0 * (q + 0.5) / n; // the slab [-3, 9] clipped to [-3, 8]
          const double u0 = (u + z * std::sin(w.tilt_rad)) / c, x = u0 * ca - vv * sa, y = u0 * sa + vv * ca;
          const bool outside_box = std::abs(x) > 40.0 || std::abs(y) > 30.0;
          const bool outside_hole = std::hypot(x - 50.0, y + 20.0) > 45.0;
          if (outside_box && outside_hole) sum += 2.0 * (11.0 / n) / c;
        }
        ASSERT_NEAR(s(i, j, k), sum, 2e-3 * 2.0 * 12.0 / c + 1e-4) << k << " " << i << " " << j;
      }
}

// ---- Physical units (issue 8, calibration): envelope and damage noise do not depend on the pixel size. ----

TEST(units, ctf_envelope_is_a_b_factor_in_inverse_angstrom) {
  ImagingParams p;
  p.envelope_B_A2 = 2000; // CTS parity
  for (double k : {0.0, 0.01, 0.03, 0.05}) {
    const double want = std::exp(-2000 * k * k / 4);
    EXPECT_NEAR(ctf_from(p, 3.0).envelope(k), want, 1e-12) << k;
    EXPECT_NEAR(ctf_from(p, 10.0).envelope(k), want, 1e-12) << k; // same physics at every pixel size
  }
  // At 10 A per pixel 2000 A^2 is CTS's 0.9-of-Nyquist envelope, exp(-(k / (0.9 k_N))^2), within 0.01.
  for (double f : {0.25, 0.5, 0.75, 1.0}) {
    const double k = f * 0.05, old = std::exp(-(k / (0.9 * 0.05)) * (k / (0.9 * 0.05)));
    EXPECT_NEAR(ctf_from(p, 10.0).envelope(k), old, 0.01) << f;
  }
  EXPECT_NEAR(ctf_from(p, 10.0).envelope(0.05), 0.29, 0.005);  // 20 A
  EXPECT_NEAR(ctf_from(p, 3.0).envelope(0.1), 0.0067, 0.0001); // 10 A
  p.envelope_B_A2 = 0;
  EXPECT_EQ(ctf_from(p, 10.0).envelope(0.05), 1.0);
}

TEST(units, damage_noise_power_per_unit_area_is_pixel_independent) {
  // Density 2e-3 rad A per e/A^2 at exposure 50 e/A^2: 0.01 rad per pixel at 10 A, 0.02 rad at 5 A.
  EXPECT_NEAR(damage_noise_sd_rad(2e-3, 50, 10), 0.01, 1e-15);
  EXPECT_NEAR(damage_noise_sd_rad(2e-3, 50, 5), 0.02, 1e-15);
  // Measured: the phase integrated over 20 A x 20 A blocks (rad A^2) has the same variance at 5 A and 10 A
  // per pixel: (density x exposure)^2 x block area = (0.1 rad A)^2 x 400 A^2 = 4 rad^2 A^4.
  const double side_A = 2560, block_A = 20;
  for (double pix : {5.0, 10.0}) {
    const int n = int(side_A / pix), b = int(block_A / pix);
    Image phase(n, n, pix);
    Rng rng(7, Purpose::damage, 1);
    add_damage_noise(phase, 2e-3, 50, rng);
    double sum2 = 0;
    int blocks = 0;
    for (int y0 = 0; y0 < n; y0 += b)
      for (int x0 = 0; x0 < n; x0 += b) {
        double s = 0;
        for (int y = y0; y < y0 + b; ++y)
          for (int x = x0; x < x0 + b; ++x) s += phase(x, y) * pix * pix;
        sum2 += s * s, ++blocks;
      }
    EXPECT_NEAR(sum2 / blocks, 4.0, 4.0 * 5 * std::sqrt(2.0 / blocks)) << pix; // 5 sigma of the estimate
  }
}

TEST(units, positive_defocus_means_the_in_focus_plane_lies_upstream) {
  // Exact Fresnel propagation of a weak phase object by d downstream (propagator exp(-i pi lambda d k^2))
  // gives the contrast 2 F^-1[CTF . F[phi]] of defocus -d: the image of a plane downstream of the object is
  // overfocused. So at underfocus (defocus > 0) the imaged plane lies upstream, towards the source, and
  // points farther downstream are more underfocused (core/conventions.hpp).
  ImagingParams p;
  p.cs_mm = 0;
  p.amplitude_contrast = 0;
  p.envelope_B_A2 = 0;
  const double pA = 2.0, d = 5000;
  const Ctf ctf = ctf_from(p, pA);
  const int n = 128;
  std::vector<double> phi(n);
  for (int x = 0; x < n; ++x) phi[x] = 0.005 * std::exp(-0.5 * std::pow((x - 64) / 3.0, 2));
  using C = std::complex<double>;
  auto dft = [&](const std::vector<C>& a, int sign) {
    std::vector<C> out(n);
    for (int k = 0; k < n; ++k)
      for (int x = 0; x < n; ++x) out[k] += a[x] * std::polar(1.0, sign * 2 * kPi * k * x / n);
    if (sign > 0)
      for (C& c : out) c /= n;
    return out;
  };
  std::vector<C> psi(n), ph(n);
  for (int x = 0; x < n; ++x) psi[x] = std::polar(1.0, phi[x]), ph[x] = phi[x];
  std::vector<C> wave = dft(psi, -1), spec = dft(ph, -1);
  for (int k = 0; k < n; ++k) {
    const double kA = fft_freq(k, n) / (n * pA);
    wave[k] *= std::polar(1.0, -kPi * ctf.wavelength_A * d * kA * kA);
    spec[k] *= k == 0 ? 0.0 : 2 * ctf.value(kA, 0, -d);
  }
  const std::vector<C> image = dft(wave, 1), contrast = dft(spec, 1);
  double err = 0, norm = 0;
  for (int x = 0; x < n; ++x) {
    err += std::pow(std::norm(image[x]) - 1 - contrast[x].real(), 2);
    norm += std::pow(contrast[x].real(), 2);
  }
  EXPECT_LT(std::sqrt(err / norm), 0.01);
  // And the opposite defocus does not match.
  spec = dft(ph, -1);
  for (int k = 0; k < n; ++k) spec[k] *= k == 0 ? 0.0 : 2 * ctf.value(fft_freq(k, n) / (n * pA), 0, d);
  const std::vector<C> wrong = dft(spec, 1);
  double diff = 0;
  for (int x = 0; x < n; ++x) diff += std::pow(std::norm(image[x]) - 1 - wrong[x].real(), 2);
  EXPECT_GT(std::sqrt(diff / norm), 1.5);
}

TEST(units, critical_exposure_scales_with_voltage) {
  // Grant & Grigorieff's N_e(k) at 300 kV, times 0.8 at 200 kV and below, linear in between.
  for (double k : {0.05, 0.25}) {
    const double ne300 = 0.245 * std::pow(k, -1.665) + 2.81;
    EXPECT_NEAR(critical_exposure_e_per_A2(k, 300), ne300, 1e-9 * ne300);
    EXPECT_NEAR(critical_exposure_e_per_A2(k, 200), 0.8 * ne300, 1e-9 * ne300);
    EXPECT_NEAR(critical_exposure_e_per_A2(k, 250), 0.9 * ne300, 1e-9 * ne300);
    EXPECT_NEAR(critical_exposure_e_per_A2(k, 100), 0.8 * ne300, 1e-9 * ne300);
  }
}

// ---- granular ice (model/ice.hpp) makes Thon rings ----

namespace {
// Pearson correlation, over one-pixel rings from the first CTF zero to 0.9 Nyquist, of the detrended log
// rotational average of image 0's power (minus a cubic fit in k) with CTF^2 (no envelope) at the ring.
double thon_correlation(const TiltSeries& s, const Ctf& ctf) {
  const Image img = stack_image(s.images, 0);
  const Spectrum2 f = fft_forward(img);
  const int n = img.nx;
  std::vector<double> sum(n / 2 + 1, 0.0), count(n / 2 + 1, 0.0);
  for (int ky = 0; ky < n; ++ky)
    for (int kx = 0; kx < n / 2 + 1; ++kx) {
      const int r = int(std::lround(std::hypot(kx, fft_freq(ky, n))));
      if (r <= n / 2) sum[r] += std::norm(f.data[std::size_t(ky) * (n / 2 + 1) + kx]), count[r] += 1;
    }
  const double dk = 1.0 / (n * img.pixel_A), first_zero = ctf.zeros_per_A(1e4 * s.tilts[0].defocus_um, 1)[0];
  std::vector<double> k, logp, ctf2;
  for (int r = 1; r <= n / 2; ++r)
    if (r * dk >= first_zero && r <= 0.9 * n / 2) {
      k.push_back(r * dk), logp.push_back(std::log(sum[r] / count[r]));
      ctf2.push_back(std::pow(ctf.value(r * dk, 0, 1e4 * s.tilts[0].defocus_um), 2));
    }
  // Least-squares cubic in k (normal equations, 4 x 4, Gaussian elimination) removes the slow trend.
  double a[4][5] = {};
  for (std::size_t i = 0; i < k.size(); ++i)
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 4; ++c) a[r][c] += std::pow(k[i], r + c);
      a[r][4] += std::pow(k[i], r) * logp[i];
    }
  for (int p = 0; p < 4; ++p)
    for (int r = 0; r < 4; ++r)
      if (r != p)
        for (int c = 4; c >= p; --c) a[r][c] -= a[r][p] / a[p][p] * a[p][c];
  std::vector<double> res(k.size());
  for (std::size_t i = 0; i < k.size(); ++i) {
    res[i] = logp[i];
    for (int c = 0; c < 4; ++c) res[i] -= a[c][4] / a[c][c] * std::pow(k[i], c);
  }
  const double mr = std::accumulate(res.begin(), res.end(), 0.0) / double(res.size());
  const double mc = std::accumulate(ctf2.begin(), ctf2.end(), 0.0) / double(ctf2.size());
  double rc = 0, rr = 0, cc = 0;
  for (std::size_t i = 0; i < res.size(); ++i)
    rc += (res[i] - mr) * (ctf2[i] - mc), rr += std::pow(res[i] - mr, 2), cc += std::pow(ctf2[i] - mc, 2);
  return rc / std::sqrt(rr * cc);
}
} // namespace

TEST(granular_ice, ice_alone_shows_thon_rings_where_the_ctf_puts_them) {
  // 128 x 128 x 20 voxels of ice at 3 A, 1 um defocus, no envelope, 1000 e/A^2 at 0 degrees.
  ImagingParams p = quiet_params();
  p.defocus_um = 1;
  p.envelope_B_A2 = 0;
  p.dose_e_per_A2 = 1000;
  Scene sc;
  sc.box_A = {384, 384, 60};
  sc.seed = 3;
  const double ice_V = ice_potential_V(PotentialMode::form_factor);
  const Ctf ctf = ctf_from(p, 3.0);
  sc.ice_texture = IceTexture::granular;
  const SpecimenVolumes granular = rasterize(sc, {}, 3.0, PotentialMode::form_factor);
  const double with = thon_correlation(simulate_series(granular.potential, p, 60, 1, 1, ice_V), ctf);
  sc.ice_texture = IceTexture::none;
  const SpecimenVolumes flat = rasterize(sc, {}, 3.0, PotentialMode::form_factor);
  // Shot noise alone correlates with CTF^2 by chance only (about +-0.2 for one image of this size): the mean over
  // 8 detector seeds (+-0.07).
  double without = 0;
  for (int seed = 1; seed <= 8; ++seed)
    without += thon_correlation(simulate_series(flat.potential, p, 60, seed, 1, ice_V), ctf) / 8;
  EXPECT_GT(with, 0.5);
  EXPECT_LT(std::abs(without), 0.3);
}

TEST(granular_ice, default_parameters_show_thon_rings_at_3_A) {
  // Issue 8: a 0-degree micrograph of ice alone at 3 A, imaged with the default [imaging] settings (5 um, 100
  // e/A^2 on the one image, damage, the default envelope), follows CTF^2 from the first zero to 0.9 Nyquist.
  // 256 x 256 x 100 voxels (300 A of ice), so that the rings near Nyquist at 5 um are resolved.
  ImagingParams p;
  p.tilt.angles_deg = {0};
  p.tilt.order = TiltOrder::list;
  Scene sc;
  sc.box_A = {768, 768, 300};
  sc.seed = 3;
  sc.ice_texture = IceTexture::granular;
  const SpecimenVolumes ice = rasterize(sc, {}, 3.0, PotentialMode::form_factor);
  const double ice_V = ice_potential_V(PotentialMode::form_factor);
  const double with_default = thon_correlation(simulate_series(ice.potential, p, 300, 1, 1, ice_V), ctf_from(p, 3.0));
  EXPECT_GT(with_default, 0.5);
  p.envelope_B_A2 = 2000; // CTS parity (its envelope at 10 A per pixel) fades the rings at 3 A
  const double with_cts = thon_correlation(simulate_series(ice.potential, p, 300, 1, 1, ice_V), ctf_from(p, 3.0));
  EXPECT_LT(with_cts, with_default - 0.2) << with_default;
}

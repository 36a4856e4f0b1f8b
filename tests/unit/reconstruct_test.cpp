// Reconstruction: radial weights, WBP scale, handedness, azimuth, ideal series, SIRT.
#include "core/conventions.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "reconstruct/sirt.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/pipeline.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace tomosweep;

namespace {

std::vector<TiltView> views_deg(double lo, double hi, double step, double azimuth_deg = 0) {
  std::vector<TiltView> v;
  for (double t = lo; t <= hi + 1e-9; t += step) v.push_back({t * kDegToRad, azimuth_deg * kDegToRad});
  return v;
}

// Mean of v over the central box of half sizes hx, hy, hz.
double central_mean(const Volume<float>& v, int hx, int hy, int hz) {
  double s = 0;
  int n = 0;
  for (int z = v.nz / 2 - hz; z < v.nz / 2 + hz; ++z)
    for (int y = v.ny / 2 - hy; y < v.ny / 2 + hy; ++y)
      for (int x = v.nx / 2 - hx; x < v.nx / 2 + hx; ++x) s += v(x, y, z), ++n;
  return s / n;
}

double correlation(const Volume<float>& a, const Volume<float>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a.data[i], mb += b.data[i];
  ma /= a.size(), mb /= b.size();
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a.data[i] - ma, y = b.data[i] - mb;
    ab += x * y, aa += x * x, bb += y * y;
  }
  return ab / std::sqrt(aa * bb);
}

// Smooth blobs (band limited) inside a sphere, values in volts.
Volume<float> blob_phantom(int n, int nz, double voxel_A) {
  Volume<float> v(n, n, nz, voxel_A);
  Rng rng(3, Purpose::test, 1);
  for (int b = 0; b < 12; ++b) {
    const double cx = rng.uniform(-0.25, 0.25) * n, cy = rng.uniform(-0.25, 0.25) * n,
                 cz = rng.uniform(-0.25, 0.25) * nz;
    const double amp = rng.uniform(0.5, 2.0), s = rng.uniform(1.5, 3.0);
    for (int z = 0; z < nz; ++z)
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
          const double dx = x - 0.5 * (n - 1) - cx, dy = y - 0.5 * (n - 1) - cy, dz = z - 0.5 * (nz - 1) - cz;
          v(x, y, z) += static_cast<float>(amp * std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * s * s)));
        }
  }
  return v;
}

} // namespace

TEST(wbp, radial_weights_ramp_cutoff_and_dc_term) {
  const int n = 256;
  const std::vector<float> w = radial_weights(n, ReconParams{});
  ASSERT_EQ(w.size(), 129u);
  EXPECT_GT(w[0], 0); // small DC term of the discrete ramp
  EXPECT_LT(w[0], 0.5 * w[1]);
  for (int k : {10, 40, 80}) EXPECT_NEAR(w[k], static_cast<double>(k) / n, 0.01 * k / n); // ramp
  const int kc = static_cast<int>(0.35 * n) + 4; // beyond the cutoff: IMOD's fall-off of sigma 0.035
  const double f = static_cast<double>(kc) / n;
  EXPECT_NEAR(w[kc], f * std::exp(-std::pow((f - 0.35) / 0.035, 2)), 0.02 * f);
  EXPECT_LT(w[128], 1e-3);
}

TEST(wbp, uniform_cube_reconstructs_to_one) {
  const int n = 48, nz = 32;
  Volume<float> v(n, n, nz, 5.0);
  for (int z = 8; z < 24; ++z)
    for (int y = 12; y < 36; ++y)
      for (int x = 12; x < 36; ++x) v(x, y, z) = 1;
  // Full angular range: the mean inside is 1. (A +-60 deg series loses the low frequencies of the missing
  // wedge, so a slab-like cube comes out lower, about 0.6 here, as in any WBP.)
  const auto views = views_deg(-89, 89, 1.0);
  const Volume<float> r = weighted_back_project(project(v, views, n, n), views, v.grid(), ReconParams{});
  EXPECT_NEAR(central_mean(r, 6, 6, 4), 1.0, 0.02);
  EXPECT_NEAR(r(3, 24, 16), 0.0, 0.05); // outside the cube
}

TEST(wbp, handedness_with_an_asymmetric_phantom) {
  // Blobs at (+8, -5, +6) (strong) and (-6, +4, -4) (weak) voxels; every azimuth reconstructs them in place.
  const int n = 40, nz = 24;
  Volume<float> v(n, n, nz, 4.0);
  auto put = [&](int x, int y, int z, float a) { v(n / 2 + x, n / 2 + y, nz / 2 + z) = a; };
  put(8, -5, 6, 2), put(-6, 4, -4, 1);
  for (double az : {0.0, 30.0, 90.0}) {
    const auto views = views_deg(-60, 60, 3, az);
    const Volume<float> r = weighted_back_project(project(v, views, n, n), views, v.grid(), ReconParams{});
    std::size_t best = 0;
    for (std::size_t i = 1; i < r.size(); ++i)
      if (r.data[i] > r.data[best]) best = i;
    EXPECT_EQ(best, v.index(n / 2 + 8, n / 2 - 5, nz / 2 + 6)) << az;
    EXPECT_GT(r(n / 2 - 6, n / 2 + 4, nz / 2 - 4), 0.3 * r.data[best]) << az;
  }
}

TEST(wbp, ideal_full_range_series_recovers_a_band_limited_phantom) {
  const int n = 40, nz = 24;
  const Volume<float> v = blob_phantom(n, nz, 6.0);
  const TiltSeries s =
      simulate_ideal_series(v, ImagingParams{}, TiltParams{.min_deg = -89, .max_deg = 89, .step_deg = 1});
  const Volume<float> r = reconstruct_tomogram(s, v.grid(), ReconParams{});
  Volume<float> neg = v;
  for (float& x : neg.data) x = -x; // protein dark
  EXPECT_GT(correlation(r, neg), 0.95);
  // Scale: the prior is -(V - mean) in volts; compare the contrast of the phantom's strongest voxel.
  std::size_t peak = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v.data[i] > v.data[peak]) peak = i;
  EXPECT_NEAR(r.data[peak] - r(1, 1, 1), -(v.data[peak] - v(1, 1, 1)), 0.2 * v.data[peak]);
}

TEST(wbp, noisy_and_ideal_series_reconstruct_on_comparable_scales) {
  const int n = 40, nz = 16;
  const Volume<float> v = blob_phantom(n, nz, 8.0);
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 3};
  p.dose_e_per_A2 = 1e5; // nearly noise free
  p.damage = false;
  p.defocus_um = 3;
  const Volume<float> noisy = reconstruct_tomogram(simulate_series(v, p, 200, 1, 1), v.grid(), ReconParams{});
  const Volume<float> ideal = reconstruct_tomogram(simulate_ideal_series(v, p, p.tilt), v.grid(), ReconParams{});
  double sn = 0, si = 0;
  for (std::size_t i = 0; i < noisy.size(); ++i)
    sn += noisy.data[i] * noisy.data[i], si += ideal.data[i] * ideal.data[i];
  const double ratio = std::sqrt(sn / si);
  EXPECT_GT(ratio, 0.2);
  EXPECT_LT(ratio, 2.0);
  EXPECT_GT(correlation(noisy, ideal), 0.3);
}

TEST(wbp, prime_size_reconstructs) {
  const int n = 401, nz = 4;
  Volume<float> v(n, n, nz, 10.0);
  for (int y = 150; y < 250; ++y)
    for (int x = 150; x < 250; ++x) v(x, y, 1) = 1;
  ImagingParams p;
  p.tilt = TiltParams{.angles_deg = {-45, 0, 45}, .order = TiltOrder::list};
  const TiltSeries s = simulate_series(v, p, 200, 1, 1);
  const Volume<float> r = reconstruct_tomogram(s, v.grid(), ReconParams{});
  ASSERT_EQ(r.nx, 401);
  for (float x : r.data) ASSERT_TRUE(std::isfinite(x));
}

TEST(sirt, converges_towards_the_phantom) {
  const int n = 24, nz = 12;
  const Volume<float> v = blob_phantom(n, nz, 5.0);
  const auto views = views_deg(-60, 60, 4);
  const Volume<float> b = project(v, views, n, n);
  ReconParams p;
  p.sirt_iterations = 2;
  const double c2 = correlation(sirt(b, views, v.grid(), p), v);
  p.sirt_iterations = 30;
  const double c30 = correlation(sirt(b, views, v.grid(), p), v);
  EXPECT_GT(c30, c2);
  EXPECT_GT(c30, 0.9);
}

TEST(wbp, odd_even_half_tomograms_average_to_the_full_tomogram) {
  const int n = 32, nz = 12;
  const Volume<float> v = blob_phantom(n, nz, 8.0);
  ImagingParams p;
  p.half_series = true;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 10};
  const TiltSeries s = simulate_series(v, p, 200, 1, 1);
  const Volume<float> full = reconstruct_tomogram(s, v.grid(), ReconParams{});
  const Volume<float> odd = reconstruct_tomogram(half_series(s, 0), v.grid(), ReconParams{});
  const Volume<float> even = reconstruct_tomogram(half_series(s, 1), v.grid(), ReconParams{});
  double err = 0, norm = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    err += std::pow(full.data[i] - 0.5 * (odd.data[i] + even.data[i]), 2);
    norm += std::pow(full.data[i], 2);
  }
  EXPECT_LT(std::sqrt(err / norm), 1e-4);
  EXPECT_GT(correlation(odd, even), 0.0); // same specimen, independent noise
}

// ---- Physical units (issue 8, calibration): the radial roll-off is IMOD's. ----

TEST(units, wbp_roll_off_is_imod_radial) {
  // Above the cutoff c the ramp is multiplied by exp(-((f - c) / sigma)^2), f in cycles/pixel (IMOD tilt's
  // RADIAL c sigma); at and below c it is the ramp alone.
  const int n = 200;
  ReconParams plain;
  plain.cutoff = 0.5; // no roll-off inside Nyquist
  const std::vector<float> ramp = radial_weights(n, plain), w = radial_weights(n, ReconParams{}); // 0.35, 0.035
  for (int k : {20, 60, 70}) EXPECT_FLOAT_EQ(w[k], ramp[k]) << k;                                 // f <= 0.35
  const std::pair<int, double> pinned[] = {
      {77, std::exp(-1.0)}, {84, std::exp(-4.0)}, {74, std::exp(-(0.02 / 0.035) * (0.02 / 0.035))}};
  for (auto [k, want] : pinned) EXPECT_NEAR(w[k] / ramp[k], want, 1e-6) << k; // f = 0.385, 0.42, 0.37
  ReconParams sharp;
  sharp.falloff = 0; // a hard cutoff
  EXPECT_EQ(radial_weights(n, sharp)[71], 0.0f);
  EXPECT_FLOAT_EQ(radial_weights(n, sharp)[70], ramp[70]);
}

// Reconstruction: radial weights, WBP scale, handedness, azimuth, ideal series, SIRT.
#include "core/conventions.hpp"
#include "core/exposure.hpp"
#include "core/fft.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "reconstruct/ctf_correction.hpp"
#include "reconstruct/exposure_filter.hpp"
#include "reconstruct/sirt.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/ctf.hpp"
#include "simulate/pipeline.hpp"

#include "image_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>

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

using test_util::edge_centre_ratio;

double max_abs(const Volume<float>& v) {
  double m = 0;
  for (float x : v.data) m = std::max(m, std::abs(double(x)));
  return m;
}

constexpr double kIceV = 4.5;

// An ice slab (kIceV everywhere) of 64 x 64 x 16 voxels at 20 A, plus white texture of +-amp volts.
Volume<float> ice_slab(double amp) {
  Volume<float> v(64, 64, 16, 20.0, static_cast<float>(kIceV));
  Rng rng(5, Purpose::test, 2);
  if (amp > 0)
    for (float& x : v.data) x += static_cast<float>(rng.uniform(-amp, amp));
  return v;
}

TiltParams ideal_tilts() { return TiltParams{.min_deg = -89, .max_deg = 89, .step_deg = 1}; }

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
  // Scale: the prior is -V in volts (no ice level given); compare the contrast of the phantom's strongest voxel.
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

// Issue 8: the box sits in a laterally infinite ice slab, so no image sees vacuum beside it.
TEST(laterally_infinite, an_ice_only_slab_reconstructs_flat) {
  const Volume<float> v = ice_slab(0);
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 4};
  p.dose_e_per_A2 = 60;
  const Volume<float> tomo = reconstruct_tomogram(simulate_series(v, p, 320, 1, 1, kIceV), v.grid(), ReconParams{});
  EXPECT_LE(edge_centre_ratio(tomo), 1.5);
  EXPECT_GE(edge_centre_ratio(tomo), 1 / 1.5);
  // Both priors of ice alone are 0: a uniform slab is a constant phase.
  const Volume<float> wbp =
      reconstruct_tomogram(simulate_ideal_series(v, p, ideal_tilts(), kIceV), v.grid(), ReconParams{});
  EXPECT_LT(max_abs(wbp), 1e-5);
  EXPECT_LT(max_abs(bandlimited_prior(v, kIceV, ReconParams{})), 1e-5);
}

TEST(laterally_infinite, a_textured_slab_has_the_same_texture_at_its_faces) {
  // White texture on the ice: edge and centre of both priors have the same std (the old box in vacuum
  // gave walls: ratio 26 for the prior).
  const Volume<float> v = ice_slab(0.5);
  const Volume<float> wbp =
      reconstruct_tomogram(simulate_ideal_series(v, ImagingParams{}, ideal_tilts(), kIceV), v.grid(), ReconParams{});
  EXPECT_LE(edge_centre_ratio(wbp), 1.5);
  EXPECT_GE(edge_centre_ratio(wbp), 1 / 1.5);
  const Volume<float> band = bandlimited_prior(v, kIceV, ReconParams{});
  EXPECT_LE(edge_centre_ratio(band), 1.5);
  EXPECT_GE(edge_centre_ratio(band), 1 / 1.5);
}

TEST(laterally_infinite, the_detector_holds_the_tilted_box) {
  const Grid g{64, 64, 16, 20.0};
  ImagingParams p;
  const TiltSeries s = simulate_series(ice_slab(0), p, 320, 1, 1, kIceV);
  EXPECT_EQ(s.images.nx, detector_shape(g, s.views)[0]);
  EXPECT_EQ(s.images.nx, 70); // sqrt(63^2 + 15^2) + 1 = 65.8: the next even 2^a 3^b 5^c 7^d is 70
  EXPECT_EQ(s.images.ny, 64);
}

TEST(prior, bandlimit_returns_a_band_limited_potential) {
  // Plane waves on the grid at |k| = 0.1 and 0.25 cycles/voxel (inside the 0.35 cutoff) pass unchanged,
  // minus the ice level and with protein dark.
  Volume<float> v(32, 24, 16, 5.0);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x)
        v(x, y, z) = static_cast<float>(kIceV + 0.7 * std::cos(2 * kPi * (x * 0.0625 + z * 0.0625)) +
                                        0.4 * std::sin(2 * kPi * (y * 0.25)));
  const Volume<float> b = bandlimited_prior(v, kIceV, ReconParams{});
  double err = 0;
  for (std::size_t i = 0; i < v.size(); ++i) err = std::max(err, std::abs(b.data[i] + (v.data[i] - kIceV)));
  EXPECT_LT(err, 1e-5);
}

TEST(prior, bandlimit_spectrum_beyond_the_cutoff_is_the_falloff) {
  // One plane wave per |k|: it comes back times radial_rolloff(|k|): exp(-((k - c) / s)^2) beyond c (IMOD).
  const ReconParams p{.cutoff = 0.3, .falloff = 0.05};
  for (auto [kx, kz] : {std::pair{8, 0}, std::pair{11, 0}, std::pair{8, 8}, std::pair{14, 8}}) {
    Volume<float> v(32, 8, 16, 4.0);
    const double fx = kx / 32.0, fz = kz / 16.0, k = std::hypot(fx, fz);
    for (int z = 0; z < v.nz; ++z)
      for (int y = 0; y < v.ny; ++y)
        for (int x = 0; x < v.nx; ++x) v(x, y, z) = static_cast<float>(std::cos(2 * kPi * (x * fx + z * fz)));
    const Volume<float> b = bandlimited_prior(v, 0, p);
    const double want = k <= 0.3 ? 1 : std::exp(-((k - 0.3) / 0.05) * ((k - 0.3) / 0.05));
    EXPECT_NEAR(radial_rolloff(k, p), want, 1e-12) << k;
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_NEAR(b.data[i], -want * v.data[i], 1e-5) << k;
  }
}

TEST(prior, bandlimit_and_wbp_share_the_rolloff) {
  // radial_weights = ramp x radial_rolloff: the bandlimit prior has the WBP's resolution.
  const ReconParams p{.cutoff = 0.2, .falloff = 0.04}, none{.cutoff = 0.5, .falloff = 0};
  const int n = 128;
  const std::vector<float> w = radial_weights(n, p), ramp = radial_weights(n, none);
  for (int k = 1; k < n / 2; ++k) EXPECT_NEAR(w[k] / ramp[k], radial_rolloff(double(k) / n, p), 1e-5) << k;
}

TEST(prior, bandlimit_and_wbp_agree_on_a_small_specimen) {
  Volume<float> v = blob_phantom(40, 16, 8.0);
  for (float& x : v.data) x += static_cast<float>(kIceV);
  const Volume<float> wbp =
      reconstruct_tomogram(simulate_ideal_series(v, ImagingParams{}, ideal_tilts(), kIceV), v.grid(), ReconParams{});
  const Volume<float> band = bandlimited_prior(v, kIceV, ReconParams{});
  EXPECT_GT(correlation(wbp, band), 0.9);
  // Same scale: the strongest blob's contrast within 20%.
  std::size_t peak = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v.data[i] > v.data[peak]) peak = i;
  EXPECT_NEAR(wbp.data[peak], band.data[peak], 0.2 * std::abs(band.data[peak]));
}

TEST(fft, filter_volume_keeps_what_the_filter_passes) {
  Volume<float> v(9, 6, 5, 1.0);
  Rng rng(2, Purpose::test, 7);
  for (float& x : v.data) x = static_cast<float>(rng.uniform(-1, 1));
  Volume<float> a = v;
  filter_volume(a, [](double) { return 1.0; });
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(a.data[i], v.data[i], 1e-5);
  filter_volume(a, [](double k) { return k == 0 ? 1.0 : 0.0; }); // the mean alone
  double mean = 0;
  for (float x : v.data) mean += x;
  mean /= double(v.size());
  for (float x : a.data) EXPECT_NEAR(x, mean, 1e-5);
}

TEST(laterally_infinite, corners_of_an_oblique_tomogram_have_the_texture_of_its_centre) {
  // Azimuth 45 (and 30): the corner triangles an nx x ny detector never saw (|v| > ny / 2 in the rotated frame)
  // get the same noise texture as the centre.
  for (double az : {45.0, 30.0}) {
    const Volume<float> v(48, 48, 8, 20.0, static_cast<float>(kIceV));
    ImagingParams p;
    p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 6, .axis_azimuth_deg = az};
    p.dose_e_per_A2 = 60;
    const Volume<float> t = reconstruct_tomogram(simulate_series(v, p, 160, 1, 1, kIceV), v.grid(), ReconParams{});
    const double ca = std::cos(az * kDegToRad), sa = std::sin(az * kDegToRad);
    double s[2][3] = {};
    for (int z = 2; z < 6; ++z)
      for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 48; ++x) {
          const double xx = x - 23.5, yy = y - 23.5;
          const int k = std::abs(-xx * sa + yy * ca) > 24 ? 0 : (std::abs(xx) < 10 && std::abs(yy) < 10 ? 1 : -1);
          if (k < 0) continue;
          s[k][0] += 1, s[k][1] += t(x, y, z), s[k][2] += double(t(x, y, z)) * t(x, y, z);
        }
    ASSERT_GT(s[0][0], 50) << az; // the corners hold voxels
    auto sd = [](const double* m) { return std::sqrt(m[2] / m[0] - (m[1] / m[0]) * (m[1] / m[0])); };
    EXPECT_NEAR(sd(s[0]) / sd(s[1]), 1.0, 0.2) << az;
  }
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

namespace {

// White-noise phase image (rad) of nx x ny at pixel_A, as a one-image stack.
Volume<float> noise_phase(int nx, int ny, double pixel_A) {
  Volume<float> v(nx, ny, 1, pixel_A);
  Rng rng(11, Purpose::test, 3);
  for (float& x : v.data) x = static_cast<float>(rng.uniform(-0.1, 0.1));
  return v;
}

// Correlation of the spectra of a and b (one-image stacks) over frequencies k (1/A) in [k0, k1).
double band_correlation(const Volume<float>& a, const Volume<float>& b, double k0, double k1) {
  const Spectrum2 sa = fft_forward(stack_image(a, 0)), sb = fft_forward(stack_image(b, 0));
  const int nkx = a.nx / 2 + 1;
  double ab = 0, aa = 0, bb = 0;
  for (int ky = 0; ky < a.ny; ++ky)
    for (int kx = 0; kx < nkx; ++kx) {
      const double fx = kx / (a.nx * a.voxel_A), fy = fft_freq(ky, a.ny) / (a.ny * a.voxel_A);
      const double k = std::hypot(fx, fy);
      if (k < k0 || k >= k1) continue;
      const std::size_t i = static_cast<std::size_t>(ky) * nkx + kx;
      ab += std::real(sa.data[i] * std::conj(sb.data[i])), aa += std::norm(sa.data[i]), bb += std::norm(sb.data[i]);
    }
  return ab / std::sqrt(aa * bb);
}

// Contrast 2 CTF phi of a one-image phase stack at view v, and the ideal contrast -2 phi.
Volume<float> ctf_image(const Volume<float>& phase, const Ctf& ctf, const TiltView& v) {
  Volume<float> out = phase;
  set_stack_image(out, 0, ctf_contrast(fft_forward(stack_image(phase, 0)), ctf, v.defocus_A, v.tilt_rad, {}));
  return out;
}

Ctf test_ctf(double pixel_A) {
  ImagingParams p;
  return ctf_from(p, pixel_A);
}

} // namespace

TEST(ctf_correction, phaseflip_restores_the_ideal_sign_beyond_the_first_zero) {
  const double pA = 5;
  const Ctf ctf = test_ctf(pA);
  const TiltView view{0, 0, 1.5e4};
  const std::vector<double> z = ctf.zeros_per_A(view.defocus_A, 2);
  ASSERT_LT(z[1], 0.5 / pA);
  const Volume<float> phase = noise_phase(64, 64, pA);
  Volume<float> ideal = phase;
  for (float& x : ideal.data) x *= -2; // the contrast of an ideal series
  Volume<float> img = ctf_image(phase, ctf, view);
  const double lo = z[0] * 1.05, hi = z[1] * 0.95;
  EXPECT_LT(band_correlation(img, ideal, lo, hi), -0.9);                // uncorrected: reversed contrast
  EXPECT_GT(band_correlation(img, ideal, 0.2 * z[0], 0.8 * z[0]), 0.9); // first lobe: already right
  ReconParams p;
  p.ctf_correction = CtfCorrection::phaseflip;
  correct_ctf(img, {view}, ctf, p);
  EXPECT_GT(band_correlation(img, ideal, lo, hi), 0.9);
  EXPECT_GT(band_correlation(img, ideal, 0.2 * z[0], 0.8 * z[0]), 0.9);
}

TEST(ctf_correction, phaseflip_follows_the_defocus_gradient_of_a_tilted_image) {
  // 256 columns at 5 A and 60 deg: the defocus spans 1.5 um +- 0.11 um, so the first zero moves across the image.
  const double pA = 5, d = 1.5e4;
  const Ctf ctf = test_ctf(pA);
  const Volume<float> phase = noise_phase(256, 16, pA);
  Volume<float> ideal = phase;
  for (float& x : ideal.data) x *= -2;
  const Volume<float> img = ctf_image(phase, ctf, TiltView{60 * kDegToRad, 0, d});
  ReconParams p;
  p.ctf_correction = CtfCorrection::phaseflip;
  const double z1 = ctf.zeros_per_A(d, 1)[0];
  // Band correlation with the ideal contrast after correcting as if the image were tilted by tilt_deg.
  auto corrected = [&](double tilt_deg, double k0, double k1) {
    Volume<float> q = img;
    correct_ctf(q, {TiltView{tilt_deg * kDegToRad, 0, d}}, ctf, p);
    return band_correlation(q, ideal, k0, k1);
  };
  const double right = corrected(60, z1, 1.05 * z1), flat = corrected(0, z1, 1.05 * z1);
  const double reversed = corrected(-60, z1, 1.05 * z1);
  EXPECT_GT(right, flat + 0.05);
  EXPECT_GT(right, reversed + 0.3);
  EXPECT_GT(corrected(60, z1, 0.45 / pA), 0.75); // beyond the first zero up to 0.9 Nyquist
}

TEST(ctf_correction, weights_of_phaseflip_and_wiener) {
  ReconParams p;
  EXPECT_EQ(ctf_correction_weight(0.3, p), 1.0); // none
  p.ctf_correction = CtfCorrection::phaseflip;
  EXPECT_EQ(ctf_correction_weight(0.3, p), -1.0);
  EXPECT_EQ(ctf_correction_weight(-0.07, p), 1.0);
  p.ctf_correction = CtfCorrection::wiener;
  p.wiener_snr = 4;
  EXPECT_NEAR(ctf_correction_weight(0.5, p), -0.5 / (0.25 + 0.25), 1e-15);
  p.wiener_snr = 1e12; // away from zeros the filter becomes -1 / CTF: the ideal transfer -1
  for (double c : {-1.0, -0.3, -0.02, 0.02, 0.3, 1.0}) EXPECT_NEAR(ctf_correction_weight(c, p) * c, -1.0, 1e-7) << c;
}

TEST(ctf_correction, wiener_with_a_huge_snr_recovers_the_ideal_contrast_away_from_zeros) {
  const double pA = 5;
  Ctf ctf = test_ctf(pA);
  ctf.envelope_B_A2 = 0;
  const TiltView view{0, 0, 1.5e4};
  const Volume<float> phase = noise_phase(64, 64, pA);
  Volume<float> img = ctf_image(phase, ctf, view);
  ReconParams p;
  p.ctf_correction = CtfCorrection::wiener;
  p.wiener_snr = 1e12;
  correct_ctf(img, {view}, ctf, p);
  // Spectrum ratio corrected / phi is -2 wherever |CTF| > 0.3.
  const Spectrum2 sc = fft_forward(stack_image(img, 0)), sp = fft_forward(stack_image(phase, 0));
  const CtfGrid grid = ctf_grid(ctf, 64, 64);
  const CtfAt at{ctf, grid};
  int checked = 0;
  for (std::size_t i = 1; i < sc.data.size(); ++i)
    if (std::abs(at(i, view.defocus_A)) > 0.3 && std::abs(sp.data[i]) > 1e-3) {
      EXPECT_NEAR(std::abs(sc.data[i] / sp.data[i] + 2.0f), 0.0, 1e-3) << i;
      ++checked;
    }
  EXPECT_GT(checked, 1000);
}

TEST(ctf_correction, none_is_the_plain_reconstruction) {
  const Volume<float> v = blob_phantom(32, 12, 5.0);
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 6};
  const TiltSeries s = simulate_series(v, p, 200, 1, 1);
  ASSERT_TRUE(s.ctf.has_value());
  const ReconParams r;
  const Volume<float> a = reconstruct_tomogram(s, v.grid(), r);
  const Volume<float> b = weighted_back_project(contrast_line_integrals(s), s.nominal_views, v.grid(), r);
  EXPECT_EQ(a.data, b.data);
}

TEST(ctf_correction, corrected_tomograms_correlate_better_with_the_prior) {
  const Volume<float> v = blob_phantom(40, 16, 5.0);
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 3};
  p.dose_e_per_A2 = 1e9; // nearly noise free beyond the first zero too
  p.damage = false;
  p.defocus_um = 4; // first zero at 1/28 A: the blobs (7.5 to 15 A) have power beyond it
  p.envelope_B_A2 = 200;
  const TiltSeries s = simulate_series(v, p, 200, 1, 1);
  const double z1 = s.ctf->zeros_per_A(4e4, 1)[0] * v.voxel_A; // cycles/voxel
  // Correlation with the prior (WBP of the ideal series) beyond the first zero.
  auto high = [z1](Volume<float> t) {
    filter_volume(t, [z1](double k) { return k > z1 ? 1.0 : 0.0; });
    return t;
  };
  const Volume<float> prior = high(reconstruct_tomogram(simulate_ideal_series(v, p, p.tilt), v.grid(), ReconParams{}));
  ReconParams r;
  const double none = correlation(high(reconstruct_tomogram(s, v.grid(), r)), prior);
  r.ctf_correction = CtfCorrection::phaseflip;
  const double flip = correlation(high(reconstruct_tomogram(s, v.grid(), r)), prior);
  r.ctf_correction = CtfCorrection::wiener;
  r.wiener_snr = 10;
  const double wiener = correlation(high(reconstruct_tomogram(s, v.grid(), r)), prior);
  std::printf("correlation with the prior beyond the first zero: none %.3f phaseflip %.3f wiener %.3f\n", none, flip,
              wiener);
  EXPECT_LT(none, 0.5);
  EXPECT_GT(flip, none + 0.3);
  EXPECT_GT(wiener, none + 0.3);
}

// ---- Exposure filtering (reconstruct/exposure_filter.hpp) ----

TEST(exposure_filter, weights_favour_early_tilts_at_high_k_and_average_to_one) {
  // Exposures of the first, a middle and the last tilt acquired (e/A^2).
  const std::vector<double> n{1, 50, 99};
  for (double k : {0.0, 0.02, 0.1, 0.25}) {
    const std::vector<double> w = exposure_weights(n, k, 300);
    EXPECT_NEAR((w[0] + w[1] + w[2]) / 3, 1, 1e-12) << k; // normalised over the series
    if (k == 0)
      EXPECT_EQ(w, (std::vector<double>{1, 1, 1}));
    else
      EXPECT_TRUE(w[0] > w[1] && w[1] > w[2]) << k; // less damage, more weight
    // Each weight is the tilt's damage attenuation relative to the series' mean attenuation.
    const double mean =
        (damage_attenuation(k, 1, 300) + damage_attenuation(k, 50, 300) + damage_attenuation(k, 99, 300)) / 3;
    EXPECT_NEAR(w[2], damage_attenuation(k, 99, 300) / mean, 1e-12) << k;
  }
  EXPECT_GT(exposure_weights(n, 0.25, 300)[0], exposure_weights(n, 0.1, 300)[0]); // more so at higher k
  EXPECT_EQ(exposure_weights({0, 0}, 0.2, 300), (std::vector<double>{1, 1}));     // no dose, no weighting
  const TiltSeries s = plan_series(TiltParams{.min_deg = -6, .max_deg = 6, .step_deg = 3}, 50, 2, 1, 1);
  const std::vector<double> e = tilt_exposures(s.tilts);
  EXPECT_EQ(e[2], 5);  // 0 degrees, acquired first: half its own 10 e/A^2
  EXPECT_EQ(e[0], 45); // -6 degrees, acquired last
}

TEST(exposure_filter, half_series_see_the_damage_of_the_whole_series) {
  // A half series counts half the electrons of each tilt, but its specimen received every electron: the exposure
  // the filter weights each half's tilt by is the whole series' (cumulative + half the tilt's whole dose).
  ImagingParams p;
  p.half_series = true;
  p.tilt = TiltParams{.min_deg = -6, .max_deg = 6, .step_deg = 3};
  const TiltSeries s = simulate_series(blob_phantom(8, 4, 3.0), p, 50, 1, 1);
  const std::vector<double> whole = tilt_exposures(s.tilts);
  EXPECT_EQ(tilt_exposures(half_series(s, 0).tilts), whole);
  EXPECT_EQ(tilt_exposures(half_series(s, 1).tilts), whole);
  EXPECT_EQ(whole[2], 10); // 0 degrees, first: half of its 20 e/A^2 (100 e/A^2 over 5 tilts)
  EXPECT_EQ(half_series(s, 0).tilts[2].dose_e_per_A2, 10); // the half's counts: half the tilt's dose
}

TEST(exposure_filter, a_damaged_series_reconstructs_closer_to_the_truth) {
  // A white specimen (all frequencies), dose-symmetric -60..60 by 3 at the default 100 e/A^2 with damage (blur; no
  // damage noise): beyond 0.2 cycles/voxel the late tilts carry little signal and their shot noise; weighting
  // them down brings the phase-flipped tomogram closer to the prior (the WBP of the ideal series).
  Volume<float> v(48, 48, 16, 4.0);
  Rng rng(7, Purpose::test, 3);
  for (float& x : v.data) x = static_cast<float>(rng.uniform(-20, 20));
  ImagingParams p;
  p.tilt = TiltParams{.min_deg = -60, .max_deg = 60, .step_deg = 3};
  p.defocus_um = 2;
  p.damage_noise_rad_A_per_e_A2 = 0;
  auto high = [](Volume<float> t) {
    filter_volume(t, [](double k) { return k > 0.2 ? 1.0 : 0.0; });
    return t;
  };
  const TiltSeries s = simulate_series(v, p, 200, 1, 1);
  const Volume<float> prior = high(reconstruct_tomogram(simulate_ideal_series(v, p, p.tilt), v.grid(), ReconParams{}));
  ReconParams r;
  r.ctf_correction = CtfCorrection::phaseflip;
  const double plain = correlation(high(reconstruct_tomogram(s, v.grid(), r)), prior);
  r.exposure_filter = true;
  const double filtered = correlation(high(reconstruct_tomogram(s, v.grid(), r)), prior);
  EXPECT_GT(filtered, plain + 0.015) << plain; // measured 0.346 -> 0.374
  // An ideal series has no dose: the filter changes nothing.
  const TiltSeries ideal = simulate_ideal_series(v, p, p.tilt);
  EXPECT_EQ(reconstruct_tomogram(ideal, v.grid(), r).data, reconstruct_tomogram(ideal, v.grid(), ReconParams{}).data);
}

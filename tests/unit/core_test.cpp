#include "core/conventions.hpp"
#include "core/ctf.hpp"
#include "core/errors.hpp"
#include "core/exposure.hpp"
#include "core/fft.hpp"
#include "core/geometry.hpp"
#include "core/rng.hpp"
#include "core/system.hpp"
#include "core/tilt.hpp"
#include "core/volume.hpp"
#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <numeric>
#include <vector>
#include <string>

using namespace tomosweep;
using test_util::error_of;

TEST(system, prefault_keeps_what_memory_holds_and_volumes_start_filled) {
  // Written memory, mapped-in memory never written, odd offsets and lengths, and blocks below the 1 MiB floor.
  std::vector<std::uint32_t> a(3u << 20);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint32_t>(i * 2654435761u);
  prefault_for_write(reinterpret_cast<char*>(a.data()) + 3, a.size() * 4 - 5);
  prefault_for_write(a.data(), 100);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], static_cast<std::uint32_t>(i * 2654435761u)) << i;
  std::vector<float> b;
  b.reserve(5u << 20);
  prefault_for_write(b.data(), b.capacity() * sizeof(float));
  b.assign(b.capacity(), 0.5f);
  EXPECT_EQ(std::count(b.begin(), b.end(), 0.5f), static_cast<long>(b.size()));
  const Volume<float> v(301, 203, 19, 2.0, -1.25f);
  EXPECT_EQ(std::count(v.data.begin(), v.data.end(), -1.25f), 301L * 203 * 19);
  const Volume<std::uint8_t> z(1031, 1027, 3, 1.0);
  EXPECT_EQ(std::count(z.data.begin(), z.data.end(), std::uint8_t{0}), 1031L * 1027 * 3);
}

TEST(rng, philox_known_answer) {
  // Known-answer vectors of Philox4x32-10 from Random123's kat_vectors.
  auto r = philox4x32({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(r[0], 0x6627e8d5u);
  EXPECT_EQ(r[1], 0xe169c58du);
  EXPECT_EQ(r[2], 0xbc57ac4cu);
  EXPECT_EQ(r[3], 0x9b00dbd8u);
  auto p = philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0});
  EXPECT_EQ(p[0], 0xd16cfe09u);
  EXPECT_EQ(p[1], 0x94fdccebu);
  EXPECT_EQ(p[2], 0x5001e420u);
  EXPECT_EQ(p[3], 0x24126ea1u);
}

TEST(rng, vector_blocks_are_the_scalar_blocks) {
  // 16 blocks at a time equal philox4x32 of each counter, also with the block index up to 2^32 - 1.
  // Every implementation this CPU runs (AVX-512, AVX2, scalar), and the one in use.
  auto kernels = philox16_kernels();
  ASSERT_EQ(std::string(kernels.back().first), "scalar");
  kernels.emplace_back("in use", philox4x32_16);
  for (const auto& [name, kernel] : kernels)
    for (std::uint32_t c0 : {0u, 12345u, 0xFFFFFFF0u}) {
      std::uint32_t out[64];
      kernel(c0, 7, 0x89abcdef, 3, {0xa4093822, 0x299f31d0}, out);
      for (std::uint32_t i = 0; i < 16; ++i) {
        const auto w = philox4x32({c0 + i, 7, 0x89abcdef, 3}, {0xa4093822, 0x299f31d0});
        for (int j = 0; j < 4; ++j) ASSERT_EQ(out[4 * i + j], w[j]) << name << " block " << i << " word " << j;
      }
    }
}

TEST(rng, stream_is_philox_of_consecutive_counters) {
  // Rng(seed, purpose, id) draws the words of blocks (b, purpose, id low, id high), b = 0, 1, ..., keyed by
  // the seed's halves, through however many buffer refills; uniform() takes two words, as two next_u32 calls.
  const std::uint64_t seed = 0x0123456789abcdefULL, id = 0xfedcba9876543210ULL;
  Rng r(seed, Purpose::detector, id), u(seed, Purpose::detector, id);
  for (std::uint32_t b = 0; b < 100; ++b) {
    const auto w = philox4x32({b, std::uint32_t(Purpose::detector), std::uint32_t(id), std::uint32_t(id >> 32)},
                              {std::uint32_t(seed), std::uint32_t(seed >> 32)});
    for (int j = 0; j < 4; ++j) ASSERT_EQ(r.next_u32(), w[j]) << "block " << b << " word " << j;
    for (int j = 0; j < 4; j += 2)
      ASSERT_EQ(u.uniform(), (double(w[j] >> 5) * 67108864.0 + double(w[j + 1] >> 6)) / 9007199254740992.0);
  }
  // An odd start: uniform() straddling a refill takes the last word of one buffer and the first of the next.
  Rng odd(seed, Purpose::detector, id), ref(seed, Purpose::detector, id);
  (void)odd.next_u32(), (void)ref.next_u32();
  for (int i = 0; i < 200; ++i) {
    const std::uint32_t a = ref.next_u32(), b = ref.next_u32();
    ASSERT_EQ(odd.uniform(), (double(a >> 5) * 67108864.0 + double(b >> 6)) / 9007199254740992.0) << i;
  }
}

TEST(rng, same_key_same_stream_other_key_other_stream) {
  Rng a(7, Purpose::scene, 3), b(7, Purpose::scene, 3), c(7, Purpose::scene, 4), d(7, Purpose::detector, 3);
  for (int i = 0; i < 100; ++i) {
    const std::uint32_t va = a.next_u32();
    EXPECT_EQ(va, b.next_u32());
    EXPECT_NE(va == c.next_u32() && va == d.next_u32(), true);
  }
}

TEST(rng, uniform_moments) {
  Rng r(1, Purpose::test, 0);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
  }
  EXPECT_NEAR(s / n, 0.5, 0.003);
  EXPECT_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.001);
}

TEST(rng, normal_mean_and_variance) {
  Rng r(2, Purpose::test, 0);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal();
    s += v;
    s2 += v * v;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.01);
}

TEST(rng, ziggurat_normal_follows_the_normal_distribution) {
  // Kolmogorov-Smirnov distance of 10^6 draws to the normal CDF, the moments, and the tails beyond the
  // ziggurat's base layer (r = 3.654: drawn by the tail algorithm) on both sides.
  Rng r(21, Purpose::test, 0);
  const int n = 1000000;
  std::vector<double> x(n);
  double s = 0, s2 = 0, s4 = 0;
  int above = 0, below = 0;
  for (double& v : x) {
    v = r.normal_ziggurat();
    s += v, s2 += v * v, s4 += v * v * v * v;
    above += v > 3.6541528853610088, below += v < -3.6541528853610088;
  }
  EXPECT_NEAR(s / n, 0.0, 0.005);
  EXPECT_NEAR(s2 / n, 1.0, 0.005);
  EXPECT_NEAR(s4 / n, 3.0, 0.04);
  const double tail = 0.5 * std::erfc(3.6541528853610088 / std::sqrt(2.0)) * n; // 129 expected each side
  EXPECT_NEAR(above, tail, 5 * std::sqrt(tail));
  EXPECT_NEAR(below, tail, 5 * std::sqrt(tail));
  std::sort(x.begin(), x.end());
  double d = 0;
  for (int i = 0; i < n; ++i) {
    const double cdf = 0.5 * std::erfc(-x[i] / std::sqrt(2.0));
    d = std::max({d, std::abs(cdf - double(i) / n), std::abs(cdf - double(i + 1) / n)});
  }
  EXPECT_LT(d, 1.95 / std::sqrt(double(n))); // the 0.1% critical value
}

TEST(rng, fill_and_add_normal_are_successive_ziggurat_draws) {
  Rng a(22, Purpose::test, 1), b(22, Purpose::test, 1);
  std::vector<float> f(1000), g(1000, 1.0f);
  a.fill_normal(f.data(), 500, 2.0);
  a.add_normal(g.data(), 500, 0.5);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(f[i], float(2.0 * b.normal_ziggurat())) << i;
  for (int i = 0; i < 500; ++i) ASSERT_EQ(g[i], 1.0f + float(0.5 * b.normal_ziggurat())) << i;
}

class poisson_lambda : public ::testing::TestWithParam<double> {};

TEST_P(poisson_lambda, mean_and_variance_equal_lambda) {
  const double lambda = GetParam();
  Rng r(3, Purpose::test, static_cast<std::uint64_t>(lambda * 100));
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double k = static_cast<double>(r.poisson(lambda));
    s += k;
    s2 += k * k;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  // Standard error of the mean is sqrt(lambda/n); of the variance about lambda*sqrt(2/n).
  EXPECT_NEAR(mean, lambda, 6 * std::sqrt(lambda / n) + 1e-12);
  EXPECT_NEAR(var, lambda, 6 * lambda * std::sqrt(2.0 / n) + 6 * std::sqrt(lambda / n));
}

INSTANTIATE_TEST_SUITE_P(rng, poisson_lambda, ::testing::Values(0.05, 0.8, 3.0, 9.9, 10.0, 37.5, 250.0, 5000.0));

TEST_P(poisson_lambda, pixels_mean_and_variance_equal_lambda) {
  const double lambda = GetParam();
  const int n = 200000;
  std::vector<float> img(n, float(lambda));
  poisson_pixels(img.data(), img.data(), n, 3, Purpose::test, static_cast<std::uint64_t>(lambda * 100));
  double s = 0, s2 = 0;
  for (float k : img) {
    ASSERT_EQ(k, std::floor(k));
    ASSERT_GE(k, 0.0f);
    s += k, s2 += double(k) * k;
  }
  const double mean = s / n, var = s2 / n - mean * mean, l = double(float(lambda));
  EXPECT_NEAR(mean, l, 6 * std::sqrt(l / n) + 1e-12);
  EXPECT_NEAR(var, l, 6 * l * std::sqrt(2.0 / n) + 6 * std::sqrt(l / n));
}

TEST(rng, poisson_pixels_follow_the_probabilities) {
  // Chi-square of the counts against the Poisson probabilities, at means on both sides of the switch from
  // inversion to PTRS (bins with at least 50 expected, the rest pooled at each end).
  for (double lambda : {3.0, 9.5, 10.0, 40.0, 300.0}) {
    const int n = 400000;
    std::vector<float> img(n, float(lambda));
    poisson_pixels(img.data(), img.data(), n, 5, Purpose::test, static_cast<std::uint64_t>(lambda));
    const int kmax = int(lambda + 12 * std::sqrt(lambda) + 20);
    std::vector<double> count(kmax + 1, 0), expect(kmax + 1, 0);
    for (float k : img) count[std::min(int(k), kmax)] += 1;
    for (int k = 0; k <= kmax; ++k) expect[k] = n * std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
    double chi2 = 0, c = 0, e = 0;
    int dof = -1;
    for (int k = 0; k <= kmax; ++k) {
      c += count[k], e += expect[k];
      if (e >= 50 || k == kmax) {
        if (k == kmax) e += n - std::accumulate(expect.begin(), expect.end(), 0.0); // the far tail
        chi2 += (c - e) * (c - e) / e, ++dof;
        c = e = 0;
      }
    }
    // Mean dof, sd sqrt(2 dof): 5 sd above.
    EXPECT_LT(chi2, dof + 5 * std::sqrt(2.0 * dof)) << "lambda " << lambda << ", " << dof << " degrees of freedom";
  }
}

TEST(rng, poisson_pixels_each_pixel_its_own_stream) {
  // A pixel's count depends on its index, mean and key only: not on the image size, the other pixels, whether
  // out aliases the means, or the kernel (vector or scalar) that tried the fast acceptance.
  Rng r(6, Purpose::test, 0);
  const int n = 5000;
  std::vector<float> lam(n);
  for (float& l : lam) l = float(r.uniform(-5, 600)); // negative means count 0
  lam[7] = std::nanf("");
  lam[8] = 0, lam[9] = 9.999f, lam[10] = 10.0f;
  for (int j = 11; j < 200; ++j) lam[j] = 8000.0f + 5.0f * float(j); // PTRS around the end of the table of log k!
  for (int j = 200; j < 600; ++j) lam[j] = float(r.uniform(0, 10)); // inversion
  std::vector<float> a(n), b(37), c(lam), d(n);
  poisson_pixels(lam.data(), a.data(), n, 9, Purpose::detector, 42);
  poisson_pixels(lam.data(), b.data(), b.size(), 9, Purpose::detector, 42);
  poisson_pixels(c.data(), c.data(), n, 9, Purpose::detector, 42);
  poisson_pixels_scalar(lam.data(), d.data(), n, 9, Purpose::detector, 42);
  for (int j = 0; j < n; ++j) {
    if (j < int(b.size())) {
      ASSERT_EQ(a[j], b[j]) << j;
    }
    ASSERT_EQ(a[j], c[j]) << j;
    ASSERT_EQ(a[j], d[j]) << j;
    if (!(lam[j] > 0)) {
      ASSERT_EQ(a[j], 0.0f) << j;
    }
  }
  std::vector<float> other(n);
  poisson_pixels(lam.data(), other.data(), n, 9, Purpose::detector, 43);
  int same = 0;
  for (int j = 0; j < n; ++j) same += lam[j] > 100 && other[j] == a[j];
  EXPECT_LT(same, n / 20); // another id, other counts
}

TEST(rng, poisson_probability_of_zero) {
  Rng r(4, Purpose::test, 0);
  const int n = 100000;
  int zeros = 0;
  for (int i = 0; i < n; ++i) zeros += r.poisson(2.0) == 0;
  EXPECT_NEAR(zeros / double(n), std::exp(-2.0), 0.005);
}

TEST(geometry, uniform_rotation_is_a_rotation_and_uniform) {
  Rng r(5, Purpose::test, 0);
  const int n = 50000;
  Vec3 mean_axis{};
  double mean_trace = 0;
  for (int i = 0; i < n; ++i) {
    const Mat3 m = uniform_rotation(r.uniform(), r.uniform(), r.uniform());
    ASSERT_NEAR(m.determinant(), 1.0, 1e-9);
    const Mat3 id = m * m.transposed();
    for (int k = 0; k < 9; ++k) ASSERT_NEAR(id.m[k], k % 4 == 0 ? 1.0 : 0.0, 1e-9);
    mean_axis = mean_axis + m * Vec3{0, 0, 1};
    mean_trace += m(0, 0) + m(1, 1) + m(2, 2);
  }
  // Uniform on SO(3): rotated z is uniform on the sphere (mean 0), and E[trace] = 0 (Haar measure).
  EXPECT_NEAR(mean_axis.length() / n, 0.0, 0.02);
  EXPECT_NEAR(mean_trace / n, 0.0, 0.02);
}

TEST(geometry, euler_zyz_round_trip) {
  for (double rot : {-150.0, 10.0, 80.0})
    for (double tilt : {0.0, 35.0, 120.0, 180.0})
      for (double psi : {-30.0, 45.0}) {
        const Mat3 r = axis_angle({0, 0, 1}, rot * kDegToRad) * axis_angle({0, 1, 0}, tilt * kDegToRad) *
                       axis_angle({0, 0, 1}, psi * kDegToRad);
        const auto e = euler_zyz_deg(r);
        const Mat3 back = axis_angle({0, 0, 1}, e[0] * kDegToRad) * axis_angle({0, 1, 0}, e[1] * kDegToRad) *
                          axis_angle({0, 0, 1}, e[2] * kDegToRad);
        for (int k = 0; k < 9; ++k) EXPECT_NEAR(back.m[k], r.m[k], 1e-9) << rot << " " << tilt << " " << psi;
      }
}

TEST(conventions, voxel_centres_are_symmetric_about_the_origin) {
  EXPECT_DOUBLE_EQ(voxel_centre_A(0, 3, 10), -10);
  EXPECT_DOUBLE_EQ(voxel_centre_A(1, 3, 10), 0);
  EXPECT_DOUBLE_EQ(voxel_centre_A(0, 4, 10), -15);
  EXPECT_DOUBLE_EQ(voxel_index(-15, 4, 10), 0);
}

TEST(conventions, imod_projection_and_defocus_sign) {
  const TiltView v{.tilt_rad = 30 * kDegToRad, .azimuth_rad = 0};
  // x' = x cos t - z sin t (IMOD); the axis is image Y.
  EXPECT_NEAR(v.u({100, 0, 0}), 100 * std::cos(30 * kDegToRad), 1e-9);
  EXPECT_NEAR(v.u({0, 0, 100}), -100 * std::sin(30 * kDegToRad), 1e-9);
  EXPECT_NEAR(v.v({0, 55, 7}), 55, 1e-12);
  // At positive tilt the +x side of the image lies farther downstream (away from the source at -z), hence
  // more underfocused.
  EXPECT_GT(v.h({100, 0, 0}), 0);
  EXPECT_LT(v.h({-100, 0, 0}), 0);
  // At azimuth 90 deg the axis runs along -X: the specimen Y axis maps to u.
  const TiltView w{.tilt_rad = 0, .azimuth_rad = 90 * kDegToRad};
  EXPECT_NEAR(w.u({0, 100, 0}), 100, 1e-9);
  EXPECT_NEAR(w.v({-100, 0, 0}), 100, 1e-9);
}

TEST(fft, round_trip_and_parseval) {
  Image img(37, 20, 2.0); // odd and even sizes
  Rng r(6, Purpose::test, 0);
  for (float& v : img.data) v = static_cast<float>(r.normal());
  Spectrum2 s = fft_forward(img);
  double e_real = 0, e_freq = 0;
  for (float v : img.data) e_real += v * v;
  for (int ky = 0; ky < s.ny; ++ky)
    for (int kx = 0; kx < s.nkx(); ++kx) {
      const double w = (kx == 0 || (img.nx % 2 == 0 && kx == img.nx / 2)) ? 1 : 2;
      e_freq += w * std::norm(s(kx, ky));
    }
  EXPECT_NEAR(e_freq / img.data.size(), e_real, 1e-3 * e_real);
  Image back = fft_inverse(s, img.pixel_A);
  for (std::size_t i = 0; i < img.data.size(); ++i) EXPECT_NEAR(back.data[i], img.data[i], 1e-4);
}

TEST(fft, filter_rows_with_unit_weights_is_identity) {
  std::vector<float> rows(3 * 11);
  std::iota(rows.begin(), rows.end(), 0.0f);
  const std::vector<float> orig = rows;
  filter_rows(rows.data(), 11, 3, std::vector<float>(6, 1.0f));
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR(rows[i], orig[i], 1e-4);
}

TEST(errors, fail_builds_the_message) {
  EXPECT_EQ(error_of([] { fail("box of ", 3, " x ", 4.5, " A"); }), "box of 3 x 4.5 A");
}

// ---- Beam direction (issue 8, calibration). ----

TEST(conventions, underfocus_grows_away_from_the_source) {
  // The source is on the -z side and electrons travel towards +z. At underfocus the in-focus plane lies
  // upstream of the specimen, so the defocus defocus_A + h grows downstream: +z more than -z, at any tilt.
  for (double t_deg : {0.0, 30.0, -45.0}) {
    const TiltView v{.tilt_rad = t_deg * kDegToRad, .azimuth_rad = 20 * kDegToRad, .defocus_A = 3e4};
    const double t = v.tilt_rad;
    EXPECT_NEAR(v.h({0, 0, 100}), 100 * std::cos(t), 1e-9) << t_deg; // depth of a point on the optical axis
    EXPECT_GT(v.defocus_A + v.h({0, 0, 100}), v.defocus_A + v.h({0, 0, -100})) << t_deg;
    // h is the coordinate along the tilted beam: the point moved one unit along the tilted +z' axis
    // ((sin t cos a, sin t sin a, cos t) in the specimen) is one unit deeper and keeps u and v.
    const double a = v.azimuth_rad;
    const Vec3 p{10, -20, 5}, dz{std::sin(t) * std::cos(a), std::sin(t) * std::sin(a), std::cos(t)};
    EXPECT_NEAR(v.h(p + dz) - v.h(p), 1.0, 1e-12) << t_deg;
    EXPECT_NEAR(v.u(p + dz), v.u(p), 1e-12) << t_deg;
    EXPECT_NEAR(v.v(p + dz), v.v(p), 1e-12) << t_deg;
  }
}

// ctf_values fills the half-plane once per strip; without astigmatism it copies row ny - ky into row ky (the same
// |k|^2). Every value must equal the CTF at that index, for even and odd sizes, with and without astigmatism.
TEST(ctf, values_of_a_strip_equal_the_ctf_at_every_index) {
  for (const double astig_A : {0.0, 800.0})
    for (const auto& [nx, ny] : {std::pair{32, 32}, std::pair{33, 31}, std::pair{16, 9}}) {
      tomosweep::Ctf ctf;
      ctf.pixel_A = 3;
      ctf.astigmatism_A = astig_A;
      ctf.astigmatism_angle_rad = 0.4;
      const tomosweep::CtfGrid grid = tomosweep::ctf_grid(ctf, nx, ny);
      const tomosweep::CtfAt at{ctf, grid};
      std::vector<double> c;
      tomosweep::ctf_values(at, 25000, nx, ny, c);
      ASSERT_EQ(c.size(), static_cast<std::size_t>(nx / 2 + 1) * ny);
      for (std::size_t i = 0; i < c.size(); ++i) ASSERT_EQ(c[i], at(i, 25000)) << nx << " x " << ny << " at " << i;
    }
}

// The sine of ctf_values and CtfAt is a polynomial of our own (the same bits in its vector and scalar code): it
// must agree with std::sin to 2e-15, and the values with the CTF's formula, also where the phase reaches hundreds
// of radians (1.5 A pixels, 1 to 10 um of defocus).
TEST(ctf, values_agree_with_the_formula_at_large_phases) {
  for (const double defocus_A : {10000.0, 100000.0}) {
    tomosweep::Ctf ctf;
    ctf.pixel_A = 1.5;
    const int nx = 67, ny = 64;
    const tomosweep::CtfGrid grid = tomosweep::ctf_grid(ctf, nx, ny);
    const tomosweep::CtfAt at{ctf, grid};
    std::vector<double> c;
    tomosweep::ctf_values(at, defocus_A, nx, ny, c);
    double sine = 0, formula = 0, largest_phase = 0;
    for (int ky = 0; ky < ny; ++ky)
      for (int kx = 0; kx <= nx / 2; ++kx) {
        const std::size_t i = std::size_t(ky) * (nx / 2 + 1) + kx;
        const double phase = at.phase(i, defocus_A);
        // The sine itself: against std::sin of the same phase.
        sine = std::max(sine, std::abs(c[i] + grid.envelope[i] * std::sin(phase)));
        // The whole value: against Ctf::value, whose phase rounds otherwise (1e-16 of the phase).
        const double fx = kx / (nx * 1.5), fy = tomosweep::fft_freq(ky, ny) / (ny * 1.5);
        formula = std::max(formula, std::abs(c[i] - ctf.value(fx, fy, defocus_A)) / (1 + std::abs(phase)));
        largest_phase = std::max(largest_phase, std::abs(phase));
      }
    EXPECT_LT(sine, 2e-15) << defocus_A;
    EXPECT_LT(formula, 1e-15) << defocus_A;
    EXPECT_GT(largest_phase, defocus_A > 50000 ? 300.0 : 30.0); // the range reduction is exercised
  }
}

TEST(exposure, exp_neg_scaled_is_exp_to_float_rounding_and_the_same_in_any_width) {
  // Exposure filter values e^(-a h) over the range a tilt series meets (and beyond: 0 below e^-708), with and
  // without a multiplier; each element alone (the scalar code) equals the whole array (vector code where the
  // CPU has it).
  Rng r(3, Purpose::test, 0);
  const int n = 1003;
  std::vector<float> h(n), mul(n);
  for (int i = 0; i < n; ++i) h[i] = float(std::pow(10.0, r.uniform(-6, 3))), mul[i] = float(r.uniform(0, 1));
  h[0] = 0, h[1] = 1e30f, h[2] = 7.08f, h[3] = 7.09f; // e^0, 0, e^-708, 0 at a = 100
  for (double a : {0.5, 100.0}) {
    std::vector<float> all(n), with(n), one(1);
    exp_neg_scaled(h.data(), a, nullptr, all.data(), n);
    exp_neg_scaled(h.data(), a, mul.data(), with.data(), n);
    for (int i = 0; i < n; ++i) {
      const double exact = std::exp(-a * double(h[i]));
      const float want = exact < 1e-307 ? 0.0f : float(exact);
      ASSERT_LE(std::abs(all[i] - want), 1.2e-7 * want) << "a " << a << ", h " << h[i];
      ASSERT_EQ(with[i], all[i] * mul[i]) << i;
      exp_neg_scaled(h.data() + i, a, nullptr, one.data(), 1);
      ASSERT_EQ(one[0], all[i]) << i;
    }
    EXPECT_EQ(all[0], 1.0f);
    EXPECT_EQ(all[1], 0.0f);
  }
  std::vector<float> v{1, 2, 3, 4, 5};
  exp_neg_scaled(v.data(), 1.0, nullptr, v.data(), v.size()); // in place
  EXPECT_NEAR(v[4], std::exp(-5.0), 1e-8);
}

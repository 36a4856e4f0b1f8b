// tomosweep simulate projects, images the tilts and back-projects the tomogram on two threads when it has a core to spare
// (JobHooks::spare_core): the same series and tomogram, bit for bit, as one thread. Also in the ThreadSanitizer
// pass (tools/test.sh).
#include "core/errors.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/pipeline.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace tomosweep;

namespace {

// A potential with structure (random voxels around the ice level), 80 rows: three blocks of back projection
// (32 + 32 + 16 rows), so that the second thread gets one block and the first a full and a partial one.
Volume<float> random_potential() {
  Volume<float> v(56, 80, 20, 6.0);
  Rng rng(3, Purpose::test, 0);
  for (float& x : v.data) x = static_cast<float>(4.5 + rng.uniform(-1, 1));
  return v;
}

ImagingParams imaging() {
  ImagingParams p;
  p.tilt.min_deg = -60, p.tilt.max_deg = 60, p.tilt.step_deg = 10; // 13 tilts: the first thread gets one more
  p.half_series = true;                                           // counts in two halves, two streams per tilt
  p.ctf_slabs = 2;                                                // two projections per tilt
  p.damage_noise_rad_A_per_e_A2 = 5e-3;
  return p;
}

bool same_bits(const Volume<float>& a, const Volume<float>& b) {
  return a.nx == b.nx && a.ny == b.ny && a.nz == b.nz && a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

} // namespace

TEST(imaging_threads, two_threads_image_the_series_of_one) {
  const Volume<float> v = random_potential();
  const ImagingParams p = imaging();
  const TiltSeries one = simulate_series(v.grid(), volume_projector(v), p, 120, 7, 2, 4.5, {}, {}, 1);
  const TiltSeries two = simulate_series(v.grid(), volume_projector(v), p, 120, 7, 2, 4.5, {}, {}, 2);
  ASSERT_EQ(one.images.nz, 13);
  EXPECT_TRUE(same_bits(one.images, two.images));
  EXPECT_TRUE(same_bits(one.halves[0], two.halves[0]));
  EXPECT_TRUE(same_bits(one.halves[1], two.halves[1]));
  for (std::size_t i = 0; i < one.tilts.size(); ++i)
    EXPECT_EQ(one.tilts[i].flat_e_per_pixel, two.tilts[i].flat_e_per_pixel) << "tilt " << i;
  // Each tilt is its own: another job's series differs, so equal series are not a matter of course.
  const TiltSeries other = simulate_series(v.grid(), volume_projector(v), p, 120, 7, 3, 4.5, {}, {}, 2);
  EXPECT_FALSE(same_bits(one.images, other.images));
}

TEST(imaging_threads, two_threads_project_the_stack_of_one) {
  const Volume<float> v = random_potential();
  const TiltSeries plan = plan_series(imaging().tilt, 100, 3, 1, 0);
  const std::array<int, 2> det = detector_shape(v.grid(), plan.views);
  for (const auto& [z0, z1] : {std::array<int, 2>{0, -1}, std::array<int, 2>{5, 12}}) {
    const Volume<float> one = project(v, plan.views, det[0], det[1], z0, z1, 4.5f, 1);
    const Volume<float> two = project(v, plan.views, det[0], det[1], z0, z1, 4.5f, 2);
    ASSERT_EQ(one.ny, 80);
    EXPECT_TRUE(same_bits(one, two)) << "slices " << z0 << " to " << z1;
  }
  // At an oblique axis (the rotated path) and with acquisition residuals (warped images).
  TiltParams t = imaging().tilt;
  t.axis_azimuth_deg = 30, t.shift_sd_A = 4, t.rotation_sd_deg = 0.5;
  const TiltSeries oblique = plan_series(t, 100, 3, 1, 0);
  const std::array<int, 2> d = detector_shape(v.grid(), oblique.views);
  const auto one = volume_projector(v, 1)(oblique.views, d[0], d[1], {{0, 20}}, 4.5f);
  const auto two = volume_projector(v, 2)(oblique.views, d[0], d[1], {{0, 20}}, 4.5f);
  EXPECT_TRUE(same_bits(one.at(0), two.at(0)));
}

TEST(imaging_threads, two_threads_back_project_the_tomogram_of_one) {
  const Volume<float> v = random_potential();
  ImagingParams p = imaging();
  p.half_series = false;
  const TiltSeries s = simulate_series(v, p, 120, 7, 2, 4.5);
  const Volume<float> one = reconstruct_tomogram(s, v.grid(), ReconParams{}, {}, 1);
  const Volume<float> two = reconstruct_tomogram(s, v.grid(), ReconParams{}, {}, 2);
  ASSERT_EQ(one.ny, 80);
  EXPECT_TRUE(same_bits(one, two));
  // Every block was made: the last rows (the partial third block, the first thread's) are not left at zero.
  double last = 0;
  for (int z = 0; z < two.nz; ++z)
    for (int x = 0; x < two.nx; ++x) last += std::abs(two(x, 79, z));
  EXPECT_GT(last, 0);
}

TEST(imaging_threads, more_than_two_threads_are_refused) {
  const Volume<float> v = random_potential();
  try {
    (void)simulate_series(v.grid(), volume_projector(v), imaging(), 120, 7, 2, 4.5, {}, {}, 3);
    FAIL() << "3 threads accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "simulate_series: 3 threads (1 or 2)");
  }
  try {
    (void)volume_projector(v, 0);
    FAIL() << "0 threads accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "volume_projector: 0 threads (1 or 2)");
  }
}

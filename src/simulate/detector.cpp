#include "simulate/detector.hpp"

#include "core/conventions.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {

double transmission(double ice_thickness_A, double tilt_rad, double imfp_A, double scatter_factor) {
  if (!(imfp_A > 0)) fail("inelastic mean free path ", imfp_A, " A must be positive");
  return std::exp(-scatter_factor * ice_thickness_A / (std::cos(tilt_rad) * imfp_A));
}

double flat_counts(double dose_e_per_A2, double pixel_A, double transmission, double dqe) {
  return dose_e_per_A2 * pixel_A * pixel_A * transmission * dqe;
}

double damage_noise_sd_rad(double rad_A_per_e_A2, double exposure_e_per_A2, double pixel_A) {
  return rad_A_per_e_A2 * exposure_e_per_A2 / pixel_A;
}

void add_damage_noise(Image& phase_rad, double rad_A_per_e_A2, double exposure_e_per_A2, Rng& rng) {
  const double sd = damage_noise_sd_rad(rad_A_per_e_A2, exposure_e_per_A2, phase_rad.pixel_A);
  for (float& x : phase_rad.data) x += static_cast<float>(sd * rng.normal());
}

double sinc_mtf(double fx, double fy) {
  auto sinc = [](double a) { return a == 0 ? 1.0 : std::sin(a) / a; };
  return sinc(0.5 * kPi * fx) * sinc(0.5 * kPi * fy);
}

void poisson_counts(Image& expected, Rng& rng) {
  for (float& v : expected.data) v = static_cast<float>(rng.poisson(std::max(0.0f, v)));
}

} // namespace tomosweep

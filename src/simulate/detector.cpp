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

double critical_exposure_e_per_A2(double k_per_A, double voltage_kV) {
  const double scale = std::clamp(0.8 + 0.2 * (voltage_kV - 200) / 100, 0.8, 1.0);
  if (k_per_A <= 0) return 1e30;
  return scale * (0.245 * std::pow(k_per_A, -1.665) + 2.81);
}

double damage_attenuation(double k_per_A, double exposure_e_per_A2, double voltage_kV) {
  if (exposure_e_per_A2 <= 0) return 1.0;
  return std::exp(-exposure_e_per_A2 / (2 * critical_exposure_e_per_A2(k_per_A, voltage_kV)));
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

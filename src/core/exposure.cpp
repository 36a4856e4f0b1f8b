#include "core/exposure.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {

double critical_exposure_e_per_A2(double k_per_A, double voltage_kV) {
  const double scale = std::clamp(0.8 + 0.2 * (voltage_kV - 200) / 100, 0.8, 1.0);
  if (k_per_A <= 0) return 1e30;
  return scale * (0.245 * std::pow(k_per_A, -1.665) + 2.81);
}

double damage_attenuation(double k_per_A, double exposure_e_per_A2, double voltage_kV) {
  if (exposure_e_per_A2 <= 0) return 1.0;
  return std::exp(-exposure_e_per_A2 / (2 * critical_exposure_e_per_A2(k_per_A, voltage_kV)));
}

} // namespace tomosweep

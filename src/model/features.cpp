#include "model/features.hpp"

#include "model/atoms.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {

double Vesicle::radius_towards(Vec3 dir) const {
  double f = 1;
  for (int k = 0; k < 3; ++k) {
    const double c = dir.dot(axes[k]);
    f += amp[k] * 0.5 * (3 * c * c - 1);
  }
  return radius_A * f;
}

double Vesicle::signed_distance(Vec3 p) const {
  const Vec3 d = p - centre_A;
  const double r = d.length();
  if (r == 0) return -radius_towards({0, 0, 1});
  return r - radius_towards((1.0 / r) * d);
}

namespace {
/// Potential of a pure element at a mass density (g/cm3): atoms per A^3 x per-atom weight x scale.
double element_potential_V(int z, double g_per_cm3, PotentialMode mode) {
  Atom a;
  a.z = std::uint8_t(z);
  return g_per_cm3 * 0.60221 / element_mass_Da(z) * atom_potential_weight(a, mode) * potential_volts_per_weight(mode);
}
} // namespace

double carbon_potential_V(PotentialMode mode) { return element_potential_V(6, 2.0, mode); }
double gold_potential_V(PotentialMode mode) { return element_potential_V(79, 19.3, mode); }

double bilayer_occupancy(double d_A, double bilayer_A) {
  const double half = 0.5 * bilayer_A, x = std::abs(d_A);
  return std::clamp((half + 1.5 - x) / 3.0, 0.0, 1.0); // 3 A soft edge
}

double bilayer_potential_V(double d_A, double bilayer_A) {
  const double occ = bilayer_occupancy(d_A, bilayer_A);
  if (occ <= 0) return 0;
  // Hydrocarbon core ~0.29 e/A^3 vs water 0.334 -> 3.9 V; phosphate head groups peak near 7.5 V.
  constexpr double kTailV = 3.9, kHeadV = 7.5, kSigmaA = 3.0;
  const double h = 0.5 * bilayer_A - 5.0;
  auto g = [&](double x) { return std::exp(-0.5 * x * x / (kSigmaA * kSigmaA)); };
  return occ * (kTailV + (kHeadV - kTailV) * std::min(1.0, g(d_A - h) + g(d_A + h)));
}

} // namespace tomosweep

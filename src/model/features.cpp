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

double lipid_tail_potential_V(PotentialMode mode) {
  const Formula ch2{1, 2, 0, 0, 0, 0};
  return potential_volts_per_weight(mode) * kLipidTailElectronsPerA3 * formula_weight(ch2, mode) /
         formula_electrons(ch2);
}

double lipid_head_potential_V(PotentialMode mode) {
  const Formula head{10, 18, 1, 8, 1, 0}; // phosphocholine, glycerol and the two ester groups of a PC lipid
  return potential_volts_per_weight(mode) * kLipidHeadElectronsPerA3 * formula_weight(head, mode) /
         formula_electrons(head);
}

double bilayer_potential_V(double d_A, double bilayer_A, PotentialMode mode) {
  const double occ = bilayer_occupancy(d_A, bilayer_A);
  if (occ <= 0) return 0;
  constexpr double kSigmaA = 3.0;
  const double tail = lipid_tail_potential_V(mode), head = lipid_head_potential_V(mode);
  const double h = 0.5 * bilayer_A - 5.0;
  auto g = [&](double x) { return std::exp(-0.5 * x * x / (kSigmaA * kSigmaA)); };
  return occ * (tail + (head - tail) * std::min(1.0, g(d_A - h) + g(d_A + h)));
}

} // namespace tomosweep

// Non-particle parts of a specimen, as values in Angstrom: carbon film, vesicles, gold beads, and the
// profiles used to rasterize them.
#pragma once

#include "core/geometry.hpp"
#include "model/params.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace tomosweep {

/// Carbon film: a slab |z - z_A| < thickness/2 outside a circular hole (xy) of hole_radius_A.
struct CarbonFilm {
  bool present = false;
  double thickness_A = 150, z_A = 0;
  double hole_x_A = 0, hole_y_A = 0, hole_radius_A = 10000;
};

/// A lipid vesicle: outer surface radius r(dir) = radius_A (1 + sum_k amp_k P2(dir . axis_k)).
struct Vesicle {
  Vec3 centre_A;
  double radius_A = 500; ///< mean radius of the bilayer mid-plane
  double bilayer_A = 40;
  std::array<Vec3, 3> axes{};
  std::array<double, 3> amp{0, 0, 0};
  /// Mid-plane radius towards unit direction dir.
  double radius_towards(Vec3 dir) const;
  /// Approximate signed distance of p from the mid-plane (negative inside), Angstrom.
  double signed_distance(Vec3 p) const;
  /// Largest mid-plane radius over all directions (bound).
  double max_radius() const { return radius_A * (1 + std::abs(amp[0]) + std::abs(amp[1]) + std::abs(amp[2])); }
};

struct Bead {
  Vec3 centre_A;
  double radius_A = 50;
};

/// Mean inner potential of amorphous carbon (2.0 g/cm3) and gold (19.3 g/cm3) in a potential mode, volts
/// (fast: 8.6 and 66.8 V, Z-proportional; form-factor: 12.0 and 29.9 V).
double carbon_potential_V(PotentialMode mode);
double gold_potential_V(PotentialMode mode);
/// Electron densities of a lipid bilayer (e/A^3): the hydrocarbon core (CH2) and the head-group peak.
inline constexpr double kLipidTailElectronsPerA3 = 0.29;
inline constexpr double kLipidHeadElectronsPerA3 = 0.45;
/// Mean inner potential (volts) of the hydrocarbon core (CH2 at 0.29 e/A^3) and of the head-group peak (a PC
/// head group, C10H18NO8P with glycerol and ester groups, at 0.45 e/A^3) in a mode: electrons x the mode's
/// weight per electron of that composition (fast: 4.16 and 6.45 V; form-factor: 6.19 and 7.64 V).
double lipid_tail_potential_V(PotentialMode mode);
double lipid_head_potential_V(PotentialMode mode);
/// Lipid bilayer potential (volts) at distance d_A from the mid-plane: two head-group peaks (Gaussian, sigma
/// 3 A) at +-(bilayer/2 - 5) A over the hydrocarbon core, times bilayer_occupancy(); 0 outside the bilayer.
double bilayer_potential_V(double d_A, double bilayer_A, PotentialMode mode);
/// Fraction of ice displaced by the bilayer at distance d_A from the mid-plane (1 inside, 0 outside).
double bilayer_occupancy(double d_A, double bilayer_A);

} // namespace tomosweep

#include "model/ice_surface.hpp"

#include "core/conventions.hpp"
#include "core/rng.hpp"
#include "model/atoms.hpp"
#include "model/features.hpp"

#include <cmath>

namespace tomosweep {

IceSlab make_ice_slab(const IceSurfaceParams& p, const std::array<double, 3>& box_A, std::uint64_t seed,
                      int replicate) {
  IceSlab s;
  s.half_thickness_A = 0.5 * (p.thickness_A > 0 ? p.thickness_A : box_A[2]);
  s.slope = 0.5 * p.gradient_A_per_um / 1e4;
  if (p.roughness_A <= 0 || p.modes <= 0) return s;
  Rng rng(seed, Purpose::ice_surface, std::uint64_t(replicate));
  const double amp = p.roughness_A * std::sqrt(2.0 / p.modes), sd = 1 / p.correlation_A;
  for (SurfaceModes* m : {&s.top, &s.bottom})
    for (int k = 0; k < p.modes; ++k) {
      m->kx.push_back(sd * rng.normal());
      m->ky.push_back(sd * rng.normal());
      m->amp.push_back(amp);
      m->phase.push_back(2 * kPi * rng.uniform());
    }
  return s;
}

double contamination_potential_V(ContaminationMaterial m, PotentialMode mode) {
  return m == ContaminationMaterial::ice ? ice_potential_V(mode) * 0.92 / 0.94 : lipid_tail_potential_V(mode);
}

} // namespace tomosweep

// The ice slab of a scene (core/ice_slab.hpp) drawn from the [model.ice_surface] settings; docs/model.md.
#pragma once

#include "core/ice_slab.hpp"
#include "model/params.hpp"

#include <array>
#include <cstdint>

namespace tomosweep {

/// The slab of one replicate: mean thickness p.thickness_A (0: box z), top and bottom surfaces of p.modes
/// random Fourier modes each, from the stream (seed, Purpose::ice_surface, replicate) (top first): wave
/// vectors k ~ N(0, 1 / correlation_A^2) per component (rad/A), phases uniform, amplitudes
/// roughness_A sqrt(2 / modes), so the height has variance roughness_A^2 and covariance
/// roughness_A^2 exp(-r^2 / (2 correlation_A^2)) over the draws; slope gradient_A_per_um / 2e4 (per surface).
IceSlab make_ice_slab(const IceSurfaceParams& p, const std::array<double, 3>& box_A, std::uint64_t seed, int replicate);

/// Mean inner potential of a contamination material (volts): ice crystals at 0.92 g/cm^3 (ice_potential_V x
/// 0.92 / 0.94), hydrocarbon as CH2 at 0.29 e/A^3 (lipid_tail_potential_V).
double contamination_potential_V(ContaminationMaterial m, PotentialMode mode);

} // namespace tomosweep

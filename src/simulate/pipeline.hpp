// One tilt series from a potential volume: projection, radiation damage, CTF, transmission, counting.
// Formulas, units and the order of operations: docs/imaging.md.
#pragma once

#include "core/projector.hpp"
#include "core/tilt_series.hpp"
#include "core/volume.hpp"
#include "simulate/absorption.hpp"
#include "simulate/params.hpp"

#include <cstdint>
#include <vector>

namespace tomosweep {

/// Noisy tilt series in electrons per pixel of a potential (volts, mean over each voxel; C order [z][y][x],
/// centred, voxel size potential_V.voxel_A) inside a laterally infinite ice slab of `ice_thickness_A` and
/// potential `ice_V` (0: the box is in vacuum). The phase is that of the potential minus ice_V, 0 beside the box
/// (a uniform slab is a constant phase) except for the `exterior` layers that continue beyond it
/// (add_exterior); the ice enters through the transmission. Images are detector_shape(grid, views)
/// (core/projector.hpp) at the same pixel size, ascending angle order.
/// Counts of tilt i use poisson_pixels(..., seed, Purpose::detector, job_id * 4096 + i) (+ 2048 for the even half).
/// `terms` (simulate/absorption.hpp, default none): ice between rough or wedged surfaces (the phase of the ice
/// beyond the box, each pixel's own ice path in the transmission; `flat_e_per_pixel` stays that of
/// ice_thickness_A) and the amplitude term of gold and carbon; without them the series is unchanged.
TiltSeries simulate_series(const Volume<float>& potential_V, const ImagingParams& p, double ice_thickness_A,
                           std::uint64_t seed, std::uint64_t job_id, double ice_V = 0,
                           const std::vector<ExteriorLayer>& exterior = {}, const SpecimenTerms& terms = {});

/// Ideal series for the prior: perfect phase contrast I = 1 - 2 sigma_e P, P the projection of the potential
/// minus ice_V and the exterior layers (as in simulate_series); no CTF, noise, damage, transmission or
/// detector; nominal angles of `tilts` (no errors or acquisition residuals); flat_e_per_pixel = 1; images
/// detector_shape(grid, nominal views).
/// With terms.ice_slab the ice beyond the box is added as in simulate_series (nothing else of `terms` applies).
TiltSeries simulate_ideal_series(const Volume<float>& potential_V, const ImagingParams& p, const TiltParams& tilts,
                                 double ice_V = 0, const std::vector<ExteriorLayer>& exterior = {},
                                 const SpecimenTerms& terms = {});

/// simulate_series and simulate_ideal_series of a potential on `grid` that `projector` projects (e.g. one held in
/// slabs by a rank group); the same results as from a volume that project() projects.
/// `threads` (1 or 2): tilts imaged (CTF, damage, counts) on that many threads, every other tilt each; each tilt's
/// image depends on nothing but its own inputs and random streams, so the series is the same either way.
TiltSeries simulate_series(const Grid& grid, const Projector& projector, const ImagingParams& p,
                           double ice_thickness_A, std::uint64_t seed, std::uint64_t job_id, double ice_V = 0,
                           const std::vector<ExteriorLayer>& exterior = {}, const SpecimenTerms& terms = {},
                           int threads = 1);
TiltSeries simulate_ideal_series(const Grid& grid, const Projector& projector, const ImagingParams& p,
                                 const TiltParams& tilts, double ice_V = 0,
                                 const std::vector<ExteriorLayer>& exterior = {}, const SpecimenTerms& terms = {});

/// Half `which` (0 = odd, 1 = even) of a series simulated with half_series, as a series of its own.
TiltSeries half_series(const TiltSeries& series, int which);

} // namespace tomosweep

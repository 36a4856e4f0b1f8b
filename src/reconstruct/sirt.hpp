// SIRT (simultaneous iterative reconstruction) with the projector pair of core/projector.hpp.
#pragma once

#include "core/tilt.hpp"
#include "core/volume.hpp"
#include "reconstruct/params.hpp"

#include <vector>

namespace tomosweep {

/// x_{k+1} = x_k + lambda C P^T R (b - P x_k), R = 1 / row sums of P, C = 1 / column sums (ASTRA's SIRT),
/// starting from 0 on `grid`, p.sirt_iterations times. Same units as weighted_back_project().
Volume<float> sirt(const Volume<float>& projections, const std::vector<TiltView>& views, const Grid& grid,
                   const ReconParams& p);

} // namespace tomosweep

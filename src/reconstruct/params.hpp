// Reconstruction settings: the [reconstruction] table. Owned by src/reconstruct.
#pragma once

namespace tomosweep {

struct ReconParams {
  double cutoff = 0.35;  ///< radial filter cutoff, cycles/pixel (IMOD tilt RADIAL)
  double falloff = 0.035; ///< Gaussian fall-off sigma beyond the cutoff, cycles/pixel
};

} // namespace tomosweep

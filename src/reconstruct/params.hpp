// Reconstruction settings: the [reconstruction] table. Owned by src/reconstruct.
#pragma once

#include <string>

namespace tomosweep {

struct ReconParams {
  double cutoff = 0.35;         ///< radial filter cutoff, cycles/pixel (IMOD tilt RADIAL)
  double falloff = 0.035;       ///< Gaussian fall-off sigma beyond the cutoff, cycles/pixel
  std::string method = "wbp";   ///< wbp | sirt
  int sirt_iterations = 10;     ///< SIRT iterations (started from zero)
  double sirt_relaxation = 1.0; ///< SIRT step factor (0, 2)
};

} // namespace tomosweep

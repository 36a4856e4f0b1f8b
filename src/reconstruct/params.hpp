// Reconstruction settings: the [reconstruction] table. Owned by src/reconstruct.
#pragma once

#include <array>
#include <string_view>

namespace tomosweep {

/// Reconstruction method: weighted back-projection or SIRT.
enum class ReconMethod { wbp, sirt };
inline constexpr std::array<std::string_view, 2> kReconMethodNames{"wbp", "sirt"};
constexpr std::string_view name_of(ReconMethod v) { return kReconMethodNames[static_cast<std::size_t>(v)]; }

/// CTF correction of each image before reconstruction (docs/imaging.md, Reconstruction): none, a phase flip per
/// defocus strip, or a Wiener-like filter per strip.
enum class CtfCorrection { none, phaseflip, wiener };
inline constexpr std::array<std::string_view, 3> kCtfCorrectionNames{"none", "phaseflip", "wiener"};
constexpr std::string_view name_of(CtfCorrection v) { return kCtfCorrectionNames[static_cast<std::size_t>(v)]; }

struct ReconParams {
  double cutoff = 0.35;                               ///< radial filter cutoff, cycles/pixel (IMOD tilt RADIAL)
  double falloff = 0.035;                             ///< Gaussian fall-off sigma beyond the cutoff, cycles/pixel
  ReconMethod method = ReconMethod::wbp;              ///< wbp | sirt
  int sirt_iterations = 10;                           ///< SIRT iterations (started from zero)
  double sirt_relaxation = 1.0;                       ///< SIRT step factor (0, 2)
  CtfCorrection ctf_correction = CtfCorrection::none; ///< none | phaseflip | wiener
  bool true_geometry = false; ///< reconstruct with the views as acquired (residuals), not the nominal
  double wiener_snr = 1.0;    ///< Wiener filter's signal-to-noise ratio: weight -CTF / (CTF^2 + 1 / wiener_snr)
  /// Exposure filtering: weight each tilt per frequency by its damage exp(-N / (2 N_e(k))), normalised over the
  /// series (reconstruct/exposure_filter.hpp). Not TiltParams::dose_weighting, which shares the dose out.
  bool exposure_filter = false;
};

} // namespace tomosweep

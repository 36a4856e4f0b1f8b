// Everything one job needs to know: one sweep file with its overrides applied.
#pragma once

#include "model/params.hpp"
#include "reconstruct/params.hpp"
#include "simulate/params.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tomosweep {

struct RunParams {
  std::string name = "tomosweep";
  std::uint64_t seed = 1;           ///< master seed: scenes and noise derive from it
  int replicates = 1;               ///< scenes per imaging condition
  std::vector<int> test_replicates; ///< replicates marked as the test split
  std::vector<std::string> outputs{"tomogram", "prior", "atlas", "instances", "particles"};
};

/// The noise-free target (docs/imaging.md, "Ideal series (prior)"): the ice-subtracted potential band-limited
/// in 3D to the reconstruction's resolution, or the WBP of an ideal series (CTS's definition).
enum class PriorMethod { bandlimit, wbp };
inline constexpr std::array<std::string_view, 2> kPriorMethodNames{"bandlimit", "wbp"};
constexpr std::string_view name_of(PriorMethod v) { return kPriorMethodNames[static_cast<std::size_t>(v)]; }

struct PriorParams {
  bool enabled = true;
  PriorMethod method = PriorMethod::bandlimit; ///< bandlimit | wbp
  /// The ideal series of the "wbp" method (and of output "prior_series").
  TiltParams tilt{.min_deg = -89, .max_deg = 89, .step_deg = 1, .order = TiltOrder::unidirectional};
};

struct JobConfig {
  RunParams run;
  ModelParams model;
  ImagingParams imaging;
  ReconParams reconstruction;
  PriorParams prior;
};

} // namespace tomosweep

// Everything one job needs to know: one sweep file with its overrides applied.
#pragma once

#include "model/params.hpp"
#include "reconstruct/params.hpp"
#include "simulate/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

struct RunParams {
  std::string name = "tomosweep";
  std::uint64_t seed = 1;           ///< master seed: scenes and noise derive from it
  int replicates = 1;               ///< scenes per imaging condition
  std::vector<int> test_replicates; ///< replicates marked as the test split
  std::vector<std::string> outputs{"tomogram", "prior", "atlas", "instances", "particles"};
};

struct PriorParams {
  bool enabled = true;
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

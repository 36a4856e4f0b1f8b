// What a scene reports about its contents: classes (atlas labels) and every placed particle.
#pragma once

#include "core/geometry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

/// One atlas class. Labels are 1..N in the order classes first appear in the sweep file (particle
/// classes, then the feature classes "membrane", "carbon", "gold" when present); 0 = background.
struct ClassInfo {
  int label = 0;
  std::string name;
  std::string source;
};

/// One placed particle: its instance id (1..), class label, and pose. A particle's atoms at file
/// coordinates a map to specimen coordinates rotation * (a - centre_of_structure) + position_A, where
/// the centre is structure_centre() of the whole structure (model/atoms.hpp).
struct PlacedParticle {
  std::uint32_t instance = 0;
  int label = 0;
  std::string source;
  Vec3 position_A;
  Mat3 rotation;
  std::string selection;   ///< atoms of the structure that belong to this class ("" = all), see ClassSplit
  std::uint32_t group = 0; ///< the filament, bundle, cluster or assembly this particle belongs to (= instance if alone)
  Vec3 direction{};        ///< growth axis of the group's filaments at their start (unit); zero if no filament
};

} // namespace tomosweep

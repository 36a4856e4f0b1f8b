// A human-readable summary of how tomosweep sees a structure (the `structure` command).
#pragma once

#include "model/structure.hpp"

#include <string>

namespace tomosweep {

/// Atoms, implicit hydrogens, elements, chains, extent and mass; with pixel_A > 0 also the extent in voxels.
std::string describe_structure(const AtomicStructure& s, double pixel_A);

} // namespace tomosweep

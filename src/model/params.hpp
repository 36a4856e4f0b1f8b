// Model (specimen) settings: the [model] table of a sweep file. Lengths in Angstrom.
// Owned by src/model; parsed in io/config_model.cpp.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace tomosweep {

enum class PotentialMode { fast, form_factor };

/// One entry of a layer's particle mix.
struct ParticleSpec {
  std::string source;             ///< path to PDB/mmCIF(.gz), "synthetic:...", or "pdb:1ABC"
  std::string class_name;         ///< atlas class (defaults to the source's stem)
  std::string scheme = "single";  ///< single | cluster | bundle | filament | assembly | membrane
  double weight = 1.0;            ///< relative frequency within the layer
};

struct Layer {
  double max_density = 0.4;       ///< fraction of the box volume filled by this layer's particles, [0, 1]
  long long max_attempts = 20000; ///< iteration budget of brute-force placement
  std::vector<ParticleSpec> particles;
};

struct ModelParams {
  std::array<double, 3> box_A{4000, 4000, 500}; ///< specimen box, Angstrom (x, y, z)
  double pixel_size_A = 10.0;                   ///< voxel size of the rasterized volumes
  std::string walls = "z";                      ///< faces particles may not cross: "", "z", "xyz", ...
  bool ice = true;                              ///< embed in vitreous ice with solvent exclusion
  PotentialMode potential = PotentialMode::fast;
  std::vector<Layer> layers;
};

} // namespace tomosweep

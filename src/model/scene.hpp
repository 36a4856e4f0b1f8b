// A specimen in physical units: where every particle and feature is. Built from the model settings,
// the structures and (master seed, replicate) only, never from the pixel size, imaging or rank.
#pragma once

#include "core/ice_slab.hpp"
#include "model/features.hpp"
#include "model/params.hpp"
#include "model/particles.hpp"
#include "model/structure.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

/// Spacing of the packing's collision grid (Angstrom); fixed so the scene never depends on the pixel size.
inline constexpr double kCollisionCell_A = 10.0;
/// Spacing of the collision points each structure is reduced to (Angstrom).
inline constexpr double kCollisionPoint_A = 5.0;

struct Scene {
  std::array<double, 3> box_A{0, 0, 0};
  std::vector<ClassInfo> classes;        ///< labels 1..N, see scene_classes()
  std::vector<PlacedParticle> particles; ///< in placement order; instance ids 1..
  std::vector<double> layer_density;     ///< volume fraction reached by each layer (protein at 1.35 g/cm3)
  double occupied_fraction = 0;          ///< fraction of 10 A collision cells taken (CTS-style voxel density)
  CarbonFilm carbon;
  std::vector<Vesicle> vesicles;
  std::vector<Bead> beads;
  std::vector<Bead> contamination; ///< blobs centred on the ice surfaces (model.contamination)
  ContaminationMaterial contamination_material = ContaminationMaterial::ice;
  int membrane_label = 0, carbon_label = 0, gold_label = 0, contamination_label = 0; ///< 0 if absent
  bool ice_surface = false; ///< model.ice_surface in use: ice between ice_slab's surfaces, vacuum beyond
  IceSlab ice_slab;         ///< the slab's surfaces (flat, filling the box's z range, without ice_surface)
  bool ice = true;
  IceTexture ice_texture = IceTexture::none; ///< granular: a random field keyed by (seed, replicate)
  std::uint64_t seed = 0;                    ///< master seed and replicate the scene was built from
  int replicate = 0;
  double b_factor_A2 = 0; ///< extra B-factor blur (form-factor mode), from ModelParams
};

/// The atlas classes of a model: particle classes in order of first appearance in the layers (splits in
/// their order, then assembly members), then "membrane", "carbon", "gold", "contamination" for the features
/// present.
/// Throws naming the key if a class name is used for two different sources.
std::vector<ClassInfo> scene_classes(const ModelParams& p);

/// Every structure source a model names (particles, cluster satellites, assembly members), in order of
/// first appearance, without duplicates: what the caller must load into the StructureSet.
std::vector<std::string> model_sources(const ModelParams& p);

/// Default class name of a source: the file stem ("1abc" for "dir/1abc.cif.gz"), the synthetic kind with
/// its parameter values ("globular-500" for "synthetic:globular?mass_kDa=500"), or the PDB id.
std::string source_stem(const std::string& source);

/// Check the model settings against the structures (one-line errors naming the key): densities in [0, 1],
/// walls syntax, particles no larger than the box, structures present and valid, vesicles for membrane.
void validate_model(const ModelParams& p, const StructureSet& structures);

/// Build the scene of one replicate. Deterministic in (p without pixel_size_A, structures, seed, replicate).
Scene build_scene(const ModelParams& p, const StructureSet& structures, std::uint64_t seed, int replicate);

/// Walled faces parsed from a walls string: [axis][0] = minus face, [axis][1] = plus face.
/// "z" = both z faces, "xyz" = all, "-z" = bottom only, "" = none. Throws on bad syntax.
std::array<std::array<bool, 2>, 3> parse_walls(const std::string& walls);

/// Filament geometry of a preset name ("actin", "cofilactin", "microtubule"); throws if unknown.
FilamentParams filament_preset(const std::string& name);

} // namespace tomosweep

// Scene -> voxel grids at one pixel size: potential (volts), atlas (class labels), instance map.
#pragma once

#include "core/volume.hpp"
#include "model/params.hpp"
#include "model/scene.hpp"
#include "model/structure.hpp"

#include <cstdint>

namespace tomosweep {

struct SpecimenVolumes {
  Volume<float> potential;         ///< electrostatic potential, volts, mean over each voxel (ice included)
  Volume<std::uint8_t> atlas;      ///< class label per voxel (Scene::classes), 0 = background
  Volume<std::uint32_t> instances; ///< PlacedParticle::instance dominating the voxel, 0 = none
  double ice_thickness_A = 0;      ///< mean thickness of the ice slab (the box z, or model.ice_surface.thickness_A)
};

/// Rasterize a scene on a grid of round(box / pixel_size_A) voxels centred on the box (core/conventions.hpp).
/// Each atom weighs atom_potential_weight(atom, mode); weights are coarse-grained into pixel-sized
/// pseudo-atoms once per structure and spread trilinearly (form-factor mode: then blurred by the atoms' form
/// factors and B factors); volts = potential_volts_per_weight(mode) x weight / voxel volume.
/// Ice (ice_potential_V(mode) at full occupancy) fills what protein, lipid, carbon and gold leave free; with
/// scene.ice_texture granular, ice_texture() (keyed by scene.seed and scene.replicate) x the free fraction
/// is added to it (model/ice.hpp).
/// A voxel gets a particle's label and instance when that particle's potential there is the largest of
/// all particles and exceeds the local ice level (ice potential x the free fraction); features label the
/// voxels they fill at least half.
/// With `texture_thread`, granular ice's texture is made on a second thread while the particles are splatted (the
/// same volumes; for a caller with a core to spare).
SpecimenVolumes rasterize(const Scene& scene, const StructureSet& structures, double pixel_size_A, PotentialMode mode,
                          bool texture_thread = false);

/// The slices [z_begin, z_end) of rasterize() (z_end < 0: to the last), bit for bit: what one rank of a group
/// holds. Granular ice's texture is one field over the whole volume: a slab takes its slices from `texture`
/// (ice_texture_field filtered over a group's slabs), or needs all slices.
SpecimenVolumes rasterize_slab(const Scene& scene, const StructureSet& structures, double pixel_size_A,
                               PotentialMode mode, int z_begin, int z_end, const Volume<float>* texture = nullptr,
                               bool texture_thread = false);

/// Volume fraction (0..1) of the gold beads in each voxel, as rasterize() fills them (the same profile), on the
/// same grid: what the imaging's amplitude term for gold projects (simulate/absorption.hpp).
Volume<float> gold_fraction(const Scene& scene, double pixel_size_A);

/// Per-class volume: the potential (volts, no ice, no features) of the particles with class `label` only,
/// on the same grid as rasterize().
Volume<float> rasterize_class(const Scene& scene, const StructureSet& structures, double pixel_size_A,
                              PotentialMode mode, int label);

/// The grid size used by rasterize(): round(box_A[a] / pixel_size_A), at least 1.
std::array<int, 3> grid_shape(const std::array<double, 3>& box_A, double pixel_size_A);

} // namespace tomosweep

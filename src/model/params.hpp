// Model (specimen) settings: the [model] table of a sweep file. Lengths in Angstrom, angles in degrees.
// Owned by src/model; parsed in io/config_model.cpp; documented in docs/model.md.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace tomosweep {

enum class PotentialMode { fast, form_factor };

/// Texture of vitreous ice: none (a continuum) or granular (water's density fluctuations, model/ice.hpp).
enum class IceTexture { none, granular };

/// A sub-component of a structure that becomes its own class: `selection` is "chain A", "chains A,B",
/// "residues 1-300", "chain A residues 1-300" (residue range inclusive).
struct ClassSplit {
  std::string class_name;
  std::string selection;
};

/// A secondary member of an assembly, attached to every primary unit (single particle or filament
/// subunit) with probability `occupancy`, at `offset_A` in the unit's frame (for filaments: the helix
/// frame at the subunit's height, so [0, 0, 0] is on the axis).
struct AssemblyMember {
  std::string source;
  std::string class_name;
  std::array<double, 3> offset_A{0, 0, 0};
  double occupancy = 1.0;      ///< probability in [0, 1]
  bool random_rotation = true; ///< uniform random orientation, else the unit's
};

/// Helical filament geometry (defaults: actin). Presets: "actin" (-166.15 deg, 27.3 A, radius 25 A),
/// "cofilactin" (-162 deg, 24 A), "microtubule" (13 protofilaments on a 105 A ring, 85 A per ring, 9.2 A stagger).
struct FilamentParams {
  std::string preset;           ///< "", "actin", "cofilactin", "microtubule"
  double twist_deg = -166.15;   ///< rotation per subunit about the axis
  double rise_A = 27.3;         ///< axial rise per subunit
  double radius_A = 25.0;       ///< subunit centre distance from the helix axis
  int protofilaments = 1;       ///< > 1: a ring of subunits per rise step (microtubule: 13)
  double stagger_A = 0.0;       ///< axial offset between neighbouring protofilaments of a ring
  double flexibility_deg = 1.0; ///< rms bend of the axis per subunit
  double min_length_A = 500.0;  ///< shorter filaments are rejected
  double max_length_A = 3000.0; ///< growth stops here
};

/// One entry of a layer's particle mix.
struct ParticleSpec {
  std::string source;              ///< path to PDB/mmCIF(.gz), "synthetic:...", or "pdb:1ABC"
  std::string class_name;          ///< atlas class (defaults to the source's stem)
  std::vector<ClassSplit> classes; ///< split the structure into classes (overrides class_name)
  std::string scheme = "single";   ///< single | cluster | bundle | filament | assembly | membrane
  double weight = 1.0;             ///< relative frequency within the layer (entries without a count)
  /// Exact number of units per scene, drawn uniformly in [count_min, count_max] (-1: none; the entry then fills
  /// the layer by weight up to max_density). A unit is what one placement adds: a single particle (with its
  /// split classes and assembly members), a cluster (seed and satellites), a filament, a bundle, a membrane protein.
  int count_min = -1, count_max = -1;
  std::string region = "any";      ///< any | inside | outside (of vesicles)
  // cluster: satellites of the same structure (or satellite_source) around a seed particle
  int cluster_min = 2, cluster_max = 6; ///< satellites per cluster
  double cluster_radius_A = 0.0;        ///< max centre distance of satellites (0: 1.5 x particle diameter)
  std::string satellite_source;         ///< "" = the particle's own source
  // bundle / filament
  FilamentParams filament;
  int bundle_min = 2, bundle_max = 5; ///< filaments per bundle
  double bundle_spacing_A = 0.0;      ///< axis-to-axis spacing (0: 2 x radius + subunit size)
  // assembly
  std::vector<AssemblyMember> members;
  std::string primary_scheme = "single"; ///< single | filament: how the primary scaffold is built
  // membrane proteins
  double membrane_z_A = 0.0; ///< z of the bilayer mid-plane in the structure file's frame (Angstrom)
  // filament, bundle, assembly with primary filament: growth axis of each filament at its start, drawn
  // uniformly on the spherical cap within direction_spread_deg of `direction`; all zero = uniform random
  std::array<double, 3> direction{0, 0, 0}; ///< unit vector in the specimen frame, or all zero (random)
  double direction_spread_deg = 0.0;        ///< cap half-angle, degrees, [0, 180]
  // single, assembly with primary single: preferred orientation, the structure's z axis drawn uniformly on
  // the cap within orientation_spread_deg of orientation_axis, spin about it uniform; all zero = uniform
  std::array<double, 3> orientation_axis{0, 0, 0}; ///< unit vector in the specimen frame, or all zero (random)
  double orientation_spread_deg = 0.0;             ///< cap half-angle, degrees, [0, 180]
};

struct Layer {
  double max_density = 0.4;       ///< fraction of the box volume filled by this layer's particles, [0, 1]
  long long max_attempts = 20000; ///< iteration budget of brute-force placement
  std::vector<ParticleSpec> particles;
};

/// Carbon film with a circular hole whose edge crosses the field of view.
struct CarbonParams {
  bool enabled = false;
  double thickness_A = 150.0;     ///< film thickness, centred at z = offset_z_A
  double hole_radius_A = 10000.0; ///< hole radius (1 um)
  double offset_z_A = 0.0;        ///< film mid-plane z
};

/// Lipid vesicles: bilayer shells with a two-peak (head groups) profile.
struct VesicleParams {
  int count_min = 0, count_max = 0;              ///< vesicles per scene
  double radius_min_A = 300, radius_max_A = 800; ///< outer radius range
  double bilayer_A = 40.0;                       ///< bilayer thickness (head-to-head + heads)
  double sphericity = 1.0;                       ///< 1 = round, 0 = very irregular
};

/// Gold fiducial beads.
struct BeadParams {
  int count = 0;
  double radius_A = 50.0;
};

/// Ice surfaces (docs/model.md, "Ice surfaces"): each surface a random height field of rms roughness_A and
/// Gaussian lateral correlation correlation_A, the thickness a wedge across x. Defaults: the flat slab that
/// fills the box (off).
struct IceSurfaceParams {
  double thickness_A = 0;       ///< mean ice thickness at x = 0, Angstrom (0: the box z)
  double roughness_A = 0;       ///< rms height of each surface, Angstrom
  double correlation_A = 1000;  ///< lateral correlation length, Angstrom: covariance exp(-r^2 / (2 corr^2))
  double gradient_A_per_um = 0; ///< thickness change per micrometre of x (A/um), half on each surface
  int modes = 64;               ///< random Fourier modes per surface
  bool enabled() const { return thickness_A > 0 || roughness_A > 0 || gradient_A_per_um != 0; }
};

/// Contamination on the ice surfaces (docs/model.md): spherical blobs centred on the top and bottom surfaces.
enum class ContaminationMaterial { ice, hydrocarbon };
struct ContaminationParams {
  double density_per_um2 = 0;                   ///< mean blobs per square micrometre of each surface
  double radius_min_A = 50, radius_max_A = 200; ///< radius range (uniform)
  ContaminationMaterial material = ContaminationMaterial::ice;
};

struct ModelParams {
  std::array<double, 3> box_A{4000, 4000, 500};         ///< specimen box, Angstrom (x, y, z)
  double pixel_size_A = 10.0;                           ///< voxel size of the rasterized volumes
  std::string walls = "z";                              ///< faces particles may not cross: "", "z", "xyz", "-z+x"...
  bool ice = true;                                      ///< embed in vitreous ice with solvent exclusion
  IceTexture ice_texture = IceTexture::granular;        ///< granular (default) or none
  PotentialMode potential = PotentialMode::form_factor; ///< form_factor (default) or fast (CTS weights)
  double b_factor_A2 = 0.0;                             ///< extra B-factor blur in form-factor mode
  CarbonParams carbon;
  VesicleParams vesicles;
  BeadParams beads;
  IceSurfaceParams ice_surface;
  ContaminationParams contamination;
  std::vector<Layer> layers;
};

} // namespace tomosweep

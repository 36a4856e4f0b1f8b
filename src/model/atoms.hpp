// Per-atom physical quantities and structure-level summaries used by packing and rasterization.
#pragma once

#include "model/params.hpp"
#include "model/structure.hpp"

#include <string>
#include <vector>

namespace tomosweep {

/// Vitreous ice: water molecules per cubic Angstrom (0.92 g/cm3).
inline constexpr double kIceMoleculesPerA3 = 0.0314;
/// Protein density, Daltons per cubic Angstrom (1.35 g/cm3 x 0.6022 Da/A^3 per g/cm3).
inline constexpr double kProteinDaPerA3 = 1.35 * 0.60221;
/// Fast-mode weight of one water molecule: its electrons, O (8) + 2 H.
inline constexpr double kWaterWeight = 10.0;
/// Mean inner potential of vitreous ice in fast mode, volts: fixes the fast-mode scale below.
inline constexpr double kIceMeanPotentialV = 4.5;
/// Fast-mode scale: potential (V) = kVoltA3PerWeight x weight density (weight / A^3), where an atom's weight
/// is its electron count, atomic number plus implicit hydrogens (CTS's weights). Chosen so that ice
/// (0.314 weight/A^3) is 4.5 V.
inline constexpr double kVoltA3PerWeight = kIceMeanPotentialV / (kIceMoleculesPerA3 * kWaterWeight);

/// Standard atomic mass of element z (Daltons); 0 for z outside 1..103.
double element_mass_Da(int z);
/// Element symbol ("C", "Fe"), "?" if unknown.
const char* element_symbol(int z);
/// Electrons of an atom, (atomic number + implicit hydrogens) x occupancy: the fast-mode weight and the
/// weight of the structure centroid.
inline double atom_weight(const Atom& a) { return (a.z + a.implicit_h) * double(a.occupancy); }
/// Whether an atom is a pseudo-atom standing for a whole residue (C-alpha or P-only models,
/// io/structure_file): it carries more than 4 implicit hydrogens (a real heavy atom carries at most 3).
inline bool is_residue_pseudo_atom(const Atom& a) { return a.implicit_h > 4; }
/// Mass including implicit hydrogens, times occupancy (Daltons). An atom carrying more than 4 implicit
/// hydrogens is a pseudo-atom standing for a whole residue (C-alpha-only models, io/structure_file): its
/// mass is taken from its electrons at protein's 1.86 Da per electron (ubiquitin: 8565 Da / 4602 e).
inline double atom_mass_Da(const Atom& a) {
  if (is_residue_pseudo_atom(a)) return 1.86 * (a.z + a.implicit_h) * double(a.occupancy);
  return (element_mass_Da(a.z) + 1.008 * a.implicit_h) * double(a.occupancy);
}

/// Weight-weighted centroid of all atoms (file frame, Angstrom): the origin of a particle's pose.
Vec3 structure_centre(const AtomicStructure& s);
/// Total mass (Daltons) and protein volume at 1.35 g/cm3 (A^3) of the selected atoms.
double structure_mass_Da(const AtomicStructure& s);

/// Throw a one-line error naming the source if the structure has no atoms or an unknown element.
void validate_structure(const AtomicStructure& s);

/// Atoms matching a selection: "" (all), "chain A", "chains A,B", "residues 1-300",
/// "chain A residues 1-300". Throws naming `key` if the syntax is bad or nothing matches.
std::vector<bool> select_atoms(const AtomicStructure& s, const std::string& selection, const std::string& key);

/// A pseudo-atom: the summed weight, mass-volume and weight-centroid of the atoms in one grid cell.
struct PseudoAtom {
  Vec3 pos_A;           ///< relative to structure_centre()
  double weight = 0;    ///< summed potential weights (atom_potential_weight in the mode)
  double volume_A3 = 0; ///< protein volume of the summed mass
  double b_iso_A2 = 0;  ///< weight-averaged B-factor
};

/// h^2 / (2 pi m0 e): volume integral of an atom's potential (V A^3) per Angstrom of f_e(0) (Mott-Bethe).
inline constexpr double kVoltA2PerScatteringA = 47.878;

/// An atom's potential weight in a mode: fast = atom_weight(); form_factor = electron scattering factor
/// f_e(0) in Angstrom (International Tables C 4.3.2.2 via gemmi, implicit H included) x occupancy. A residue
/// pseudo-atom weighs its electrons x the f_e(0) per electron of a reference composition: ubiquitin
/// (C378 H629 N105 O118 S1) for a C-alpha, the mean of the four ribonucleotides in a chain for a P atom.
double atom_potential_weight(const Atom& a, PotentialMode mode);
/// Volume integral of the potential (V A^3) per unit of atom_potential_weight() in a mode.
double potential_volts_per_weight(PotentialMode mode);
/// Mean inner potential of vitreous ice (0.0314 H2O/A^3) in a mode, volts (fast: 4.5 by construction).
double ice_potential_V(PotentialMode mode);
/// Mean inner potential (volts) of a structure's atoms at protein density (1.35 g/cm3) in a mode: its
/// summed potential over its volume from mass. Minus ice_potential_V() it is the protein-ice contrast.
double protein_potential_V(const AtomicStructure& s, PotentialMode mode);

/// A chemical formula of the light elements of biological matter (atom counts).
struct Formula {
  double c = 0, h = 0, n = 0, o = 0, p = 0, s = 0;
};
/// Electrons of a formula.
double formula_electrons(const Formula& f);
/// Summed potential weight (atom_potential_weight) of a formula's atoms in a mode.
double formula_weight(const Formula& f, PotentialMode mode);
/// Electron scattering factor at s = 0, f_e(0), of element z (Angstrom); 0 if not tabulated.
double scattering_f0_A(int z);
/// Effective Gaussian B (A^2) of an element's electron form factor: f-weighted mean of its b_i.
double form_factor_b_A2(int z);

/// Coarse-grain the selected atoms (all if `mask` is empty) into cells of `cell_A` around the structure
/// centre. Weights (in `mode`) and volumes are summed exactly, so integrals are preserved. Order is
/// deterministic.
std::vector<PseudoAtom> coarse_grain(const AtomicStructure& s, double cell_A, const std::vector<bool>& mask = {},
                                     PotentialMode mode = PotentialMode::fast);

} // namespace tomosweep

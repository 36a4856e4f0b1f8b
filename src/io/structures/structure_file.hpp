// Atomic structures from PDB and mmCIF files (gzipped too) through gemmi, and the structure set of a sweep.
//
// What read_structure keeps (docs/formats.md says the same for users):
//   - the first model only (NMR ensembles: model 1; StructureReadInfo::models tells how many there were);
//   - no waters (HOH, DOD, WAT, H2O): vitreous ice is modelled separately, as solvent around the particles;
//   - of alternate conformations, the one with the highest summed occupancy per residue (ties: first
//     letter), its atoms set to occupancy 1; atoms without altloc keep their occupancy;
//   - hydrogens in the file are kept as atoms (z = 1); a residue without any gets implicit hydrogens on its
//     heavy atoms (Atom::implicit_h): gemmi's tabulated count per residue (minus 2 for a residue inside a
//     polymer: the water lost per peptide/phosphodiester bond), else 1 per C and N atom, handed out
//     round-robin over the residue's C and N atoms (at most 3 each), any rest to O and S atoms (1 each);
//   - C-alpha-only (and P-only nucleic acid) residues: the single atom stands for the whole residue, its
//     implicit_h set so z + implicit_h equals the residue's electron count ((mass + hydrogens) / 2 of the
//     residue in a chain: exact for C, N, O, S), which is what the atomic-number potential sums;
//   - an atom whose element is unknown is an error naming the file, atom and residue.
#pragma once

#include "model/structure.hpp"

#include <string>
#include <vector>

namespace tomosweep {

/// Choices when reading a structure (all optional).
struct StructureReadOptions {
  std::string assembly; ///< biological assembly to build (REMARK 350 / pdbx_struct_assembly id); "" = as deposited
};

/// What read_structure saw and did, for `tomosweep structure` and logs.
struct StructureReadInfo {
  int models = 0;                 ///< models in the file; only the first is used
  int waters_dropped = 0;         ///< water atoms left out
  int altloc_atoms_dropped = 0;   ///< atoms of lower-occupancy alternate conformations left out
  int explicit_h = 0;             ///< hydrogen atoms read from the file
  long implicit_h = 0;            ///< hydrogens added onto heavy atoms
  int pseudo_residues = 0;        ///< C-alpha-only / P-only residues turned into one pseudo-atom each
  std::vector<std::string> notes; ///< one line each, for the user
};

/// Read a PDB or mmCIF file (optionally .gz; format detected from content). Throws IoError "PATH: reason"
/// for a missing, unreadable or malformed file, "PATH: no atoms" when nothing is left.
AtomicStructure read_structure(const std::string& path, StructureReadInfo* info = nullptr);
/// The same with options: e.g. assembly "1" builds biological assembly 1 from the file's operators.
AtomicStructure read_structure(const std::string& path, const StructureReadOptions& options,
                               StructureReadInfo* info = nullptr);

/// Path of a file source relative to the sweep file's folder (absolute paths unchanged).
std::string resolve_structure_path(const std::string& source, const std::string& base_dir);

/// Every source of a sweep: "synthetic:..." from model's make_synthetic, "pdb:XXXX" through fetch_pdb
/// (io/fetch.hpp), anything else a file path relative to base_dir. A file or pdb: source may end in
/// "?assembly=ID" to build that biological assembly. Keys are the source strings as written.
StructureSet load_structures(const std::vector<std::string>& sources, const std::string& base_dir);

} // namespace tomosweep

// An atomic model as plain values: what io/ reads from PDB/mmCIF and model/ synthesises.
#pragma once

#include "core/geometry.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tomosweep {

struct Atom {
  Vec3 pos_A;                  ///< position, Angstrom, in the file's frame
  std::uint8_t z = 6;          ///< atomic number (1..118)
  std::uint8_t implicit_h = 0; ///< hydrogens not in the file, counted onto this heavy atom
  float occupancy = 1.0f;
  float b_iso_A2 = 0.0f;   ///< isotropic B-factor, Angstrom^2
  std::uint16_t chain = 0; ///< index into AtomicStructure::chains
  int residue = 0;         ///< residue sequence number
};

struct AtomicStructure {
  std::string name;                ///< short name (file stem, or synthetic description)
  std::string source;              ///< what the user wrote: a path, "synthetic:...", "pdb:1ABC"
  std::vector<std::string> chains; ///< chain names
  std::vector<Atom> atoms;
  bool synthetic = false;
};

/// Structures by the `source` string the sweep file names them with (loaded by io/ or synthesised).
using StructureSet = std::map<std::string, AtomicStructure>;

} // namespace tomosweep

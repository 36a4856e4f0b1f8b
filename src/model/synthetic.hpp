// Synthetic pseudo-atomic structures, made deterministically so that tomosweep needs no downloads.
// They are stand-ins, not real proteins: blobby multi-domain bodies filled with C/N/O/S (and P for RNA)
// heavy atoms with implicit hydrogens at protein density 1.35 g/cm3, with chains and residue numbers so that
// class splits by chain or residue range work. See docs/model.md for the list.
#pragma once

#include "model/structure.hpp"

#include <string>

namespace tomosweep {

/// True if `source` names a synthetic structure ("synthetic:...").
bool is_synthetic(const std::string& source);

/// Make the structure named by `spec`, e.g. "synthetic:globular?mass_kDa=500", "synthetic:ribosome",
/// "synthetic:actin-subunit". The random stream is seeded from a hash of the whole spec string.
/// Throws a one-line error naming the spec if the kind or a parameter is unknown.
AtomicStructure make_synthetic(const std::string& spec);

} // namespace tomosweep

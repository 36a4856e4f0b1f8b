// The structure set of a sweep: files, synthetic structures and fetched PDB entries, by source string.
#include "core/errors.hpp"
#include "io/fetch.hpp"
#include "io/structure_file.hpp"
#include "model/synthetic.hpp"

namespace tomosweep {

StructureSet load_structures(const std::vector<std::string>& sources, const std::string& base_dir) {
  StructureSet set;
  for (const std::string& source : sources) {
    if (set.count(source)) continue;
    AtomicStructure s;
    if (is_synthetic(source)) {
      s = make_synthetic(source);
    } else if (is_pdb_source(source)) {
      s = read_structure(fetch_pdb(source));
      s.name = source.substr(4);
    } else {
      if (source.empty()) fail_io("empty structure source");
      s = read_structure(resolve_structure_path(source, base_dir));
    }
    s.source = source;
    set.emplace(source, std::move(s));
  }
  return set;
}

} // namespace tomosweep

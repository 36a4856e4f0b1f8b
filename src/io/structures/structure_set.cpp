// The structure set of a sweep: files, synthetic structures and fetched PDB entries, by source string.
#include "core/errors.hpp"
#include "io/structures/fetch.hpp"
#include "io/structures/structure_file.hpp"
#include "model/synthetic.hpp"

#include <utility>

namespace tomosweep {
namespace {

// "path?assembly=1" -> ("path", options); the only option so far is assembly.
std::pair<std::string, StructureReadOptions> split_options(const std::string& source) {
  StructureReadOptions options;
  const auto q = source.find('?');
  if (q == std::string::npos) return {source, options};
  std::string rest = source.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string item = rest.substr(0, amp);
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "assembly" && !value.empty())
      options.assembly = value;
    else
      fail_io(source, ": unknown structure option '", item, "' (known: assembly=ID)");
  }
  return {source.substr(0, q), options};
}

} // namespace

StructureSet load_structures(const std::vector<std::string>& sources, const std::string& base_dir) {
  StructureSet set;
  for (const std::string& source : sources) {
    if (set.count(source)) continue;
    AtomicStructure s;
    if (is_synthetic(source)) {
      s = make_synthetic(source);
    } else {
      if (source.empty()) fail_io("empty structure source");
      const auto [plain, options] = split_options(source);
      if (is_pdb_source(plain)) {
        s = read_structure(fetch_pdb(plain), options);
        s.name = plain.substr(4);
      } else {
        s = read_structure(resolve_structure_path(plain, base_dir), options);
      }
      if (!options.assembly.empty()) s.name += "-assembly" + options.assembly;
    }
    s.source = source;
    set.emplace(source, std::move(s));
  }
  return set;
}

} // namespace tomosweep

#include "io/structures/describe.hpp"

#include "model/atoms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace tomosweep {

std::string describe_structure(const AtomicStructure& s, double pixel_A) {
  std::map<int, std::size_t> elements;
  std::vector<std::size_t> per_chain(s.chains.size());
  double mass_Da = 0, implicit_h = 0;
  Vec3 lo{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  Vec3 hi = -1 * lo;
  for (const Atom& a : s.atoms) {
    ++elements[a.z];
    if (a.chain < per_chain.size()) ++per_chain[a.chain];
    mass_Da += atom_mass_Da(a);
    implicit_h += a.implicit_h;
    lo = {std::min(lo.x, a.pos_A.x), std::min(lo.y, a.pos_A.y), std::min(lo.z, a.pos_A.z)};
    hi = {std::max(hi.x, a.pos_A.x), std::max(hi.y, a.pos_A.y), std::max(hi.z, a.pos_A.z)};
  }
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("%s\n", s.source.c_str());
  if (s.synthetic) out += "  synthetic     yes (made by tomosweep, not an experimental model)\n";
  add("  atoms         %zu (plus %.0f implicit hydrogens)\n", s.atoms.size(), implicit_h);
  add("  mass          %.1f kDa\n", mass_Da / 1000);
  out += "  elements     ";
  for (auto [z, n] : elements) add(" %s:%zu", element_symbol(z), n);
  out += "\n  chains       ";
  for (std::size_t i = 0; i < s.chains.size(); ++i) add(" %s:%zu", s.chains[i].c_str(), per_chain[i]);
  out += "\n";
  if (!s.atoms.empty()) {
    const Vec3 ext = hi - lo;
    add("  extent        %.1f x %.1f x %.1f A\n", ext.x, ext.y, ext.z);
    if (pixel_A > 0)
      add("  at %.2f A     %.0f x %.0f x %.0f voxels\n", pixel_A, std::ceil(ext.x / pixel_A),
          std::ceil(ext.y / pixel_A), std::ceil(ext.z / pixel_A));
  }
  return out;
}

} // namespace tomosweep

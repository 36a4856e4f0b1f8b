// PDB/mmCIF reading: the only file that includes gemmi's coordinate readers.
#include "io/structures/structure_file.hpp"

#include "core/errors.hpp"
#include "io/files/atomic_file.hpp"

#include <gemmi/assembly.hpp>
#include <gemmi/mmread.hpp>
#include <gemmi/resinfo.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sys/stat.h>

namespace tomosweep {
namespace {

constexpr double kWaterMass_Da = 18.015;
constexpr int kMaxImplicitHPerAtom = 3;

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
  return s;
}

std::string structure_name(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
  const auto dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}

bool is_polymer_residue(const gemmi::ResidueInfo& ri) { return ri.is_amino_acid() || ri.is_nucleic_acid(); }

// Hydrogens for a residue without explicit ones: round-robin over its C and N atoms (at most 3 each),
// and only what is left over goes to O and S atoms (one each).
long add_implicit_hydrogens(std::vector<Atom>& atoms, std::size_t first, int count) {
  long added = 0;
  auto give = [&](std::initializer_list<int> elements, int rounds) {
    for (int round = 0; round < rounds; ++round)
      for (std::size_t i = first; i < atoms.size(); ++i)
        if (count > 0 && std::find(elements.begin(), elements.end(), atoms[i].z) != elements.end()) {
          ++atoms[i].implicit_h;
          --count;
          ++added;
        }
  };
  give({6, 7}, kMaxImplicitHPerAtom);
  give({8, 16}, 1);
  return added;
}

// The altloc letter whose atoms have the highest summed occupancy over a group of residues sharing
// one sequence id (this also covers microheterogeneity); '\0' when there are no altlocs.
char best_altloc(const std::vector<const gemmi::Residue*>& group) {
  std::map<char, double> occ;
  for (const gemmi::Residue* r : group)
    for (const gemmi::Atom& a : r->atoms)
      if (a.altloc) occ[a.altloc] += a.occ;
  char best = '\0';
  double best_occ = -1;
  for (auto [alt, o] : occ) // std::map: ascending letters, so ties keep the first
    if (o > best_occ) best = alt, best_occ = o;
  return best;
}

struct Reader {
  const std::string& path;
  AtomicStructure& out;
  StructureReadInfo& info;
  std::map<std::string, std::uint16_t> chain_index;

  std::uint16_t chain_of(const std::string& name) {
    auto [it, added] = chain_index.emplace(name, static_cast<std::uint16_t>(out.chains.size()));
    if (added) out.chains.push_back(name);
    return it->second;
  }

  void residue(const gemmi::Residue& res, char alt, std::uint16_t chain) {
    if (res.is_water()) {
      info.waters_dropped += static_cast<int>(res.atoms.size());
      return;
    }
    const std::size_t first = out.atoms.size();
    bool has_h = false;
    std::string only;
    for (const gemmi::Atom& a : res.atoms) {
      if (a.altloc && a.altloc != alt) {
        ++info.altloc_atoms_dropped;
        continue;
      }
      const int z = a.element.atomic_number();
      if (a.element == gemmi::El::X || z < 1 || z > 118)
        fail_io(path, ": unknown element of atom '", a.name, "' in residue ", res.name, " ", res.seqid.str(),
                " of chain ", out.chains[chain]);
      if (!std::isfinite(a.pos.x) || !std::isfinite(a.pos.y) || !std::isfinite(a.pos.z))
        fail_io(path, ": atom '", a.name, "' in residue ", res.name, " ", res.seqid.str(), " has no coordinates");
      Atom t;
      t.pos_A = {a.pos.x, a.pos.y, a.pos.z};
      t.z = static_cast<std::uint8_t>(z);
      t.occupancy = a.altloc ? 1.0f : a.occ;
      t.b_iso_A2 = a.b_iso;
      t.chain = chain;
      t.residue = res.seqid.num.value;
      has_h = has_h || z == 1;
      info.explicit_h += z == 1;
      out.atoms.push_back(t);
      only = a.name;
    }
    const std::size_t n = out.atoms.size() - first;
    if (n == 0 || has_h) return;
    const gemmi::ResidueInfo ri = gemmi::find_tabulated_residue(res.name);
    const bool polymer = is_polymer_residue(ri);
    if (n == 1 && ((ri.is_amino_acid() && only == "CA") || (ri.is_nucleic_acid() && only == "P"))) {
      Atom& a = out.atoms[first];
      // C, N, O and S have Z = A / 2 and hydrogen Z = A, so a residue of mass M (Da) with h hydrogens
      // holds (M + h) / 2 electrons; in a chain it has lost one water.
      const double electrons = (ri.weight - kWaterMass_Da + (ri.hydrogen_count - 2)) / 2;
      a.implicit_h = static_cast<std::uint8_t>(std::clamp(std::lround(electrons) - a.z, 0L, 255L));
      ++info.pseudo_residues;
      return;
    }
    int count = 0;
    if (ri.found()) {
      count = ri.hydrogen_count - (polymer ? 2 : 0);
    } else {
      for (std::size_t i = first; i < out.atoms.size(); ++i) count += out.atoms[i].z == 6 || out.atoms[i].z == 7;
    }
    info.implicit_h += add_implicit_hydrogens(out.atoms, first, count);
  }
};

// The file's text, gunzipped when it starts with the gzip magic (whatever its name).
std::string file_text(const std::string& path) {
  std::string raw = read_file_bytes(path);
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b)
    return raw;
  std::string out;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) fail_io(path, ": cannot start gzip decompression");
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    // Concatenated gzip members (allowed by gzip) continue after a stream end.
    if (rc == Z_STREAM_END && zs.avail_in > 0) rc = inflateReset(&zs);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) fail_io(path, rc == Z_BUF_ERROR ? ": truncated gzip data" : ": corrupt gzip data");
  return out;
}

// gemmi builds an assembly by copying the first model once per operator and then indexes the copies on a
// grid of 4 A cells over their bounding box (merge_atoms_in_expanded_model). Non-finite coordinates or
// operators are undefined behaviour there, and a huge copy count or extent would exhaust memory: both are
// checked first, from the model's bounding box and the operators.
constexpr double kMaxAssemblyAtoms = 5e6;
constexpr double kMaxAssemblyCells = 301.0 * 301 * 301; // gemmi's grid over a 1200 A cube, about 650 MB

bool finite(const gemmi::Vec3& v) { return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z); }

/// The bounding box and count of the atoms an assembly generator copies (as gemmi's make_assembly selects them).
double generator_atoms(const std::string& path, const gemmi::Model& model, const gemmi::Assembly::Gen& gen,
                       gemmi::Box<gemmi::Position>& box) {
  double atoms = 0;
  const bool all_chains = !gen.chains.empty() && gen.chains[0] == "(all)";
  for (const gemmi::Chain& ch : model.chains) {
    const bool whole_chain = all_chains || gemmi::in_vector(ch.name, gen.chains);
    for (const gemmi::Residue& res : ch.residues) {
      if (!whole_chain && !gemmi::in_vector(res.subchain, gen.subchains)) continue;
      for (const gemmi::Atom& a : res.atoms) {
        if (!finite(a.pos))
          fail_io(path, ": atom '", a.name, "' in residue ", res.name, " ", res.seqid.str(), " has no coordinates");
        box.extend(a.pos);
        ++atoms;
      }
    }
  }
  return atoms;
}

void check_assembly(const std::string& path, gemmi::Structure& st, const std::string& name) {
  const gemmi::Assembly* assembly = st.find_assembly(name);
  if (!assembly || st.models.empty()) return; // gemmi names the assemblies there are
  gemmi::Box<gemmi::Position> box;
  double atoms = 0;
  for (const gemmi::Assembly::Gen& gen : assembly->generators) {
    gemmi::Box<gemmi::Position> gen_box;
    const double n = generator_atoms(path, st.models[0], gen, gen_box);
    for (const gemmi::Assembly::Operator& op : gen.operators) {
      const gemmi::Mat33& m = op.transform.mat;
      if (!finite(op.transform.vec) || !finite(m.row_copy(0)) || !finite(m.row_copy(1)) || !finite(m.row_copy(2)))
        fail_io(path, ": assembly '", name, "': operator '", op.name, "' is not finite");
      if (n == 0) continue;
      atoms += n;
      for (int corner = 0; corner < 8; ++corner) {
        const gemmi::Position c(corner & 1 ? gen_box.maximum.x : gen_box.minimum.x,
                                corner & 2 ? gen_box.maximum.y : gen_box.minimum.y,
                                corner & 4 ? gen_box.maximum.z : gen_box.minimum.z);
        box.extend(gemmi::Position(op.transform.apply(c)));
      }
    }
  }
  if (atoms == 0) fail_io(path, ": assembly '", name, "' has no atoms (its operators apply to no chain of the file)");
  if (atoms > kMaxAssemblyAtoms)
    fail_io(path, ": assembly '", name, "' has ", atoms, " atoms, more than the ", kMaxAssemblyAtoms,
            " tomosweep builds");
  const gemmi::Position size = box.get_size();
  if (!((size.x / 4 + 1) * (size.y / 4 + 1) * (size.z / 4 + 1) <= kMaxAssemblyCells))
    fail_io(path, ": assembly '", name, "' spans ", std::round(size.x), " x ", std::round(size.y), " x ",
            std::round(size.z), " A, more than tomosweep builds (the volume of a 1200 A cube)");
}

void check_readable(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) fail_io(errno_message(path));
  if (S_ISDIR(sb.st_mode)) fail_io(path, ": is a directory");
  if (sb.st_size == 0) fail_io(path, ": no atoms");
}

} // namespace

AtomicStructure read_structure(const std::string& path, StructureReadInfo* info_out) {
  return read_structure(path, StructureReadOptions{}, info_out);
}

AtomicStructure read_structure(const std::string& path, const StructureReadOptions& options,
                               StructureReadInfo* info_out) {
  check_readable(path);
  gemmi::Structure st;
  try {
    std::string text = file_text(path);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail_io(path, ": no atoms");
    st = gemmi::read_structure_from_char_array(text.data(), text.size(), path);
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    std::string msg = one_line(e.what());
    if (msg.rfind(path, 0) == 0) msg = msg.substr(path.size()); // gemmi sometimes starts with the path
    while (!msg.empty() && (msg[0] == ':' || msg[0] == ' ')) msg.erase(0, 1);
    fail_io(path, ": cannot read structure: ", msg);
  }
  StructureReadInfo info;
  info.models = static_cast<int>(st.models.size());
  if (!options.assembly.empty()) {
    if (st.models.size() > 1) st.models.erase(st.models.begin() + 1, st.models.end()); // first model only
    check_assembly(path, st, options.assembly);
    try {
      gemmi::transform_to_assembly(st, options.assembly, gemmi::HowToNameCopiedChain::AddNumber, nullptr);
    } catch (const std::exception& e) {
      fail_io(path, ": assembly '", options.assembly, "': ", one_line(e.what()));
    }
  }
  AtomicStructure out;
  out.name = structure_name(path);
  out.source = path;
  Reader reader{path, out, info, {}};
  if (!st.models.empty()) {
    for (const gemmi::Chain& ch : st.models[0].chains) {
      const std::uint16_t ci = reader.chain_of(ch.name);
      const auto& rs = ch.residues;
      for (std::size_t i = 0; i < rs.size();) {
        std::size_t j = i + 1;
        while (j < rs.size() && rs[j].seqid == rs[i].seqid) ++j;
        std::vector<const gemmi::Residue*> group;
        for (std::size_t k = i; k < j; ++k) group.push_back(&rs[k]);
        const char alt = best_altloc(group);
        for (const gemmi::Residue* r : group) reader.residue(*r, alt, ci);
        i = j;
      }
    }
  }
  if (out.atoms.empty()) fail_io(path, info.waters_dropped > 0 ? ": no atoms besides waters" : ": no atoms");
  if (info.models > 1) info.notes.push_back(path + ": " + std::to_string(info.models) + " models, using the first");
  if (info.waters_dropped > 0)
    info.notes.push_back(path + ": " + std::to_string(info.waters_dropped) +
                         " water atoms left out (ice is modelled separately)");
  if (info.altloc_atoms_dropped > 0)
    info.notes.push_back(path + ": " + std::to_string(info.altloc_atoms_dropped) +
                         " atoms of minor alternate conformations left out");
  if (info.pseudo_residues > 0)
    info.notes.push_back(path + ": " + std::to_string(info.pseudo_residues) +
                         " residues have only a c-alpha (or p) atom: each stands for its whole residue");
  if (info.implicit_h > 0)
    info.notes.push_back(path + ": " + std::to_string(info.implicit_h) + " implicit hydrogens added");
  if (info_out) *info_out = std::move(info);
  return out;
}

std::string resolve_structure_path(const std::string& source, const std::string& base_dir) {
  std::filesystem::path p(source);
  if (p.is_absolute() || base_dir.empty()) return source;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

} // namespace tomosweep

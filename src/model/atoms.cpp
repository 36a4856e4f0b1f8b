#include "model/atoms.hpp"

#include "core/errors.hpp"

#include <gemmi/c4322.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <unordered_map>

namespace tomosweep {
namespace {

// Standard atomic weights (IUPAC, rounded), Z = 1..103.
constexpr double kMass[104] = {
    0,      1.008,  4.003,  6.94,   9.012,  10.81,  12.011, 14.007, 15.999, 18.998, 20.180, 22.990, 24.305,
    26.982, 28.085, 30.974, 32.06,  35.45,  39.95,  39.098, 40.078, 44.956, 47.867, 50.942, 51.996, 54.938,
    55.845, 58.933, 58.693, 63.546, 65.38,  69.723, 72.630, 74.922, 78.971, 79.904, 83.798, 85.468, 87.62,
    88.906, 91.224, 92.906, 95.95,  98.0,   101.07, 102.91, 106.42, 107.87, 112.41, 114.82, 118.71, 121.76,
    127.60, 126.90, 131.29, 132.91, 137.33, 138.91, 140.12, 140.91, 144.24, 145.0,  150.36, 151.96, 157.25,
    158.93, 162.50, 164.93, 167.26, 168.93, 173.05, 174.97, 178.49, 180.95, 183.84, 186.21, 190.23, 192.22,
    195.08, 196.97, 200.59, 204.38, 207.2,  208.98, 209.0,  210.0,  222.0,  223.0,  226.0,  227.0,  232.04,
    231.04, 238.03, 237.0,  244.0,  243.0,  247.0,  247.0,  251.0,  252.0,  257.0,  258.0,  259.0,  262.0};

constexpr const char* kSymbol[104] = {
    "?",  "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",  "Cl",
    "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br",
    "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",
    "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
    "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
    "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr"};

} // namespace

double element_mass_Da(int z) { return z >= 1 && z <= 103 ? kMass[z] : 0.0; }
const char* element_symbol(int z) { return z >= 1 && z <= 103 ? kSymbol[z] : "?"; }

Vec3 structure_centre(const AtomicStructure& s) {
  double w = 0;
  Vec3 c;
  for (const Atom& a : s.atoms) {
    const double wa = atom_weight(a);
    c = c + wa * a.pos_A;
    w += wa;
  }
  return w > 0 ? (1.0 / w) * c : Vec3{};
}

double structure_mass_Da(const AtomicStructure& s) {
  double m = 0;
  for (const Atom& a : s.atoms) m += atom_mass_Da(a);
  return m;
}

void validate_structure(const AtomicStructure& s) {
  if (s.atoms.empty()) fail("structure '", s.source, "': no atoms");
  for (std::size_t i = 0; i < s.atoms.size(); ++i)
    if (element_mass_Da(s.atoms[i].z) == 0)
      fail("structure '", s.source, "': unknown element (atomic number ", int(s.atoms[i].z), ") at atom ", i + 1);
}

std::vector<bool> select_atoms(const AtomicStructure& s, const std::string& selection, const std::string& key) {
  std::vector<bool> mask(s.atoms.size(), true);
  if (selection.empty()) return mask;
  std::istringstream in(selection);
  std::string word;
  std::vector<bool> chain_ok(s.chains.size(), true);
  bool res_range = false;
  long lo = 0, hi = 0;
  auto bad = [&]() {
    fail(key, ": bad selection '", selection, "' (expected e.g. \"chain A\", \"chains A,B\", \"residues 1-300\")");
  };
  while (in >> word) {
    std::string arg;
    if (!(in >> arg)) bad();
    if (word == "chain" || word == "chains") {
      std::fill(chain_ok.begin(), chain_ok.end(), false);
      std::istringstream names(arg);
      std::string name;
      while (std::getline(names, name, ','))
        for (std::size_t c = 0; c < s.chains.size(); ++c)
          if (s.chains[c] == name) chain_ok[c] = true;
    } else if (word == "residues" || word == "residue") {
      const auto dash = arg.find('-', 1);
      try {
        lo = std::stol(arg.substr(0, dash));
        hi = dash == std::string::npos ? lo : std::stol(arg.substr(dash + 1));
      } catch (const std::exception&) {
        bad();
      }
      res_range = true;
    } else {
      bad();
    }
  }
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.atoms.size(); ++i) {
    const Atom& a = s.atoms[i];
    mask[i] =
        (a.chain < chain_ok.size() ? chain_ok[a.chain] : false) && (!res_range || (a.residue >= lo && a.residue <= hi));
    n += mask[i];
  }
  if (n == 0) fail(key, ": selection '", selection, "' matches no atoms of '", s.source, "'");
  return mask;
}

namespace {
/// f_e(0) of every element (Angstrom), looked up in gemmi's table once.
const std::array<double, 104>& f0_table() {
  static const std::array<double, 104> t = [] {
    std::array<double, 104> f{};
    for (int z = 1; z < 104; ++z) {
      const auto el = gemmi::El(static_cast<unsigned char>(z));
      if (!gemmi::C4322<double>::has(el)) continue;
      const auto& c = gemmi::C4322<double>::get(el);
      for (int i = 0; i < 5; ++i) f[z] += c.a(i);
    }
    return f;
  }();
  return t;
}

/// Form-factor weight per electron of residue pseudo-atoms: protein (ubiquitin's formula) and nucleic acid
/// (mean of AMP, GMP, CMP, UMP in a chain, each minus the water of its bond).
double pseudo_f0_per_electron(bool nucleic) {
  static const double protein = [] {
    const Formula f{378, 629, 105, 118, 0, 1};
    return formula_weight(f, PotentialMode::form_factor) / formula_electrons(f);
  }();
  static const double rna = [] {
    const Formula f{38, 47, 15, 28, 4, 0}; // C10H12N5O6P + C10H12N5O7P + C9H12N3O7P + C9H11N2O8P
    return formula_weight(f, PotentialMode::form_factor) / formula_electrons(f);
  }();
  return nucleic ? rna : protein;
}
} // namespace

double scattering_f0_A(int z) { return z >= 1 && z <= 103 ? f0_table()[z] : 0.0; }

double form_factor_b_A2(int z) {
  const auto el = gemmi::El(static_cast<unsigned char>(z));
  if (!gemmi::C4322<double>::has(el)) return 0;
  const auto& c = gemmi::C4322<double>::get(el);
  double f = 0, fb = 0;
  for (int i = 0; i < 5; ++i) f += c.a(i), fb += c.a(i) * c.b(i);
  return f > 0 ? fb / f : 0;
}

double atom_potential_weight(const Atom& a, PotentialMode mode) {
  if (mode == PotentialMode::fast) return atom_weight(a);
  if (is_residue_pseudo_atom(a)) return atom_weight(a) * pseudo_f0_per_electron(a.z == 15);
  const auto& f0 = f0_table();
  return (f0[a.z < 104 ? a.z : 0] + a.implicit_h * f0[1]) * double(a.occupancy);
}

double potential_volts_per_weight(PotentialMode mode) {
  return mode == PotentialMode::fast ? kVoltA3PerWeight : kVoltA2PerScatteringA;
}

double ice_potential_V(PotentialMode mode) {
  return potential_volts_per_weight(mode) * kIceMoleculesPerA3 * formula_weight({0, 2, 0, 1, 0, 0}, mode);
}

double protein_potential_V(const AtomicStructure& s, PotentialMode mode) {
  double w = 0;
  for (const Atom& a : s.atoms) w += atom_potential_weight(a, mode);
  const double mass = structure_mass_Da(s);
  return mass > 0 ? potential_volts_per_weight(mode) * w * kProteinDaPerA3 / mass : 0.0;
}

double formula_electrons(const Formula& f) { return 6 * f.c + f.h + 7 * f.n + 8 * f.o + 15 * f.p + 16 * f.s; }

double formula_weight(const Formula& f, PotentialMode mode) {
  if (mode == PotentialMode::fast) return formula_electrons(f);
  return f.c * scattering_f0_A(6) + f.h * scattering_f0_A(1) + f.n * scattering_f0_A(7) + f.o * scattering_f0_A(8) +
         f.p * scattering_f0_A(15) + f.s * scattering_f0_A(16);
}

std::vector<PseudoAtom> coarse_grain(const AtomicStructure& s, double cell_A, const std::vector<bool>& mask,
                                     PotentialMode mode) {
  const Vec3 c = structure_centre(s);
  struct Acc {
    Vec3 wpos;
    double w = 0, m = 0, wb = 0;
  };
  std::unordered_map<std::uint64_t, std::size_t> index;
  std::vector<Acc> acc;
  std::vector<std::uint64_t> keys;
  for (std::size_t i = 0; i < s.atoms.size(); ++i) {
    if (!mask.empty() && !mask[i]) continue;
    const Atom& a = s.atoms[i];
    const Vec3 p = a.pos_A - c;
    auto cell = [&](double v) { return std::uint64_t(std::int64_t(std::floor(v / cell_A)) + (1 << 20)); };
    const std::uint64_t key = (cell(p.z) << 42) | (cell(p.y) << 21) | cell(p.x);
    auto [it, added] = index.try_emplace(key, acc.size());
    if (added) {
      acc.emplace_back();
      keys.push_back(key);
    }
    Acc& q = acc[it->second];
    const double w = atom_potential_weight(a, mode);
    q.wpos = q.wpos + w * p;
    q.w += w;
    q.m += atom_mass_Da(a);
    q.wb += w * a.b_iso_A2;
  }
  // Sort by cell key so the order never depends on hashing.
  std::vector<std::size_t> order(acc.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  std::vector<PseudoAtom> out;
  out.reserve(acc.size());
  for (std::size_t i : order) {
    const Acc& q = acc[i];
    if (q.w <= 0) continue;
    out.push_back({(1.0 / q.w) * q.wpos, q.w, q.m / kProteinDaPerA3, q.wb / q.w});
  }
  return out;
}

} // namespace tomosweep

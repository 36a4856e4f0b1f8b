#include "model/synthetic.hpp"

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "core/rng.hpp"
#include "model/atoms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

namespace tomosweep {
namespace {

/// One blobby domain: an irregular ellipsoid of protein (or RNA) of given mass.
struct Domain {
  Vec3 centre_A;
  double mass_Da = 0;
  std::array<double, 3> aspect{1, 1, 1}; ///< relative semi-axes (x, y, z)
  int chain = 0;
  int res0 = 1, res1 = 100; ///< residue range of its atoms
  bool rna = false;
};

constexpr double kDaPerHeavyAtomProtein = 14.35; // C/N/O/S mix below with its implicit hydrogens
constexpr double kDaPerHeavyAtomRna = 15.8;

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

double radius_for_mass(double mass_Da) { return std::cbrt(3.0 * mass_Da / kProteinDaPerA3 / (4.0 * kPi)); }

Atom random_atom(Rng& rng, bool rna) {
  Atom a;
  const double u = rng.uniform(), v = rng.uniform();
  if (!rna) { // protein: C 63 %, N 17 %, O 19 %, S 1 %; about one H per heavy atom
    if (u < 0.63)
      a.z = 6, a.implicit_h = v < 0.3 ? 2 : 1;
    else if (u < 0.80)
      a.z = 7, a.implicit_h = 1;
    else if (u < 0.99)
      a.z = 8, a.implicit_h = v < 0.3 ? 1 : 0;
    else
      a.z = 16, a.implicit_h = 0;
  } else { // RNA: C 44 %, N 18 %, O 33 %, P 5 %
    if (u < 0.44)
      a.z = 6, a.implicit_h = 1;
    else if (u < 0.62)
      a.z = 7, a.implicit_h = v < 0.6 ? 1 : 0;
    else if (u < 0.95)
      a.z = 8, a.implicit_h = v < 0.2 ? 1 : 0;
    else
      a.z = 15, a.implicit_h = 0;
  }
  a.b_iso_A2 = float(20.0 + 20.0 * rng.uniform());
  return a;
}

/// A domain's shape: an ellipsoid of its mass at protein density, with a bumpy surface (+-12 %).
struct Shape {
  Vec3 centre;
  double ax = 0, ay = 0, az = 0;
  Vec3 bumps[3];

  Shape(const Domain& d, Rng& rng) : centre(d.centre_A) {
    const double r = radius_for_mass(d.mass_Da);
    const double norm = std::cbrt(d.aspect[0] * d.aspect[1] * d.aspect[2]);
    ax = r * d.aspect[0] / norm, ay = r * d.aspect[1] / norm, az = r * d.aspect[2] / norm;
    for (Vec3& b : bumps) b = Vec3{rng.normal(), rng.normal(), rng.normal()}.normalized();
  }
  /// Whether q (in units of the semi-axes, from the centre) is inside the bumpy surface.
  bool inside_unit(Vec3 q) const {
    const double rr = q.length();
    if (rr > 1.15) return false;
    double surface = 1.0;
    if (rr > 0)
      for (const Vec3& b : bumps) { // 0.04 cos(5 angle(q, b)), as the Chebyshev polynomial T5 of the cosine
        const double c = std::clamp(q.dot(b) / rr, -1.0, 1.0), c2 = c * c;
        surface += 0.04 * (c * (5.0 + c2 * (-20.0 + 16.0 * c2)));
      }
    return rr <= surface;
  }
  bool inside(Vec3 p) const {
    const Vec3 d = p - centre;
    return inside_unit({d.x / ax, d.y / ay, d.z / az});
  }
  /// A uniform random point inside (in the specimen frame).
  Vec3 sample(Rng& rng) const {
    for (;;) {
      const Vec3 q{rng.uniform(-1.15, 1.15), rng.uniform(-1.15, 1.15), rng.uniform(-1.15, 1.15)};
      if (inside_unit(q)) return centre + Vec3{ax * q.x, ay * q.y, az * q.z};
    }
  }
};

bool in_earlier(const std::vector<Shape>& shapes, std::size_t i, Vec3 p) {
  for (std::size_t j = 0; j < i; ++j)
    if (shapes[j].inside(p)) return true;
  return false;
}

/// Fill domain i with atoms at protein density, uniform inside its shape but not where an earlier domain
/// already is (overlapping domains would double the density there); residues ordered along x.
void fill_domain(const Domain& d, const std::vector<Shape>& shapes, std::size_t i, Rng& rng, AtomicStructure& s) {
  const long n = std::max(1L, std::lround(d.mass_Da / (d.rna ? kDaPerHeavyAtomRna : kDaPerHeavyAtomProtein)));
  std::vector<Atom> atoms;
  atoms.reserve(n);
  for (long k = 0; k < n; ++k) {
    const Vec3 p = shapes[i].sample(rng);
    if (in_earlier(shapes, i, p)) continue;
    Atom a = random_atom(rng, d.rna);
    a.pos_A = p;
    a.chain = std::uint16_t(d.chain);
    atoms.push_back(a);
  }
  std::sort(atoms.begin(), atoms.end(), [](const Atom& a, const Atom& b) { return a.pos_A.x < b.pos_A.x; });
  for (std::size_t k = 0; k < atoms.size(); ++k)
    atoms[k].residue = d.res0 + int(double(k) * (d.res1 - d.res0 + 1) / double(atoms.size()));
  s.atoms.insert(s.atoms.end(), atoms.begin(), atoms.end());
}

/// Scale a layout about the origin so that, with overlaps filled once, it still holds its total mass: the
/// overlapping fraction of the summed volume (sampled) is scale invariant, so the factor is (1 - f)^(-1/3).
void keep_mass_despite_overlaps(std::vector<Domain>& domains, Rng& rng) {
  std::vector<Shape> shapes;
  for (const Domain& d : domains) shapes.emplace_back(d, rng);
  constexpr int kSamples = 4000;
  double total = 0, lost = 0;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    int in = 0;
    for (int k = 0; k < kSamples; ++k) in += in_earlier(shapes, i, shapes[i].sample(rng));
    total += domains[i].mass_Da, lost += domains[i].mass_Da * in / kSamples;
  }
  const double s = std::cbrt(total / (total - lost));
  for (Domain& d : domains) d.centre_A = s * d.centre_A, d.mass_Da *= s * s * s;
}

std::string chain_name(int i) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string name(1, k[i % 52]);
  if (i >= 52) name += std::to_string(i / 52);
  return name;
}

/// A compact multi-domain globule: domains grown by a random walk, each touching the previous ones.
std::vector<Domain> globular(Rng& rng, double mass_Da, int domains, int chains) {
  std::vector<Domain> out;
  std::vector<double> masses(domains);
  double sum = 0;
  for (double& m : masses) sum += (m = 0.6 + 0.8 * rng.uniform());
  for (int i = 0; i < domains; ++i) {
    Domain d;
    d.mass_Da = mass_Da * masses[i] / sum;
    d.aspect = {0.8 + 0.4 * rng.uniform(), 0.8 + 0.4 * rng.uniform(), 0.8 + 0.4 * rng.uniform()};
    d.chain = i * chains / domains;
    d.res0 = 1 + 200 * (i - d.chain * domains / chains);
    d.res1 = d.res0 + 199;
    if (i > 0) { // attach to a random earlier domain, at 0.75 of the summed radii
      const Domain& p = out[rng.below(out.size())];
      const Vec3 dir = Vec3{rng.normal(), rng.normal(), rng.normal()}.normalized();
      d.centre_A = p.centre_A + 0.75 * (radius_for_mass(p.mass_Da) + radius_for_mass(d.mass_Da)) * dir;
    }
    out.push_back(d);
  }
  return out;
}

/// Domains on a ring of `n` at `radius_A` and height `z_A` in the xy plane.
void ring(std::vector<Domain>& out, int n, double radius_A, double z_A, double mass_Da, int chain0, int res0, int res1,
          double phase = 0) {
  for (int k = 0; k < n; ++k) {
    const double a = phase + 2 * kPi * k / n;
    out.push_back({{radius_A * std::cos(a), radius_A * std::sin(a), z_A}, mass_Da, {1, 1, 1}, chain0 + k, res0, res1});
  }
}

using Params = std::map<std::string, double>;

double param(Params& p, const std::string& key, double def) {
  auto it = p.find(key);
  if (it == p.end()) return def;
  const double v = it->second;
  p.erase(it);
  return v;
}

/// The key=number parameters of a spec's query ("a=1&b=2").
Params parse_params(const std::string& spec, const std::string& query) {
  Params params;
  for (std::size_t pos = 0; pos < query.size();) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string kv = query.substr(pos, amp - pos);
    const auto eq = kv.find('=');
    try {
      if (eq == std::string::npos) throw std::invalid_argument(kv);
      std::size_t used = 0;
      params[kv.substr(0, eq)] = std::stod(kv.substr(eq + 1), &used);
      if (used != kv.size() - eq - 1) throw std::invalid_argument(kv);
    } catch (const std::exception&) {
      fail("synthetic structure '", spec, "': bad parameter '", kv, "' (expected key=number)");
    }
    pos = amp + 1;
  }
  return params;
}

/// The domains of a synthetic structure and its number of chains.
struct Layout {
  std::vector<Domain> domains;
  int chains = 1;
};

/// Layout of a structure kind; takes the parameters it uses out of `params`.
Layout layout_of(const std::string& kind, const std::string& spec, Params& params, Rng& rng) {
  Layout out;
  if (kind == "globular") {
    const double mass = param(params, "mass_kDa", 500) * 1000;
    if (!(mass >= 1000 && mass <= 1e8)) fail("synthetic structure '", spec, "': mass_kDa must be in [1, 100000]");
    const int domains = int(param(params, "domains", std::clamp(std::round(mass / 120000.0), 1.0, 12.0)));
    out.chains = std::clamp(int(param(params, "chains", std::max(1, domains / 2))), 1, std::max(1, domains));
    out.domains = globular(rng, mass, std::max(1, domains), out.chains);
  } else if (kind == "ribosome") { // 80S-like: large subunit (chain L) and small subunit (chain S), 60 % RNA
    out.chains = 2;
    for (auto& x : globular(rng, 1.6e6, 6, 1)) x.rna = (rng.uniform() < 0.6), out.domains.push_back(x);
    for (auto x : globular(rng, 0.9e6, 4, 1)) {
      x.chain = 1, x.rna = (rng.uniform() < 0.6);
      x.centre_A = x.centre_A + Vec3{0, 0, 115};
      out.domains.push_back(x);
    }
  } else if (kind == "actin-subunit" || kind == "cofilactin-subunit") { // 42 kDa in four subdomains
    for (int k = 0; k < 4; ++k)
      out.domains.push_back({{0, 12.0 * ((k & 1) ? 1 : -1), 12.0 * ((k & 2) ? 1 : -1)},
                             10.5e3,
                             {0.8, 1.1, 1.1},
                             0,
                             1 + 94 * k,
                             94 + 94 * k});
    if (kind == "cofilactin-subunit") { // cofilin (19 kDa, chain B) bound on the outside
      out.domains.push_back({{28, 0, 6}, 19e3, {0.9, 1, 1.1}, 1, 1, 166});
      out.chains = 2;
    }
  } else if (kind == "cofilin") {
    out.domains.push_back({{0, 0, 0}, 19e3, {0.9, 1, 1.1}, 0, 1, 166});
  } else if (kind == "tubulin-dimer") { // alpha (chain A) and beta (chain B) along z: 80 A long
    out.domains.push_back({{0, 0, -20}, 50e3, {1.0, 1.05, 0.75}, 0, 1, 450});
    out.domains.push_back({{0, 0, 20}, 50e3, {1.0, 1.05, 0.75}, 1, 1, 445});
    out.chains = 2;
  } else if (kind == "tric") { // chaperonin: two stacked rings of 8 (chains A..P), 160 A tall barrel
    ring(out.domains, 8, 62, -38, 60e3, 0, 1, 550);
    ring(out.domains, 8, 62, 38, 60e3, 8, 1, 550, kPi / 8);
    out.chains = 16;
  } else if (kind == "camkii") { // 12 chains: kinase domain (residues 1-300) + hub domain (340-478)
    out.chains = 12;
    for (int k = 0; k < 12; ++k) {
      const double a = 2 * kPi * (k % 6) / 6 + (k < 6 ? 0 : kPi / 6), z = k < 6 ? -20 : 20;
      out.domains.push_back({{45 * std::cos(a), 45 * std::sin(a), z}, 15e3, {1, 1, 1}, k, 340, 478});
      out.domains.push_back({{95 * std::cos(a), 95 * std::sin(a), 2.6 * z}, 33e3, {1, 1, 1}, k, 1, 300});
    }
  } else if (kind == "channel") { // membrane protein: transmembrane barrel at z = 0 (chains A-D), soluble cap above
    const double mass = param(params, "mass_kDa", 250) * 1000;
    out.chains = 4;
    ring(out.domains, 4, 16, 0, 0.15 * mass, 0, 1, 120);
    for (Domain& x : out.domains) x.aspect = {0.8, 0.8, 1.6};
    ring(out.domains, 4, 22, 48, 0.1 * mass, 0, 121, 400, kPi / 4);
  } else {
    fail("unknown synthetic structure '", spec,
         "' (known: globular, ribosome, actin-subunit, cofilin, cofilactin-subunit, tubulin-dimer, tric, camkii, "
         "channel)");
  }
  return out;
}

} // namespace

bool is_synthetic(const std::string& source) { return source.rfind("synthetic:", 0) == 0; }

AtomicStructure make_synthetic(const std::string& spec) {
  if (!is_synthetic(spec)) fail("not a synthetic structure: '", spec, "'");
  std::string body = spec.substr(10), kind = body, query;
  if (auto q = body.find('?'); q != std::string::npos) kind = body.substr(0, q), query = body.substr(q + 1);
  Params params = parse_params(spec, query);
  Rng rng(fnv1a(spec), Purpose::structure, 0);
  const Layout layout = layout_of(kind, spec, params, rng);
  if (!params.empty()) fail("synthetic structure '", spec, "': unknown parameter '", params.begin()->first, "'");

  AtomicStructure s;
  s.name = kind;
  s.source = spec;
  s.synthetic = true;
  for (int c = 0; c < layout.chains; ++c) s.chains.push_back(kind == "ribosome" ? (c ? "S" : "L") : chain_name(c));
  std::vector<Domain> domains = layout.domains;
  keep_mass_despite_overlaps(domains, rng);
  std::vector<Shape> shapes;
  for (const Domain& d : domains) shapes.emplace_back(d, rng);
  for (std::size_t i = 0; i < domains.size(); ++i) fill_domain(domains[i], shapes, i, rng, s);
  return s;
}

} // namespace tomosweep

#include "model/packing.hpp"

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "core/simd.hpp"
#include "model/atoms.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(TOMOSWEEP_X86_KERNELS)
#include <immintrin.h>
#endif

namespace tomosweep {

namespace {
std::vector<double> blocks_of_4(const std::vector<Vec3>& p) {
  std::vector<double> out(12 * ((p.size() + 3) / 4));
  for (std::size_t i = 0; i < out.size() / 3; ++i) {
    const Vec3& a = p[std::min(i, p.size() - 1)];
    double* b = &out[12 * (i / 4) + i % 4];
    b[0] = a.x, b[4] = a.y, b[8] = a.z;
  }
  return out;
}
} // namespace

CollisionShape make_collision_shape(const AtomicStructure& s) {
  CollisionShape c;
  c.centre_A = structure_centre(s);
  auto cell = [](Vec3 p) {
    return std::array<long, 3>{long(std::floor(p.x / kCollisionPoint_A)), long(std::floor(p.y / kCollisionPoint_A)),
                               long(std::floor(p.z / kCollisionPoint_A))};
  };
  std::vector<std::array<long, 3>> cells; // the occupied point cells, sorted
  for (const PseudoAtom& a : coarse_grain(s, kCollisionPoint_A)) {
    c.points.push_back(a.pos_A);
    cells.push_back(cell(a.pos_A));
    c.volume_A3 += a.volume_A3;
    c.radius_A = std::max(c.radius_A, a.pos_A.length());
  }
  c.radius_A += kCollisionPoint_A;
  std::sort(cells.begin(), cells.end());
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  // Deterministic shuffle (a fixed stream): spread-out points first make rejections fast.
  Rng rng(0, Purpose::structure, c.points.size());
  for (std::size_t i = c.points.size(); i > 1; --i) std::swap(c.points[i - 1], c.points[rng.below(i)]);
  // Interior points (all 6 face neighbours occupied) matter only when a small particle could be swallowed
  // whole; a quarter of them is enough for that, the surface decides every other overlap.
  std::size_t interior = 0;
  for (const Vec3& p : c.points) {
    const auto k = cell(p);
    bool inside = true;
    for (int a = 0; a < 3 && inside; ++a)
      for (int d : {-1, 1}) {
        auto nb = k;
        nb[a] += d;
        inside = inside && std::binary_search(cells.begin(), cells.end(), nb);
      }
    if (!inside || interior++ % 4 == 0) c.test_points.push_back(p);
  }
  // Marking sets every point's cell, in any order: in the order of the grid's memory (z, y, x cells of the
  // structure's frame, which a rotation keeps mostly together) most of a particle's cells share cache lines.
  // (Distinct points have distinct keys, so the order is the one sort order of the keys.)
  using Key = std::array<double, 6>;
  std::vector<std::pair<Key, Vec3>> keyed;
  keyed.reserve(c.points.size());
  const auto q = [](double v) { return double(long(std::floor(v / kCollisionCell_A))); };
  for (const Vec3& p : c.points) {
    keyed.push_back({Key{q(p.z), q(p.y), q(p.x), p.z, p.y, p.x}, p});
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < keyed.size(); ++i) c.points[i] = keyed[i].second;
  c.points4 = blocks_of_4(c.points);
  c.test_points4 = blocks_of_4(c.test_points);
  return c;
}

CollisionGrid::CollisionGrid(std::array<double, 3> box, std::array<std::array<bool, 2>, 3> walls)
    : box_A(box), walls_(walls) {
  for (int a = 0; a < 3; ++a) n_[a] = std::max(1, int(std::ceil(box[a] / kCollisionCell_A)));
  nb_[0] = (n_[0] + 7) / 8;
  nb_[1] = (n_[1] + 7) / 8;
  nb_[2] = (n_[2] + 3) / 4;
  bricks_.assign(std::size_t(nb_[0] * nb_[1] * nb_[2]), Brick{});
}

// Collision points are 5 A centroids: keep them this far from a walled face so atoms stay inside.
constexpr double kWallMargin_A = 2.5;

double CollisionGrid::occupied_fraction() const {
  std::size_t n = 0;
  for (const Brick& b : bricks_)
    for (int z = 0; z < 4; ++z) n += std::size_t(__builtin_popcountll(b.w[z] | b.w[z + 4]));
  return double(n) / (double(n_[0]) * n_[1] * n_[2]);
}

bool CollisionGrid::inside_walls(Vec3 p, double margin_A) const {
  const double q[3] = {p.x, p.y, p.z};
  for (int a = 0; a < 3; ++a) {
    if (walls_[a][0] && q[a] - margin_A < -0.5 * box_A[a]) return false;
    if (walls_[a][1] && q[a] + margin_A > 0.5 * box_A[a]) return false;
  }
  return true;
}

bool CollisionGrid::operator==(const CollisionGrid& o) const {
  return box_A == o.box_A && walls_ == o.walls_ && bricks_.size() == o.bricks_.size() &&
         std::memcmp(bricks_.data(), o.bricks_.data(), bricks_.size() * sizeof(Brick)) == 0;
}

bool CollisionGrid::vectors(Kernel k) const {
#if defined(TOMOSWEEP_X86_KERNELS)
  // the vector code numbers bricks in 32 bits
  return cpu_has_avx2() && k == Kernel::best && bricks_.size() <= std::size_t(std::numeric_limits<std::int32_t>::max());
#else
  (void)k;
  return false;
#endif
}

bool CollisionGrid::fits(const CollisionShape& s, const Mat3& r, Vec3 pos, bool ignore_membrane, Kernel k) const {
  const double off[3] = {pos.x + 0.5 * box_A[0], pos.y + 0.5 * box_A[1], pos.z + 0.5 * box_A[2]};
  double lo[3], hi[3]; // allowed range of q per axis (walls), in box coordinates
  for (int a = 0; a < 3; ++a) {
    lo[a] = walls_[a][0] ? kWallMargin_A : -1e300;
    hi[a] = walls_[a][1] ? box_A[a] - kWallMargin_A : 1e300;
  }
  if (vectors(k)) return fits_avx2(s, r, off, lo, hi, ignore_membrane);
  for (const Vec3& a : s.test_points) {
    const std::array<double, 3> q = place(r, a, off);
    for (int ax = 0; ax < 3; ++ax)
      if (q[ax] < lo[ax] || q[ax] > hi[ax]) return false;
    const long idx = cell(q);
    if (idx < 0) continue;
    const std::uint64_t* w = word(idx); // solid, and membrane 4 words on: one cache line
    if (((w[0] | (ignore_membrane ? 0 : w[4])) >> (idx & 63)) & 1) return false;
  }
  return true;
}

void CollisionGrid::mark(const CollisionShape& s, const Mat3& r, Vec3 pos, Kernel k) {
  const double off[3] = {pos.x + 0.5 * box_A[0], pos.y + 0.5 * box_A[1], pos.z + 0.5 * box_A[2]};
  if (vectors(k)) return mark_avx2(s, r, off);
  for (const Vec3& a : s.points) {
    const long idx = cell(place(r, a, off));
    if (idx >= 0) set(false, idx);
  }
}

#if defined(TOMOSWEEP_X86_KERNELS)
namespace {
/// place() and cell() for the 4 points of block b: their box coordinates q (each rounded as place() rounds
/// them: no fused multiply-add), which lanes fall in the box, and for those the brick, word and bit of
/// position().
struct Cells4 {
  __m256d q[3];
  int in_box; ///< lane mask
  alignas(16) std::int32_t brick[4], word[4], bit[4];
};

[[gnu::target("avx2")]] inline void cells4(const double* b, const Mat3& r, const double off[3], const int n[3],
                                           const long nb[3], Cells4& c) {
  const __m256d x = _mm256_loadu_pd(b), y = _mm256_loadu_pd(b + 4), z = _mm256_loadu_pd(b + 8);
  const __m256d inv = _mm256_set1_pd(1.0 / kCollisionCell_A), zero = _mm256_setzero_pd();
  __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  __m128i i[3];
  for (int k = 0; k < 3; ++k) {
    const __m256d s = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(r(k, 0)), x),
                                                  _mm256_mul_pd(_mm256_set1_pd(r(k, 1)), y)),
                                    _mm256_mul_pd(_mm256_set1_pd(r(k, 2)), z));
    c.q[k] = _mm256_add_pd(s, _mm256_set1_pd(off[k]));
    const __m256d v = _mm256_mul_pd(c.q[k], inv);
    // cell(): q >= 0 and long(v) < n, i.e. v < n
    ok = _mm256_and_pd(ok, _mm256_and_pd(_mm256_cmp_pd(c.q[k], zero, _CMP_GE_OQ),
                                         _mm256_cmp_pd(v, _mm256_set1_pd(double(n[k])), _CMP_LT_OQ)));
    i[k] = _mm256_cvttpd_epi32(v);
  }
  c.in_box = _mm256_movemask_pd(ok);
  const __m128i seven = _mm_set1_epi32(7), three = _mm_set1_epi32(3);
  const __m128i brick = _mm_add_epi32(
      _mm_mullo_epi32(_mm_add_epi32(_mm_mullo_epi32(_mm_srai_epi32(i[2], 2), _mm_set1_epi32(std::int32_t(nb[1]))),
                                    _mm_srai_epi32(i[1], 3)),
                      _mm_set1_epi32(std::int32_t(nb[0]))),
      _mm_srai_epi32(i[0], 3));
  _mm_store_si128(reinterpret_cast<__m128i*>(c.brick), brick);
  _mm_store_si128(reinterpret_cast<__m128i*>(c.word), _mm_and_si128(i[2], three));
  _mm_store_si128(reinterpret_cast<__m128i*>(c.bit),
                  _mm_or_si128(_mm_slli_epi32(_mm_and_si128(i[1], seven), 3), _mm_and_si128(i[0], seven)));
}
} // namespace

[[gnu::target("avx2")]] bool CollisionGrid::fits_avx2(const CollisionShape& s, const Mat3& r, const double off[3],
                                                     const double lo[3], const double hi[3],
                                                     bool ignore_membrane) const {
  const int membrane = ignore_membrane ? 0 : 4;
  Cells4 c;
  for (std::size_t b = 0; b < s.test_points4.size(); b += 12) {
    cells4(&s.test_points4[b], r, off, n_, nb_, c);
    __m256d out = _mm256_setzero_pd();
    for (int k = 0; k < 3; ++k)
      out = _mm256_or_pd(out, _mm256_or_pd(_mm256_cmp_pd(c.q[k], _mm256_set1_pd(lo[k]), _CMP_LT_OQ),
                                           _mm256_cmp_pd(c.q[k], _mm256_set1_pd(hi[k]), _CMP_GT_OQ)));
    if (_mm256_movemask_pd(out)) return false;
    for (int l = 0; l < 4; ++l) {
      if (!((c.in_box >> l) & 1)) continue;
      const std::uint64_t* w = &bricks_[std::size_t(c.brick[l])].w[c.word[l]];
      if (((w[0] | w[membrane]) >> c.bit[l]) & 1) return false;
    }
  }
  return true;
}

[[gnu::target("avx2")]] void CollisionGrid::mark_avx2(const CollisionShape& s, const Mat3& r, const double off[3]) {
  Cells4 c;
  for (std::size_t b = 0; b < s.points4.size(); b += 12) {
    cells4(&s.points4[b], r, off, n_, nb_, c);
    for (int l = 0; l < 4; ++l)
      if ((c.in_box >> l) & 1) bricks_[std::size_t(c.brick[l])].w[c.word[l]] |= std::uint64_t(1) << c.bit[l];
  }
}
#else
bool CollisionGrid::fits_avx2(const CollisionShape&, const Mat3&, const double*, const double*, const double*,
                              bool) const {
  return false;
}
void CollisionGrid::mark_avx2(const CollisionShape&, const Mat3&, const double*) {}
#endif

namespace {

Mat3 rot_z(double a) { return axis_angle({0, 0, 1}, a); }

/// Rotation taking +z to unit vector n.
Mat3 align_z_to(Vec3 n) {
  const Vec3 z{0, 0, 1};
  const Vec3 ax = z.cross(n);
  const double s = ax.length();
  if (s < 1e-12) return n.z > 0 ? Mat3{} : axis_angle({1, 0, 0}, kPi);
  return axis_angle((1.0 / s) * ax, std::atan2(s, n.z));
}

struct Piece {
  std::string source;
  const CollisionShape* shape = nullptr;
  Vec3 pos;
  Mat3 rot;
  std::vector<std::pair<int, std::string>> parts; // (label, selection)
  bool membrane = false;
};

class Packer {
public:
  Packer(const ModelParams& p, const StructureSet& st, CollisionGrid& g, Rng& rng, Scene& sc)
      : p_(p), st_(st), grid_(g), rng_(rng), scene_(sc) {
    for (const ClassInfo& c : sc.classes) labels_[c.name] = c.label;
  }

  void fill(const Layer& layer, std::size_t layer_index) {
    const double box_vol = p_.box_A[0] * p_.box_A[1] * p_.box_A[2];
    volume_ = 0;
    place_counted(layer, layer_index);
    double total_w = 0;
    for (const ParticleSpec& s : layer.particles)
      if (s.count_min < 0) total_w += s.weight;
    for (long long attempt = 0; attempt < layer.max_attempts && volume_ < layer.max_density * box_vol; ++attempt) {
      if (total_w <= 0) break;
      double u = rng_.uniform() * total_w;
      const ParticleSpec* spec = nullptr;
      for (const ParticleSpec& s : layer.particles) {
        if (s.count_min >= 0) continue;
        spec = &s;
        if ((u -= s.weight) < 0) break;
      }
      budget_ = layer.max_density * box_vol - volume_;
      place(*spec);
    }
    scene_.layer_density.push_back(volume_ / box_vol);
  }

private:
  const CollisionShape& shape(const std::string& source) {
    auto it = shapes_.find(source);
    if (it != shapes_.end()) return it->second;
    auto st = st_.find(source);
    if (st == st_.end()) fail("structure '", source, "' was not loaded");
    return shapes_.emplace(source, make_collision_shape(st->second)).first->second;
  }
  int label(const std::string& name) const { return labels_.at(name); }
  std::vector<std::pair<int, std::string>> parts(const ParticleSpec& s) const {
    std::vector<std::pair<int, std::string>> out;
    if (s.classes.empty()) out.emplace_back(label(s.class_name.empty() ? source_stem(s.source) : s.class_name), "");
    for (const ClassSplit& c : s.classes) out.emplace_back(label(c.class_name), c.selection);
    return out;
  }
  Vec3 random_point() {
    return {rng_.uniform(-0.5, 0.5) * p_.box_A[0], rng_.uniform(-0.5, 0.5) * p_.box_A[1],
            rng_.uniform(-0.5, 0.5) * p_.box_A[2]};
  }
  Mat3 random_rotation() {
    const double u1 = rng_.uniform(), u2 = rng_.uniform(), u3 = rng_.uniform();
    return uniform_rotation(u1, u2, u3);
  }
  Vec3 random_direction() { return Vec3{rng_.normal(), rng_.normal(), rng_.normal()}.normalized(); }
  /// A unit vector uniform on the spherical cap within spread_deg of `axis` (cosine of the angle to the axis
  /// uniform in [cos spread, 1], azimuth uniform), or uniformly random when `axis` is all zero.
  Vec3 direction_near(const std::array<double, 3>& axis, double spread_deg) {
    const Vec3 a{axis[0], axis[1], axis[2]};
    if (a.length() == 0) return random_direction();
    const double c = 1 - rng_.uniform() * (1 - std::cos(spread_deg * kDegToRad));
    const double sn = std::sqrt(std::max(0.0, 1 - c * c)), phi = 2 * kPi * rng_.uniform();
    return align_z_to(a.normalized()) * Vec3{sn * std::cos(phi), sn * std::sin(phi), c};
  }
  /// Orientation of a single particle: uniform, or its z axis near orientation_axis with a uniform spin.
  Mat3 single_rotation(const ParticleSpec& s) {
    const auto& a = s.orientation_axis;
    if (a[0] == 0 && a[1] == 0 && a[2] == 0) return random_rotation();
    const Mat3 tilt = align_z_to(direction_near(a, s.orientation_spread_deg));
    return tilt * rot_z(2 * kPi * rng_.uniform());
  }
  bool region_ok(const ParticleSpec& s, Vec3 pos) const {
    if (s.region == "any") return true;
    bool inside = false;
    for (const Vesicle& v : scene_.vesicles) inside = inside || v.signed_distance(pos) < 0;
    return inside == (s.region == "inside");
  }
  bool fits(const Piece& q) const { return grid_.fits(*q.shape, q.rot, q.pos, q.membrane); }

  void commit(const std::vector<Piece>& unit, Vec3 direction = {}) {
    const std::uint32_t group = std::uint32_t(scene_.particles.size() + 1);
    for (const Piece& q : unit) {
      grid_.mark(*q.shape, q.rot, q.pos);
      volume_ += q.shape->volume_A3;
      for (const auto& [lab, sel] : q.parts) {
        PlacedParticle pp;
        pp.instance = std::uint32_t(scene_.particles.size() + 1);
        pp.label = lab;
        pp.source = q.source;
        pp.position_A = q.pos;
        pp.rotation = q.rot;
        pp.selection = sel;
        pp.group = group;
        pp.direction = direction;
        scene_.particles.push_back(pp);
      }
    }
  }

  /// Entries with a count, in file order: the count drawn per scene, each unit tried up to the layer's
  /// max_attempts times in all; fewer placed is an error naming the entry. Their volume counts toward the layer's
  /// density; filaments grow without the density budget.
  void place_counted(const Layer& layer, std::size_t layer_index) {
    for (std::size_t i = 0; i < layer.particles.size(); ++i) {
      const ParticleSpec& s = layer.particles[i];
      if (s.count_min < 0) continue;
      const long long want = s.count_min + (long long)rng_.below(std::uint64_t(s.count_max - s.count_min + 1));
      long long placed = 0, attempts = 0;
      budget_ = std::numeric_limits<double>::infinity();
      for (; placed < want && attempts < layer.max_attempts; ++attempts) {
        const std::size_t before = scene_.particles.size();
        place(s);
        placed += scene_.particles.size() > before;
      }
      if (placed < want)
        fail("model.layer[", layer_index, "].particles[", i, "] (", s.source, "): count ", want, " asked, ", placed,
             " placed in ", attempts, " attempts (the scene is full: lower the count, shrink the other layers or "
             "raise max_attempts)");
    }
  }

  Piece piece(const ParticleSpec& s, Vec3 pos, Mat3 rot) {
    return {s.source, &shape(s.source), pos, rot, parts(s), false};
  }

  void place(const ParticleSpec& s) {
    if (s.scheme == "single") return place_single(s);
    if (s.scheme == "membrane") return place_membrane(s);
    if (s.scheme == "cluster") return place_cluster(s);
    if (s.scheme == "filament") return place_filament(s, 1, false);
    if (s.scheme == "bundle")
      return place_filament(s, int(s.bundle_min + rng_.below(s.bundle_max - s.bundle_min + 1)), false);
    if (s.scheme == "assembly") {
      if (s.primary_scheme == "filament") return place_filament(s, 1, true);
      return place_single(s);
    }
    fail("unknown particle scheme '", s.scheme, "' for '", s.source, "'");
  }

  // Secondary members of an assembly around one primary unit at (pos, frame).
  void add_members(const ParticleSpec& s, Vec3 pos, const Mat3& frame, std::vector<Piece>& unit) {
    for (const AssemblyMember& m : s.members) {
      if (rng_.uniform() >= m.occupancy) continue;
      const Vec3 o{m.offset_A[0], m.offset_A[1], m.offset_A[2]};
      Piece q{m.source,
              &shape(m.source),
              pos + frame * o,
              m.random_rotation ? random_rotation() : frame,
              {{label(m.class_name.empty() ? source_stem(m.source) : m.class_name), ""}},
              false};
      if (fits(q)) unit.push_back(q);
    }
  }

  void place_single(const ParticleSpec& s) {
    Piece q = piece(s, random_point(), single_rotation(s));
    if (!region_ok(s, q.pos) || !fits(q)) return;
    std::vector<Piece> unit{q};
    if (s.scheme == "assembly") add_members(s, q.pos, q.rot, unit);
    commit(unit);
  }

  void place_membrane(const ParticleSpec& s) {
    if (scene_.vesicles.empty()) return;
    const Vesicle& v = scene_.vesicles[rng_.below(scene_.vesicles.size())];
    const Vec3 n = random_direction();
    const Vec3 surface = v.centre_A + v.radius_towards(n) * n;
    const Mat3 rot = align_z_to(n) * rot_z(2 * kPi * rng_.uniform());
    Piece q = piece(s, {}, rot);
    q.pos = surface - rot * Vec3{0, 0, s.membrane_z_A - q.shape->centre_A.z};
    q.membrane = true;
    if (fits(q)) commit({q});
  }

  void place_cluster(const ParticleSpec& s) {
    Piece seed = piece(s, random_point(), random_rotation());
    if (!region_ok(s, seed.pos) || !fits(seed)) return;
    commit({seed});
    const std::uint32_t group = scene_.particles.back().group;
    ParticleSpec sat = s;
    if (!s.satellite_source.empty()) sat.source = s.satellite_source, sat.class_name = "", sat.classes.clear();
    const double reach = s.cluster_radius_A > 0 ? s.cluster_radius_A : 3.0 * seed.shape->radius_A;
    const int n = int(s.cluster_min + rng_.below(s.cluster_max - s.cluster_min + 1));
    for (int k = 0, tries = 0; k < n && tries < 20 * n; ++tries) {
      Piece q = piece(sat, seed.pos + rng_.uniform(0.5, 1.0) * reach * random_direction(), random_rotation());
      if (!region_ok(s, q.pos) || !fits(q)) continue;
      const std::size_t first = scene_.particles.size();
      commit({q});
      for (std::size_t i = first; i < scene_.particles.size(); ++i) scene_.particles[i].group = group;
      ++k;
    }
  }

  /// Filaments (nfil > 1: a bundle of parallel filaments) grown step by step from a random start along a
  /// start axis (random, or near s.direction), bending by flexibility_deg per step (a random walk of the axis
  /// away from the start axis); growth stops at the first collision or wall.
  void place_filament(const ParticleSpec& s, int nfil, bool assembly) {
    const FilamentParams& f = s.filament;
    const CollisionShape& sub = shape(s.source);
    std::vector<Vec3> offsets; // bundle: hexagonal arrangement of axes in the frame's xy plane
    const double spacing = s.bundle_spacing_A > 0 ? s.bundle_spacing_A : 2 * (f.radius_A + sub.radius_A);
    for (int a = -3; a <= 3; ++a)
      for (int b = -3; b <= 3; ++b) offsets.push_back(spacing * Vec3{a + 0.5 * b, b * std::sqrt(0.75), 0});
    std::stable_sort(offsets.begin(), offsets.end(), [](Vec3 a, Vec3 b) { return a.length() < b.length(); });
    std::vector<double> phase(nfil);
    for (double& ph : phase) ph = 2 * kPi * rng_.uniform();

    Vec3 axis = random_point();
    Mat3 frame = align_z_to(direction_near(s.direction, s.direction_spread_deg)) * rot_z(2 * kPi * rng_.uniform());
    const Vec3 start_axis = frame * Vec3{0, 0, 1};
    const int pf = std::max(1, f.protofilaments);
    const int max_steps = int(f.max_length_A / f.rise_A);
    std::vector<Piece> unit;
    int steps = 0;
    double vol = 0;
    const double step_vol = sub.volume_A3 * pf * nfil;
    for (; steps < max_steps && vol + step_vol <= budget_ + step_vol; ++steps) {
      std::vector<Piece> step;
      for (int j = 0; j < nfil; ++j)
        for (int k = 0; k < pf; ++k) {
          const double ang = phase[j] + f.twist_deg * kDegToRad * steps + 2 * kPi * k / pf;
          const Mat3 local = rot_z(ang);
          Piece q = piece(s, axis + frame * (offsets[j] + local * Vec3{f.radius_A, 0, f.stagger_A * k}), frame * local);
          if (!fits(q)) goto done;
          step.push_back(q);
        }
      if (steps == 0 && !region_ok(s, step.front().pos)) return;
      unit.insert(unit.end(), step.begin(), step.end());
      if (assembly) add_members(s, axis, frame * rot_z(f.twist_deg * kDegToRad * steps), unit);
      vol += step_vol;
      axis = axis + f.rise_A * (frame * Vec3{0, 0, 1});
      if (f.flexibility_deg > 0) {
        const double psi = 2 * kPi * rng_.uniform();
        frame = frame * axis_angle({std::cos(psi), std::sin(psi), 0}, f.flexibility_deg * kDegToRad * rng_.normal());
      }
    }
  done:
    if (steps * f.rise_A < f.min_length_A || unit.empty()) return;
    commit(unit, start_axis);
  }

  const ModelParams& p_;
  const StructureSet& st_;
  CollisionGrid& grid_;
  Rng& rng_;
  Scene& scene_;
  std::map<std::string, int> labels_;
  std::map<std::string, CollisionShape> shapes_;
  double volume_ = 0, budget_ = 0;
};

} // namespace

void pack_layers(const ModelParams& p, const StructureSet& structures, CollisionGrid& grid, Rng& rng, Scene& scene) {
  Packer packer(p, structures, grid, rng, scene);
  for (std::size_t l = 0; l < p.layers.size(); ++l) packer.fill(p.layers[l], l);
}

} // namespace tomosweep

// Internal to src/model: the collision grid and the particle schemes used by build_scene.
#pragma once

#include "core/rng.hpp"
#include "model/scene.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tomosweep {

/// A structure reduced for packing: collision points around its centre (shuffled so that early exits are
/// fast), bounding radius and protein volume.
struct CollisionShape {
  std::vector<Vec3> points;      ///< all points: marked when placed
  std::vector<Vec3> test_points; ///< surface points and a quarter of the interior ones: tested before placing
  /// The same points in blocks of 4 for the vector kernels: x0..x3, y0..y3, z0..z3, ...; the last block is
  /// filled up with copies of the last point (testing or marking a point twice changes nothing).
  std::vector<double> points4, test_points4;
  double radius_A = 0;
  double volume_A3 = 0;
  Vec3 centre_A; ///< structure_centre() in the file frame
};

CollisionShape make_collision_shape(const AtomicStructure& s);

/// Bit grids over the box with kCollisionCell_A cells: `solid` (particles, carbon, beads) and `membrane`
/// (vesicle bilayers). Points beyond a walled face are rejected; beyond an open face they are ignored.
class CollisionGrid {
public:
  /// The code fits and mark run: the best this CPU has (4 points at a time with AVX2), or the scalar code. The
  /// answers and the marked cells are the same (a test compares them).
  enum class Kernel { best, scalar };
  CollisionGrid(std::array<double, 3> box_A, std::array<std::array<bool, 2>, 3> walls);
  /// True if every point of the shape at the pose lands in free cells and inside the walls.
  bool fits(const CollisionShape& s, const Mat3& r, Vec3 pos, bool ignore_membrane = false,
            Kernel k = Kernel::best) const;
  void mark(const CollisionShape& s, const Mat3& r, Vec3 pos, Kernel k = Kernel::best);
  /// Same cells marked solid and membrane.
  bool operator==(const CollisionGrid& o) const;
  /// Mark every cell whose centre satisfies pred(centre) as solid (or membrane).
  template <class F> void mark_where(F&& pred, bool membrane, Vec3 lo, Vec3 hi);
  bool inside_walls(Vec3 p, double margin_A) const;
  /// Fraction of the box's collision cells marked solid or membrane.
  double occupied_fraction() const;
  std::array<double, 3> box_A;

private:
  /// Whether fits and mark take the AVX2 code for kernel k on this CPU and grid.
  bool vectors(Kernel k) const;
  bool fits_avx2(const CollisionShape& s, const Mat3& r, const double off[3], const double lo[3], const double hi[3],
                 bool ignore_membrane) const;
  void mark_avx2(const CollisionShape& s, const Mat3& r, const double off[3]);
  /// Box coordinates (Angstrom from the box corner) of shape point a at pose (r, off = pos + box/2).
  static std::array<double, 3> place(const Mat3& r, const Vec3& a, const double off[3]) {
    return {r(0, 0) * a.x + r(0, 1) * a.y + r(0, 2) * a.z + off[0],
            r(1, 0) * a.x + r(1, 1) * a.y + r(1, 2) * a.z + off[1],
            r(2, 0) * a.x + r(2, 1) * a.y + r(2, 2) * a.z + off[2]};
  }
  /// Bit position of box coordinates q (see position), or -1 outside the box (particles may cross open faces).
  long cell(const std::array<double, 3>& q) const {
    long i[3];
    for (int k = 0; k < 3; ++k) {
      i[k] = q[k] >= 0 ? long(q[k] * (1.0 / kCollisionCell_A)) : -1;
      if (i[k] < 0 || i[k] >= n_[k]) return -1;
    }
    return position(i[0], i[1], i[2]);
  }
  /// Bit position of cell (x, y, z): 512 brick + 64 word + bit. The grid is stored in bricks of 8 x 8 x 4 cells,
  /// each one cache line of 8 words: the solid bits of its 4 z planes (64 cells each), then their membrane bits.
  /// A particle's points then touch a few bricks, not a cache line per row of cells.
  long position(long x, long y, long z) const {
    const long brick = ((z >> 2) * nb_[1] + (y >> 3)) * nb_[0] + (x >> 3);
    return (brick << 9) | ((z & 3) << 6) | ((y & 7) << 3) | (x & 7);
  }
  /// The solid word of bit position pos; its membrane word is 4 words on.
  std::uint64_t* word(long pos) { return &bricks_[std::size_t(pos >> 9)].w[(pos >> 6) & 3]; }
  const std::uint64_t* word(long pos) const { return &bricks_[std::size_t(pos >> 9)].w[(pos >> 6) & 3]; }
  void set(bool membrane, long pos) { word(pos)[4 * membrane] |= std::uint64_t(1) << (pos & 63); }
  std::array<std::array<bool, 2>, 3> walls_;
  int n_[3];
  long nb_[3]; ///< bricks along x, y, z
  struct alignas(64) Brick {
    std::uint64_t w[8];
  };
  std::vector<Brick> bricks_;
};

template <class F> void CollisionGrid::mark_where(F&& pred, bool membrane, Vec3 lo, Vec3 hi) {
  const double c = kCollisionCell_A;
  auto range = [&](double a, double b, int axis, int& i0, int& i1) {
    i0 = std::max(0, int(std::floor((a + 0.5 * box_A[axis]) / c)));
    i1 = std::min(n_[axis] - 1, int(std::floor((b + 0.5 * box_A[axis]) / c)));
  };
  int x0, x1, y0, y1, z0, z1;
  range(lo.x, hi.x, 0, x0, x1);
  range(lo.y, hi.y, 1, y0, y1);
  range(lo.z, hi.z, 2, z0, z1);
  for (int z = z0; z <= z1; ++z)
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const Vec3 p{(x + 0.5) * c - 0.5 * box_A[0], (y + 0.5) * c - 0.5 * box_A[1], (z + 0.5) * c - 0.5 * box_A[2]};
        if (pred(p)) set(membrane, position(x, y, z));
      }
}

/// Fill the layers of p into scene (features already placed and marked in grid).
void pack_layers(const ModelParams& p, const StructureSet& structures, CollisionGrid& grid, Rng& rng, Scene& scene);

} // namespace tomosweep

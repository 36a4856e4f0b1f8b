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
  double radius_A = 0;
  double volume_A3 = 0;
  Vec3 centre_A; ///< structure_centre() in the file frame
};

CollisionShape make_collision_shape(const AtomicStructure& s);

/// Bit grids over the box with kCollisionCell_A cells: `solid` (particles, carbon, beads) and `membrane`
/// (vesicle bilayers). Points beyond a walled face are rejected; beyond an open face they are ignored.
class CollisionGrid {
public:
  CollisionGrid(std::array<double, 3> box_A, std::array<std::array<bool, 2>, 3> walls);
  /// True if every point of the shape at the pose lands in free cells and inside the walls.
  bool fits(const CollisionShape& s, const Mat3& r, Vec3 pos, bool ignore_membrane = false) const;
  void mark(const CollisionShape& s, const Mat3& r, Vec3 pos);
  /// Mark every cell whose centre satisfies pred(centre) as solid (or membrane).
  template <class F> void mark_where(F&& pred, bool membrane, Vec3 lo, Vec3 hi);
  bool inside_walls(Vec3 p, double margin_A) const;
  /// Fraction of the box's collision cells marked solid or membrane.
  double occupied_fraction() const;
  std::array<double, 3> box_A;

private:
  /// Box coordinates (Angstrom from the box corner) of shape point a at pose (r, off = pos + box/2).
  static std::array<double, 3> place(const Mat3& r, const Vec3& a, const double off[3]) {
    return {r(0, 0) * a.x + r(0, 1) * a.y + r(0, 2) * a.z + off[0],
            r(1, 0) * a.x + r(1, 1) * a.y + r(1, 2) * a.z + off[1],
            r(2, 0) * a.x + r(2, 1) * a.y + r(2, 2) * a.z + off[2]};
  }
  /// Cell index of box coordinates q, or -1 outside the box (particles may cross open faces).
  long cell(const std::array<double, 3>& q) const {
    long idx = 0;
    for (int k = 2; k >= 0; --k) {
      const long i = q[k] >= 0 ? long(q[k] * (1.0 / kCollisionCell_A)) : -1;
      if (i < 0 || i >= n_[k]) return -1;
      idx = idx * n_[k] + i;
    }
    return idx;
  }
  void set(bool membrane, long i) { bits_[2 * std::size_t(i >> 6) + membrane] |= std::uint64_t(1) << (i & 63); }
  std::array<std::array<bool, 2>, 3> walls_;
  int n_[3];
  /// The solid and membrane bits of cells 64 w .. 64 w + 63 in words 2 w and 2 w + 1 (a test of both reads one
  /// cache line).
  std::vector<std::uint64_t> bits_;
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
        if (pred(p)) set(membrane, (long(z) * n_[1] + y) * n_[0] + x);
      }
}

/// Fill the layers of p into scene (features already placed and marked in grid).
void pack_layers(const ModelParams& p, const StructureSet& structures, CollisionGrid& grid, Rng& rng, Scene& scene);

} // namespace tomosweep

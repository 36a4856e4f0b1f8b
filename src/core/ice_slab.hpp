// The vitreous ice slab between two surfaces that are functions of the lateral position, defined at every
// (x, y), inside the box and beyond it (the specimen is laterally infinite). Formulas in docs/model.md
// ("Ice surfaces"); the surfaces are drawn in model/ice_surface.hpp, imaged in simulate/.
#pragma once

#include "core/projector.hpp"
#include "core/tilt.hpp"
#include "core/volume.hpp"

#include <array>
#include <vector>

namespace tomosweep {

/// A random height field, Angstrom: h(x, y) = sum_k amp_k cos(kx_k x + ky_k y + phase_k) (k in rad/A).
struct SurfaceModes {
  std::vector<double> kx, ky, amp, phase;
  bool empty() const { return amp.empty(); }
  double height_A(double x, double y) const;
  /// h on the grid x_i = x0 + i d (i < nx), y_j = y0 + j d (j < ny), [j][i]; one complex product per mode and
  /// point (separable exponentials).
  std::vector<float> on_grid(double x0, double y0, double d, int nx, int ny) const;
};

/// Ice between bottom(x, y) <= z <= top(x, y):
///   top    =  half_thickness_A + slope x + top_modes(x, y)
///   bottom = -half_thickness_A - slope x + bottom_modes(x, y)
/// so the mean thickness at x is 2 (half_thickness_A + slope x) (clamped at 0 where the surfaces cross).
struct IceSlab {
  double half_thickness_A = 0;
  double slope = 0; ///< dz/dx of the top surface (the bottom has -slope), A per A
  SurfaceModes top, bottom;
  double top_A(double x, double y) const { return half_thickness_A + slope * x + top.height_A(x, y); }
  double bottom_A(double x, double y) const { return -half_thickness_A - slope * x + bottom.height_A(x, y); }
};

/// Both surfaces tabulated at spacing d over a lateral rectangle (bilinear there, exact evaluation outside).
class IceSlabLookup {
public:
  IceSlabLookup(const IceSlab& slab, double x_lo, double x_hi, double y_lo, double y_hi, double d);
  double top_A(double x, double y) const;
  double bottom_A(double x, double y) const;
  /// The z interval [bottom, top] of the ice along a ray: the plane and wedge solved exactly, the random part by
  /// up to four fixed-point steps z <- s(x0 + z dx, y0 + z dy) (until a step moves less than 0.001 A; a
  /// contraction while the surface slope times tan(tilt) is below 1). Empty (hi <= lo) where the surfaces cross.
  std::array<double, 2> ice_interval(const DetectorRay& r) const;
  const IceSlab& slab() const { return slab_; }

private:
  double lookup(const std::vector<float>& t, const SurfaceModes& m, double x, double y) const;
  const IceSlab& slab_;
  double x0_, y0_, d_, inv_d_;
  int nx_ = 0, ny_ = 0;
  std::vector<float> top_, bottom_;
};

/// A lookup covering every lateral point the rays of `views` (on nu x nv detectors at the grid's pixel size)
/// meet at the heights of the ice, at the grid's pixel size (coarser when that would exceed 2^22 points).
IceSlabLookup ice_lookup(const IceSlab& slab, const Grid& grid, const std::vector<TiltView>& views, int nu, int nv);

/// Path length (A, along the ray) of each pixel's ray of `view` through the ice; out holds nu x nv values.
void ice_path_lengths(const IceSlabLookup& ice, const TiltView& view, int nu, int nv, double pixel_A, float* out);

/// Add to every image of `stack` the ice's line integral (V*A, at ice_V per A) outside the box of `grid`
/// relative to the uniform slab that fills the box's z range: ice_V / cos(t) (|I| - |I in box| - |Z| +
/// |Z in box|), I the ray's ice interval, Z the box's z range, both clipped to z_lo_A <= z < z_hi_A. Inside the
/// box the potential holds the ice (vacuum beyond the surfaces). A flat slab that fills the box adds 0.
/// The mean slab (the two planes without the random part: thickness and wedge) gives every view a phase
/// linear in u (a prism: a beam deflection, no contrast, whose ramp would only wrap around in the CTF's and
/// the WBP filter's FFTs); its line integral relative to Z, ice_V / cos(t) (|I_planes| - |Z|), is subtracted
/// in the part that reaches below the box (z_lo_A < box bottom), so that projection + exterior is
/// ice_V / cos(t) (|I| - |I_planes|).
/// `paths` (or nullptr): a stack like `stack` that receives each pixel's ice path, as ice_path_lengths() gives
/// it, from the same crossings.
void add_ice_exterior(Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                      const IceSlabLookup& ice, double ice_V, double z_lo_A = -1e300, double z_hi_A = 1e300,
                      Volume<float>* paths = nullptr);

} // namespace tomosweep

// Forward projection and its exact adjoint (back projection) with IMOD's tilt geometry (core/tilt.hpp).
// Voxel-driven: each voxel's value times voxel_A is split linearly between the two detector columns
// around its projected u (bilinearly over four pixels when the axis azimuth is not 0), so projections are
// line integrals in (volume units) x Angstrom and the image integral equals the volume integral / pixel.
// back_project() is the exact transpose (gather with the same weights): <P x, y> = <x, P^T y>.
// Images have the volume's pixel size; their centre is the projection of the volume centre.
#pragma once

#include "core/tilt.hpp"
#include "core/volume.hpp"

#include <array>
#include <functional>
#include <vector>

namespace tomosweep {

/// Detector size (nu, nv) on which every voxel of `grid`, with both its interpolation neighbours, projects at
/// every view: the rotated and tilted box fits, so no voxel misses a view and no image is cut by its edge.
/// nu has the parity of nx (of the rotated width at another azimuth), so tilt 0 samples voxel centres, and
/// only the prime factors 2, 3, 5, 7 (fast FFTs); nv = ny at azimuth 0, else the rotated height made the same
/// way.
std::array<int, 2> detector_shape(const Grid& grid, const std::vector<TiltView>& views);

/// Project `volume` minus `level` along each view onto nu x nv images; returns a stack (nz = views.size()).
/// `level` is the uniform medium the box sits in (e.g. ice, volts): it is also the value outside the box,
/// so the images hold the box's contrast against a laterally infinite medium (0 where a ray meets none).
/// A view with acquisition residuals (TiltView::warped) has its image resampled bilinearly afterwards:
/// image'(q) = image(R(-phi) (q - shift) / m) about the image centre (core/tilt.hpp).
/// Only slices z_begin <= z < z_end take part (z_end < 0: all), at their place in the whole volume.
/// `threads` (1 or 2): the blocks of 32 rows are shared out between that many threads, every other block each; each
/// image row is made by one thread, so the stack is the same either way.
Volume<float> project(const Volume<float>& volume, const std::vector<TiltView>& views, int nu, int nv, int z_begin = 0,
                      int z_end = -1, float level = 0, int threads = 1);

/// Add to `stack` (nu x nv x views.size(); it holds the projection of the slices before z_begin, or zeros) the
/// projection of slices [z_begin, z_end) of a volume nz_total deep, of which `slab` holds the slices from slab_z0
/// on (only those of them take part), as project() makes it but without the warps (warp_views): projecting the
/// slabs of a volume one after another in z order onto one stack gives project()'s result bit for bit.
void project_slab_onto(Volume<float>& stack, const Volume<float>& slab, int slab_z0, int nz_total,
                       const std::vector<TiltView>& views, int z_begin, int z_end, float level);
/// The acquisition residuals of the warped views applied to their images, as project() does last.
void warp_views(Volume<float>& stack, const std::vector<TiltView>& views);

/// How a pipeline projects its potential: for each z range [z0, z1) of `ranges`, project() of those slices along
/// `views` onto nu x nv images minus `level` (one stack per range, asked for at once so that a rank group can work on
/// several ranges together). simulate_series projects a volume it holds; a rank group projects the slabs its ranks
/// hold.
using ZRanges = std::vector<std::array<int, 2>>;
using Projector = std::function<std::vector<Volume<float>>(const std::vector<TiltView>& views, int nu, int nv,
                                                           const ZRanges& ranges, float level)>;

/// The Projector of a volume held whole (project() of each range, on `threads` threads); `v` must outlive it.
Projector volume_projector(const Volume<float>& v, int threads = 1);

/// A layer that continues beyond the box (a carbon film): the slab |z - z_A| <= thickness_A / 2 outside a
/// round hole (axis along z, centre hole_x_A, hole_y_A, radius hole_radius_A; radius 0: no hole), with
/// potential excess_V over the medium. Inside the box the volume holds it; add_exterior adds what lies outside.
struct ExteriorLayer {
  double z_A = 0, thickness_A = 0, excess_V = 0;
  double hole_x_A = 0, hole_y_A = 0, hole_radius_A = 0;
};

/// The ray of a detector point (u, v) of a view (Angstrom from the image centre): at height z it passes the
/// lateral point (x0 + z dx, y0 + z dy); its length per unit of z is inv_cos = 1 / cos(tilt). A view's
/// acquisition residuals are undone first (the ray of the point's source before the warp).
struct DetectorRay {
  double x0, y0, dx, dy, inv_cos;
};
/// The rays of one view, with its trigonometry computed once.
class ViewRays {
public:
  explicit ViewRays(const TiltView& view);
  DetectorRay at(double u_A, double v_A) const;

private:
  bool warped_;
  double inv_c_, t_, ca_, sa_;
  double wc_, ws_, inv_m_, su_, sv_;
};

/// Add to every image of `stack` (views as in project(), images centred on the box of `grid`) the line
/// integrals (V*A) of each layer over the part of its ray outside the box's lateral faces and inside
/// z_lo_A <= z < z_hi_A (exact: the ray's intervals in the slab, the box and the hole), so that a layer that
/// covers the box is laterally infinite.
void add_exterior(Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                  const std::vector<ExteriorLayer>& layers, double z_lo_A = -1e300, double z_hi_A = 1e300);

/// Adjoint of project(): a volume on `grid` holding, at every voxel, the sum over views of each image
/// gathered at the voxel's projection, times grid.voxel_A.
Volume<float> back_project(const Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid);

/// Slices [z_begin, z_end) of back_project() (a volume of that many slices), the same values bit for bit.
Volume<float> back_project_slab(const Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                                int z_begin, int z_end);

/// Rows [y0, y1) of every image, made on demand: rows(y0, y1, out) fills out[view][y - y0][u] (nu floats a row).
using ImageRows = std::function<void(int y0, int y1, float* out)>;

/// back_project() of a stack of nu x grid.ny images given a block of rows at a time (the same result, bit for
/// bit, without the stack): only for views at azimuth 0 without acquisition residuals (back_projects_rows).
/// `threads` (1 or 2): the blocks of rows are shared out between that many threads, every other block each (each
/// voxel is made by one thread, as with one: the same volume); `rows` is then called from both at once.
Volume<float> back_project_rows(int nu, const ImageRows& rows, const std::vector<TiltView>& views, const Grid& grid,
                                int threads = 1);
bool back_projects_rows(const std::vector<TiltView>& views);
/// Slices [z_begin, z_end) of back_project_rows(), the same values bit for bit; `rows` is called for every block.
Volume<float> back_project_rows_slab(int nu, const ImageRows& rows, const std::vector<TiltView>& views,
                                     const Grid& grid, int z_begin, int z_end, int threads = 1);

} // namespace tomosweep

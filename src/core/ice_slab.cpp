#include "core/ice_slab.hpp"

#include "core/conventions.hpp"

#include <algorithm>
#include <cmath>
#include <complex>

namespace tomosweep {

double SurfaceModes::height_A(double x, double y) const {
  double h = 0;
  for (std::size_t k = 0; k < amp.size(); ++k) h += amp[k] * std::cos(kx[k] * x + ky[k] * y + phase[k]);
  return h;
}

std::vector<float> SurfaceModes::on_grid(double x0, double y0, double d, int nx, int ny) const {
  std::vector<double> h(static_cast<std::size_t>(nx) * ny, 0.0);
  std::vector<std::complex<double>> ex(nx), ey(ny);
  for (std::size_t k = 0; k < amp.size(); ++k) {
    // cos(kx x + ky y + phase) = Re[(amp e^{i phase} e^{i kx x}) e^{i ky y}]
    const std::complex<double> a = std::polar(amp[k], phase[k]);
    for (int i = 0; i < nx; ++i) ex[i] = a * std::polar(1.0, kx[k] * (x0 + i * d));
    for (int j = 0; j < ny; ++j) ey[j] = std::polar(1.0, ky[k] * (y0 + j * d));
    for (int j = 0; j < ny; ++j) {
      double* row = h.data() + static_cast<std::size_t>(j) * nx;
      const double cr = ey[j].real(), ci = ey[j].imag();
      for (int i = 0; i < nx; ++i) row[i] += ex[i].real() * cr - ex[i].imag() * ci;
    }
  }
  return std::vector<float>(h.begin(), h.end());
}

IceSlabLookup::IceSlabLookup(const IceSlab& slab, double x_lo, double x_hi, double y_lo, double y_hi, double d)
    : slab_(slab), x0_(x_lo), y0_(y_lo), d_(d), inv_d_(1 / d) {
  if (slab.top.empty() && slab.bottom.empty()) return; // flat or wedged: evaluated exactly
  nx_ = std::max(2, static_cast<int>(std::ceil((x_hi - x_lo) / d)) + 1);
  ny_ = std::max(2, static_cast<int>(std::ceil((y_hi - y_lo) / d)) + 1);
  top_ = slab.top.on_grid(x0_, y0_, d, nx_, ny_);
  bottom_ = slab.bottom.on_grid(x0_, y0_, d, nx_, ny_);
}

double IceSlabLookup::lookup(const std::vector<float>& t, const SurfaceModes& m, double x, double y) const {
  if (m.empty()) return 0;
  const double fx = (x - x0_) * inv_d_, fy = (y - y0_) * inv_d_;
  if (!(fx >= 0 && fy >= 0 && fx < nx_ - 1 && fy < ny_ - 1)) return m.height_A(x, y);
  const int i = static_cast<int>(fx), j = static_cast<int>(fy);
  const double ax = fx - i, ay = fy - j;
  const float* p = t.data() + static_cast<std::size_t>(j) * nx_ + i;
  return (1 - ay) * ((1 - ax) * p[0] + ax * p[1]) + ay * ((1 - ax) * p[nx_] + ax * p[nx_ + 1]);
}

double IceSlabLookup::top_A(double x, double y) const {
  return slab_.half_thickness_A + slab_.slope * x + lookup(top_, slab_.top, x, y);
}
double IceSlabLookup::bottom_A(double x, double y) const {
  return -slab_.half_thickness_A - slab_.slope * x + lookup(bottom_, slab_.bottom, x, y);
}

std::array<double, 2> IceSlabLookup::ice_interval(const DetectorRay& r) const {
  // z = (c + s (x0 + z dx) + m(x0 + z dx, y0 + z dy)): the plane and wedge solved exactly, the modes iterated.
  const double s = slab_.slope;
  auto solve = [&](double c, double sign, const std::vector<float>& t, const SurfaceModes& m) {
    const double a = c + sign * s * r.x0, b = 1 - sign * s * r.dx;
    double z = a / b;
    if (m.empty()) return z;
    for (int it = 0; it < 4; ++it) {
      const double next = (a + lookup(t, m, r.x0 + z * r.dx, r.y0 + z * r.dy)) / b;
      if (std::abs(next - z) < 1e-3) return next; // converged (at tilt 0 after one step)
      z = next;
    }
    return z;
  };
  return {solve(-slab_.half_thickness_A, -1, bottom_, slab_.bottom), solve(slab_.half_thickness_A, 1, top_, slab_.top)};
}

IceSlabLookup ice_lookup(const IceSlab& slab, const Grid& grid, const std::vector<TiltView>& views, int nu, int nv) {
  const double pix = grid.voxel_A, hx = 0.5 * grid.nx * pix, hy = 0.5 * grid.ny * pix;
  double amp = 0;
  for (const SurfaceModes* m : {&slab.top, &slab.bottom}) {
    double sum = 0;
    for (double a : m->amp) sum += std::abs(a);
    amp = std::max(amp, sum); // bound of |h|
  }
  double x_lo = -hx, x_hi = hx, y_lo = -hy, y_hi = hy;
  const double zmax = slab.half_thickness_A + amp + std::abs(slab.slope) * 2 * (hx + hy);
  for (const TiltView& v : views) {
    const ViewRays rays(v);
    for (int c = 0; c < 4; ++c) {
      const DetectorRay r = rays.at(((c & 1) ? 0.5 : -0.5) * nu * pix, ((c & 2) ? 0.5 : -0.5) * nv * pix);
      for (double z : {-zmax, zmax}) {
        x_lo = std::min(x_lo, r.x0 + z * r.dx), x_hi = std::max(x_hi, r.x0 + z * r.dx);
        y_lo = std::min(y_lo, r.y0 + z * r.dy), y_hi = std::max(y_hi, r.y0 + z * r.dy);
      }
    }
  }
  // Near-90-degree views reach far: the table keeps at most 2^22 points per surface, coarser than a pixel if
  // need be (the surfaces are smooth on the scale of their correlation length).
  x_lo -= pix, x_hi += pix, y_lo -= pix, y_hi += pix;
  const double points = (x_hi - x_lo) / pix * ((y_hi - y_lo) / pix), cap = 4194304.0;
  return IceSlabLookup(slab, x_lo, x_hi, y_lo, y_hi, points > cap ? pix * std::sqrt(points / cap) : pix);
}

void ice_path_lengths(const IceSlabLookup& ice, const TiltView& view, int nu, int nv, double pixel_A, float* out) {
  const ViewRays rays(view);
  for (int j = 0; j < nv; ++j) {
    const double v = voxel_centre_A(j, nv, pixel_A);
    for (int i = 0; i < nu; ++i) {
      const DetectorRay r = rays.at(voxel_centre_A(i, nu, pixel_A), v);
      const auto z = ice.ice_interval(r);
      out[static_cast<std::size_t>(j) * nu + i] = static_cast<float>(std::max(0.0, z[1] - z[0]) * r.inv_cos);
    }
  }
}

namespace {
struct Span {
  double lo, hi;
  double length() const { return std::max(0.0, hi - lo); }
};
Span meet(Span a, Span b) { return {std::max(a.lo, b.lo), std::min(a.hi, b.hi)}; }
// {z : |c0 + z d| <= half}.
Span within(double c0, double d, double half) {
  if (d == 0) return std::abs(c0) <= half ? Span{-1e300, 1e300} : Span{0, 0};
  const double a = (-half - c0) / d, b = (half - c0) / d;
  return {std::min(a, b), std::max(a, b)};
}
} // namespace

void add_ice_exterior(Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                      const IceSlabLookup& ice, double ice_V, double z_lo_A, double z_hi_A, Volume<float>* paths) {
  if (paths) *paths = Volume<float>(stack.nx, stack.ny, stack.nz, stack.voxel_A);
  if (stack.nz != static_cast<int>(views.size()))
    fail("ice exterior of ", stack.nz, " images with ", views.size(), " views");
  const double pix = grid.voxel_A, hx = 0.5 * grid.nx * pix, hy = 0.5 * grid.ny * pix, hz = 0.5 * grid.nz * pix;
  const Span zs{z_lo_A, z_hi_A}, zbox = meet(zs, {-hz, hz});
  const IceSlab& slab = ice.slab();
  const double s = slab.slope;
  const bool planes = z_lo_A < -hz && (s != 0 || slab.half_thickness_A != hz); // once per ray: in the lowest part
  for (int k = 0; k < stack.nz; ++k) {
    const ViewRays rays(views[k]);
    for (int j = 0; j < stack.ny; ++j) {
      float* row = stack.slice(k) + static_cast<std::size_t>(j) * stack.nx;
      const double v = voxel_centre_A(j, stack.ny, pix);
      for (int i = 0; i < stack.nx; ++i) {
        const DetectorRay r = rays.at(voxel_centre_A(i, stack.nx, pix), v);
        const auto z = ice.ice_interval(r);
        if (paths)
          paths->slice(k)[std::size_t(j) * stack.nx + i] = static_cast<float>(std::max(0.0, z[1] - z[0]) * r.inv_cos);
        const Span in = meet(zs, {z[0], z[1]});
        const Span box = meet(zbox, meet(within(r.x0, r.dx, hx), within(r.y0, r.dy, hy)));
        // Grouped so that a flat slab filling the box (I = Z) adds exactly 0.
        double excess = (in.length() - zbox.length()) - (meet(in, box).length() - box.length());
        if (planes) { // the mean slab's phase, linear in u: a beam deflection, no contrast
          const double a = slab.half_thickness_A + s * r.x0;
          excess -= (a / (1 - s * r.dx) + a / (1 + s * r.dx)) - 2 * hz;
        }
        row[i] += static_cast<float>(ice_V * r.inv_cos * excess);
      }
    }
  }
}

} // namespace tomosweep

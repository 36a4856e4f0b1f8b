#include "core/projector.hpp"

#include "core/conventions.hpp"
#include "core/simd.hpp"
#include "core/threads.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {
namespace {

// Views at azimuth 0 keep volume rows along y as image rows, so the projection of each (x, z) column of kB
// consecutive y values is one AXPY into one image column. The work runs one block of kB rows at a time:
// the block of the volume ([z][x][kB]) and of every image ([view][u][kB]) is regrouped into small buffers
// so that the inner loops are contiguous vector operations and the buffers stay in cache.
constexpr int kB = 32;
constexpr std::size_t kT = 8; // views per pass over a volume block: each volume line is loaded once for kT views

// Eight floats per vector (GCC/Clang vector extension; unaligned, may alias float): two SSE registers by
// default, one AVX register in the AVX2 clone of the kernels. Products and sums are separate IEEE operations
// in both (no FMA), so both clones give the same bytes.
typedef float V8 __attribute__((vector_size(32), aligned(4), __may_alias__));
constexpr int kV = kB / 8;

// A line of kB floats held in registers: d += a s0 + b s1 (the back projection of both neighbours) and d += w s.
struct Line8 {
  V8 d[kV];
  [[gnu::always_inline]] inline void add2(float a, const float* s0, float b, const float* s1) {
    const V8* v0 = reinterpret_cast<const V8*>(s0);
    const V8* v1 = reinterpret_cast<const V8*>(s1);
    const V8 av = {a, a, a, a, a, a, a, a}, bv = {b, b, b, b, b, b, b, b};
    for (int k = 0; k < kV; ++k) d[k] += av * v0[k] + bv * v1[k];
  }
  [[gnu::always_inline]] inline void add(float w, const float* s) {
    const V8* sv = reinterpret_cast<const V8*>(s);
    const V8 wv = {w, w, w, w, w, w, w, w};
    for (int k = 0; k < kV; ++k) d[k] += wv * sv[k];
  }
  [[gnu::always_inline]] inline void store(float* p) const {
    V8* pv = reinterpret_cast<V8*>(p);
    for (int k = 0; k < kV; ++k) pv[k] = d[k];
  }
};
[[gnu::always_inline]] inline Line8 load_line(const float* p) {
  Line8 l;
  const V8* pv = reinterpret_cast<const V8*>(p);
  for (int k = 0; k < kV; ++k) l.d[k] = pv[k];
  return l;
}

// d += w s for a line of kB floats in memory (the forward projection's scatter into an image column).
[[gnu::always_inline]] inline void axpy(float* d, float w, const float* s) {
  Line8 l = load_line(d);
  l.add(w, s);
  l.store(d);
}

// The transposes between volume rows and blocks go kX columns at a time, so that the kX lines of the block they
// touch (kX x 128 bytes) stay in L1 over all of the block's rows.
constexpr int kX = 16;

// Rows y in [y0, y0 + kB) of the given slices of `v`, minus `level` -> buf[slice k][x][kB] (zero padded past ny).
void gather_block(const Volume<float>& v, const std::vector<int>& slices, int y0, std::vector<float>& buf,
                  float level = 0) {
  const int nx = v.nx, y1 = std::min(v.ny, y0 + kB);
  buf.resize(slices.size() * nx * kB);
  if (y1 - y0 < kB) std::fill(buf.begin(), buf.end(), 0.0f);
  for (std::size_t k = 0; k < slices.size(); ++k)
    for (int x0 = 0; x0 < nx; x0 += kX) {
      const int x1 = std::min(nx, x0 + kX);
      for (int y = y0; y < y1; ++y) {
        const float* row = v.data.data() + v.index(0, y, slices[k]);
        float* dst = buf.data() + k * nx * kB + (y - y0);
        for (int x = x0; x < x1; ++x) dst[static_cast<std::size_t>(x) * kB] = row[x] - level;
      }
    }
}

// Inverse of gather_block, adding into `v`.
void scatter_block(const std::vector<float>& buf, const std::vector<int>& slices, int y0, Volume<float>& v) {
  const int nx = v.nx, y1 = std::min(v.ny, y0 + kB);
  for (std::size_t k = 0; k < slices.size(); ++k)
    for (int x0 = 0; x0 < nx; x0 += kX) {
      const int x1 = std::min(nx, x0 + kX);
      for (int y = y0; y < y1; ++y) {
        float* row = v.data.data() + v.index(0, y, slices[k]);
        const float* src = buf.data() + k * nx * kB + (y - y0);
        for (int x = x0; x < x1; ++x) row[x] += src[static_cast<std::size_t>(x) * kB];
      }
    }
}

// Detector column (continuous index) of voxel (x, z): u_index = u0 + x c - z s, pixel = voxel.
struct Line {
  double u0, c, s;
};
Line line_of(const TiltView& v, int nx, int nz, int nu) {
  const double c = std::cos(v.tilt_rad), s = std::sin(v.tilt_rad);
  return {0.5 * (nu - 1) - 0.5 * (nx - 1) * c + 0.5 * (nz - 1) * s, c, s};
}

constexpr double kOffset = 1 << 20; // makes the index positive so that truncation is floor

// One block: volume buffer vol[z][x][kB] (z in [z0, z1) of nz), images img[view][u][kB].
template <bool kForward>
[[gnu::always_inline]] inline void block_kernel(float* vol, float* img, const std::vector<Line>& lines, int nx, int nz,
                                                int nu, int z0, int z1, float scale) {
  const std::size_t iview = static_cast<std::size_t>(nu) * kB;
  // Per slice, each view's detector column i0 and weights (times scale) for every x, computed first in loops over x
  // that the compiler vectorises, then read by the voxel loop: voxel x adds w0 to column i0 and w1 to i0 + 1, where
  // q = base + x c, i0 = floor(q) - kOffset, w1 = q - floor(q), w0 = 1 - w1 (q is positive and below 2^31).
  std::vector<int> index(kT * static_cast<std::size_t>(nx));
  std::vector<float> w0s(index.size()), w1s(index.size());
  for (std::size_t t0 = 0; t0 < lines.size(); t0 += kT) {
    const std::size_t t1 = std::min(lines.size(), t0 + kT);
    for (int z = z0; z < z1; ++z) {
      float* col = vol + static_cast<std::size_t>(z - z0) * nx * kB;
      for (std::size_t t = t0; t < t1; ++t) {
        const double base = lines[t].u0 - z * lines[t].s + kOffset, c = lines[t].c;
        const std::size_t row = (t - t0) * static_cast<std::size_t>(nx);
        int* i0 = index.data() + row;
        float *a = w0s.data() + row, *b = w1s.data() + row;
        for (int x = 0; x < nx; ++x) {
          const double q = base + x * c;
          const int iq = static_cast<int>(q);
          const float w1 = static_cast<float>(q - static_cast<double>(iq));
          i0[x] = iq - static_cast<int>(kOffset);
          a[x] = (1.0f - w1) * scale;
          b[x] = w1 * scale;
        }
      }
      for (int x = 0; x < nx; ++x) {
        float* v = col + static_cast<std::size_t>(x) * kB;
        if constexpr (kForward) {
          for (std::size_t t = t0; t < t1; ++t) {
            const std::size_t k = (t - t0) * static_cast<std::size_t>(nx) + x;
            const int i0 = index[k];
            float* p0 = img + t * iview + static_cast<std::ptrdiff_t>(i0) * kB;
            if (i0 >= 0 && i0 < nu) axpy(p0, w0s[k], v);
            if (i0 + 1 >= 0 && i0 + 1 < nu) axpy(p0 + kB, w1s[k], v);
          }
        } else { // the voxel line stays in registers over the views of the pass (same sums, same order)
          Line8 acc = load_line(v);
          for (std::size_t t = t0; t < t1; ++t) {
            const std::size_t k = (t - t0) * static_cast<std::size_t>(nx) + x;
            const int i0 = index[k];
            const float* p0 = img + t * iview + static_cast<std::ptrdiff_t>(i0) * kB;
            const bool in0 = i0 >= 0 && i0 < nu, in1 = i0 + 1 >= 0 && i0 + 1 < nu;
            if (in0 && in1) {
              acc.add2(w0s[k], p0, w1s[k], p0 + kB);
            } else {
              if (in0) acc.add(w0s[k], p0);
              if (in1) acc.add(w1s[k], p0 + kB);
            }
          }
          acc.store(v);
        }
      }
    }
  }
  (void)nz;
}

// The kernels, cloned for AVX2 (core/simd.hpp).
TOMOSWEEP_KERNEL_CLONES void forward_kernel(float* vol, float* img, const std::vector<Line>& lines, int nx, int nz,
                                            int nu, int z0, int z1, float scale) {
  block_kernel<true>(vol, img, lines, nx, nz, nu, z0, z1, scale);
}
TOMOSWEEP_KERNEL_CLONES void backward_kernel(float* vol, float* img, const std::vector<Line>& lines, int nx, int nu,
                                             float scale, int z0, int z1) {
  block_kernel<false>(vol, img, lines, nx, z1, nu, z0, z1, scale);
}

// Views at another azimuth a: the volume is first resampled (bilinearly, slice by slice) onto a grid whose
// columns follow u0 = x cos a + y sin a and whose rows follow v = -x sin a + y cos a, with as many rows as the
// images; the azimuth-0 path then projects that grid. Back projection applies the transposes in reverse
// order, so the pair stays exactly adjoint.
struct Rotation {
  int nw = 0, nv = 0;        // rotated grid columns and rows
  std::vector<long> base;    // per grid pixel: index of the lower-left source pixel (padded source), -1 = outside
  std::vector<float> fx, fy; // bilinear fractions
};

// Width along u0 of the rotated grid covering an nx x ny slice with a margin of one pixel for the bilinear
// weights, with the parity of the axis it is closest to, so that azimuths near 0 or 90 degrees sample the
// volume on its own voxel centres. The rotated height (along v) is the width at azimuth + 90 degrees.
int rotated_width(double azimuth_rad, int nx, int ny) {
  const double ca = std::cos(azimuth_rad), sa = std::sin(azimuth_rad);
  int nw = static_cast<int>(std::ceil(std::abs(nx * ca) + std::abs(ny * sa) - 1e-6)) + 2;
  if ((nw - (std::abs(ca) >= std::abs(sa) ? nx : ny)) % 2 != 0) ++nw;
  return nw;
}

// The smallest n' >= n with n' % 2 == parity whose prime factors are 2, 3, 5 and 7 (fast FFTs of the images
// and of their padded rows).
int smooth_size(int n, int parity) {
  for (int m = std::max(n, 1);; ++m) {
    if (m % 2 != parity) continue;
    int r = m;
    for (int p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

Rotation make_rotation(double azimuth_rad, int nx, int ny, int nv) {
  Rotation r;
  const double ca = std::cos(azimuth_rad), sa = std::sin(azimuth_rad);
  r.nw = rotated_width(azimuth_rad, nx, ny);
  r.nv = nv;
  const std::size_t n = static_cast<std::size_t>(r.nw) * nv;
  r.base.assign(n, -1);
  r.fx.assign(n, 0);
  r.fy.assign(n, 0);
  for (int j = 0; j < nv; ++j)
    for (int i = 0; i < r.nw; ++i) {
      const double u0 = i - 0.5 * (r.nw - 1), v = j - 0.5 * (nv - 1);
      const double x = u0 * ca - v * sa + 0.5 * (nx - 1), y = u0 * sa + v * ca + 0.5 * (ny - 1);
      const double fx = std::floor(x), fy = std::floor(y);
      if (fx < -1 || fx >= nx || fy < -1 || fy >= ny) continue;
      const std::size_t k = static_cast<std::size_t>(j) * r.nw + i;
      // Source padded by one pixel on each side, so the four neighbours always exist.
      r.base[k] = (static_cast<long>(fy) + 1) * (nx + 2) + (static_cast<long>(fx) + 1);
      r.fx[k] = static_cast<float>(x - fx);
      r.fy[k] = static_cast<float>(y - fy);
    }
  return r;
}

// Slices [z0, z1) of v minus `level` resampled onto the rotated grid: a volume of nw x nv x (z1 - z0).
Volume<float> rotate_forward(const Volume<float>& v, const Rotation& r, int z0, int z1, float level) {
  const int nx = v.nx, ny = v.ny, px = nx + 2;
  Volume<float> w(r.nw, r.nv, z1 - z0, v.voxel_A);
  std::vector<float> pad(static_cast<std::size_t>(px) * (ny + 2), 0.0f);
  for (int z = z0; z < z1; ++z) {
    for (int y = 0; y < ny; ++y) {
      const float* row = v.data.data() + v.index(0, y, z);
      std::transform(row, row + nx, pad.data() + (y + 1) * px + 1, [level](float a) { return a - level; });
    }
    float* out = w.slice(z - z0);
    for (std::size_t k = 0; k < r.base.size(); ++k) {
      if (r.base[k] < 0) continue;
      const float* s = pad.data() + r.base[k];
      const float fx = r.fx[k], fy = r.fy[k];
      out[k] = (1 - fy) * ((1 - fx) * s[0] + fx * s[1]) + fy * ((1 - fx) * s[px] + fx * s[px + 1]);
    }
  }
  return w;
}

// Transpose of rotate_forward (all slices of w), adding into v.
void rotate_adjoint(const Volume<float>& w, const Rotation& r, Volume<float>& v) {
  const int nx = v.nx, ny = v.ny, px = nx + 2;
  std::vector<float> pad(static_cast<std::size_t>(px) * (ny + 2));
  for (int z = 0; z < w.nz; ++z) {
    std::fill(pad.begin(), pad.end(), 0.0f);
    const float* in = w.slice(z);
    for (std::size_t k = 0; k < r.base.size(); ++k) {
      if (r.base[k] < 0) continue;
      float* s = pad.data() + r.base[k];
      const float fx = r.fx[k], fy = r.fy[k], a = in[k];
      s[0] += (1 - fy) * ((1 - fx) * a), s[1] += (1 - fy) * (fx * a);
      s[px] += fy * ((1 - fx) * a), s[px + 1] += fy * (fx * a);
    }
    for (int y = 0; y < ny; ++y) {
      float* row = v.data.data() + v.index(0, y, z);
      const float* src = pad.data() + (y + 1) * px + 1;
      for (int x = 0; x < nx; ++x) row[x] += src[x];
    }
  }
}

// Azimuth-0 projection of slices [z0, z1) (geometry of a volume nz_total deep; `volume` holds its slices from
// zoff on) into the images `slices` of `stack`. With `onto`, the images hold the projection of the slices before
// z0 and the sums go on from there (each image pixel sums its slices in z order either way, so projecting slab
// after slab gives the bits of one projection of all of them).
// `threads` (1 or 2): the blocks of 32 rows are shared out, every other one each (split_work); each image row is
// made by one thread, as with one.
void project_fast(const Volume<float>& volume, int zoff, int z0, int z1, int nz_total, const std::vector<Line>& lines,
                  const std::vector<int>& slices, Volume<float>& stack, float scale, float level, bool onto = false,
                  int threads = 1) {
  const int nx = volume.nx, nu = stack.nx;
  std::vector<int> zs;
  for (int z = z0; z < z1; ++z) zs.push_back(z - zoff);
  const auto blocks = [&](int first, int step) {
    std::vector<float> vbuf, ibuf;
    for (int y0 = first * kB; y0 < volume.ny; y0 += step * kB) {
      gather_block(volume, zs, y0, vbuf, level);
      if (onto) {
        gather_block(stack, slices, y0, ibuf);
        for (int s : slices)
          for (int y = y0; y < std::min(stack.ny, y0 + kB); ++y)
            std::fill_n(stack.data.data() + stack.index(0, y, s), nu, 0.0f);
      } else {
        ibuf.assign(slices.size() * nu * kB, 0.0f);
      }
      forward_kernel(vbuf.data(), ibuf.data(), lines, nx, nz_total, nu, z0, z1, scale);
      scatter_block(ibuf, slices, y0, stack);
    }
  };
  split_work(threads, "project", blocks);
}

// Adjoint of project_fast: adds into `volume`, which holds the slices [z0, z0 + volume.nz) of a volume nz_total
// deep (each voxel's sum over views does not depend on which other slices are made).
void back_project_fast(const Volume<float>& stack, const std::vector<int>& slices, const std::vector<Line>& lines,
                       Volume<float>& volume, float scale, int z0, int nz_total) {
  const int nx = volume.nx, nz = volume.nz, nu = stack.nx;
  std::vector<int> zs(nz);
  for (int z = 0; z < nz; ++z) zs[z] = z;
  std::vector<float> vbuf, ibuf;
  for (int y0 = 0; y0 < volume.ny; y0 += kB) {
    gather_block(stack, slices, y0, ibuf);
    vbuf.assign(static_cast<std::size_t>(nz) * nx * kB, 0.0f);
    backward_kernel(vbuf.data(), ibuf.data(), lines, nx, nu, scale, z0, z0 + nz);
    scatter_block(vbuf, zs, y0, volume);
  }
  (void)nz_total;
}

// Views grouped by azimuth, in order of first appearance.
struct Group {
  double azimuth_rad;
  std::vector<int> views;
};
std::vector<Group> group_views(const std::vector<TiltView>& views) {
  std::vector<Group> g;
  for (int t = 0; t < static_cast<int>(views.size()); ++t) {
    auto it = std::find_if(g.begin(), g.end(), [&](const Group& x) { return x.azimuth_rad == views[t].azimuth_rad; });
    if (it == g.end()) it = g.insert(g.end(), Group{views[t].azimuth_rad, {}});
    it->views.push_back(t);
  }
  return g;
}
std::vector<Line> lines_of(const Group& g, const std::vector<TiltView>& views, int nx, int nz, int nu) {
  std::vector<Line> l;
  for (int t : g.views) l.push_back(line_of(views[t], nx, nz, nu));
  return l;
}

// Acquisition residuals of a view (core/tilt.hpp): the point of the unwarped image that lands on detector
// point q (centred, Angstrom) is R(-phi) (q - shift) / m.
struct Warp {
  double c, s, inv_m, su, sv;
  explicit Warp(const TiltView& v)
      : c(std::cos(v.rotation_rad)), s(std::sin(v.rotation_rad)), inv_m(1 / v.magnification), su(v.shift_u_A),
        sv(v.shift_v_A) {}
  std::array<double, 2> source(double u, double v) const {
    const double du = u - su, dv = v - sv;
    return {(c * du + s * dv) * inv_m, (-s * du + c * dv) * inv_m};
  }
};

// Image `k` of `stack` warped by view v's residuals, bilinearly (zero beyond the image); the adjoint scatters
// with the same weights instead.
void warp_image(Volume<float>& stack, int k, const TiltView& v, bool adjoint) {
  const int nu = stack.nx, nv = stack.ny;
  const double pix = stack.voxel_A;
  const Warp w(v);
  float* img = stack.slice(k);
  const std::vector<float> src(img, img + static_cast<std::size_t>(nu) * nv);
  std::fill(img, img + src.size(), 0.0f);
  for (int j = 0; j < nv; ++j)
    for (int i = 0; i < nu; ++i) {
      const auto p = w.source(voxel_centre_A(i, nu, pix), voxel_centre_A(j, nv, pix));
      const double x = p[0] / pix + 0.5 * (nu - 1), y = p[1] / pix + 0.5 * (nv - 1);
      const double fx = std::floor(x), fy = std::floor(y);
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
      const double ax = x - fx, ay = y - fy;
      const double wts[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      const int xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
      const std::size_t q = static_cast<std::size_t>(j) * nu + i;
      for (int n = 0; n < 4; ++n) {
        if (xs[n] < 0 || xs[n] >= nu || ys[n] < 0 || ys[n] >= nv) continue;
        const std::size_t r = static_cast<std::size_t>(ys[n]) * nu + xs[n];
        if (adjoint)
          img[r] += static_cast<float>(wts[n] * src[q]);
        else
          img[q] += static_cast<float>(wts[n] * src[r]);
      }
    }
}

} // namespace

std::array<int, 2> detector_shape(const Grid& grid, const std::vector<TiltView>& views) {
  if (views.empty()) return {grid.nx, grid.ny};
  // Parity references: the (rotated) width and height of the first view's azimuth.
  const double a0 = views.front().azimuth_rad;
  const int w0 = a0 == 0 ? grid.nx : rotated_width(a0, grid.nx, grid.ny);
  const int h0 = a0 == 0 ? grid.ny : rotated_width(a0 + 0.5 * kPi, grid.nx, grid.ny);
  double need_u = w0;
  int need_v = grid.ny;
  bool rotated = false;
  for (const TiltView& v : views) {
    const bool fast = v.azimuth_rad == 0;
    rotated = rotated || !fast;
    const int w = fast ? grid.nx : rotated_width(v.azimuth_rad, grid.nx, grid.ny);
    if (!fast) need_v = std::max(need_v, rotated_width(v.azimuth_rad + 0.5 * kPi, grid.nx, grid.ny));
    // Voxel centres project within +-half of the centre 0.5 (nu - 1); their upper neighbours exist iff
    // nu >= 2 half + 1.
    const double half =
        0.5 * (w - 1) * std::abs(std::cos(v.tilt_rad)) + 0.5 * (grid.nz - 1) * std::abs(std::sin(v.tilt_rad));
    need_u = std::max({need_u, static_cast<double>(w), 2 * half + 1});
  }
  // At azimuth 0 the rows stay the volume's (nv = ny); otherwise both sizes are FFT-friendly.
  const int nu = smooth_size(static_cast<int>(std::ceil(need_u - 1e-9)), w0 % 2);
  return {nu, rotated ? smooth_size(need_v, h0 % 2) : grid.ny};
}

namespace {

struct Interval {
  double lo, hi;
  double length() const { return std::max(0.0, hi - lo); }
};
Interval meet(Interval a, Interval b) { return {std::max(a.lo, b.lo), std::min(a.hi, b.hi)}; }
constexpr Interval kAll{-1e300, 1e300}, kNone{0, 0};

// {z : |c0 + z d| <= half}.
Interval within(double c0, double d, double half) {
  if (d == 0) return std::abs(c0) <= half ? kAll : kNone;
  const double a = (-half - c0) / d, b = (half - c0) / d;
  return {std::min(a, b), std::max(a, b)};
}

// {z : (x0 + z dx)^2 + (y0 + z dy)^2 <= r^2}.
Interval in_disc(double x0, double y0, double dx, double dy, double r) {
  const double a = dx * dx + dy * dy, b = x0 * dx + y0 * dy, c = x0 * x0 + y0 * y0 - r * r;
  if (a == 0) return c <= 0 ? kAll : kNone;
  const double disc = b * b - a * c;
  if (disc < 0) return kNone;
  const double q = std::sqrt(disc);
  return {(-b - q) / a, (-b + q) / a};
}

// Length in z of ray r through layer `l` (clipped to `zs`) outside the box (half sizes hx, hy) and the hole.
double exterior_length(const DetectorRay& r, const ExteriorLayer& l, double hx, double hy, Interval zs) {
  const double x0 = r.x0, y0 = r.y0, dx = r.dx, dy = r.dy;
  const Interval slab = meet(zs, {l.z_A - 0.5 * l.thickness_A, l.z_A + 0.5 * l.thickness_A});
  const Interval box = meet(slab, meet(within(x0, dx, hx), within(y0, dy, hy)));
  const Interval hole =
      l.hole_radius_A > 0 ? meet(slab, in_disc(x0 - l.hole_x_A, y0 - l.hole_y_A, dx, dy, l.hole_radius_A)) : kNone;
  return slab.length() - box.length() - hole.length() + meet(box, hole).length();
}

} // namespace

ViewRays::ViewRays(const TiltView& w)
    : warped_(w.warped()), inv_c_(1 / std::cos(w.tilt_rad)), t_(std::tan(w.tilt_rad)), ca_(std::cos(w.azimuth_rad)),
      sa_(std::sin(w.azimuth_rad)), wc_(std::cos(w.rotation_rad)), ws_(std::sin(w.rotation_rad)),
      inv_m_(1 / w.magnification), su_(w.shift_u_A), sv_(w.shift_v_A) {}

// u0(z) = u / cos t + z tan t, (x, y) = (u0 ca - v sa, u0 sa + v ca), for the source point (u, v) of the pixel.
DetectorRay ViewRays::at(double u_A, double v_A) const {
  double u = u_A, v = v_A;
  if (warped_) { // Warp::source
    const double du = u_A - su_, dv = v_A - sv_;
    u = (wc_ * du + ws_ * dv) * inv_m_, v = (-ws_ * du + wc_ * dv) * inv_m_;
  }
  return {u * inv_c_ * ca_ - v * sa_, u * inv_c_ * sa_ + v * ca_, t_ * ca_, t_ * sa_, inv_c_};
}

void add_exterior(Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                  const std::vector<ExteriorLayer>& layers, double z_lo_A, double z_hi_A) {
  if (stack.nz != static_cast<int>(views.size()))
    fail("exterior of ", stack.nz, " images with ", views.size(), " views");
  const double pix = grid.voxel_A, hx = 0.5 * grid.nx * pix, hy = 0.5 * grid.ny * pix;
  for (const ExteriorLayer& l : layers)
    for (int k = 0; k < stack.nz; ++k) {
      const ViewRays rays(views[k]);
      const double per_z = l.excess_V * (1 / std::cos(views[k].tilt_rad)); // line integral per A of depth
      for (int j = 0; j < stack.ny; ++j) {
        float* row = stack.slice(k) + static_cast<std::size_t>(j) * stack.nx;
        const double v = voxel_centre_A(j, stack.ny, pix);
        for (int i = 0; i < stack.nx; ++i) {
          const double len = exterior_length(rays.at(voxel_centre_A(i, stack.nx, pix), v), l, hx, hy, {z_lo_A, z_hi_A});
          row[i] += static_cast<float>(per_z * len);
        }
      }
    }
}

void project_slab_onto(Volume<float>& stack, const Volume<float>& slab, int slab_z0, int nz_total,
                       const std::vector<TiltView>& views, int z_begin, int z_end, float level) {
  const int nx = slab.nx, ny = slab.ny, nu = stack.nx, nv = stack.ny;
  if (stack.nz != static_cast<int>(views.size()))
    fail("projection onto a stack of ", stack.nz, " images with ", views.size(), " views");
  const int z0 = std::clamp(z_begin, slab_z0, slab_z0 + slab.nz), z1 = std::clamp(z_end, z0, slab_z0 + slab.nz);
  if (z0 == z1) return;
  const float scale = static_cast<float>(slab.voxel_A);
  for (const Group& g : group_views(views)) {
    if (g.azimuth_rad == 0 && ny == nv) {
      project_fast(slab, slab_z0, z0, z1, nz_total, lines_of(g, views, nx, nz_total, nu), g.views, stack, scale, level,
                   true);
    } else {
      const Rotation r = make_rotation(g.azimuth_rad, nx, ny, nv);
      const Volume<float> w = rotate_forward(slab, r, z0 - slab_z0, z1 - slab_z0, level);
      project_fast(w, z0, z0, z1, nz_total, lines_of(g, views, r.nw, nz_total, nu), g.views, stack, scale, 0, true);
    }
  }
}

void warp_views(Volume<float>& stack, const std::vector<TiltView>& views) {
  for (int k = 0; k < stack.nz; ++k)
    if (views[k].warped()) warp_image(stack, k, views[k], false);
}

Volume<float> project(const Volume<float>& volume, const std::vector<TiltView>& views, int nu, int nv, int z_begin,
                      int z_end, float level, int threads) {
  const int nx = volume.nx, ny = volume.ny, nz = volume.nz;
  const int z0 = std::clamp(z_begin, 0, nz), z1 = z_end < 0 ? nz : std::clamp(z_end, z0, nz);
  Volume<float> stack(nu, nv, static_cast<int>(views.size()), volume.voxel_A);
  const float scale = static_cast<float>(volume.voxel_A);
  for (const Group& g : group_views(views)) {
    if (g.azimuth_rad == 0 && ny == nv) {
      project_fast(volume, 0, z0, z1, nz, lines_of(g, views, nx, nz, nu), g.views, stack, scale, level, false,
                   threads);
    } else {
      const Rotation r = make_rotation(g.azimuth_rad, nx, ny, nv);
      const Volume<float> w = rotate_forward(volume, r, z0, z1, level);
      project_fast(w, z0, z0, z1, nz, lines_of(g, views, r.nw, nz, nu), g.views, stack, scale, 0, false, threads);
    }
  }
  warp_views(stack, views);
  return stack;
}

Projector volume_projector(const Volume<float>& v, int threads) {
  if (threads < 1 || threads > 2) fail("volume_projector: ", threads, " threads (1 or 2)");
  return [&v, threads](const std::vector<TiltView>& views, int nu, int nv, const ZRanges& ranges, float level) {
    std::vector<Volume<float>> out;
    for (const auto& r : ranges) out.push_back(project(v, views, nu, nv, r[0], r[1], level, threads));
    return out;
  };
}

Volume<float> back_project(const Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid) {
  return back_project_slab(stack, views, grid, 0, grid.nz);
}

Volume<float> back_project_slab(const Volume<float>& stack, const std::vector<TiltView>& views, const Grid& grid,
                                int z_begin, int z_end) {
  if (stack.nz == static_cast<int>(views.size()) &&
      std::any_of(views.begin(), views.end(), [](const TiltView& v) { return v.warped(); })) {
    // Transpose of project()'s warp first, then the back projection of the unwarped views.
    Volume<float> unwarped = stack;
    std::vector<TiltView> plain;
    for (int k = 0; k < stack.nz; ++k) {
      if (views[k].warped()) warp_image(unwarped, k, views[k], true);
      plain.push_back(views[k].unwarped());
    }
    return back_project_slab(unwarped, plain, grid, z_begin, z_end);
  }
  const int nu = stack.nx, nv = stack.ny, nx = grid.nx, ny = grid.ny, nz = grid.nz;
  if (stack.nz != static_cast<int>(views.size()))
    fail("back projection of ", stack.nz, " images with ", views.size(), " views");
  const int z0 = std::clamp(z_begin, 0, nz), z1 = std::clamp(z_end, z0, nz);
  Volume<float> vol(nx, ny, z1 - z0, grid.voxel_A);
  if (z0 == z1) return vol;
  const float scale = static_cast<float>(grid.voxel_A);
  for (const Group& g : group_views(views)) {
    if (g.azimuth_rad == 0 && ny == nv) {
      back_project_fast(stack, g.views, lines_of(g, views, nx, nz, nu), vol, scale, z0, nz);
    } else {
      const Rotation r = make_rotation(g.azimuth_rad, nx, ny, nv);
      Volume<float> w(r.nw, nv, z1 - z0, grid.voxel_A);
      back_project_fast(stack, g.views, lines_of(g, views, r.nw, nz, nu), w, scale, z0, nz);
      rotate_adjoint(w, r, vol);
    }
  }
  return vol;
}

bool back_projects_rows(const std::vector<TiltView>& views) {
  return std::all_of(views.begin(), views.end(), [](const TiltView& v) { return v.azimuth_rad == 0 && !v.warped(); });
}

// back_project_fast of one group holding every view in order, its image rows made a block at a time: the same
// buffers (and sums) as gathering them from a stack.
Volume<float> back_project_rows(int nu, const ImageRows& rows, const std::vector<TiltView>& views, const Grid& grid,
                                int threads) {
  return back_project_rows_slab(nu, rows, views, grid, 0, grid.nz, threads);
}

Volume<float> back_project_rows_slab(int nu, const ImageRows& rows, const std::vector<TiltView>& views,
                                     const Grid& grid, int z_begin, int z_end, int threads) {
  if (!back_projects_rows(views)) fail("back projection by rows needs views at azimuth 0 without residuals");
  const int nx = grid.nx, ny = grid.ny, nt = static_cast<int>(views.size());
  const int z0 = std::clamp(z_begin, 0, grid.nz), z1 = std::clamp(z_end, z0, grid.nz), nz = z1 - z0;
  Volume<float> vol(nx, ny, nz, grid.voxel_A);
  std::vector<Line> lines;
  for (const TiltView& v : views) lines.push_back(line_of(v, nx, grid.nz, nu));
  std::vector<int> zs(nz);
  for (int z = 0; z < nz; ++z) zs[z] = z;
  // Blocks first, first + step, ...: each thread has its own buffers and writes only its blocks' rows of vol.
  const auto blocks = [&](int first, int step) {
    std::vector<float> block(static_cast<std::size_t>(nt) * kB * nu), vbuf, ibuf;
    for (int y0 = first * kB; y0 < ny; y0 += step * kB) {
      const int y1 = std::min(ny, y0 + kB);
      rows(y0, y1, block.data());
      ibuf.assign(static_cast<std::size_t>(nt) * nu * kB, 0.0f); // gather_block's layout [view][u][kB]
      for (int t = 0; t < nt; ++t)
        for (int y = y0; y < y1; ++y) {
          const float* row = block.data() + (static_cast<std::size_t>(t) * (y1 - y0) + (y - y0)) * nu;
          float* dst = ibuf.data() + static_cast<std::size_t>(t) * nu * kB + (y - y0);
          for (int u = 0; u < nu; ++u) dst[static_cast<std::size_t>(u) * kB] = row[u];
        }
      vbuf.assign(static_cast<std::size_t>(nz) * nx * kB, 0.0f);
      backward_kernel(vbuf.data(), ibuf.data(), lines, nx, nu, static_cast<float>(grid.voxel_A), z0, z1);
      scatter_block(vbuf, zs, y0, vol);
    }
  };
  split_work(threads, "back_project_rows", blocks);
  return vol;
}

} // namespace tomosweep

#include "simulate/projector.hpp"

#include "core/conventions.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {
namespace {

// Views at azimuth 0 keep volume rows along y as image rows, so the projection of each (x, z) column of kB
// consecutive y values is one AXPY into one image column. The work runs one block of kB rows at a time:
// the block of the volume ([z][x][kB]) and of every image ([view][u][kB]) is regrouped into small buffers
// so that the inner loops are contiguous vector operations and the buffers stay in cache.
constexpr int kB = 16;
constexpr std::size_t kT = 8; // views per pass over a volume block: each volume line is loaded once for kT views

// Four floats in one SSE register (GCC/Clang vector extension; unaligned, may alias float).
typedef float V4 __attribute__((vector_size(16), aligned(4), __may_alias__));
constexpr int kV = kB / 4;

inline void axpy(float* __restrict d, float w, const float* __restrict s) {
  V4* dv = reinterpret_cast<V4*>(d);
  const V4* sv = reinterpret_cast<const V4*>(s);
  const V4 wv = {w, w, w, w};
  for (int k = 0; k < kV; ++k) dv[k] += wv * sv[k];
}

inline void axpy2(float* __restrict d, float a, const float* __restrict s0, float b, const float* __restrict s1) {
  V4* dv = reinterpret_cast<V4*>(d);
  const V4* v0 = reinterpret_cast<const V4*>(s0);
  const V4* v1 = reinterpret_cast<const V4*>(s1);
  const V4 av = {a, a, a, a}, bv = {b, b, b, b};
  for (int k = 0; k < kV; ++k) dv[k] += av * v0[k] + bv * v1[k];
}

// Rows y in [y0, y0 + kB) of the given slices of `v` -> buf[slice k][x][kB] (zero padded past ny).
void gather_block(const Volume<float>& v, const std::vector<int>& slices, int y0, std::vector<float>& buf) {
  const int nx = v.nx;
  buf.assign(slices.size() * nx * kB, 0.0f);
  for (std::size_t k = 0; k < slices.size(); ++k)
    for (int y = y0; y < std::min(v.ny, y0 + kB); ++y) {
      const float* row = v.data.data() + v.index(0, y, slices[k]);
      float* dst = buf.data() + k * nx * kB + (y - y0);
      for (int x = 0; x < nx; ++x) dst[static_cast<std::size_t>(x) * kB] = row[x];
    }
}

// Inverse of gather_block, adding into `v`.
void scatter_block(const std::vector<float>& buf, const std::vector<int>& slices, int y0, Volume<float>& v) {
  const int nx = v.nx;
  for (std::size_t k = 0; k < slices.size(); ++k)
    for (int y = y0; y < std::min(v.ny, y0 + kB); ++y) {
      float* row = v.data.data() + v.index(0, y, slices[k]);
      const float* src = buf.data() + k * nx * kB + (y - y0);
      for (int x = 0; x < nx; ++x) row[x] += src[static_cast<std::size_t>(x) * kB];
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

struct Weight {
  int i0;
  float w0, w1;
};
inline Weight weight_at(const Line& l, double base, int x) {
  const double q = base + x * l.c;
  const long iq = static_cast<long>(q);
  const float w1 = static_cast<float>(q - static_cast<double>(iq));
  return {static_cast<int>(iq - static_cast<long>(kOffset)), 1.0f - w1, w1};
}

// One block: volume buffer vol[z][x][kB] (z in [z0, z1) of nz), images img[view][u][kB].
template <bool kForward>
void block_kernel(float* vol, float* img, const std::vector<Line>& lines, int nx, int nz, int nu, int z0, int z1,
                  float scale) {
  const std::size_t iview = static_cast<std::size_t>(nu) * kB;
  for (std::size_t t0 = 0; t0 < lines.size(); t0 += kT) {
    const std::size_t t1 = std::min(lines.size(), t0 + kT);
    for (int z = z0; z < z1; ++z) {
      float* col = vol + static_cast<std::size_t>(z - z0) * nx * kB;
      double base[kT];
      for (std::size_t t = t0; t < t1; ++t) base[t - t0] = lines[t].u0 - z * lines[t].s + kOffset;
      for (int x = 0; x < nx; ++x) {
        float* v = col + static_cast<std::size_t>(x) * kB;
        for (std::size_t t = t0; t < t1; ++t) {
          const Weight w = weight_at(lines[t], base[t - t0], x);
          float* im = img + t * iview;
          const bool in0 = w.i0 >= 0 && w.i0 < nu, in1 = w.i0 + 1 >= 0 && w.i0 + 1 < nu;
          float* p0 = im + static_cast<std::size_t>(w.i0) * kB;
          if constexpr (kForward) {
            if (in0) axpy(p0, w.w0 * scale, v);
            if (in1) axpy(p0 + kB, w.w1 * scale, v);
          } else if (in0 && in1) {
            axpy2(v, w.w0 * scale, p0, w.w1 * scale, p0 + kB);
          } else {
            if (in0) axpy(v, w.w0 * scale, p0);
            if (in1) axpy(v, w.w1 * scale, p0 + kB);
          }
        }
      }
    }
  }
  (void)nz;
}

// Any azimuth: bilinear weights over the four pixels around (u, v). Calls f(voxel index, pixel index, weight).
template <class F>
void for_each_voxel_general(const TiltView& v, int nx, int ny, int nz, int nu, int nv, int z0, int z1, F&& f) {
  const double ca = std::cos(v.azimuth_rad), sa = std::sin(v.azimuth_rad);
  const double ct = std::cos(v.tilt_rad), st = std::sin(v.tilt_rad);
  const double cx = 0.5 * (nx - 1), cy = 0.5 * (ny - 1), cz = 0.5 * (nz - 1);
  const double cu = 0.5 * (nu - 1) + kOffset, cv = 0.5 * (nv - 1) + kOffset;
  for (int z = z0; z < z1; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) {
        const double px = x - cx, py = y - cy, pz = z - cz;
        const double u = (px * ca + py * sa) * ct - pz * st + cu, vv = -px * sa + py * ca + cv;
        const long iu = static_cast<long>(u), iv = static_cast<long>(vv);
        const double fu = u - static_cast<double>(iu), fv = vv - static_cast<double>(iv);
        const long u0 = iu - static_cast<long>(kOffset), v0 = iv - static_cast<long>(kOffset);
        const std::size_t vox = (static_cast<std::size_t>(z) * ny + y) * nx + x;
        for (int dv = 0; dv < 2; ++dv) {
          const long row = v0 + dv;
          if (row < 0 || row >= nv) continue;
          const double wv = dv ? fv : 1 - fv;
          for (int du = 0; du < 2; ++du) {
            const long col = u0 + du;
            if (col < 0 || col >= nu) continue;
            f(vox, static_cast<std::size_t>(row) * nu + col, (du ? fu : 1 - fu) * wv);
          }
        }
      }
}

// Views split into the azimuth-0 fast path (same number of rows as the volume) and the general path.
struct Split {
  std::vector<int> fast, general;
  std::vector<Line> lines; // of the fast views
};
Split split_views(const std::vector<TiltView>& views, int nx, int ny, int nz, int nu, int nv) {
  Split s;
  for (int t = 0; t < static_cast<int>(views.size()); ++t) {
    if (views[t].azimuth_rad == 0 && ny == nv) {
      s.fast.push_back(t);
      s.lines.push_back(line_of(views[t], nx, nz, nu));
    } else {
      s.general.push_back(t);
    }
  }
  return s;
}

} // namespace

Volume<float> project(const Volume<float>& volume, const std::vector<TiltView>& views, int nu, int nv, int z_begin,
                      int z_end) {
  const int nx = volume.nx, ny = volume.ny, nz = volume.nz, nt = static_cast<int>(views.size());
  const int z0 = std::clamp(z_begin, 0, nz), z1 = z_end < 0 ? nz : std::clamp(z_end, z0, nz);
  Volume<float> stack(nu, nv, nt, volume.voxel_A);
  const float scale = static_cast<float>(volume.voxel_A);
  const Split split = split_views(views, nx, ny, nz, nu, nv);
  for (int t : split.general) {
    float* img = stack.slice(t);
    for_each_voxel_general(views[t], nx, ny, nz, nu, nv, z0, z1, [&](std::size_t vox, std::size_t pix, double w) {
      img[pix] += static_cast<float>(w) * scale * volume.data[vox];
    });
  }
  if (split.fast.empty()) return stack;
  std::vector<int> zs;
  for (int z = z0; z < z1; ++z) zs.push_back(z);
  std::vector<float> vbuf, ibuf;
  for (int y0 = 0; y0 < ny; y0 += kB) {
    gather_block(volume, zs, y0, vbuf);
    ibuf.assign(split.fast.size() * nu * kB, 0.0f);
    block_kernel<true>(vbuf.data(), ibuf.data(), split.lines, nx, nz, nu, z0, z1, scale);
    scatter_block(ibuf, split.fast, y0, stack);
  }
  return stack;
}

Volume<float> back_project(const Volume<float>& stack, const std::vector<TiltView>& views, int nx, int ny, int nz,
                           double voxel_A) {
  const int nu = stack.nx, nv = stack.ny, nt = static_cast<int>(views.size());
  if (stack.nz != nt) fail("back projection of ", stack.nz, " images with ", nt, " views");
  Volume<float> vol(nx, ny, nz, voxel_A);
  const float scale = static_cast<float>(voxel_A);
  const Split split = split_views(views, nx, ny, nz, nu, nv);
  for (int t : split.general) {
    const float* img = stack.slice(t);
    for_each_voxel_general(views[t], nx, ny, nz, nu, nv, 0, nz, [&](std::size_t vox, std::size_t pix, double w) {
      vol.data[vox] += static_cast<float>(w) * scale * img[pix];
    });
  }
  if (split.fast.empty()) return vol;
  std::vector<int> zs(nz);
  for (int z = 0; z < nz; ++z) zs[z] = z;
  std::vector<float> vbuf, ibuf;
  for (int y0 = 0; y0 < ny; y0 += kB) {
    gather_block(stack, split.fast, y0, ibuf);
    vbuf.assign(static_cast<std::size_t>(nz) * nx * kB, 0.0f);
    block_kernel<false>(vbuf.data(), ibuf.data(), split.lines, nx, nz, nu, 0, nz, scale);
    scatter_block(vbuf, zs, y0, vol);
  }
  return vol;
}

} // namespace tomosweep

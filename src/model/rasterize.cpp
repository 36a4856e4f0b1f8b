#include "model/rasterize.hpp"

#include "core/conventions.hpp"
#include "core/simd.hpp"
#include "model/atoms.hpp"
#include "model/ice.hpp"
#include "model/ice_surface.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <tuple>

namespace tomosweep {

std::array<int, 3> grid_shape(const std::array<double, 3>& box_A, double pixel_size_A) {
  if (!(pixel_size_A > 0)) fail("model.pixel_size_A: expected a positive number, got ", pixel_size_A);
  std::array<int, 3> n{};
  for (int a = 0; a < 3; ++a) n[a] = std::max(1, int(std::lround(box_A[a] / pixel_size_A)));
  return n;
}

namespace {

struct Coarse {
  std::vector<PseudoAtom> atoms;
  double radius_A = 0;
  double blur_sigma_vox = 0; ///< Gaussian blur of the potential (form-factor mode), voxels
};

/// Blur a local box (lx x ly x lz, x fastest) along one axis with a normalised Gaussian; mass inside the
/// box is preserved because the box is padded by 3 sigma.
void blur_axis(std::vector<float>& a, int lx, int ly, int lz, int axis, const std::vector<double>& k) {
  const int r = int(k.size() / 2);
  const int n[3] = {lx, ly, lz};
  const std::size_t stride[3] = {1, std::size_t(lx), std::size_t(lx) * ly};
  std::vector<double> line(n[axis]);
  const int o1 = axis == 0 ? 1 : 0, o2 = axis == 2 ? 1 : 2;
  for (int j = 0; j < n[o2]; ++j)
    for (int i = 0; i < n[o1]; ++i) {
      const std::size_t base = i * stride[o1] + j * stride[o2];
      for (int t = 0; t < n[axis]; ++t) line[t] = a[base + t * stride[axis]];
      for (int t = 0; t < n[axis]; ++t) {
        double s = 0;
        for (int d = -r; d <= r; ++d)
          if (t - d >= 0 && t - d < n[axis]) s += k[d + r] * line[t - d];
        a[base + t * stride[axis]] = float(s);
      }
    }
}

// Temporaries are 16-bit fixed point to keep memory (and first-touch time) low: filled fraction in 1/8192
// (max 8), the dominating particle's potential in millivolts (max 65.5 V).
constexpr double kOccupancyScale = 8192.0;
constexpr double kBestScale = 1000.0;

/// v rounded half away from zero (std::lround) into 0..65535; inline, where std::lround is a library call.
std::uint16_t to_u16(double v) {
  if (!(v >= 0.5)) return 0; // and NaN
  if (v >= 65534.5) return 65535;
  const long r = long(v);
  return std::uint16_t(r + (v - double(r) >= 0.5)); // v - r is exact
}

/// Potential of every particle: local trilinear splat, then merged into potential/occupancy/owner grids.
class ParticleSplatter {
public:
  /// The grids hold the slices [slab_z0, slab_z0 + slab_nz) of `g` (all of them by default).
  explicit ParticleSplatter(const Grid& g, int slab_z0 = 0, int slab_nz = -1)
      : nx_(g.nx), ny_(g.ny), nz_(g.nz), pix_(g.voxel_A), sz0_(slab_z0), sz1_(slab_nz < 0 ? g.nz : slab_z0 + slab_nz),
        potential(slab_grid(g)), occupancy(slab_grid(g)), best(slab_grid(g)), owner(slab_grid(g)) {}
  Grid slab_grid(const Grid& g) const { return Grid{g.nx, g.ny, sz1_ - sz0_, g.voxel_A}; }

  void splat(const Coarse& c, const Mat3& r, Vec3 pos, std::uint32_t instance, double volts_per_weight) {
    // Continuous voxel indices of every pseudo-atom, and their tight bounding box.
    f_.resize(c.atoms.size());
    double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
    for (std::size_t k = 0; k < c.atoms.size(); ++k) {
      const Vec3 p = r * c.atoms[k].pos_A + pos;
      f_[k] = {voxel_index(p.x, nx_, pix_), voxel_index(p.y, ny_, pix_), voxel_index(p.z, nz_, pix_)};
      const double q[3] = {f_[k].x, f_[k].y, f_[k].z};
      for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], q[a]), hi[a] = std::max(hi[a], q[a]);
    }
    if (c.atoms.empty()) return;
    const int pad = c.blur_sigma_vox > 0 ? int(std::ceil(3 * c.blur_sigma_vox)) : 0;
    const int x0 = std::max(0, int(std::floor(lo[0])) - pad), x1 = std::min(nx_ - 1, int(std::floor(hi[0])) + 1 + pad);
    const int y0 = std::max(0, int(std::floor(lo[1])) - pad), y1 = std::min(ny_ - 1, int(std::floor(hi[1])) + 1 + pad);
    const int z0 = std::max(0, int(std::floor(lo[2])) - pad), z1 = std::min(nz_ - 1, int(std::floor(hi[2])) + 1 + pad);
    // A slab's grids take the slices of the particle's box that they hold; the box itself is the whole volume's
    // (so that the blur, and the values, are the same as there).
    if (x0 > x1 || y0 > y1 || z0 > z1 || z1 < sz0_ || z0 >= sz1_) return;
    const int lx = x1 - x0 + 1, ly = y1 - y0 + 1, lz = z1 - z0 + 1;
    w_.assign(std::size_t(lx) * ly * lz, 0.0f);
    v_.assign(w_.size(), 0.0f);
    for (std::size_t k = 0; k < c.atoms.size(); ++k) {
      const PseudoAtom& a = c.atoms[k];
      const double fx = f_[k].x - x0, fy = f_[k].y - y0, fz = f_[k].z - z0;
      const int ix = int(std::floor(fx)), iy = int(std::floor(fy)), iz = int(std::floor(fz));
      const double tx = fx - ix, ty = fy - iy, tz = fz - iz;
      for (int dz = 0; dz < 2; ++dz) {
        const int z = iz + dz;
        if (z < 0 || z >= lz) continue;
        const double wz = dz ? tz : 1 - tz;
        for (int dy = 0; dy < 2; ++dy) {
          const int y = iy + dy;
          if (y < 0 || y >= ly) continue;
          const double wzy = wz * (dy ? ty : 1 - ty);
          for (int dx = 0; dx < 2; ++dx) {
            const int x = ix + dx;
            if (x < 0 || x >= lx) continue;
            const double f = wzy * (dx ? tx : 1 - tx);
            const std::size_t i = (std::size_t(z) * ly + y) * lx + x;
            w_[i] += float(f * a.weight);
            v_[i] += float(f * a.volume_A3);
          }
        }
      }
    }
    if (pad > 0) {
      std::vector<double> k(2 * pad + 1);
      double sum = 0;
      for (int d = -pad; d <= pad; ++d)
        sum += k[d + pad] = std::exp(-0.5 * d * d / (c.blur_sigma_vox * c.blur_sigma_vox));
      for (double& x : k) x /= sum;
      for (int axis = 0; axis < 3; ++axis) blur_axis(w_, lx, ly, lz, axis, k);
    }
    const double vox3 = pix_ * pix_ * pix_;
    const float to_volts = float(volts_per_weight / vox3), to_occ = float(kOccupancyScale / vox3);
    for (int z = std::max(0, sz0_ - z0); z < std::min(lz, sz1_ - z0); ++z)
      for (int y = 0; y < ly; ++y) {
        const std::size_t li = (std::size_t(z) * ly + y) * lx, gi = potential.index(x0, y0 + y, z0 + z - sz0_);
        if (y + 2 < ly) { // the row after next: scattered rows are cache misses the hardware does not foresee
          const std::size_t pi = gi + 2 * std::size_t(nx_);
          for (int x = 0; x < lx; x += 16) {
            __builtin_prefetch(&potential.data[pi + x], 1);
            __builtin_prefetch(&owner.data[pi + x], 1);
          }
          for (int x = 0; x < lx; x += 32) {
            __builtin_prefetch(&occupancy.data[pi + x], 1);
            __builtin_prefetch(&best.data[pi + x], 1);
          }
        }
        for (int x = 0; x < lx; ++x) {
          const float volts = w_[li + x] * to_volts;
          if (volts == 0) continue;
          potential.data[gi + x] += volts;
          std::uint16_t& occ = occupancy.data[gi + x];
          occ = to_u16(occ + v_[li + x] * to_occ);
          const std::uint16_t q = to_u16(volts * kBestScale);
          if (q > best.data[gi + x]) best.data[gi + x] = q, owner.data[gi + x] = instance;
        }
      }
  }

  int nx_, ny_, nz_;
  double pix_;
  int sz0_, sz1_; ///< the slices the grids hold
  Volume<float> potential;
  Volume<std::uint16_t> occupancy, best;
  Volume<std::uint32_t> owner;

private:
  std::vector<float> w_, v_;
  std::vector<Vec3> f_;
};

/// Add a feature given by frac(p) (fraction of the voxel at centre p filled, potential of a full voxel in
/// volts) over the voxel index box; labels voxels filled at least half.
template <class F>
void add_feature(ParticleSplatter& g, Volume<std::uint8_t>& atlas, int label, Vec3 lo, Vec3 hi, F&& fill) {
  const double pix = g.pix_;
  auto range = [&](double a, double b, int n, int& i0, int& i1) {
    i0 = std::max(0, int(std::floor(voxel_index(a, n, pix))));
    i1 = std::min(n - 1, int(std::ceil(voxel_index(b, n, pix))));
  };
  int x0, x1, y0, y1, z0, z1;
  range(lo.x, hi.x, g.nx_, x0, x1);
  range(lo.y, hi.y, g.ny_, y0, y1);
  range(lo.z, hi.z, g.nz_, z0, z1);
  z0 = std::max(z0, g.sz0_), z1 = std::min(z1, g.sz1_ - 1);
  for (int z = z0; z <= z1; ++z)
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const Vec3 p{voxel_centre_A(x, g.nx_, pix), voxel_centre_A(y, g.ny_, pix), voxel_centre_A(z, g.nz_, pix)};
        const auto [frac, volts] = fill(p);
        if (frac <= 0 && volts == 0) continue;
        const std::size_t i = g.potential.index(x, y, z - g.sz0_);
        g.potential.data[i] += float(volts);
        g.occupancy.data[i] = to_u16(g.occupancy.data[i] + frac * kOccupancyScale);
        if (frac >= 0.5) atlas.data[i] = std::uint8_t(label);
      }
}

/// Pseudo-atoms of a particle's structure (its atom selection) at this pixel size, with the bounding radius
/// and, in form-factor mode, the blur of the atoms' form factors and B factors.
Coarse coarse_particle(const PlacedParticle& pp, const StructureSet& structures, double pix, PotentialMode mode,
                       double b_factor_A2) {
  auto st = structures.find(pp.source);
  if (st == structures.end()) fail("structure '", pp.source, "' was not loaded");
  Coarse c;
  const std::vector<bool> mask =
      pp.selection.empty() ? std::vector<bool>{} : select_atoms(st->second, pp.selection, pp.source);
  c.atoms = coarse_grain(st->second, pix, mask, mode);
  double wsum = 0, wb = 0;
  for (const PseudoAtom& a : c.atoms) {
    c.radius_A = std::max(c.radius_A, a.pos_A.length());
    wsum += a.weight, wb += a.weight * a.b_iso_A2;
  }
  if (mode == PotentialMode::form_factor && wsum > 0) {
    // Atom + thermal blur: variance (b_atom + B + B_extra) / (8 pi^2) per axis; below a quarter voxel the
    // trilinear spread dominates and the blur is skipped.
    const double b = wb / wsum + form_factor_b_A2(6) + b_factor_A2;
    const double sigma = std::sqrt(b / (8 * kPi * kPi)) / pix;
    c.blur_sigma_vox = sigma >= 0.25 ? sigma : 0;
  }
  return c;
}

/// Splat every particle of the scene; pseudo-atoms are made once per (source, selection).
void splat_particles(const Scene& scene, const StructureSet& structures, PotentialMode mode, ParticleSplatter& g) {
  std::map<std::pair<std::string, std::string>, Coarse> cache;
  const double volts_per_weight = potential_volts_per_weight(mode);
  // Particles in the order of the volume's memory (by blocks of 16 voxels along z, then y, then x), so that
  // consecutive splats update neighbouring cache lines and pages instead of jumping through the volume; the order
  // is the same for every slab of a rank group.
  const double cell = 16 * g.pix_;
  std::vector<std::tuple<long, long, double, std::size_t>> order;
  order.reserve(scene.particles.size());
  for (std::size_t i = 0; i < scene.particles.size(); ++i) {
    const Vec3& p = scene.particles[i].position_A;
    order.emplace_back(long(std::floor(p.z / cell)), long(std::floor(p.y / cell)), p.x, i);
  }
  std::sort(order.begin(), order.end());
  for (const auto& entry : order) {
    const PlacedParticle& pp = scene.particles[std::get<3>(entry)];
    auto key = std::make_pair(pp.source, pp.selection);
    auto it = cache.find(key);
    if (it == cache.end())
      it = cache.emplace(key, coarse_particle(pp, structures, g.pix_, mode, scene.b_factor_A2)).first;
    g.splat(it->second, pp.rotation, pp.position_A, pp.instance, volts_per_weight);
  }
}

/// Carbon film, vesicles and gold beads, their profiles averaged over each voxel.
void add_features(const Scene& scene, PotentialMode mode, ParticleSplatter& g, Volume<std::uint8_t>& atlas) {
  const double pix = g.pix_;
  const Vec3 half{0.5 * scene.box_A[0], 0.5 * scene.box_A[1], 0.5 * scene.box_A[2]};
  if (scene.carbon.present) {
    const CarbonFilm& c = scene.carbon;
    const double vc = carbon_potential_V(mode);
    add_feature(g, atlas, scene.carbon_label, {-half.x, -half.y, c.z_A - 0.5 * c.thickness_A - pix},
                {half.x, half.y, c.z_A + 0.5 * c.thickness_A + pix}, [&](Vec3 p) {
                  const double fz = std::clamp((std::min(p.z + 0.5 * pix, c.z_A + 0.5 * c.thickness_A) -
                                                std::max(p.z - 0.5 * pix, c.z_A - 0.5 * c.thickness_A)) /
                                                   pix,
                                               0.0, 1.0);
                  const double fxy = std::clamp(
                      0.5 + (std::hypot(p.x - c.hole_x_A, p.y - c.hole_y_A) - c.hole_radius_A) / pix, 0.0, 1.0);
                  return std::pair{fz * fxy, fz * fxy * vc};
                });
  }
  for (const Vesicle& v : scene.vesicles) {
    const double ext = v.max_radius() + v.bilayer_A + pix;
    add_feature(g, atlas, scene.membrane_label, v.centre_A - Vec3{ext, ext, ext}, v.centre_A + Vec3{ext, ext, ext},
                [&](Vec3 p) {
                  const double d = v.signed_distance(p);
                  if (std::abs(d) > 0.5 * v.bilayer_A + pix) return std::pair{0.0, 0.0};
                  constexpr int kSamples = 8; // average across the voxel along the normal
                  double f = 0, volts = 0;
                  for (int s = 0; s < kSamples; ++s) {
                    const double ds = d + pix * ((s + 0.5) / kSamples - 0.5);
                    f += bilayer_occupancy(ds, v.bilayer_A);
                    volts += bilayer_potential_V(ds, v.bilayer_A, mode);
                  }
                  return std::pair{f / kSamples, volts / kSamples};
                });
  }
  auto spheres = [&](const std::vector<Bead>& beads, int label, double volts) {
    for (const Bead& b : beads) {
      const double ext = b.radius_A + pix;
      add_feature(g, atlas, label, b.centre_A - Vec3{ext, ext, ext}, b.centre_A + Vec3{ext, ext, ext}, [&](Vec3 p) {
        const double f = std::clamp(0.5 - ((p - b.centre_A).length() - b.radius_A) / pix, 0.0, 1.0);
        return std::pair{f, f * volts};
      });
    }
  };
  spheres(scene.beads, scene.gold_label, gold_potential_V(mode));
  spheres(scene.contamination, scene.contamination_label,
          contamination_potential_V(scene.contamination_material, mode));
}

/// With model.ice_surface: the two surfaces' heights (A) at each column's centre ([y][x]), and the fraction of a
/// voxel's z extent between them; without, every voxel is wholly in the ice.
class IceFraction {
public:
  IceFraction(const Scene& scene, const Grid& g) : pix_(g.voxel_A), nz_(g.nz) {
    if (!scene.ice_surface) return;
    const IceSlab& s = scene.ice_slab;
    const double x0 = voxel_centre_A(0, g.nx, pix_), y0 = voxel_centre_A(0, g.ny, pix_);
    const std::vector<float> top = s.top.on_grid(x0, y0, pix_, g.nx, g.ny),
                             bottom = s.bottom.on_grid(x0, y0, pix_, g.nx, g.ny);
    hi_.resize(top.size()), lo_.resize(top.size());
    for (int y = 0; y < g.ny; ++y)
      for (int x = 0; x < g.nx; ++x) {
        const std::size_t c = std::size_t(y) * g.nx + x;
        const double wedge = s.slope * voxel_centre_A(x, g.nx, pix_);
        hi_[c] = s.half_thickness_A + wedge + top[c], lo_[c] = -s.half_thickness_A - wedge + bottom[c];
      }
  }
  bool all() const { return hi_.empty(); }
  /// Slice z's extent in z (A): {bottom, top}.
  std::array<double, 2> slice(int z) const {
    const double zc = voxel_centre_A(z, nz_, pix_);
    return {zc - 0.5 * pix_, zc + 0.5 * pix_};
  }
  /// Column c (y nx + x) of the slice whose extent is s.
  float operator()(std::size_t c, const std::array<double, 2>& s) const {
    return float(std::clamp((std::min(hi_[c], s[1]) - std::max(lo_[c], s[0])) / pix_, 0.0, 1.0));
  }

private:
  double pix_;
  int nz_;
  std::vector<double> hi_, lo_;
};

// Two loops the compiler vectorises for add_ice_and_labels; each voxel's operations are those of one voxel at a
// time, so the values are the same.
/// The free fraction of m voxels with occupancies occ: 1 - occupancy, at least 0.
TOMOSWEEP_KERNEL_CLONES void free_fractions(const std::uint16_t* occ, std::size_t m, double* free) {
  for (std::size_t j = 0; j < m; ++j) free[j] = std::max(0.0, 1.0 - occ[j] / kOccupancyScale);
}
/// The ice added to the potential of m voxels of free fractions `free`: ice_v x free, plus texture x free where
/// `tex` is given.
TOMOSWEEP_KERNEL_CLONES void add_ice(float* potential, const double* free, const float* tex, double ice_v,
                                     std::size_t m) {
  if (tex)
    for (std::size_t j = 0; j < m; ++j) potential[j] += float(ice_v * free[j] + tex[j] * free[j]);
  else
    for (std::size_t j = 0; j < m; ++j) potential[j] += float(ice_v * free[j]);
}

/// Ice (with its granular texture, if any) in the free fraction of every voxel; a voxel keeps its dominating
/// particle's label and instance only where that particle's potential exceeds the local mean ice level.
void add_ice_and_labels(const Scene& scene, PotentialMode mode, ParticleSplatter& g, Volume<std::uint8_t>& atlas,
                        const Volume<float>* texture_slab) {
  std::uint32_t max_instance = 0;
  for (const PlacedParticle& pp : scene.particles) max_instance = std::max(max_instance, pp.instance);
  std::vector<int> label_of(std::size_t(max_instance) + 1, 0);
  for (const PlacedParticle& pp : scene.particles) label_of[pp.instance] = pp.label;
  const double ice_v = ice_potential_V(mode);
  const bool granular = scene.ice && scene.ice_texture == IceTexture::granular;
  const Grid whole{g.nx_, g.ny_, g.nz_, g.pix_};
  const bool given = granular && texture_slab;
  if (granular && !given && (g.sz0_ != 0 || g.sz1_ != g.nz_))
    fail("model.ice_texture = \"granular\" on a slab of the volume needs the texture's slab");
  if (given && texture_slab->size() != g.potential.size())
    fail("ice texture slab of ", texture_slab->size(), " voxels for a slab of ", g.potential.size());
  const Volume<float> texture =
      granular && !given ? ice_texture(whole, ice_v, scene.seed, scene.replicate) : Volume<float>{};
  const float* tex = given ? texture_slab->data.data() : texture.data.data();
  const IceFraction in_ice(scene, whole); // vacuum beyond the surfaces
  const std::size_t plane = std::size_t(g.nx_) * g.ny_;
  constexpr std::size_t kRun = 1024; // voxels at a time: their free fractions stay in L1
  std::vector<double> free(std::min(plane, kRun));
  for (int z = g.sz0_; z < g.sz1_; ++z) {
    const std::array<double, 2> slice = in_ice.slice(z);
    for (std::size_t c0 = 0; c0 < plane; c0 += kRun) {
      const std::size_t m = std::min(kRun, plane - c0), i0 = std::size_t(z - g.sz0_) * plane + c0;
      free_fractions(&g.occupancy.data[i0], m, free.data());
      if (!in_ice.all())
        for (std::size_t j = 0; j < m; ++j) free[j] *= in_ice(c0 + j, slice);
      if (scene.ice) add_ice(&g.potential.data[i0], free.data(), granular ? tex + i0 : nullptr, ice_v, m);
      for (std::size_t j = 0; j < m; ++j) {
        std::uint32_t& owner = g.owner.data[i0 + j];
        if (owner && g.best.data[i0 + j] / kBestScale > ice_v * free[j])
          atlas.data[i0 + j] = std::uint8_t(label_of[owner]);
        else
          owner = 0;
      }
    }
  }
}

} // namespace

SpecimenVolumes rasterize(const Scene& scene, const StructureSet& structures, double pixel_size_A, PotentialMode mode,
                          bool texture_thread) {
  return rasterize_slab(scene, structures, pixel_size_A, mode, 0, -1, nullptr, texture_thread);
}

SpecimenVolumes rasterize_slab(const Scene& scene, const StructureSet& structures, double pixel_size_A,
                               PotentialMode mode, int z_begin, int z_end, const Volume<float>* texture,
                               bool texture_thread) {
  const auto n = grid_shape(scene.box_A, pixel_size_A);
  const Grid grid{n[0], n[1], n[2], pixel_size_A};
  const int z0 = std::clamp(z_begin, 0, n[2]), z1 = z_end < 0 ? n[2] : std::clamp(z_end, z0, n[2]);
  // The whole volume's texture (what add_ice_and_labels would make itself) on its own thread, during the splatting.
  std::future<Volume<float>> whole_texture;
  if (texture_thread && !texture && scene.ice && scene.ice_texture == IceTexture::granular && z0 == 0 && z1 == n[2])
    whole_texture = std::async(std::launch::async, [&scene, grid, mode] {
      return ice_texture(grid, ice_potential_V(mode), scene.seed, scene.replicate);
    });
  ParticleSplatter g(grid, z0, z1 - z0);
  SpecimenVolumes out;
  out.atlas = Volume<std::uint8_t>(g.slab_grid(grid));
  out.ice_thickness_A = scene.ice_surface ? 2 * scene.ice_slab.half_thickness_A : scene.box_A[2];
  splat_particles(scene, structures, mode, g);
  add_features(scene, mode, g, out.atlas);
  Volume<float> made;
  if (whole_texture.valid()) {
    made = whole_texture.get();
    texture = &made;
  }
  add_ice_and_labels(scene, mode, g, out.atlas, texture);
  out.potential = std::move(g.potential);
  out.instances = std::move(g.owner);
  return out;
}

Volume<float> rasterize_class(const Scene& scene, const StructureSet& structures, double pixel_size_A,
                              PotentialMode mode, int label) {
  Scene only;
  only.box_A = scene.box_A;
  only.classes = scene.classes;
  only.ice = false;
  only.b_factor_A2 = scene.b_factor_A2;
  for (const PlacedParticle& pp : scene.particles)
    if (pp.label == label) only.particles.push_back(pp);
  return rasterize(only, structures, pixel_size_A, mode).potential;
}

} // namespace tomosweep

namespace tomosweep {

Volume<float> gold_fraction(const Scene& scene, double pixel_size_A) {
  const auto n = grid_shape(scene.box_A, pixel_size_A);
  const double pix = pixel_size_A;
  Volume<float> f(Grid{n[0], n[1], n[2], pix});
  for (const Bead& b : scene.beads) { // add_features' profile over add_feature's index box
    const double ext = b.radius_A + pix;
    int lo[3], hi[3];
    const double c[3] = {b.centre_A.x, b.centre_A.y, b.centre_A.z};
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::max(0, int(std::floor(voxel_index(c[a] - ext, n[a], pix))));
      hi[a] = std::min(n[a] - 1, int(std::ceil(voxel_index(c[a] + ext, n[a], pix))));
    }
    for (int z = lo[2]; z <= hi[2]; ++z)
      for (int y = lo[1]; y <= hi[1]; ++y)
        for (int x = lo[0]; x <= hi[0]; ++x) {
          const Vec3 p{voxel_centre_A(x, n[0], pix), voxel_centre_A(y, n[1], pix), voxel_centre_A(z, n[2], pix)};
          f(x, y, z) += float(std::clamp(0.5 - ((p - b.centre_A).length() - b.radius_A) / pix, 0.0, 1.0));
        }
  }
  return f;
}

} // namespace tomosweep

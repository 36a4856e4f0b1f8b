#include "simulate/pipeline.hpp"

#include "core/conventions.hpp"
#include "core/exposure.hpp"
#include "core/fft.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/threads.hpp"
#include "core/tilt_scheme.hpp"
#include "simulate/absorption.hpp"
#include "simulate/ctf.hpp"
#include "simulate/detector.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

namespace tomosweep {
namespace {

constexpr std::uint64_t kTiltsPerJob = 4096, kEvenHalf = 2048;

// 2 * factor * F^-1[extra . S] without the DC term (extra empty = 1).
Image filtered_contrast(Spectrum2 s, double factor, const std::vector<float>& extra, double pixel_A) {
  for (std::size_t i = 0; i < s.data.size(); ++i)
    s.data[i] *= static_cast<float>(2 * factor * (extra.empty() ? 1.0f : extra[i]));
  s.data[0] = 0;
  return fft_inverse(s, pixel_A);
}

// Blur of a straight-line drift d (A) during the exposure, centred on the image's mean position: the
// uniform-motion kernel, sinc(pi k.d) in Fourier (k in 1/A), multiplied into the half-plane filter f (nx x ny at
// pixel_A; empty = all ones).
void multiply_motion_blur(std::vector<float>& f, int nx, int ny, double pixel_A, double dx_A, double dy_A) {
  if (dx_A == 0 && dy_A == 0) return;
  const int nkx = nx / 2 + 1;
  if (f.empty()) f.assign(static_cast<std::size_t>(nkx) * ny, 1.0f);
  for (int ky = 0; ky < ny; ++ky)
    for (int kx = 0; kx < nkx; ++kx) {
      const double a = kPi * (kx * dx_A / nx + fft_freq(ky, ny) * dy_A / ny) / pixel_A;
      f[static_cast<std::size_t>(ky) * nkx + kx] *= static_cast<float>(a == 0 ? 1.0 : std::sin(a) / a);
    }
}

// Real half-plane filters that multiply the signal before counting: radiation damage at exposure N
// (exp(-N / (2 N_e(k))), per-frequency constants precomputed once), the detector MTF, and the tilt's motion blur.
struct SignalFilter {
  std::vector<float> half_inv_ne; // 1 / (2 N_e(k)), or empty without damage
  std::vector<float> mtf;         // or empty
  int nx = 0, ny = 0;
  double pixel_A = 1;

  SignalFilter() = default;
  SignalFilter(int nx_, int ny_, double pixel_A_, const ImagingParams& p, bool with_mtf)
      : nx(nx_), ny(ny_), pixel_A(pixel_A_) {
    if (!p.damage && !with_mtf) return;
    const int nkx = nx / 2 + 1;
    const std::size_t n = static_cast<std::size_t>(nkx) * ny;
    if (p.damage) half_inv_ne.resize(n);
    if (with_mtf) mtf.resize(n);
    for (int ky = 0; ky < ny; ++ky)
      for (int kx = 0; kx < nkx; ++kx) {
        const std::size_t i = static_cast<std::size_t>(ky) * nkx + kx;
        const double fx = static_cast<double>(kx) / nx, fy = static_cast<double>(fft_freq(ky, ny)) / ny; // cycles/pixel
        if (p.damage)
          half_inv_ne[i] =
              static_cast<float>(0.5 / critical_exposure_e_per_A2(std::hypot(fx, fy) / pixel_A, p.voltage_kV));
        if (with_mtf) mtf[i] = static_cast<float>(sinc_mtf(2 * fx, 2 * fy));
      }
  }
  /// The filter at exposure N (e/A^2) and drift (dx_A, dy_A); empty when it would be all ones.
  std::vector<float> at(double exposure, double dx_A = 0, double dy_A = 0) const {
    const bool damage = !half_inv_ne.empty() && exposure > 0;
    std::vector<float> f = mtf;
    if (damage) {
      f.resize(half_inv_ne.size());
      exp_neg_scaled(half_inv_ne.data(), exposure, mtf.empty() ? nullptr : mtf.data(), f.data(), f.size());
    }
    multiply_motion_blur(f, nx, ny, pixel_A, dx_A, dy_A);
    return f;
  }
};

void check_params(const ImagingParams& p, const Grid& v) {
  if (v.nx <= 0 || v.ny <= 0 || v.nz <= 0) fail("empty potential volume ", v.nx, " x ", v.ny, " x ", v.nz);
  if (!(p.dqe > 0 && p.dqe <= 1)) fail("dqe ", p.dqe, " must be in (0, 1]");
}

// Projections of the potential along every view, one stack per depth slab (one slab unless a depth-dependent
// CTF is asked for), and the height of each slab's centre (Angstrom).
struct SlabProjections {
  std::vector<Volume<float>> stacks;
  std::vector<double> z_A;
};

// What the specimen terms change in the projections (simulate/absorption.hpp): the ice beyond the box (with rough
// or wedged surfaces), and gold, whose phase leaves the linear term when it is imaged as a strong object
// (its projected path is returned in `gold_path_A`).
struct SlabExtras {
  const IceSlabLookup* ice = nullptr;
  const Volume<float>* gold = nullptr;
  float gold_excess_V = 0;
  bool subtract_gold = false;
  Volume<float>* gold_path_A = nullptr;
  Volume<float>* ice_path_A = nullptr; ///< each pixel's ice path, from the first slab's crossings
  std::array<int, 2> gold_z{0, 0};     ///< the slices [z0, z1) of `gold` that hold gold
};

// The slices [z0, z1) of v that hold a nonzero value ({0, 0} if none).
std::array<int, 2> nonzero_slices(const Volume<float>& v) {
  int z0 = v.nz, z1 = 0;
  for (int z = 0; z < v.nz; ++z) {
    const float* s = v.slice(z);
    if (std::any_of(s, s + static_cast<std::size_t>(v.nx) * v.ny, [](float x) { return x != 0; }))
      z0 = std::min(z0, z), z1 = z + 1;
  }
  return z0 < z1 ? std::array<int, 2>{z0, z1} : std::array<int, 2>{0, 0};
}

SlabProjections project_slabs(const Grid& grid, const Projector& projector, const std::vector<TiltView>& views,
                              int ctf_slabs, std::array<int, 2> detector, float ice_V,
                              const std::vector<ExteriorLayer>& exterior, const SlabExtras& extra = {}) {
  const int nz = grid.nz;
  const double pA = grid.voxel_A;
  const int slabs = std::clamp(ctf_slabs, 1, nz);
  SlabProjections out{std::vector<Volume<float>>(slabs), std::vector<double>(slabs)};
  ZRanges ranges;
  for (int s = 0; s < slabs; ++s) ranges.push_back({s * nz / slabs, (s + 1) * nz / slabs});
  out.stacks = projector(views, detector[0], detector[1], ranges, ice_V);
  if (out.stacks.size() != ranges.size()) fail("projector made ", out.stacks.size(), " stacks for ", slabs, " slabs");
  for (int s = 0; s < slabs; ++s) {
    const int z0 = ranges[s][0], z1 = ranges[s][1];
    add_exterior(out.stacks[s], views, grid, exterior, (z0 - 0.5 * nz) * pA, (z1 - 0.5 * nz) * pA);
    if (extra.ice) // the top and bottom slabs also hold the ice beyond the box's z faces
      add_ice_exterior(out.stacks[s], views, grid, *extra.ice, ice_V,
                       s == 0 ? -1e300 : (z0 - 0.5 * nz) * pA, s == slabs - 1 ? 1e300 : (z1 - 0.5 * nz) * pA,
                       s == 0 ? extra.ice_path_A : nullptr);
    if (extra.gold) { // only the slices that hold gold
      const int g0 = std::max(z0, extra.gold_z[0]), g1 = std::max(g0, std::min(z1, extra.gold_z[1]));
      const Volume<float> g = project(*extra.gold, views, detector[0], detector[1], g0, g1);
      if (extra.subtract_gold)
        for (std::size_t j = 0; j < g.data.size(); ++j) out.stacks[s].data[j] -= extra.gold_excess_V * g.data[j];
      if (s == 0)
        *extra.gold_path_A = g;
      else
        for (std::size_t j = 0; j < g.data.size(); ++j) extra.gold_path_A->data[j] += g.data[j];
    }
    out.z_A[s] = (0.5 * (z0 + z1 - 1) - 0.5 * (nz - 1)) * pA;
  }
  return out;
}

// The two steps of imaging one tilt, with what all tilts of a series share: the CTF and its grid, the
// signal filters and the working images. The CTF reads defocus and tilt from the tilt's view.
class TiltImager {
public:
  TiltImager(const ImagingParams& p, int nx, int ny, double pixel_A, double sigma, std::uint64_t seed)
      : p_(p), pA_(pixel_A), sigma_(sigma), seed_(seed), ctf_(ctf_from(p, pixel_A)), grid_(ctf_grid(ctf_, nx, ny)),
        phase_(nx, ny, pixel_A), contrast_(nx, ny, pixel_A), counts_(nx, ny, pixel_A) {
    const bool mtf = p.detector_mtf == DetectorMtf::sinc, cts_order = p.noise_order == NoiseOrder::cts;
    cts_order_ = cts_order;
    // Physical order: damage and MTF act on the signal before counting; CTS order: the MTF goes with the CTF.
    signal_ = SignalFilter(nx, ny, pixel_A, p, mtf && !cts_order);
    ImagingParams no_damage = p;
    no_damage.damage = false;
    mtf_after_ = cts_order ? SignalFilter(nx, ny, pixel_A, no_damage, mtf).mtf : std::vector<float>{};
  }

  /// Contrast of one tilt from its projection in every slab: 2 CTF (x) phase, or -2 phase in CTS order (its
  /// CTF comes after counting); damage at `exposure` (e/A^2) and the motion blur of record r included. Random
  /// stream `id`.
  void contrast(const std::vector<const float*>& slab_images, const std::vector<double>& slab_z_A, const TiltView& v,
                const TiltRecord& r, double exposure, std::uint64_t id) {
    const std::vector<float> filter = signal_.at(exposure, r.motion_x_A, r.motion_y_A);
    std::fill(contrast_.data.begin(), contrast_.data.end(), 0.0f);
    for (std::size_t s = 0; s < slab_images.size(); ++s) {
      const float* src = slab_images[s];
      for (std::size_t j = 0; j < phase_.data.size(); ++j) phase_.data[j] = static_cast<float>(sigma_ * src[j]);
      if (s == 0 && p_.damage && exposure > 0 && p_.damage_noise_rad_A_per_e_A2 > 0) {
        Rng rng(seed_, Purpose::damage, id);
        add_damage_noise(phase_, p_.damage_noise_rad_A_per_e_A2, exposure, rng);
      }
      const Spectrum2 spec = fft_forward(phase_);
      const Image c = cts_order_ ? filtered_contrast(spec, -1.0, filter, pA_)
                                 : ctf_contrast(spec, ctf_, grid_, v.defocus_A + slab_z_A[s] / std::cos(v.tilt_rad),
                                                p_.defocus_gradient ? v.tilt_rad : 0.0, filter);
      for (std::size_t j = 0; j < c.data.size(); ++j) contrast_.data[j] += c.data[j];
    }
  }

  /// Counting: Poisson(flat (1 + contrast)) into image i of `images`, as one image or as the sum of two
  /// independent halves (also put into image i of `halves`). Random streams id and id + kEvenHalf.
  /// `factor`: per-pixel factors on the expected counts (simulate/absorption.hpp), or nullptr.
  void count(double flat, const TiltView& v, std::uint64_t id, int i, Volume<float>& images,
             std::array<Volume<float>, 2>& halves, const float* factor = nullptr) {
    const int parts = p_.half_series ? 2 : 1;
    float* total = images.slice(i);
    for (int h = 0; h < parts; ++h) {
      const double f = flat / parts;
      for (std::size_t j = 0; j < counts_.data.size(); ++j)
        counts_.data[j] = static_cast<float>(f * (1.0 + contrast_.data[j]));
      if (factor)
        for (std::size_t j = 0; j < counts_.data.size(); ++j)
          counts_.data[j] = static_cast<float>(f * factor[j] * (1.0 + contrast_.data[j]));
      poisson_counts(counts_, seed_, id + (h == 1 ? kEvenHalf : 0));
      if (cts_order_) {
        // CTS: count first, then modulate the noisy image's contrast by the CTF (and MTF).
        for (float& x : counts_.data) x = static_cast<float>(x / f - 1.0);
        const Image c = ctf_contrast(fft_forward(counts_), ctf_, grid_, v.defocus_A,
                                     p_.defocus_gradient ? v.tilt_rad : 0.0, mtf_after_);
        for (std::size_t j = 0; j < c.data.size(); ++j)
          counts_.data[j] = static_cast<float>(f * (1.0 - 0.5 * c.data[j])); // CTF of -c: the sign of 2 CTF phi
      }
      if (p_.half_series) set_stack_image(halves[h], i, counts_);
      for (std::size_t j = 0; j < counts_.data.size(); ++j)
        total[j] = h == 0 ? counts_.data[j] : total[j] + counts_.data[j];
    }
  }

private:
  const ImagingParams& p_;
  double pA_, sigma_;
  std::uint64_t seed_;
  Ctf ctf_;
  CtfGrid grid_;
  bool cts_order_ = false;
  SignalFilter signal_;
  std::vector<float> mtf_after_;
  Image phase_, contrast_, counts_;
};

// The detector of a series imaged at 1 / bin of its output pixel: bin times the detector (detector_shape) of the
// output grid, so that each output pixel is a block of bin x bin fine pixels.
std::array<int, 2> binned_detector(const Grid& fine, const std::vector<TiltView>& views, int bin) {
  if (bin < 1) fail("acquisition binning ", bin, " must be at least 1");
  if (bin == 1) return detector_shape(fine, views);
  if (fine.nx % bin || fine.ny % bin || fine.nz % bin)
    fail("acquisition binning ", bin, " needs a potential of a multiple of ", bin, " voxels, got ", fine.nx, " x ",
         fine.ny, " x ", fine.nz);
  const std::array<int, 2> d =
      detector_shape(Grid{fine.nx / bin, fine.ny / bin, fine.nz / bin, fine.voxel_A * bin}, views);
  return {d[0] * bin, d[1] * bin};
}

// Fourier binning of a series imaged at 1 / bin of its output pixel: every image (and half) to the output pixel,
// counts per output pixel; the CTF is the output pixel's.
void bin_series(TiltSeries& s, const ImagingParams& p, int bin) {
  auto bin_stack = [bin](const Volume<float>& fine) {
    Volume<float> out(fine.nx / bin, fine.ny / bin, fine.nz, fine.voxel_A * bin);
    for (int i = 0; i < fine.nz; ++i) set_stack_image(out, i, fourier_bin(stack_image(fine, i), bin));
    return out;
  };
  s.images = bin_stack(s.images);
  for (auto& h : s.halves)
    if (!h.data.empty()) h = bin_stack(h);
  for (TiltRecord& r : s.tilts) r.flat_e_per_pixel *= double(bin) * bin;
  s.ctf = ctf_from(p, s.images.voxel_A);
}

} // namespace

TiltSeries simulate_ideal_series(const Volume<float>& potential_V, const ImagingParams& p, const TiltParams& tilts,
                                 double ice_V, const std::vector<ExteriorLayer>& exterior, const SpecimenTerms& terms) {
  return simulate_ideal_series(potential_V.grid(), volume_projector(potential_V), p, tilts, ice_V, exterior, terms);
}

TiltSeries simulate_series(const Volume<float>& potential_V, const ImagingParams& p, double ice_thickness_A,
                           std::uint64_t seed, std::uint64_t job_id, double ice_V,
                           const std::vector<ExteriorLayer>& exterior, const SpecimenTerms& terms) {
  return simulate_series(potential_V.grid(), volume_projector(potential_V), p, ice_thickness_A, seed, job_id, ice_V,
                         exterior, terms);
}

TiltSeries simulate_ideal_series(const Grid& grid, const Projector& projector, const ImagingParams& p,
                                 const TiltParams& tilts, double ice_V, const std::vector<ExteriorLayer>& exterior,
                                 const SpecimenTerms& terms) {
  TiltParams t = tilts;
  t.angle_error_deg = 0;
  t.shift_sd_A = t.rotation_sd_deg = t.magnification_sd = t.defocus_jitter_um = t.axis_offset_deg = 0;
  t.motion_sd_A = 0;
  t.dose_weighting = DoseWeighting::even;
  TiltSeries out = plan_series(t, 0, 0, 0, 0);
  out.sigma_e_rad_per_V_A = interaction_constant_rad_per_V_A(p.voltage_kV);
  const std::array<int, 2> det = detector_shape(grid, out.nominal_views);
  out.images = std::move(projector(out.nominal_views, det[0], det[1], {{0, grid.nz}}, static_cast<float>(ice_V)).at(0));
  const double hz = 0.5 * grid.nz * grid.voxel_A;
  add_exterior(out.images, out.nominal_views, grid, exterior, -hz, hz);
  if (terms.ice_slab)
    add_ice_exterior(out.images, out.nominal_views, grid,
                     ice_lookup(*terms.ice_slab, grid, out.nominal_views, det[0], det[1]), ice_V);
  const float s2 = static_cast<float>(2 * out.sigma_e_rad_per_V_A);
  for (TiltRecord& r : out.tilts) r.flat_e_per_pixel = 1;
  for (float& x : out.images.data) x = 1 - s2 * x;
  return out;
}

TiltSeries simulate_series(const Grid& grid, const Projector& projector, const ImagingParams& p,
                           double ice_thickness_A, std::uint64_t seed, std::uint64_t job_id, double ice_V,
                           const std::vector<ExteriorLayer>& exterior, const SpecimenTerms& terms, int threads) {
  if (p.ideal) return simulate_ideal_series(grid, projector, p, p.tilt, ice_V, exterior, terms);
  check_params(p, grid);
  const double pA = grid.voxel_A;
  const int bin = p.acquisition_binning;
  TiltSeries out = plan_series(p.tilt, p.dose_e_per_A2, p.defocus_um, seed, job_id);
  const std::array<int, 2> det = binned_detector(grid, out.views, bin);
  const int nx = det[0], ny = det[1];
  const double sigma = out.sigma_e_rad_per_V_A = interaction_constant_rad_per_V_A(p.voltage_kV);
  out.ctf = ctf_from(p, pA);
  out.voltage_kV = p.voltage_kV;
  const int nt = static_cast<int>(out.tilts.size());
  if (static_cast<std::uint64_t>(nt) > kEvenHalf) fail("tilt series of ", nt, " tilts exceeds ", kEvenHalf);

  // With one slab the projection stack becomes the output: each tilt reads its own image before writing its
  // counts there.
  const int slab_count = ctf_slab_count(p, grid.nz * pA, pA * bin); // the output pixel's depth of field
  std::optional<IceSlabLookup> ice;
  if (terms.ice_slab) ice.emplace(ice_lookup(*terms.ice_slab, grid, out.views, nx, ny));
  AmplitudeTerms amplitude(p, terms, nx, ny, pA, ice_thickness_A);
  Volume<float> gold_path_A, ice_path_A;
  const SlabExtras extra{ice ? &*ice : nullptr,
                         amplitude.gold() ? terms.gold : nullptr,
                         static_cast<float>(terms.gold_excess_V),
                         amplitude.gold_wave(),
                         &gold_path_A,
                         &ice_path_A,
                         amplitude.gold() ? nonzero_slices(*terms.gold) : std::array<int, 2>{0, 0}};
  SlabProjections slabs =
      project_slabs(grid, projector, out.views, slab_count, det, static_cast<float>(ice_V), exterior, extra);
  const bool one_slab = slabs.stacks.size() == 1;
  if (one_slab) {
    out.images = std::move(slabs.stacks[0]);
    slabs.stacks.clear();
  } else {
    out.images = Volume<float>(nx, ny, nt, pA);
  }
  if (p.half_series)
    for (auto& h : out.halves) h = Volume<float>(nx, ny, nt, pA);

  // Tilts first, first + step, ...: each writes only its own record and images, with its own working buffers.
  const auto image_tilts = [&](int first, int step) {
    std::optional<AmplitudeTerms> copy; // another thread's own factor buffer
    if (first > 0) copy.emplace(amplitude);
    AmplitudeTerms& amp = copy ? *copy : amplitude;
    TiltImager imager(p, nx, ny, pA, sigma, seed);
    std::vector<const float*> slab_images(slabs.z_A.size());
    for (int i = first; i < nt; i += step) {
      TiltRecord& r = out.tilts[i];
      const TiltView& v = out.views[i];
      const std::uint64_t id = job_id * kTiltsPerJob + static_cast<std::uint64_t>(i);
      for (std::size_t s = 0; s < slab_images.size(); ++s)
        slab_images[s] = one_slab ? out.images.slice(i) : slabs.stacks[s].slice(i);
      imager.contrast(slab_images, slabs.z_A, v, r, r.cumulative_dose_e_per_A2 + 0.5 * r.dose_e_per_A2, id);
      const double flat = r.flat_e_per_pixel = flat_counts(
          r.dose_e_per_A2, pA, transmission(ice_thickness_A, v.tilt_rad, p.imfp_A, p.scatter_factor), p.dqe);
      const float* factor = amp.at(v, ice_path_A.data.empty() ? nullptr : ice_path_A.slice(i),
                                   gold_path_A.data.empty() ? nullptr : gold_path_A.slice(i), sigma);
      imager.count(flat, v, id, i, out.images, out.halves, factor);
    }
  };
  split_work(threads, "simulate_series", image_tilts);
  if (bin > 1) bin_series(out, p, bin);
  return out;
}

TiltSeries half_series(const TiltSeries& series, int which) {
  if (which < 0 || which > 1) fail("half series index ", which, " must be 0 (odd) or 1 (even)");
  if (series.halves[which].data.empty()) fail("tilt series was simulated without half series");
  TiltSeries h;
  h.images = series.halves[which];
  h.tilts = series.tilts;
  h.views = series.views;
  h.nominal_views = series.nominal_views;
  for (TiltRecord& r : h.tilts) {
    // Each half counts every other electron of the whole exposure, so its counts carry half the tilt's dose,
    // while the specimen's damage at mid-exposure is still that of the whole tilt: cumulative + dose / 2. The
    // exposure filter reads mid-exposure as cumulative + half the recorded dose, so a quarter of the tilt's dose
    // moves into the cumulative dose.
    r.cumulative_dose_e_per_A2 += 0.25 * r.dose_e_per_A2;
    r.dose_e_per_A2 *= 0.5;
    r.flat_e_per_pixel *= 0.5;
  }
  h.axis_azimuth_deg = series.axis_azimuth_deg;
  h.sigma_e_rad_per_V_A = series.sigma_e_rad_per_V_A;
  h.voltage_kV = series.voltage_kV;
  h.ctf = series.ctf;
  return h;
}

} // namespace tomosweep

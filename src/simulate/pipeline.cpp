#include "simulate/pipeline.hpp"

#include "core/fft.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "simulate/ctf.hpp"
#include "simulate/detector.hpp"

#include <algorithm>
#include <cmath>

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

// Real half-plane filters that multiply the signal before counting: radiation damage at exposure N
// (exp(-N / (2 N_e(k))), per-frequency constants precomputed once) and the detector MTF.
struct SignalFilter {
  std::vector<float> half_inv_ne; // 1 / (2 N_e(k)), or empty without damage
  std::vector<float> mtf;         // or empty

  SignalFilter(int nx, int ny, double pixel_A, const ImagingParams& p, bool with_mtf) {
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
  /// The filter at exposure N (e/A^2); empty when it would be all ones.
  std::vector<float> at(double exposure) const {
    const bool damage = !half_inv_ne.empty() && exposure > 0;
    if (!damage) return mtf;
    std::vector<float> f(half_inv_ne.size());
    for (std::size_t i = 0; i < f.size(); ++i)
      f[i] = static_cast<float>(std::exp(-exposure * half_inv_ne[i])) * (mtf.empty() ? 1.0f : mtf[i]);
    return f;
  }
};

void check_params(const ImagingParams& p, const Volume<float>& v) {
  if (v.nx <= 0 || v.ny <= 0 || v.nz <= 0) fail("empty potential volume ", v.nx, " x ", v.ny, " x ", v.nz);
  if (p.detector_mtf != "none" && p.detector_mtf != "sinc")
    fail("unknown detector mtf '", p.detector_mtf, "' (expected none or sinc)");
  if (p.noise_order != "physical" && p.noise_order != "cts")
    fail("unknown noise order '", p.noise_order, "' (expected physical or cts)");
  if (!(p.dqe > 0 && p.dqe <= 1)) fail("dqe ", p.dqe, " must be in (0, 1]");
}

} // namespace

TiltSeries simulate_ideal_series(const Volume<float>& potential_V, const ImagingParams& p, const TiltParams& tilts) {
  TiltParams t = tilts;
  t.angle_error_deg = 0;
  t.dose_weighting = "even";
  TiltSeries out = plan_series(t, 0, 0, 0, 0);
  out.sigma_e_rad_per_V_A = interaction_constant_rad_per_V_A(p.voltage_kV);
  out.images = project(potential_V, out.nominal_views, potential_V.nx, potential_V.ny);
  for (int i = 0; i < out.images.nz; ++i) {
    out.tilts[i].flat_e_per_pixel = 1;
    float* img = out.images.slice(i);
    const std::size_t n = static_cast<std::size_t>(out.images.nx) * out.images.ny;
    double mean = 0;
    for (std::size_t j = 0; j < n; ++j) mean += img[j];
    mean /= static_cast<double>(n);
    const double s = out.sigma_e_rad_per_V_A;
    for (std::size_t j = 0; j < n; ++j) img[j] = static_cast<float>(1 - 2 * s * (img[j] - mean));
  }
  return out;
}

TiltSeries simulate_series(const Volume<float>& potential_V, const ImagingParams& p, double ice_thickness_A,
                           std::uint64_t seed, std::uint64_t job_id) {
  if (p.ideal) return simulate_ideal_series(potential_V, p, p.tilt);
  check_params(p, potential_V);
  const int nx = potential_V.nx, ny = potential_V.ny, nz = potential_V.nz;
  const double pA = potential_V.voxel_A;
  TiltSeries out = plan_series(p.tilt, p.dose_e_per_A2, p.defocus_um, seed, job_id);
  const double sigma = out.sigma_e_rad_per_V_A = interaction_constant_rad_per_V_A(p.voltage_kV);
  const int nt = static_cast<int>(out.tilts.size());
  if (static_cast<std::uint64_t>(nt) > kEvenHalf) fail("tilt series of ", nt, " tilts exceeds ", kEvenHalf);

  // Projections per depth slab (one slab unless a depth-dependent CTF is asked for). With one slab the
  // projection stack becomes the output: each tilt reads its own image before writing its counts there.
  const int slabs = std::clamp(p.ctf_slabs, 1, nz);
  std::vector<Volume<float>> proj(slabs);
  std::vector<double> slab_z_A(slabs);
  for (int s = 0; s < slabs; ++s) {
    const int z0 = s * nz / slabs, z1 = (s + 1) * nz / slabs;
    proj[s] = project(potential_V, out.views, nx, ny, z0, z1);
    slab_z_A[s] = (0.5 * (z0 + z1 - 1) - 0.5 * (nz - 1)) * pA;
  }
  if (slabs == 1) {
    out.images = std::move(proj[0]);
    proj.clear();
  } else {
    out.images = Volume<float>(nx, ny, nt, pA);
  }
  auto projection = [&](int s) -> const Volume<float>& { return slabs == 1 ? out.images : proj[s]; };

  const Ctf ctf = Ctf::from(p, pA);
  const CtfGrid grid = ctf_grid(ctf, nx, ny);
  const bool mtf = p.detector_mtf == "sinc", cts_order = p.noise_order == "cts";
  // Physical order: damage and MTF act on the signal before counting; CTS order: the MTF goes with the CTF.
  const SignalFilter signal(nx, ny, pA, p, mtf && !cts_order);
  ImagingParams no_damage = p;
  no_damage.damage = false;
  const std::vector<float> mtf_after = cts_order ? SignalFilter(nx, ny, pA, no_damage, mtf).mtf : std::vector<float>{};
  if (p.half_series)
    for (auto& h : out.halves) h = Volume<float>(nx, ny, nt, pA);

  Image phase(nx, ny, pA), contrast(nx, ny, pA), counts(nx, ny, pA);
  for (int i = 0; i < nt; ++i) {
    TiltRecord& r = out.tilts[i];
    const TiltView& view = out.views[i]; // the CTF reads tilt and defocus from the view
    const double tilt = view.tilt_rad;
    const double exposure = r.cumulative_dose_e_per_A2 + 0.5 * r.dose_e_per_A2;
    const std::vector<float> filter = signal.at(exposure);
    const double defocus_A = view.defocus_A;
    const std::uint64_t id = job_id * kTiltsPerJob + static_cast<std::uint64_t>(i);

    // Contrast: 2 CTF (x) phase, or -2 phase in CTS order (its CTF comes after counting); damage included.
    std::fill(contrast.data.begin(), contrast.data.end(), 0.0f);
    for (int s = 0; s < slabs; ++s) {
      const float* src = projection(s).slice(i);
      for (std::size_t j = 0; j < phase.data.size(); ++j) phase.data[j] = static_cast<float>(sigma * src[j]);
      if (s == 0 && p.damage && exposure > 0 && p.damage_noise_rad_per_e_A2 > 0) {
        Rng rng(seed, Purpose::damage, id);
        const double sd = p.damage_noise_rad_per_e_A2 * exposure;
        for (float& v : phase.data) v += static_cast<float>(sd * rng.normal());
      }
      const Spectrum2 spec = fft_forward(phase);
      const Image c = cts_order ? filtered_contrast(spec, -1.0, filter, pA)
                                : ctf_contrast(spec, ctf, grid, defocus_A + slab_z_A[s] / std::cos(tilt),
                                               p.defocus_gradient ? tilt : 0.0, filter);
      for (std::size_t j = 0; j < c.data.size(); ++j) contrast.data[j] += c.data[j];
    }

    // Counting: Poisson(flat (1 + contrast)), as one image or as two independent halves.
    const double flat = r.flat_e_per_pixel =
        flat_counts(r.dose_e_per_A2, pA, transmission(ice_thickness_A, tilt, p.imfp_A, p.scatter_factor), p.dqe);
    const int parts = p.half_series ? 2 : 1;
    float* total = out.images.slice(i);
    for (int h = 0; h < parts; ++h) {
      const double f = flat / parts;
      for (std::size_t j = 0; j < counts.data.size(); ++j)
        counts.data[j] = static_cast<float>(f * (1.0 + contrast.data[j]));
      Rng rng(seed, Purpose::detector, id + (h == 1 ? kEvenHalf : 0));
      poisson_counts(counts, rng);
      if (cts_order) {
        // CTS: count first, then modulate the noisy image's contrast by the CTF (and MTF).
        for (float& v : counts.data) v = static_cast<float>(v / f - 1.0);
        const Image c =
            ctf_contrast(fft_forward(counts), ctf, grid, defocus_A, p.defocus_gradient ? tilt : 0.0, mtf_after);
        for (std::size_t j = 0; j < c.data.size(); ++j)
          counts.data[j] = static_cast<float>(f * (1.0 - 0.5 * c.data[j])); // CTF of -c: the sign of 2 CTF phi
      }
      if (p.half_series) set_stack_image(out.halves[h], i, counts);
      for (std::size_t j = 0; j < counts.data.size(); ++j)
        total[j] = h == 0 ? counts.data[j] : total[j] + counts.data[j];
    }
  }
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
    r.dose_e_per_A2 *= 0.5;
    r.flat_e_per_pixel *= 0.5;
  }
  h.axis_azimuth_deg = series.axis_azimuth_deg;
  h.sigma_e_rad_per_V_A = series.sigma_e_rad_per_V_A;
  return h;
}

} // namespace tomosweep

#include "reconstruct/wbp.hpp"

#include "core/conventions.hpp"
#include "core/fft.hpp"
#include "core/projector.hpp"
#include "reconstruct/ctf_correction.hpp"
#include "reconstruct/exposure_filter.hpp"
#include "reconstruct/sirt.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace tomosweep {

std::vector<float> radial_weights(int n, const ReconParams& p) {
  if (n <= 0) fail("radial weights of ", n, " samples");
  if (!(p.cutoff > 0) || !(p.falloff >= 0))
    fail("radial filter cutoff ", p.cutoff, " and falloff ", p.falloff, " must be positive");
  // Ram-Lak kernel h[0] = 1/4, h[m odd] = -1/(pi m)^2 on the periodic grid of n samples (Kak & Slaney, chapter 3).
  const int nk = n / 2 + 1;
  std::vector<double> h(n, 0.0);
  h[0] = 0.25;
  for (int m = 1; m < n; ++m) {
    const int d = std::min(m, n - m);
    if (d % 2 == 1) h[m] = -1.0 / (kPi * kPi * d * d);
  }
  std::vector<float> w(nk);
  for (int k = 0; k < nk; ++k) {
    double re = 0; // h is even, so its DFT is real
    for (int m = 0; m < n; ++m) re += h[m] * std::cos(2 * kPi * k * m / n);
    w[k] = static_cast<float>(re * radial_rolloff(static_cast<double>(k) / n, p));
  }
  return w;
}

std::vector<double> angular_weights(const std::vector<TiltView>& views) {
  const int n = static_cast<int>(views.size());
  std::vector<double> w(n, n > 0 ? kPi / n : 0.0);
  if (n < 2) return w;
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int a, int b) { return views[a].tilt_rad < views[b].tilt_rad; });
  auto angle = [&](int k) { return views[idx[k]].tilt_rad; };
  for (int k = 0; k < n; ++k) {
    if (k == 0)
      w[idx[k]] = angle(1) - angle(0);
    else if (k == n - 1)
      w[idx[k]] = angle(n - 1) - angle(n - 2);
    else
      w[idx[k]] = 0.5 * (angle(k + 1) - angle(k - 1));
  }
  return w;
}

namespace {

// Weight every row of every image in place (zero padded to npad) and scale image t by scale[t].
void filter_in_place(Volume<float>& images, const std::vector<float>& w, int npad, const std::vector<double>& scale) {
  const int nu = images.nx, nv = images.ny;
  std::vector<float> rows(static_cast<std::size_t>(npad) * nv);
  for (int t = 0; t < images.nz; ++t) {
    std::fill(rows.begin(), rows.end(), 0.0f);
    float* img = images.slice(t);
    for (int y = 0; y < nv; ++y)
      std::copy_n(img + static_cast<std::size_t>(y) * nu, nu, rows.data() + static_cast<std::size_t>(y) * npad);
    filter_rows(rows.data(), npad, nv, w);
    const float s = static_cast<float>(scale[t]);
    for (int y = 0; y < nv; ++y)
      for (int x = 0; x < nu; ++x)
        img[static_cast<std::size_t>(y) * nu + x] = s * rows[static_cast<std::size_t>(y) * npad + x];
  }
}

Volume<float> wbp_in_place(Volume<float>& images, const std::vector<TiltView>& views, const Grid& grid,
                           const ReconParams& p, const BackProjector& bp = {}) {
  if (static_cast<int>(views.size()) != images.nz)
    fail("weighted back projection of ", images.nz, " images with ", views.size(), " views");
  const int npad = 2 * images.nx;
  // f = sum_t dtheta_t q_t / voxel_A, and back_project multiplies by voxel_A once more.
  std::vector<double> scale = angular_weights(views);
  for (double& s : scale) s /= grid.voxel_A * grid.voxel_A;
  filter_in_place(images, radial_weights(npad, p), npad, scale);
  return bp.stack ? bp.stack(images, views) : back_project(images, views, grid);
}

} // namespace

Volume<float> weighted_back_project(const Volume<float>& projections, const std::vector<TiltView>& views,
                                    const Grid& grid, const ReconParams& p) {
  Volume<float> images = projections;
  return wbp_in_place(images, views, grid, p);
}

namespace {

// The flat field of each image (to_line_integrals): the record's, or the image mean where it has none.
std::vector<double> flat_fields(const TiltSeries& series) {
  const Volume<float>& im = series.images;
  const std::size_t n = static_cast<std::size_t>(im.nx) * im.ny;
  std::vector<double> flat(im.nz);
  for (int t = 0; t < im.nz; ++t) {
    flat[t] = t < static_cast<int>(series.tilts.size()) ? series.tilts[t].flat_e_per_pixel : 0.0;
    if (!(flat[t] > 0)) {
      const float* img = im.slice(t);
      flat[t] = 0;
      for (std::size_t j = 0; j < n; ++j) flat[t] += img[j];
      flat[t] /= static_cast<double>(n);
    }
    if (flat[t] == 0) fail("tilt image ", t, " has zero mean intensity");
  }
  return flat;
}

// Counts over the flat field as a contrast line integral: (c / flat - 1) / (2 sigma_e), or c / flat - 1 when the
// interaction constant is unknown.
double line_scale(const TiltSeries& s) { return s.sigma_e_rad_per_V_A > 0 ? 1.0 / (2 * s.sigma_e_rad_per_V_A) : 1.0; }
inline float line_integral(float counts, double flat, double scale) {
  return static_cast<float>(scale * (counts / flat - 1.0));
}

/// Images of `series` turned into contrast line integrals in place (see contrast_line_integrals).
Volume<float> to_line_integrals(TiltSeries&& series) {
  const std::vector<double> flat = flat_fields(series);
  const double scale = line_scale(series);
  Volume<float> out = std::move(series.images);
  const std::size_t n = static_cast<std::size_t>(out.nx) * out.ny;
  for (int t = 0; t < out.nz; ++t) {
    float* img = out.slice(t);
    for (std::size_t j = 0; j < n; ++j) img[j] = line_integral(img[j], flat[t], scale);
  }
  return out;
}

// Whether the tomogram can be made a block of rows at a time: WBP without CTF correction or exposure filter,
// views at azimuth 0 without residuals, images as tall as the grid.
bool streams(const TiltSeries& s, const std::vector<TiltView>& views, const Grid& grid, const ReconParams& p) {
  return p.method == ReconMethod::wbp && !p.exposure_filter && (!s.ctf || p.ctf_correction == CtfCorrection::none) &&
         s.images.ny == grid.ny && back_projects_rows(views);
}

// WBP without a filtered copy of the series: each block of rows is turned into line integrals, weighted and back
// projected when the back projection needs it; the values are those of to_line_integrals and wbp_in_place.
Volume<float> wbp_streamed(const TiltSeries& series, const std::vector<TiltView>& views, const Grid& grid,
                           const ReconParams& p, const BackProjector& bp, int threads) {
  const Volume<float>& im = series.images;
  const int nu = im.nx, npad = 2 * nu;
  const double to_line = line_scale(series);
  const std::vector<double> flat = flat_fields(series);
  std::vector<double> scale = angular_weights(views);
  for (double& s : scale) s /= grid.voxel_A * grid.voxel_A;
  const std::vector<float> weights = radial_weights(npad, p);
  // A filter and a row per block, so that two threads may ask for blocks at once (a plan costs microseconds).
  const auto rows = [&](int y0, int y1, float* out) {
    RowFilter filter(npad, weights);
    std::vector<float> row(npad);
    for (int t = 0; t < im.nz; ++t) {
      const float s = static_cast<float>(scale[t]);
      for (int y = y0; y < y1; ++y) {
        const float* src = im.slice(t) + static_cast<std::size_t>(y) * nu;
        std::fill(row.begin(), row.end(), 0.0f);
        for (int j = 0; j < nu; ++j) row[j] = line_integral(src[j], flat[t], to_line);
        filter.apply(row.data(), 1);
        float* dst = out + (static_cast<std::size_t>(t) * (y1 - y0) + (y - y0)) * nu;
        for (int x = 0; x < nu; ++x) dst[x] = s * row[x];
      }
    }
  };
  return bp.rows ? bp.rows(nu, rows, views) : back_project_rows(nu, rows, views, grid, threads);
}

// The views a tomogram is reconstructed with (nominal, or the acquired ones with true_geometry), after checking
// the series.
const std::vector<TiltView>& recon_views(const TiltSeries& series, const ReconParams& p) {
  if (series.tilts.size() != static_cast<std::size_t>(series.images.nz))
    fail("tilt series has ", series.images.nz, " images but ", series.tilts.size(), " tilt records");
  if (series.nominal_views.size() != series.tilts.size())
    fail("tilt series has ", series.tilts.size(), " tilt records but ", series.nominal_views.size(), " views");
  return p.true_geometry && series.views.size() == series.tilts.size() ? series.views : series.nominal_views;
}

} // namespace

Volume<float> contrast_line_integrals(const TiltSeries& series) { return to_line_integrals(TiltSeries(series)); }

Volume<float> reconstruct_tomogram(const TiltSeries& series, const Grid& grid, const ReconParams& p,
                                   const BackProjector& bp, int threads) {
  const std::vector<TiltView>& views = recon_views(series, p);
  if (streams(series, views, grid, p)) return wbp_streamed(series, views, grid, p, bp, threads);
  return reconstruct_tomogram(TiltSeries(series), grid, p, bp);
}

Volume<float> reconstruct_tomogram(TiltSeries&& series, const Grid& grid, const ReconParams& p,
                                   const BackProjector& bp) {
  const std::vector<TiltView> views = recon_views(series, p);
  const std::optional<Ctf> ctf = series.ctf;
  const std::vector<TiltRecord> tilts = series.tilts;
  const double voltage_kV = series.voltage_kV;
  Volume<float> lines = to_line_integrals(std::move(series));
  if (ctf) correct_ctf(lines, views, *ctf, p); // an ideal series has no CTF to correct
  if (p.exposure_filter) filter_exposure(lines, tilts, voltage_kV);
  if (p.method == ReconMethod::sirt) {
    if (bp.stack || bp.rows) fail("reconstruction.method = \"sirt\" needs the whole volume on one rank");
    return sirt(lines, views, grid, p);
  }
  return wbp_in_place(lines, views, grid, p, bp);
}

double radial_rolloff(double f, const ReconParams& p) {
  // IMOD tilt's RADIAL roll-off above the cutoff c: exp(-((f - c) / sigma)^2), f in cycles/pixel (or voxel).
  if (f <= p.cutoff) return 1.0;
  if (!(p.falloff > 0)) return 0.0;
  const double r = (f - p.cutoff) / p.falloff;
  return std::exp(-r * r);
}

Volume<float> bandlimited_prior(const Volume<float>& potential_V, double ice_V, const ReconParams& p) {
  if (!(p.cutoff > 0) || !(p.falloff >= 0))
    fail("radial filter cutoff ", p.cutoff, " and falloff ", p.falloff, " must be positive");
  const float level = static_cast<float>(ice_V);
  const auto minus = [&](int y, int z, float* row) {
    const float* src = potential_V.data.data() + potential_V.index(0, y, z);
    for (int x = 0; x < potential_V.nx; ++x) row[x] = level - src[x];
  };
  return filtered_volume(potential_V.grid(), minus, [&p](double k) { return radial_rolloff(k, p); });
}

} // namespace tomosweep

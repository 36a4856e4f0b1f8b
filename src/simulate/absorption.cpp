#include "simulate/absorption.hpp"

#include "core/conventions.hpp"
#include "core/fft.hpp"
#include "simulate/ctf.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {

Image strong_object_intensity(const Image& path_A, double phase_per_A, double mu_per_A, const Ctf& ctf,
                              const CtfGrid& grid, double defocus_A, double tilt_rad) {
  const int nx = path_A.nx, ny = path_A.ny;
  double mean = 0;
  for (float x : path_A.data) mean += x;
  mean = phase_per_A * mean / static_cast<double>(path_A.data.size());
  Image re(nx, ny, path_A.pixel_A), im(nx, ny, path_A.pixel_A);
  for (std::size_t j = 0; j < path_A.data.size(); ++j) {
    const double phi = phase_per_A * path_A.data[j] - mean, amp = std::exp(-0.5 * mu_per_A * path_A.data[j]);
    re.data[j] = static_cast<float>(amp * std::cos(phi));
    im.data[j] = static_cast<float>(amp * std::sin(phi));
  }
  // a = re + i im; F[a] = A_r + i A_i with both real-image spectra. H is even in k, so F^-1[H F[a]] =
  // F^-1[Re H A_r - Im H A_i] + i F^-1[Im H A_r + Re H A_i], each a Hermitian half-plane spectrum.
  const Spectrum2 ar = fft_forward(re), ai = fft_forward(im);
  const CtfStrips strips = plan_ctf_strips(ctf, nx, defocus_A, tilt_rad);
  const double l = ctf.wavelength_A, a4 = 0.5 * kPi * ctf.cs_A * l * l * l;
  const double shift = ctf.phase_shift_rad + std::asin(ctf.amplitude_contrast);
  Image out(nx, ny, path_A.pixel_A);
  Spectrum2 s1 = ar, s2 = ai;
  for (int j = 0; j < strips.copies; ++j) {
    const double d = strips.defocus(j);
    for (std::size_t i = 1; i < ar.data.size(); ++i) {
      const double k2 = grid.k2[i], dd = grid.astig.empty() ? d : d + ctf.astigmatism_A * grid.astig[i];
      const double g = kPi * l * dd * k2 - a4 * k2 * k2 + shift, e = grid.envelope[i];
      const Complex hr(static_cast<float>(e * std::cos(g))), hi(static_cast<float>(e * std::sin(g)));
      s1.data[i] = hr * ar.data[i] - hi * ai.data[i];
      s2.data[i] = hi * ar.data[i] + hr * ai.data[i];
    }
    const Image pr = fft_inverse(s1, path_A.pixel_A), pi = fft_inverse(s2, path_A.pixel_A);
    int x0 = 0, x1 = nx;
    const std::vector<float> w = strips.copies == 1 ? std::vector<float>(nx, 1.0f) : strips.weights(j, x0, x1);
    for (int y = 0; y < ny; ++y)
      for (int x = x0; x < x1; ++x) out(x, y) += w[x] * (pr(x, y) * pr(x, y) + pi(x, y) * pi(x, y));
  }
  return out;
}

namespace {
// {z : (x0 + z dx)^2 + (y0 + z dy)^2 <= r^2} as [lo, hi] (hi < lo: empty).
std::array<double, 2> in_disc(double x0, double y0, double dx, double dy, double r) {
  const double a = dx * dx + dy * dy, b = x0 * dx + y0 * dy, c = x0 * x0 + y0 * y0 - r * r;
  if (a == 0) return c <= 0 ? std::array<double, 2>{-1e300, 1e300} : std::array<double, 2>{0, -1};
  const double disc = b * b - a * c;
  if (disc < 0) return {0, -1};
  const double q = std::sqrt(disc);
  return {(-b - q) / a, (-b + q) / a};
}
} // namespace

double layer_path_A(const DetectorRay& r, const ExteriorLayer& l) {
  const double lo = l.z_A - 0.5 * l.thickness_A, hi = l.z_A + 0.5 * l.thickness_A;
  double inside_hole = 0;
  if (l.hole_radius_A > 0) {
    const auto h = in_disc(r.x0 - l.hole_x_A, r.y0 - l.hole_y_A, r.dx, r.dy, l.hole_radius_A);
    inside_hole = std::max(0.0, std::min(hi, h[1]) - std::max(lo, h[0]));
  }
  return (hi - lo - inside_hole) * r.inv_cos;
}

AmplitudeTerms::AmplitudeTerms(const ImagingParams& p, const SpecimenTerms& terms, int nu, int nv, double pixel_A,
                               double ice_thickness_A)
    : p_(p), t_(terms), nu_(nu), nv_(nv), pixel_A_(pixel_A), thickness_A_(ice_thickness_A) {
  ice_ = terms.ice_slab != nullptr && !p.ideal;
  gold_ = terms.gold != nullptr && p.gold_absorption_mfp_A > 0 && !p.ideal;
  gold_wave_ = gold_ && p.noise_order == NoiseOrder::physical;
  carbon_ = !terms.carbon.empty() && p.carbon_absorption_mfp_A > 0 && !p.ideal;
  if (gold_wave_) {
    ctf_ = ctf_from(p, pixel_A);
    grid_ = ctf_grid(ctf_, nu, nv);
  }
  if (any()) factor_.resize(static_cast<std::size_t>(nu) * nv);
}

const float* AmplitudeTerms::at(const TiltView& v, const float* ice_path_A, const float* gold_path_A,
                                double sigma_rad_per_V_A) {
  if (!any()) return nullptr;
  std::fill(factor_.begin(), factor_.end(), 1.0f);
  if (ice_ && ice_path_A) { // Beer-Lambert over the pixel's own ice path, relative to the nominal flat (t / cos)
    const double nominal = thickness_A_ / std::cos(v.tilt_rad), k = p_.scatter_factor / p_.imfp_A;
    for (std::size_t j = 0; j < factor_.size(); ++j)
      factor_[j] *= static_cast<float>(std::exp(-k * (ice_path_A[j] - nominal)));
  }
  if (carbon_) {
    const ViewRays rays(v);
    for (int j = 0; j < nv_; ++j)
      for (int i = 0; i < nu_; ++i) {
        const DetectorRay r = rays.at(voxel_centre_A(i, nu_, pixel_A_), voxel_centre_A(j, nv_, pixel_A_));
        double path = 0;
        for (const ExteriorLayer& l : t_.carbon) path += layer_path_A(r, l);
        factor_[static_cast<std::size_t>(j) * nu_ + i] *=
            static_cast<float>(std::exp(-path / p_.carbon_absorption_mfp_A));
      }
  }
  if (gold_ && gold_path_A) {
    const double mu = 1 / p_.gold_absorption_mfp_A;
    if (gold_wave_) {
      Image path(nu_, nv_, pixel_A_);
      std::copy(gold_path_A, gold_path_A + factor_.size(), path.data.begin());
      const Image g = strong_object_intensity(path, sigma_rad_per_V_A * t_.gold_excess_V, mu, ctf_, grid_, v.defocus_A,
                                              p_.defocus_gradient ? v.tilt_rad : 0.0);
      for (std::size_t j = 0; j < factor_.size(); ++j) factor_[j] *= g.data[j];
    } else {
      for (std::size_t j = 0; j < factor_.size(); ++j) factor_[j] *= static_cast<float>(std::exp(-mu * gold_path_A[j]));
    }
  }
  return factor_.data();
}

} // namespace tomosweep

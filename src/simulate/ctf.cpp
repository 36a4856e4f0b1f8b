#include "simulate/ctf.hpp"

#include "core/conventions.hpp"

#include "core/tilt_scheme.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {
namespace {
constexpr double kElectronRestEnergy_eV = 510998.95;
constexpr double kHc_eV_A = 12398.419843320026;
} // namespace

double electron_wavelength_A(double voltage_kV) {
  if (!(voltage_kV > 0)) fail("voltage ", voltage_kV, " kV must be positive");
  const double e = voltage_kV * 1e3;
  return kHc_eV_A / std::sqrt(e * (2 * kElectronRestEnergy_eV + e));
}

double interaction_constant_rad_per_V_A(double voltage_kV) {
  // sigma = 2 pi m e lambda / h^2 = (2 pi / (lambda E)) (E0 + E) / (2 E0 + E), E = eV (Kirkland 2010, eq. 5.6).
  const double e = voltage_kV * 1e3;
  return 2 * kPi / (electron_wavelength_A(voltage_kV) * e) * (kElectronRestEnergy_eV + e) /
         (2 * kElectronRestEnergy_eV + e);
}

double depth_of_field_A(double pixel_A, double voltage_kV) {
  return 2 * pixel_A * pixel_A / electron_wavelength_A(voltage_kV);
}

int ctf_slab_count(const ImagingParams& p, double thickness_A, double pixel_A) {
  if (p.ctf_slabs > 0) return p.ctf_slabs;
  if (p.noise_order == NoiseOrder::cts) return 1; // its CTF acts after counting, at the mid-plane's defocus
  double steepest_rad = 0;
  for (double a : tilt_angles_deg(p.tilt)) steepest_rad = std::max(steepest_rad, std::abs(a) * kDegToRad);
  const double path_A = thickness_A / std::cos(steepest_rad);
  return std::max(1, static_cast<int>(std::ceil(path_A / depth_of_field_A(pixel_A, p.voltage_kV) - 1e-9)));
}

Ctf ctf_from(const ImagingParams& p, double pixel_A) {
  Ctf c;
  c.wavelength_A = electron_wavelength_A(p.voltage_kV);
  c.cs_A = p.cs_mm * kAngstromPerMillimetre;
  c.amplitude_contrast = p.amplitude_contrast;
  c.phase_shift_rad = p.phase_shift_deg * kDegToRad;
  c.astigmatism_A = p.astigmatism_um * kAngstromPerMicrometre;
  c.astigmatism_angle_rad = p.astigmatism_angle_deg * kDegToRad;
  c.envelope_B_A2 = p.envelope_B_A2;
  c.pixel_A = pixel_A;
  return c;
}

Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra) {
  return ctf_contrast(phase, ctf, ctf_grid(ctf, phase.nx, phase.ny), defocus_A, tilt_rad, extra);
}

Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, const CtfGrid& grid, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra) {
  return filter_ctf_strips(phase, ctf, grid, defocus_A, tilt_rad, false, [&extra](std::size_t i, double c) {
    double w = 2 * c;
    if (!extra.empty()) w *= extra[i];
    return w;
  });
}

} // namespace tomosweep

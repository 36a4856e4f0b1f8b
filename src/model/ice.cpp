#include "model/ice.hpp"

#include "core/conventions.hpp"
#include "core/fft.hpp"
#include "core/rng.hpp"
#include "model/atoms.hpp"

#include <gemmi/c4322.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace tomosweep {

double water_structure_factor(double q) {
  constexpr double s0 = 0.062, q_rise = 1.5, peak = 0.55, q_peak = 2.0, width = 0.3;
  return 1 - (1 - s0) * std::exp(-(q / q_rise) * (q / q_rise)) +
         peak * std::exp(-0.5 * (q - q_peak) * (q - q_peak) / (width * width));
}

namespace {
/// Electron scattering factor of element z at k = 1/d (A): sum of a_i exp(-b_i k^2 / 4).
double scattering_factor_A(int z, double k) {
  const auto& c = gemmi::C4322<double>::get(gemmi::El(static_cast<unsigned char>(z)));
  double f = 0;
  for (int i = 0; i < 5; ++i) f += c.a(i) * std::exp(-c.b(i) * k * k / 4);
  return f;
}
} // namespace

double water_form_factor_shape(double k) {
  const double f = scattering_factor_A(8, k) + 2 * scattering_factor_A(1, k);
  return f / (scattering_factor_A(8, 0) + 2 * scattering_factor_A(1, 0));
}

double ice_texture_power(double k, double voxel_A, double ice_V) {
  const double molecules = kIceMoleculesPerA3 * voxel_A * voxel_A * voxel_A;
  const double g = water_form_factor_shape(k);
  return water_structure_factor(2 * kPi * k) * g * g * ice_V * ice_V / molecules;
}

IceTextureField ice_texture_field(const Grid& g, double ice_V, std::uint64_t seed, int replicate) {
  // Unit white noise carries variance 1 per mode; the filter gives each mode the texture's power. The filter
  // is tabulated over |k| in [0, sqrt(3)/2] cycles per voxel (linear interpolation, 4096 steps: far finer
  // than the structure factor's peak or the form factor vary), which saves most of the exp() calls.
  constexpr int kSteps = 4096;
  const double step = 0.5 * std::sqrt(3.0) / kSteps;
  auto table = std::make_shared<std::vector<double>>(kSteps + 2);
  for (int i = 0; i <= kSteps + 1; ++i)
    (*table)[i] = std::sqrt(ice_texture_power(i * step / g.voxel_A, g.voxel_A, ice_V));
  // The noise is drawn as its spectrum, straight into the transform's buffer. Row (ky, kz) and its mirror
  // (-ky, -kz) pair their terms in the Hermitian planes kx = 0 and nx / 2: the first of the two in (kz, ky) order
  // draws them (the first 4 normals of each row's stream), the other takes their conjugates.
  IceTextureField f;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  if (static_cast<double>(ny) * nz >= 4294967296.0)
    fail("granular ice on ", ny, " x ", nz, " rows of the box: at most 2^32 rows");
  const double n = static_cast<double>(nx) * ny * nz;
  f.spectrum = [seed, replicate, nx, ny, nz, generic = std::sqrt(0.5 * n), real = std::sqrt(n)](int ky, int kz,
                                                                                                  Complex* row) {
    const auto stream = [&](int y, int z) {
      return Rng(seed, Purpose::ice_spectrum,
                 (std::uint64_t(std::uint32_t(replicate)) << 32) | (std::uint64_t(z) * std::uint64_t(ny) + y));
    };
    const int nkx = nx / 2 + 1, my = (ny - ky) % ny, mz = (nz - kz) % nz;
    const bool self = my == ky && mz == kz, first = kz < mz || (kz == mz && ky <= my);
    Rng rng = stream(ky, kz);
    float head[4], interior[2];
    rng.fill_normal(head, 4);
    if (!first) { // the mirror row's draws, conjugated
      Rng mirror = stream(my, mz);
      mirror.fill_normal(head, 4);
      head[1] = -head[1], head[3] = -head[3];
    }
    const auto hermitian = [&](const float* h) {
      return self ? Complex(float(real * h[0]), 0.0f) : Complex(float(generic * h[0]), float(generic * h[1]));
    };
    row[0] = hermitian(head);
    const bool even = nx % 2 == 0;
    if (even && nkx > 1) row[nkx - 1] = hermitian(head + 2);
    for (int kx = 1; kx < (even ? nkx - 1 : nkx); ++kx) {
      rng.fill_normal(interior, 2);
      row[kx] = Complex(float(generic * interior[0]), float(generic * interior[1]));
    }
  };
  f.filter = [table, step](double k) {
    const double t = std::min(k / step, double(kSteps));
    const int i = int(t);
    return (*table)[i] + (t - i) * ((*table)[i + 1] - (*table)[i]);
  };
  return f;
}

Volume<float> ice_texture(const Grid& g, double ice_V, std::uint64_t seed, int replicate) {
  const IceTextureField f = ice_texture_field(g, ice_V, seed, replicate);
  return spectral_volume(g, f.spectrum, f.filter);
}

} // namespace tomosweep

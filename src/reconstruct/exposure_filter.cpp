#include "reconstruct/exposure_filter.hpp"

#include "core/errors.hpp"
#include "core/exposure.hpp"
#include "core/fft.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace tomosweep {

std::vector<double> tilt_exposures(const std::vector<TiltRecord>& tilts) {
  std::vector<double> n;
  for (const TiltRecord& r : tilts) n.push_back(r.cumulative_dose_e_per_A2 + 0.5 * r.dose_e_per_A2);
  return n;
}

std::vector<double> exposure_weights(const std::vector<double>& exposures, double k_per_A, double voltage_kV) {
  std::vector<double> w;
  double sum = 0;
  for (double n : exposures) sum += w.emplace_back(damage_attenuation(k_per_A, n, voltage_kV));
  for (double& x : w) x = sum > 0 ? x * static_cast<double>(w.size()) / sum : 1.0;
  return w;
}

namespace {

constexpr int kTableSteps = 2048; // |k| from 0 to the corner of the spectrum

/// weights[t][j]: exposure_weights at |k| = j dk, and dk (1/A).
struct WeightTable {
  std::vector<std::vector<float>> weights;
  double dk = 0;
};

WeightTable weight_table(const std::vector<double>& exposures, double pixel_A, double voltage_kV) {
  WeightTable t;
  t.dk = std::sqrt(0.5) / pixel_A / kTableSteps;
  t.weights.assign(exposures.size(), std::vector<float>(kTableSteps + 2));
  for (int j = 0; j < kTableSteps + 2; ++j) {
    const std::vector<double> w = exposure_weights(exposures, j * t.dk, voltage_kV);
    for (std::size_t i = 0; i < w.size(); ++i) t.weights[i][j] = static_cast<float>(w[i]);
  }
  return t;
}

} // namespace

void filter_exposure(Volume<float>& images, const std::vector<TiltRecord>& tilts, double voltage_kV) {
  if (tilts.size() != static_cast<std::size_t>(images.nz))
    fail("exposure filter of ", images.nz, " images with ", tilts.size(), " tilt records");
  const std::vector<double> exposures = tilt_exposures(tilts);
  if (std::all_of(exposures.begin(), exposures.end(), [](double n) { return n <= 0; })) return;
  if (!(voltage_kV > 0)) fail("exposure filter: the tilt series does not know its voltage");
  const WeightTable table = weight_table(exposures, images.voxel_A, voltage_kV);
  const int nx = images.nx, ny = images.ny, nkx = nx / 2 + 1;
  for (int t = 0; t < images.nz; ++t) {
    Spectrum2 s = fft_forward(stack_image(images, t));
    const std::vector<float>& w = table.weights[t];
    for (int ky = 0; ky < ny; ++ky)
      for (int kx = 0; kx < nkx; ++kx) {
        const double k = std::hypot(double(kx) / nx, double(fft_freq(ky, ny)) / ny) / images.voxel_A;
        const double x = k / table.dk;
        const int j = std::min(static_cast<int>(x), kTableSteps);
        const double f = x - j;
        s.data[static_cast<std::size_t>(ky) * nkx + kx] *= static_cast<float>((1 - f) * w[j] + f * w[j + 1]);
      }
    set_stack_image(images, t, fft_inverse(s, images.voxel_A));
  }
}

} // namespace tomosweep

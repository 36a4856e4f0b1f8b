// Imaging settings: the [imaging] table. CTS defaults. The tilt scheme (TiltParams) is core/tilt_scheme.hpp.
// Owned by src/simulate; parsed in io/config/config_imaging.cpp. Formulas and units: docs/imaging.md.
#pragma once

#include "core/tilt_scheme.hpp"

#include <array>
#include <string_view>

namespace tomosweep {

/// Detector modulation transfer function: none, or a counting detector's sinc(pi f / 2) (f in Nyquist units).
enum class DetectorMtf { none, sinc };
inline constexpr std::array<std::string_view, 2> kDetectorMtfNames{"none", "sinc"};
constexpr std::string_view name_of(DetectorMtf v) { return kDetectorMtfNames[static_cast<std::size_t>(v)]; }

/// Order of the image formation: physical (CTF, then counting) or cts (counting, then CTF).
enum class NoiseOrder { physical, cts };
inline constexpr std::array<std::string_view, 2> kNoiseOrderNames{"physical", "cts"};
constexpr std::string_view name_of(NoiseOrder v) { return kNoiseOrderNames[static_cast<std::size_t>(v)]; }

/// Microscope, detector and damage settings of one tilt series.
struct ImagingParams {
  double voltage_kV = 300;
  double cs_mm = 2.7;
  double amplitude_contrast = 0.07;
  /// CTF envelope exp(-B k^2 / 4), A^2 (0: none): a field-emission gun's coherence envelope. CTS parity: 2000
  /// (0.9 of Nyquist at 10 A per pixel).
  double envelope_B_A2 = 150;
  double defocus_um = 5.0;    ///< positive = underfocus
  double phase_shift_deg = 0; ///< phase plate
  double dose_e_per_A2 = 100; ///< total over the series
  double dqe = 0.84;
  double imfp_A = 3800; ///< inelastic mean free path of vitreous ice
  double scatter_factor = 1.0;
  bool ideal = false; ///< no CTF, no noise, no damage, perfect detector
  TiltParams tilt;

  double astigmatism_um = 0;        ///< defocus difference between major and minor axes (CTFFIND du - dv)
  double astigmatism_angle_deg = 0; ///< azimuth of the major (more underfocused) axis from image x
  bool defocus_gradient = true;     ///< defocus varies across each tilted image (per column)
  /// Depth-dependent defocus: the CTF is applied per z slab of the specimen; 0 = auto (ctf_slab_count: as many
  /// slabs as the depth of field at the pixel size asks for), 1 = one CTF per image.
  int ctf_slabs = 0;
  DetectorMtf detector_mtf = DetectorMtf::none;  ///< none | sinc (counting detector)
  NoiseOrder noise_order = NoiseOrder::physical; ///< physical (CTF, then counting) | cts (counting, then CTF)
  bool damage = true;                            ///< radiation damage in acquisition order
  /// Damage phase noise density, rad A per e/A^2 of exposure: white noise of standard deviation
  /// damage_noise_rad_A_per_e_A2 x exposure / pixel_A per pixel, so its power per unit area is pixel-independent.
  double damage_noise_rad_A_per_e_A2 = 2e-3;
  bool half_series = false; ///< also produce odd/even half-dose series (independent counts)
  /// Acquisition at a finer pixel: the series is imaged on a potential at pixel / N and each image Fourier-binned
  /// (fourier_bin) to the output pixel; 1 = imaged at the output pixel.
  int acquisition_binning = 1;
  /// Amplitude term of strong scatterers (simulate/absorption.hpp): the mean free path (A) for electrons lost to
  /// the objective aperture in gold and in carbon, intensity exp(-path / mfp); 0 = none (off).
  double gold_absorption_mfp_A = 0;
  double carbon_absorption_mfp_A = 0;
};

} // namespace tomosweep

// Imaging settings: the [imaging] table (and the tilt scheme used by [prior]). CTS defaults.
// Owned by src/simulate; parsed in io/config_imaging.cpp. Formulas and units: docs/imaging.md.
#pragma once

#include <string>
#include <vector>

namespace tomosweep {

/// A tilt scheme: which angles, in which acquisition order, with which dose per tilt.
struct TiltParams {
  double min_deg = -60, max_deg = 60, step_deg = 2;
  std::vector<double> angles_deg{};      ///< explicit list; overrides min/max/step when not empty
  std::string order = "dose-symmetric";  ///< dose-symmetric | bidirectional | unidirectional | list
  double start_deg = 0;                  ///< first tilt of dose-symmetric and bidirectional orders
  double axis_azimuth_deg = 0;           ///< missing-wedge orientation
  double angle_error_deg = 0;            ///< standard deviation of random per-tilt angle errors
  int group_size = 1;                    ///< dose-symmetric: tilts per side before switching (Hagen: 1 or 2)
  std::string first_branch = "negative"; ///< bidirectional: side acquired first, negative | positive
  std::string dose_weighting = "even";   ///< even | cos (dose proportional to 1/cos(tilt)) | list
  std::vector<double> doses_e_per_A2{};  ///< per-tilt doses (dose_weighting = list): angles_deg order, else ascending
};

/// Microscope, detector and damage settings of one tilt series.
struct ImagingParams {
  double voltage_kV = 300;
  double cs_mm = 2.7;
  double amplitude_contrast = 0.07;
  double envelope_sigma = 0.9; ///< Gaussian envelope width as a fraction of Nyquist
  double defocus_um = 5.0;     ///< positive = underfocus
  double phase_shift_deg = 0;  ///< phase plate
  double dose_e_per_A2 = 100;  ///< total over the series
  double dqe = 0.84;
  double imfp_A = 3800; ///< inelastic mean free path of vitreous ice
  double scatter_factor = 1.0;
  bool ideal = false; ///< no CTF, no noise, no damage, perfect detector
  TiltParams tilt;

  double astigmatism_um = 0;               ///< defocus difference between major and minor axes (CTFFIND du - dv)
  double astigmatism_angle_deg = 0;        ///< azimuth of the major (more underfocused) axis from image x
  bool defocus_gradient = true;            ///< defocus varies across each tilted image (per column)
  int ctf_slabs = 1;                       ///< > 1: depth-dependent defocus, CTF applied per z slab of the specimen
  std::string detector_mtf = "none";       ///< none | sinc (counting detector, sinc(pi f / 2), f in Nyquist units)
  std::string noise_order = "physical";    ///< physical (CTF, then counting) | cts (counting, then CTF)
  bool damage = true;                      ///< radiation damage in acquisition order
  double damage_noise_rad_per_e_A2 = 2e-4; ///< damage noise: phase std (rad) per e/A^2 of prior dose
  bool half_series = false;                ///< also produce odd/even half-dose series (independent counts)
};

} // namespace tomosweep

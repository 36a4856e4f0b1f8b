// Imaging settings: the [imaging] table (and the tilt scheme used by [prior]). CTS defaults.
// Owned by src/simulate; parsed in io/config_imaging.cpp.
#pragma once

#include <string>
#include <vector>

namespace tomosweep {

struct TiltParams {
  double min_deg = -60, max_deg = 60, step_deg = 2;
  std::vector<double> angles_deg;          ///< explicit list; overrides min/max/step when not empty
  std::string order = "dose-symmetric";    ///< dose-symmetric | bidirectional | unidirectional | list
  double start_deg = 0;                    ///< start angle of bidirectional order
  double axis_azimuth_deg = 0;             ///< missing-wedge orientation
  double angle_error_deg = 0;              ///< standard deviation of random per-tilt angle errors
};

struct ImagingParams {
  double voltage_kV = 300;
  double cs_mm = 2.7;
  double amplitude_contrast = 0.07;
  double envelope_sigma = 0.9;      ///< Gaussian envelope width as a fraction of Nyquist
  double defocus_um = 5.0;          ///< positive = underfocus
  double phase_shift_deg = 0;       ///< phase plate
  double dose_e_per_A2 = 100;       ///< total over the series
  double dqe = 0.84;
  double imfp_A = 3800;             ///< inelastic mean free path of vitreous ice
  double scatter_factor = 1.0;
  bool ideal = false;               ///< no CTF, no noise, no damage, perfect detector
  TiltParams tilt;
};

} // namespace tomosweep

// A simulated tilt series: a stack of images plus per-tilt metadata.
#pragma once

#include "core/ctf.hpp"
#include "core/tilt.hpp"
#include "core/volume.hpp"

#include <array>
#include <optional>
#include <vector>

namespace tomosweep {

/// Per-tilt metadata; images in a TiltSeries are stored in ascending nominal angle order.
struct TiltRecord {
  double angle_deg = 0;                  ///< nominal tilt angle
  double actual_angle_deg = 0;           ///< angle used for projection (nominal + error)
  int acquisition_index = 0;             ///< 0-based position in acquisition order
  double dose_e_per_A2 = 0;              ///< dose of this tilt
  double cumulative_dose_e_per_A2 = 0;   ///< dose received before this tilt
  double defocus_um = 0;                 ///< defocus at the tilt axis, positive = underfocus (jitter included)
  double shift_x_A = 0, shift_y_A = 0;   ///< image shift residual along image x (= u) and y (= v), Angstrom
  double rotation_deg = 0;               ///< in-plane image rotation residual (deg, tilt-axis offset excluded)
  double magnification = 1;              ///< relative magnification residual (1 = nominal)
  double defocus_jitter_um = 0;          ///< defocus residual, included in defocus_um
  double axis_offset_deg = 0;            ///< tilt-axis azimuth offset of the series (same for every tilt)
  double motion_x_A = 0, motion_y_A = 0; ///< straight-line drift during the exposure, image x and y (Angstrom)
  double flat_e_per_pixel = 0;           ///< expected counts of an empty pixel (1 for ideal series; 0 = unknown)
};

/// Images, per-tilt records and the view of each image, all in ascending nominal angle order. The views
/// are built once, when the series is planned (plan_series in core/tilt_scheme.hpp); a series read back from
/// a file has records only.
struct TiltSeries {
  Volume<float> images; ///< nz = number of tilts; x = u (perpendicular to the axis), y = v
  std::vector<TiltRecord> tilts;
  std::vector<TiltView> views;         ///< geometry as acquired (actual angles, defocus): projection and CTF
  std::vector<TiltView> nominal_views; ///< the same at the nominal angles: the geometry reconstruction assumes
  double axis_azimuth_deg = 0;
  double sigma_e_rad_per_V_A = 0;      ///< interaction constant used (0 = unknown): scales reconstructions to volts
  double voltage_kV = 0;               ///< accelerating voltage (0 = unknown): the exposure filter's N_e(k) needs it
  std::array<Volume<float>, 2> halves; ///< odd/even half-dose series (empty unless requested); sum = images
  std::optional<Ctf> ctf;              ///< the microscope's CTF (none for ideal series): CTF correction reads it
};

} // namespace tomosweep

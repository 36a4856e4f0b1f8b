// A simulated tilt series: a stack of images plus per-tilt metadata.
#pragma once

#include "core/volume.hpp"

#include <vector>

namespace tomosweep {

/// Per-tilt metadata; images in a TiltSeries are stored in ascending nominal angle order.
struct TiltRecord {
  double angle_deg = 0;                 ///< nominal tilt angle
  double actual_angle_deg = 0;          ///< angle used for projection (nominal + error)
  int acquisition_index = 0;            ///< 0-based position in acquisition order
  double dose_e_per_A2 = 0;             ///< dose of this tilt
  double cumulative_dose_e_per_A2 = 0;  ///< dose received before this tilt
  double defocus_um = 0;                ///< defocus at the tilt axis, positive = underfocus
};

struct TiltSeries {
  Volume<float> images;                 ///< nz = number of tilts; x = u (perpendicular to the axis), y = v
  std::vector<TiltRecord> tilts;
  double axis_azimuth_deg = 0;
};

} // namespace tomosweep

// Geometry of one tilt view as data (see conventions.hpp for the formulas).
#pragma once

#include "core/geometry.hpp"

#include <cmath>

namespace tomosweep {

/// One view of a tilt series: the tilt angle about the axis and the axis azimuth, both in radians, and the
/// defocus of the view.
struct TiltView {
  double tilt_rad = 0;
  double azimuth_rad = 0;
  double defocus_A = 0; ///< defocus at the tilt axis (Angstrom, positive = underfocus); at p it is defocus_A + h(p)

  /// Detector coordinate u (Angstrom, perpendicular to the axis) of specimen point p (Angstrom).
  double u(Vec3 p) const {
    const double u0 = p.x * std::cos(azimuth_rad) + p.y * std::sin(azimuth_rad);
    return u0 * std::cos(tilt_rad) - p.z * std::sin(tilt_rad);
  }
  /// Detector coordinate v (Angstrom, along the axis).
  double v(Vec3 p) const { return -p.x * std::sin(azimuth_rad) + p.y * std::cos(azimuth_rad); }
  /// Depth along the beam after tilting (Angstrom, downstream = away from the source, conventions.hpp);
  /// defocus at p is defocus_A + h(p).
  double h(Vec3 p) const {
    const double u0 = p.x * std::cos(azimuth_rad) + p.y * std::sin(azimuth_rad);
    return u0 * std::sin(tilt_rad) + p.z * std::cos(tilt_rad);
  }
};

} // namespace tomosweep

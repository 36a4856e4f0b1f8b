// Geometry of one tilt view as data (see conventions.hpp for the formulas).
#pragma once

#include "core/geometry.hpp"

#include <cmath>

namespace tomosweep {

/// One view of a tilt series: the tilt angle about the axis and the axis azimuth, both in radians, the
/// defocus of the view, and the acquisition residuals of its image in detector coordinates.
///
/// Residuals: a specimen point that projects to (u, v) in the view's own frame lands on the detector at
///   (u', v') = m R(phi) (u, v) + (shift_u_A, shift_v_A),  R(phi) = [[cos phi, -sin phi], [sin phi, cos phi]],
/// about the image centre, with m = magnification and phi = rotation_rad. Image values (line integrals) are
/// sampled there, not rescaled: image'(q) = image(R(-phi) (q - shift) / m), bilinearly (core/projector.hpp).
/// A tilt-axis offset d enters as azimuth a + d with rotation + d, so that the detector frame stays that of
/// the nominal azimuth a.
struct TiltView {
  double tilt_rad = 0;
  double azimuth_rad = 0;
  double defocus_A = 0; ///< defocus at the tilt axis (Angstrom, positive = underfocus); at p it is defocus_A + h(p)
  double shift_u_A = 0, shift_v_A = 0; ///< image shift on the detector (Angstrom)
  double rotation_rad = 0;             ///< in-plane image rotation (radians, counter-clockwise from u to v)
  double magnification = 1;            ///< relative magnification of the image (1 = nominal)

  /// Whether the image is warped by residuals (shift, rotation or magnification).
  bool warped() const { return shift_u_A != 0 || shift_v_A != 0 || rotation_rad != 0 || magnification != 1; }
  /// The same view without image residuals: the geometry the projector's line integrals use.
  TiltView unwarped() const { return {tilt_rad, azimuth_rad, defocus_A}; }

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

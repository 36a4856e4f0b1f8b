#include "core/geometry.hpp"

#include "core/conventions.hpp"

#include <algorithm>

namespace tomosweep {

double Mat3::determinant() const {
  const Mat3& a = *this;
  return a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) - a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0)) +
         a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
}

Mat3 axis_angle(Vec3 axis, double angle_rad) {
  const double s = std::sin(angle_rad / 2);
  return from_quaternion(std::cos(angle_rad / 2), s * axis.x, s * axis.y, s * axis.z);
}

Mat3 from_quaternion(double w, double x, double y, double z) {
  Mat3 r;
  r.m = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
         2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
         2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
  return r;
}

Mat3 uniform_rotation(double u1, double u2, double u3) {
  const double a = std::sqrt(1 - u1), b = std::sqrt(u1);
  const double t1 = 2 * kPi * u2, t2 = 2 * kPi * u3;
  return from_quaternion(b * std::cos(t2), a * std::sin(t1), a * std::cos(t1), b * std::sin(t2));
}

std::array<double, 3> euler_zyz_deg(const Mat3& r) {
  // R = Rz(rot) Ry(tilt) Rz(psi) acting on column vectors.
  const double tilt = std::acos(std::clamp(r(2, 2), -1.0, 1.0));
  double rot, psi;
  if (std::abs(std::sin(tilt)) > 1e-9) {
    rot = std::atan2(r(1, 2), r(0, 2));
    psi = std::atan2(r(2, 1), -r(2, 0));
  } else {
    rot = 0;
    psi = r(2, 2) > 0 ? std::atan2(-r(0, 1), r(0, 0)) : std::atan2(r(0, 1), -r(0, 0));
  }
  return {rot * kRadToDeg, tilt * kRadToDeg, psi * kRadToDeg};
}

} // namespace tomosweep

// Small fixed-size linear algebra and rotations.
#pragma once

#include <array>
#include <cmath>

namespace tomosweep {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  friend Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
  friend Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
  friend Vec3 operator*(double s, Vec3 a) { return {s * a.x, s * a.y, s * a.z}; }
  friend Vec3 operator*(Vec3 a, double s) { return s * a; }
  friend bool operator==(const Vec3&, const Vec3&) = default;
  double dot(Vec3 b) const { return x * b.x + y * b.y + z * b.z; }
  Vec3 cross(Vec3 b) const { return {y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x}; }
  double length() const { return std::sqrt(dot(*this)); }
  Vec3 normalized() const { return (1.0 / length()) * *this; }
};

/// Row-major 3x3 matrix; rotations act on column vectors: p' = R p.
struct Mat3 {
  std::array<double, 9> m{1, 0, 0, 0, 1, 0, 0, 0, 1};
  double operator()(int r, int c) const { return m[3 * r + c]; }
  double& operator()(int r, int c) { return m[3 * r + c]; }
  friend Vec3 operator*(const Mat3& a, Vec3 v) {
    return {a(0, 0) * v.x + a(0, 1) * v.y + a(0, 2) * v.z, a(1, 0) * v.x + a(1, 1) * v.y + a(1, 2) * v.z,
            a(2, 0) * v.x + a(2, 1) * v.y + a(2, 2) * v.z};
  }
  friend Mat3 operator*(const Mat3& a, const Mat3& b) {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) r(i, j) = a(i, 0) * b(0, j) + a(i, 1) * b(1, j) + a(i, 2) * b(2, j);
    return r;
  }
  Mat3 transposed() const {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) r(i, j) = (*this)(j, i);
    return r;
  }
  double determinant() const;
};

/// Rotation by angle_rad about a unit axis (right-hand rule).
Mat3 axis_angle(Vec3 axis, double angle_rad);
/// Rotation from a unit quaternion (w, x, y, z).
Mat3 from_quaternion(double w, double x, double y, double z);
/// Uniform random rotation on SO(3) from three independent uniforms in [0, 1) (Shoemake 1992).
Mat3 uniform_rotation(double u1, double u2, double u3);
/// ZYZ Euler angles in degrees (RELION's rot, tilt, psi) of a rotation matrix.
std::array<double, 3> euler_zyz_deg(const Mat3& r);

} // namespace tomosweep

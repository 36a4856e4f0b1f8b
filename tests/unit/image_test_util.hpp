// Small measurements on images that several unit tests share.
#pragma once

#include "core/volume.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace test_util {

/// Centroid (column, row) of image i of a stack, weighted by the pixel values.
inline std::pair<double, double> centroid(const tomosweep::Volume<float>& s, int i) {
  double sx = 0, sy = 0, sw = 0;
  for (int y = 0; y < s.ny; ++y)
    for (int x = 0; x < s.nx; ++x) {
      const double w = s(x, y, i);
      sx += w * x, sy += w * y, sw += w;
    }
  return {sx / sw, sy / sw};
}

/// Issue 8's flatness figure: std of the outer 10% band across the tilt direction (x at azimuth 0, both sides)
/// over the std of the central region (the middle 40% of x), both over all y and the interior z slices (the
/// middle half).
inline double edge_centre_ratio(const tomosweep::Volume<float>& v) {
  const int band = (v.nx + 9) / 10, c0 = 3 * v.nx / 10, c1 = 7 * v.nx / 10;
  double s[2][3] = {};
  for (int z = v.nz / 4; z < 3 * v.nz / 4; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int k = x < band || x >= v.nx - band ? 0 : (x >= c0 && x < c1 ? 1 : -1);
        if (k < 0) continue;
        const double a = v(x, y, z);
        s[k][0] += 1, s[k][1] += a, s[k][2] += a * a;
      }
  auto sd = [](const double* m) { return std::sqrt(std::max(0.0, m[2] / m[0] - (m[1] / m[0]) * (m[1] / m[0]))); };
  return sd(s[0]) / sd(s[1]);
}

} // namespace test_util

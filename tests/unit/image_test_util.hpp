// Small measurements on images that several unit tests share.
#pragma once

#include "core/volume.hpp"

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

} // namespace test_util

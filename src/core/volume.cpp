#include "core/volume.hpp"

#include <algorithm>

namespace tomosweep {

Image stack_image(const Volume<float>& stack, int i) {
  Image img(stack.nx, stack.ny, stack.voxel_A);
  std::copy_n(stack.slice(i), img.data.size(), img.data.begin());
  return img;
}

void set_stack_image(Volume<float>& stack, int i, const Image& img) {
  if (img.nx != stack.nx || img.ny != stack.ny)
    fail("image of ", img.nx, " x ", img.ny, " does not fit a stack of ", stack.nx, " x ", stack.ny);
  std::copy(img.data.begin(), img.data.end(), stack.slice(i));
}

} // namespace tomosweep

#include "reconstruct/ctf_correction.hpp"

#include "core/errors.hpp"
#include "core/fft.hpp"

#include <algorithm>
#include <cstddef>

namespace tomosweep {

double ctf_correction_weight(double c, const ReconParams& p) {
  switch (p.ctf_correction) {
  case CtfCorrection::none:
    return 1.0;
  case CtfCorrection::phaseflip:
    return c > 0 ? -1.0 : 1.0;
  case CtfCorrection::wiener:
    return -c / (c * c + 1.0 / p.wiener_snr);
  }
  return 1.0;
}

void correct_ctf(Volume<float>& images, const std::vector<TiltView>& views, const Ctf& ctf, const ReconParams& p) {
  if (p.ctf_correction == CtfCorrection::none) return;
  if (!(p.wiener_snr > 0)) fail("wiener_snr ", p.wiener_snr, " must be positive");
  if (views.size() != static_cast<std::size_t>(images.nz))
    fail("ctf correction of ", images.nz, " images with ", views.size(), " views");
  const CtfGrid grid = ctf_grid(ctf, images.nx, images.ny);
  const auto weight = [&p](std::size_t, double c) { return ctf_correction_weight(c, p); };
  for (int t = 0; t < images.nz; ++t) {
    const Image img = stack_image(images, t);
    const Image out =
        filter_ctf_strips(fft_forward(img), ctf, grid, views[t].defocus_A, views[t].tilt_rad, true, weight);
    set_stack_image(images, t, out);
  }
}

} // namespace tomosweep

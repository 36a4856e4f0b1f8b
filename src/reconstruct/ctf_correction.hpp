// CTF correction of a tilt series' contrast images before weighting and back projection (docs/imaging.md,
// Reconstruction). The contrast of an ideal series is -2 phi (protein dark), of a real one 2 CTF phi, with the
// CTF's sign (CTF(0) = -Q < 0, core/ctf.hpp); the correction filters toward the ideal transfer of -1.
#pragma once

#include "core/ctf.hpp"
#include "core/tilt.hpp"
#include "core/volume.hpp"
#include "reconstruct/params.hpp"

#include <vector>

namespace tomosweep {

/// Weight of the correction at CTF value c: phaseflip -sign(c) (1 at c = 0), wiener -c / (c^2 + 1 / wiener_snr),
/// none 1. The corrected transfer is -|c| or -c^2 / (c^2 + 1 / snr).
double ctf_correction_weight(double c, const ReconParams& p);

/// Corrects image t of `images` (nx x ny x views.size(), pixel ctf.pixel_A) in place for the CTF at views[t]:
/// per defocus strip along u, D(u) = defocus_A + u tan(tilt_rad) (CtfStrips, as in imaging), the spectrum is
/// multiplied by ctf_correction_weight of the CTF there; the DC term (the mean) is kept. No-op for "none".
void correct_ctf(Volume<float>& images, const std::vector<TiltView>& views, const Ctf& ctf, const ReconParams& p);

} // namespace tomosweep

// The microscope's CTF (core/ctf.hpp) as imaging applies it; formulas in docs/imaging.md.
// The image contrast of a phase image phi is c = 2 F^-1[CTF . F[phi - mean(phi)]].
#pragma once

#include "core/ctf.hpp"
#include "core/fft.hpp"
#include "core/volume.hpp"
#include "simulate/params.hpp"

#include <vector>

namespace tomosweep {

/// Relativistic electron wavelength (Angstrom) at accelerating voltage voltage_kV.
double electron_wavelength_A(double voltage_kV);
/// Interaction constant sigma_e (rad per V*A): phase = sigma_e * projected potential.
double interaction_constant_rad_per_V_A(double voltage_kV);

/// Depth of field (A) at pixel pixel_A: 2 pixel_A^2 / lambda, the defocus change that moves the CTF's phase at
/// Nyquist by pi / 2.
double depth_of_field_A(double pixel_A, double voltage_kV);

/// Number of CTF slabs of a specimen of thickness_A imaged at pixel_A: p.ctf_slabs if set (> 0), else (auto)
/// ceil(thickness_A / (cos(t_max) depth_of_field_A)), at least 1 (1 in CTS noise order), where thickness_A / cos(t_max)
/// is the path along the beam through the slab at the steepest nominal tilt of p.tilt.
int ctf_slab_count(const ImagingParams& p, double thickness_A, double pixel_A);

/// The CTF constants of imaging settings p at pixel pixel_A.
Ctf ctf_from(const ImagingParams& p, double pixel_A);

/// Contrast image 2 F^-1[CTF . extra . S] of a phase spectrum S (of nx x ny at ctf.pixel_A), where the defocus
/// varies across image columns: D(u) = defocus_A + u tan(tilt_rad) (u in Angstrom from the centre; positive
/// tilt: +x side more underfocused). Columns interpolate linearly between CTF-filtered copies whose defocus
/// steps keep the phase difference at Nyquist below pi/8 (any image size; CtfStrips). `extra` is a real
/// half-plane filter (nkx * ny values) or empty; the DC term is dropped (a constant phase is invisible).
Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra);
/// The same with a precomputed grid (ctf_grid(ctf, phase.nx, phase.ny)).
Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, const CtfGrid& grid, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra);

} // namespace tomosweep

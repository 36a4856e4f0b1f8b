// What the specimen adds to a tilt series beyond its projected potential: ice between rough or wedged surfaces
// (per-pixel path length in the transmission, ice beyond the box in the phase) and the amplitude term of
// strong scatterers (gold beads, carbon film). Formulas: docs/imaging.md ("Ice path per pixel", "Amplitude
// term of gold and carbon"). Everything here is off by default, and then the series is unchanged.
#pragma once

#include "core/ctf.hpp"
#include "core/ice_slab.hpp"
#include "core/projector.hpp"
#include "core/volume.hpp"
#include "simulate/params.hpp"

#include <vector>

namespace tomosweep {

struct SpecimenTerms {
  const IceSlab* ice_slab = nullptr;   ///< ice between these surfaces (vacuum beyond, in the potential), or none
  const Volume<float>* gold = nullptr; ///< gold volume fraction per voxel on the potential's grid, or none
  double gold_excess_V = 0;            ///< gold's potential minus ice_V: its part of the projected potential
  std::vector<ExteriorLayer> carbon;   ///< the carbon film(s), for their absorption (excess_V unused)
};

/// Intensity |F^-1[H . F[a]]|^2 of the exit wave a = exp(i (phi - mean phi) - mu / 2) of a strong object, with
/// phi = phase_per_A x F, mu = mu_per_A x F (F a projected path length image, A), H = E(k) exp(i (chi(k) +
/// phase shift + asin Q)) for k != 0 and H(0) = 1. Its weak-phase limit (mu = 0) is the linear model's
/// 1 + 2 F^-1[CTF . F[phi]]; a weak absorption is transferred by E cos(chi + shift + asin Q); |H| <= 1, so the
/// intensity is never negative and its mean is at most that of exp(-mu F) (equal without an envelope).
/// The defocus follows the tilt's columns (CtfStrips: intensities interpolated between strips).
Image strong_object_intensity(const Image& path_A, double phase_per_A, double mu_per_A, const Ctf& ctf,
                              const CtfGrid& grid, double defocus_A, double tilt_rad);

/// Length along the ray (A) of a detector ray through a carbon layer outside its hole (the whole ray, inside
/// and beyond the box).
double layer_path_A(const DetectorRay& r, const ExteriorLayer& l);

/// The per-pixel factors on the expected counts of each tilt: exp(-S (L - t / cos) / imfp) for the ice path L
/// of the pixel against the nominal thickness t, exp(-carbon path / carbon mfp), and gold's strong-object
/// intensity (physical order) or exp(-gold path / gold mfp) (cts order). Built once per series.
class AmplitudeTerms {
public:
  AmplitudeTerms(const ImagingParams& p, const SpecimenTerms& terms, int nu, int nv, double pixel_A,
                 double ice_thickness_A);
  /// Whether gold goes through strong_object_intensity (its phase then leaves the linear term).
  bool gold_wave() const { return gold_wave_; }
  bool gold() const { return gold_; }
  bool any() const { return ice_ || gold_ || carbon_; }
  /// The factors of tilt i (view v), given each pixel's ice path (A; add_ice_exterior) and gold's projected path
  /// (A) for that tilt (each nullptr when absent); nullptr when none apply. Valid until the next call.
  const float* at(const TiltView& v, const float* ice_path_A, const float* gold_path_A, double sigma_rad_per_V_A);

private:
  const ImagingParams& p_;
  const SpecimenTerms& t_;
  int nu_, nv_;
  double pixel_A_, thickness_A_;
  bool ice_ = false, gold_ = false, gold_wave_ = false, carbon_ = false;
  Ctf ctf_;
  CtfGrid grid_;
  std::vector<float> factor_;
};

} // namespace tomosweep

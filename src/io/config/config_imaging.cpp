#include "io/config/config_imaging.hpp"

#include "core/tilt_scheme.hpp"
#include "io/config/config_settings.hpp"

#include <cmath>
#include <sstream>

namespace tomosweep {

TiltParams read_tilt(TableReader& t, const TiltParams& defaults) {
  // Scalars come from the settings table; the range and list checks sit between them, where they have
  // always been, so that problems keep their order.
  TiltParams p = defaults;
  read_fields(t, tilt_fields(), p, "min_deg", "step_deg");
  if (p.max_deg < p.min_deg) t.problem("max_deg", "tilt range is empty: max_deg is below min_deg");
  p.angles_deg = t.numbers("angles_deg", p.angles_deg);
  for (double a : p.angles_deg)
    if (!(std::abs(a) < 90)) {
      std::ostringstream os;
      os << "expected angles in (-90, 90), got " << a;
      t.problem("angles_deg", os.str());
      break;
    }
  read_fields(t, tilt_fields(), p, "order", "dose_weighting");
  p.doses_e_per_A2 = t.numbers("doses_e_per_A2", p.doses_e_per_A2);
  for (double d : p.doses_e_per_A2)
    if (!(d >= 0)) {
      t.problem("doses_e_per_A2", "expected doses >= 0");
      break;
    }
  if (p.dose_weighting == DoseWeighting::list) {
    // One dose per written angle; for a range, tilt_count (an empty range is reported above and counts 0).
    std::size_t n = p.angles_deg.size();
    if (n == 0 && p.max_deg >= p.min_deg) n = static_cast<std::size_t>(tilt_count(p));
    if (p.doses_e_per_A2.size() != n)
      t.problem("doses_e_per_A2", "expected " + std::to_string(n) + " doses (one per tilt), got " +
                                      std::to_string(p.doses_e_per_A2.size()));
  } else if (t.has("doses_e_per_A2")) {
    t.problem("doses_e_per_A2", "per-tilt doses need dose_weighting = \"list\"");
  }
  if (p.order == TiltOrder::list && p.angles_deg.empty()) t.problem("order", "order \"list\" needs angles_deg");
  read_fields(t, tilt_fields(), p, "shift_sd_A", "motion_sd_A"); // acquisition residuals
  t.finish();
  return p;
}

/// Settings renamed when they became physical units: an error naming the new setting.
void renamed_settings(TableReader& t) {
  struct Renamed {
    const char *old_key, *what;
  };
  constexpr Renamed kRenamed[] = {
      {"envelope_sigma", "renamed: use envelope_B_A2, the envelope's B-factor in A^2 (E(k) = exp(-B k^2 / 4); "
                         "sigma s of Nyquist at pixel p is B = 16 p^2 / s^2)"},
      {"damage_noise_rad_per_e_A2", "renamed: use damage_noise_rad_A_per_e_A2, a density in rad A per e/A^2 "
                                    "(the old value times the pixel size in A)"}};
  for (const Renamed& r : kRenamed)
    if (t.has(r.old_key)) {
      t.number(r.old_key, 0); // read, so that it is not also an unknown key
      t.problem(r.old_key, r.what);
    }
}

ImagingParams read_imaging(TableReader& t) {
  ImagingParams p;
  read_fields(t, imaging_fields(), p);
  renamed_settings(t);
  if (auto tilt = t.table("tilt")) p.tilt = read_tilt(*tilt, p.tilt);
  t.finish();
  return p;
}

ReconParams read_reconstruction(TableReader& t) {
  ReconParams p;
  read_fields(t, reconstruction_fields(), p);
  t.finish();
  return p;
}

} // namespace tomosweep

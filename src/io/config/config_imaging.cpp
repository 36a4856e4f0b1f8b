#include "io/config/config_imaging.hpp"

#include <cmath>
#include <sstream>

namespace tomosweep {

TiltParams read_tilt(TableReader& t, const TiltParams& defaults) {
  TiltParams p = defaults;
  p.min_deg = t.number_in("min_deg", p.min_deg, -89.999, 89.999);
  p.max_deg = t.number_in("max_deg", p.max_deg, -89.999, 89.999);
  p.step_deg = t.number_in("step_deg", p.step_deg, 1e-3, 180);
  if (p.max_deg < p.min_deg) t.problem("max_deg", "tilt range is empty: max_deg is below min_deg");
  p.angles_deg = t.numbers("angles_deg", p.angles_deg);
  for (double a : p.angles_deg)
    if (!(std::abs(a) < 90)) {
      std::ostringstream os;
      os << "expected angles in (-90, 90), got " << a;
      t.problem("angles_deg", os.str());
      break;
    }
  p.order = t.choice("order", p.order, {"dose-symmetric", "bidirectional", "unidirectional", "list"});
  p.start_deg = t.number_in("start_deg", p.start_deg, -90, 90);
  p.axis_azimuth_deg = t.number_in("axis_azimuth_deg", p.axis_azimuth_deg, -360, 360);
  p.angle_error_deg = t.number_in("angle_error_deg", p.angle_error_deg, 0, 10);
  p.group_size = static_cast<int>(t.integer_in("group_size", p.group_size, 1, 1000));
  p.first_branch = t.choice("first_branch", p.first_branch, {"negative", "positive"});
  p.dose_weighting = t.choice("dose_weighting", p.dose_weighting, {"even", "cos", "list"});
  p.doses_e_per_A2 = t.numbers("doses_e_per_A2", p.doses_e_per_A2);
  for (double d : p.doses_e_per_A2)
    if (!(d >= 0)) {
      t.problem("doses_e_per_A2", "expected doses >= 0");
      break;
    }
  if (p.dose_weighting == "list") {
    const std::size_t n =
        !p.angles_deg.empty()
            ? p.angles_deg.size()
            : (p.step_deg > 0 && p.max_deg >= p.min_deg
                   ? static_cast<std::size_t>(std::floor((p.max_deg - p.min_deg) / p.step_deg + 1e-6)) + 1
                   : 0);
    if (p.doses_e_per_A2.size() != n)
      t.problem("doses_e_per_A2", "expected " + std::to_string(n) + " doses (one per tilt), got " +
                                      std::to_string(p.doses_e_per_A2.size()));
  } else if (t.has("doses_e_per_A2")) {
    t.problem("doses_e_per_A2", "per-tilt doses need dose_weighting = \"list\"");
  }
  if (p.order == "list" && p.angles_deg.empty()) t.problem("order", "order \"list\" needs angles_deg");
  t.finish();
  return p;
}

ImagingParams read_imaging(TableReader& t) {
  ImagingParams p;
  p.voltage_kV = t.number_in("voltage_kV", p.voltage_kV, 10, 3000);
  p.cs_mm = t.number_in("cs_mm", p.cs_mm, 0, 20);
  p.amplitude_contrast = t.number_in("amplitude_contrast", p.amplitude_contrast, 0, 1);
  p.envelope_sigma = t.number_in("envelope_sigma", p.envelope_sigma, 0, 100);
  p.defocus_um = t.number_in("defocus_um", p.defocus_um, -50, 100);
  p.phase_shift_deg = t.number_in("phase_shift_deg", p.phase_shift_deg, -360, 360);
  p.dose_e_per_A2 = t.number_in("dose_e_per_A2", p.dose_e_per_A2, 0, 1e6);
  p.dqe = t.number_in("dqe", p.dqe, 1e-6, 1);
  p.imfp_A = t.number_in("imfp_A", p.imfp_A, 1, 1e7);
  p.scatter_factor = t.number_in("scatter_factor", p.scatter_factor, 0, 100);
  p.ideal = t.boolean("ideal", p.ideal);
  p.astigmatism_um = t.number_in("astigmatism_um", p.astigmatism_um, -50, 50);
  p.astigmatism_angle_deg = t.number_in("astigmatism_angle_deg", p.astigmatism_angle_deg, -360, 360);
  p.defocus_gradient = t.boolean("defocus_gradient", p.defocus_gradient);
  p.ctf_slabs = static_cast<int>(t.integer_in("ctf_slabs", p.ctf_slabs, 1, 1000));
  p.detector_mtf = t.choice("detector_mtf", p.detector_mtf, {"none", "sinc"});
  p.noise_order = t.choice("noise_order", p.noise_order, {"physical", "cts"});
  p.damage = t.boolean("damage", p.damage);
  p.damage_noise_rad_per_e_A2 = t.number_in("damage_noise_rad_per_e_A2", p.damage_noise_rad_per_e_A2, 0, 1);
  p.half_series = t.boolean("half_series", p.half_series);
  if (auto tilt = t.table("tilt")) p.tilt = read_tilt(*tilt, p.tilt);
  t.finish();
  return p;
}

ReconParams read_reconstruction(TableReader& t) {
  ReconParams p;
  p.cutoff = t.number_in("cutoff", p.cutoff, 1e-3, 0.5);
  p.falloff = t.number_in("falloff", p.falloff, 0, 0.5);
  p.method = t.choice("method", p.method, {"wbp", "sirt"});
  p.sirt_iterations = static_cast<int>(t.integer_in("sirt_iterations", p.sirt_iterations, 0, 10000));
  p.sirt_relaxation = t.number_in("sirt_relaxation", p.sirt_relaxation, 1e-3, 1.999);
  t.finish();
  return p;
}

} // namespace tomosweep

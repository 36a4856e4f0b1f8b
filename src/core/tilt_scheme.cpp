#include "core/tilt_scheme.hpp"

#include "core/conventions.hpp"
#include "core/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tomosweep {
namespace {

void check_angle(double a) {
  if (!(std::abs(a) < 90)) fail("tilt angle ", a, " deg is outside (-90, 90)");
}

int closest(const std::vector<double>& a, double target) {
  int best = 0;
  for (int i = 1; i < static_cast<int>(a.size()); ++i)
    if (std::abs(a[i] - target) < std::abs(a[best] - target)) best = i;
  return best;
}

// Angles in ascending order; fails on the first angle (in the order given) outside (-90, 90), then on an
// angle given twice.
std::vector<double> ascending_checked(std::vector<double> a) {
  for (double v : a) check_angle(v);
  std::sort(a.begin(), a.end());
  for (std::size_t i = 1; i < a.size(); ++i)
    if (a[i] == a[i - 1]) fail("tilt angle ", a[i], " deg appears twice");
  return a;
}

} // namespace

int tilt_count(const TiltParams& t) {
  if (!t.angles_deg.empty()) return static_cast<int>(ascending_checked(t.angles_deg).size());
  if (!(t.step_deg > 0)) fail("tilt step ", t.step_deg, " deg must be positive");
  if (t.max_deg < t.min_deg) fail("tilt range ", t.min_deg, "..", t.max_deg, " deg is empty");
  const int n = static_cast<int>(std::floor((t.max_deg - t.min_deg) / t.step_deg + 1e-6)) + 1;
  for (int i = 0; i < n; ++i) check_angle(t.min_deg + i * t.step_deg);
  return n;
}

std::vector<double> tilt_angles_deg(const TiltParams& t) {
  if (!t.angles_deg.empty()) return ascending_checked(t.angles_deg);
  const int n = tilt_count(t);
  std::vector<double> a;
  for (int i = 0; i < n; ++i) a.push_back(t.min_deg + i * t.step_deg);
  return ascending_checked(std::move(a));
}

std::vector<int> acquisition_order(const TiltParams& t, const std::vector<double>& asc) {
  const int n = static_cast<int>(asc.size());
  std::vector<int> order;
  if (n == 0) return order;
  if (t.order == TiltOrder::unidirectional) {
    order.resize(n);
    std::iota(order.begin(), order.end(), 0);
  } else if (t.order == TiltOrder::list) {
    // Acquisition follows the explicit list as written.
    const std::vector<double>& given = t.angles_deg.empty() ? asc : t.angles_deg;
    for (double a : given) order.push_back(static_cast<int>(std::lower_bound(asc.begin(), asc.end(), a) - asc.begin()));
  } else if (t.order == TiltOrder::bidirectional) {
    const int s = closest(asc, t.start_deg);
    const bool neg_first = t.first_branch != FirstBranch::positive;
    auto down = [&] {
      for (int i = s - (neg_first ? 0 : 1); i >= 0; --i) order.push_back(i);
    };
    auto up = [&] {
      for (int i = s + (neg_first ? 1 : 0); i < n; ++i) order.push_back(i);
    };
    if (neg_first) {
      down();
      up();
    } else {
      up();
      down();
    }
  } else if (t.order == TiltOrder::dose_symmetric) {
    // Hagen et al. (2017): start near start_deg, then alternate sides in groups, positive side first;
    // when one side is exhausted the other continues.
    if (t.group_size < 1) fail("tilt group size ", t.group_size, " must be at least 1");
    const int s = closest(asc, t.start_deg);
    order.push_back(s);
    int hi = s + 1, lo = s - 1;
    bool positive = true;
    while (hi < n || lo >= 0) {
      for (int g = 0; g < t.group_size; ++g) {
        if (positive && hi < n)
          order.push_back(hi++);
        else if (!positive && lo >= 0)
          order.push_back(lo--);
      }
      positive = !positive;
    }
  }
  return order;
}

std::vector<TiltRecord> plan_tilts(const TiltParams& t, double total_dose_e_per_A2, std::uint64_t seed,
                                   std::uint64_t job_id) {
  const std::vector<double> asc = tilt_angles_deg(t);
  const int n = static_cast<int>(asc.size());
  const std::vector<int> order = acquisition_order(t, asc);

  std::vector<double> dose(n);
  if (t.dose_weighting == DoseWeighting::list) {
    if (static_cast<int>(t.doses_e_per_A2.size()) != n)
      fail("per-tilt dose list has ", t.doses_e_per_A2.size(), " values for ", n, " tilts");
    // Doses follow the explicit angle list as written, else ascending angles.
    for (int j = 0; j < n; ++j) {
      const double d = t.doses_e_per_A2[j];
      if (!(d >= 0)) fail("per-tilt dose ", d, " e/A^2 is negative");
      const int i = t.angles_deg.empty()
                        ? j
                        : static_cast<int>(std::lower_bound(asc.begin(), asc.end(), t.angles_deg[j]) - asc.begin());
      dose[i] = d;
    }
  } else {
    if (!(total_dose_e_per_A2 >= 0)) fail("total dose ", total_dose_e_per_A2, " e/A^2 is negative");
    double sum = 0;
    for (int i = 0; i < n; ++i)
      sum += dose[i] = t.dose_weighting == DoseWeighting::cos ? 1.0 / std::cos(asc[i] * kDegToRad) : 1.0;
    for (double& d : dose) d *= total_dose_e_per_A2 / sum;
  }

  std::vector<TiltRecord> rec(n);
  Rng rng(seed, Purpose::tilt_error, job_id);
  for (int i = 0; i < n; ++i) {
    rec[i].angle_deg = asc[i];
    const double err = t.angle_error_deg > 0 ? t.angle_error_deg * rng.normal() : 0.0;
    rec[i].actual_angle_deg = asc[i] + err;
    rec[i].dose_e_per_A2 = dose[i];
  }
  double cumulative = 0;
  for (int k = 0; k < n; ++k) {
    TiltRecord& r = rec[order[k]];
    r.acquisition_index = k;
    r.cumulative_dose_e_per_A2 = cumulative;
    cumulative += r.dose_e_per_A2;
  }
  return rec;
}

TiltSeries plan_series(const TiltParams& t, double total_dose_e_per_A2, double defocus_um, std::uint64_t seed,
                       std::uint64_t job_id) {
  TiltSeries s;
  s.tilts = plan_tilts(t, total_dose_e_per_A2, seed, job_id);
  s.axis_azimuth_deg = t.axis_azimuth_deg;
  const double azimuth_rad = t.axis_azimuth_deg * kDegToRad, defocus_A = defocus_um * kAngstromPerMicrometre;
  // Every draw is made whatever the deviations, so each residual is sd x the same N(0,1); sd 0 gives +0.
  Rng rng(seed, Purpose::residual, job_id);
  auto draw = [&rng](double sd) {
    const double n = rng.normal();
    return sd > 0 ? sd * n : 0.0;
  };
  const double axis_deg = draw(t.axis_offset_deg);
  for (TiltRecord& r : s.tilts) {
    r.shift_x_A = draw(t.shift_sd_A);
    r.shift_y_A = draw(t.shift_sd_A);
    r.rotation_deg = draw(t.rotation_sd_deg);
    r.magnification = 1 + draw(t.magnification_sd);
    r.defocus_jitter_um = draw(t.defocus_jitter_um);
    r.axis_offset_deg = axis_deg;
    r.defocus_um = defocus_um + r.defocus_jitter_um;
    TiltView v{r.actual_angle_deg * kDegToRad, azimuth_rad + axis_deg * kDegToRad,
               r.defocus_um * kAngstromPerMicrometre};
    v.shift_u_A = r.shift_x_A;
    v.shift_v_A = r.shift_y_A;
    v.rotation_rad = (r.rotation_deg + axis_deg) * kDegToRad;
    v.magnification = r.magnification;
    s.views.push_back(v);
    s.nominal_views.push_back({r.angle_deg * kDegToRad, azimuth_rad, defocus_A});
  }
  // Drawn after the others, so that a series without motion keeps every other residual.
  for (TiltRecord& r : s.tilts) {
    r.motion_x_A = draw(t.motion_sd_A);
    r.motion_y_A = draw(t.motion_sd_A);
  }
  return s;
}

} // namespace tomosweep

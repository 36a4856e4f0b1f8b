#include "io/files/tilt_table.hpp"

#include <sstream>

namespace tomosweep {

TiltRow tilt_row(const TiltRecord& t) {
  return {t.angle_deg,         t.actual_angle_deg, t.acquisition_index, t.dose_e_per_A2, t.cumulative_dose_e_per_A2,
          t.defocus_um,        t.shift_x_A,        t.shift_y_A,         t.rotation_deg,  t.magnification,
          t.defocus_jitter_um, t.axis_offset_deg,  t.motion_x_A,        t.motion_y_A};
}

TiltRecord tilt_record(const TiltRow& r) {
  TiltRecord t;
  t.angle_deg = r.angle_deg;
  t.actual_angle_deg = r.actual_angle_deg;
  t.acquisition_index = r.acquisition_index;
  t.dose_e_per_A2 = r.dose_e_per_A2;
  t.cumulative_dose_e_per_A2 = r.cumulative_dose_e_per_A2;
  t.defocus_um = r.defocus_um;
  t.shift_x_A = r.shift_x_A;
  t.shift_y_A = r.shift_y_A;
  t.rotation_deg = r.rotation_deg;
  t.magnification = r.magnification;
  t.defocus_jitter_um = r.defocus_jitter_um;
  t.axis_offset_deg = r.axis_offset_deg;
  t.motion_x_A = r.motion_x_A;
  t.motion_y_A = r.motion_y_A;
  return t;
}

std::string tilt_table_tsv(const std::vector<TiltRecord>& tilts) {
  std::ostringstream os;
  os << "# index\tangle_deg\tactual_angle_deg\tacquisition_index\tdose_e_per_A2\tcumulative_dose_e_per_A2"
        "\tdefocus_um\tshift_x_A\tshift_y_A\trotation_deg\tmagnification\tdefocus_jitter_um\taxis_offset_deg"
        "\tmotion_x_A\tmotion_y_A\n";
  for (std::size_t i = 0; i < tilts.size(); ++i) {
    const TiltRow r = tilt_row(tilts[i]);
    os << i << '\t' << r.angle_deg << '\t' << r.actual_angle_deg << '\t' << r.acquisition_index << '\t'
       << r.dose_e_per_A2 << '\t' << r.cumulative_dose_e_per_A2 << '\t' << r.defocus_um << '\t' << r.shift_x_A << '\t'
       << r.shift_y_A << '\t' << r.rotation_deg << '\t' << r.magnification << '\t' << r.defocus_jitter_um << '\t'
       << r.axis_offset_deg << '\t' << r.motion_x_A << '\t' << r.motion_y_A << '\n';
  }
  return os.str();
}

} // namespace tomosweep

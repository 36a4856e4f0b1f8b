#include "job/settings.hpp"

#include "job/job.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>

namespace tomosweep {
namespace {

template <class M> struct MemberOf;
template <class P, class T> struct MemberOf<T P::*> {
  using owner = P;
  using type = T;
};
template <auto M> using Owner = typename MemberOf<decltype(M)>::owner;
template <auto M> using Type = typename MemberOf<decltype(M)>::type;

template <auto M> constexpr double get_member(const Owner<M>& p) {
  if constexpr (std::is_enum_v<Type<M>>)
    return static_cast<double>(static_cast<std::underlying_type_t<Type<M>>>(p.*M));
  else
    return static_cast<double>(p.*M);
}

template <auto M> constexpr void set_member(Owner<M>& p, double v) {
  using V = Type<M>;
  if constexpr (std::is_enum_v<V>)
    p.*M = static_cast<V>(static_cast<std::underlying_type_t<V>>(v));
  else if constexpr (std::is_same_v<V, bool>)
    p.*M = v != 0;
  else if constexpr (std::is_integral_v<V>) // out-of-range integers are reported, not stored exactly
    p.*M = static_cast<V>(std::clamp(v, static_cast<double>(std::numeric_limits<V>::min()),
                                     static_cast<double>(std::numeric_limits<V>::max())));
  else
    p.*M = v;
}

template <auto M> constexpr Field<Owner<M>> make(SettingInfo info) { return {info, &get_member<M>, &set_member<M>}; }

/// Whether a number is recorded, and its corpus column.
struct Record {
  bool recorded = false;
  int column = -1;
};
constexpr Record recorded{true, -1};
constexpr Record column(int i) { return {true, i}; }

template <auto M>
constexpr Field<Owner<M>> number(std::string_view key, std::string_view unit, double lo, double hi,
                                 std::string_view doc, Record r = {}) {
  return make<M>({key, SettingKind::number, unit, lo, hi, {}, doc, r.recorded, r.column});
}

template <auto M>
constexpr Field<Owner<M>> integer(std::string_view key, std::string_view unit, double lo, double hi,
                                  std::string_view doc, Record r = {}, std::string_view zero_name = {}) {
  return make<M>({key, SettingKind::integer, unit, lo, hi, {}, doc, r.recorded, r.column, zero_name});
}

template <auto M> constexpr Field<Owner<M>> boolean(std::string_view key, std::string_view doc) {
  return make<M>({key, SettingKind::boolean, "", 0, 0, {}, doc, false, -1});
}

template <auto M>
constexpr Field<Owner<M>> choice(std::string_view key, std::span<const std::string_view> names, std::string_view doc) {
  return make<M>({key, SettingKind::choice, "", 0, 0, names, doc, false, -1});
}

// model/ has no names table for its one enum: PotentialMode's TOML names, in enum order.
constexpr std::array<std::string_view, 2> kPotentialNames{"fast", "form-factor"};
constexpr std::array<std::string_view, 2> kIceTextureNames{"none", "granular"};

using I = ImagingParams;
using T = TiltParams;
using R = ReconParams;
using M = ModelParams;

constexpr auto kImaging = std::to_array<Field<ImagingParams>>({
    number<&I::voltage_kV>("voltage_kV", "kV", 10, 3000, "acceleration voltage", column(3)),
    number<&I::cs_mm>("cs_mm", "mm", 0, 20, "spherical aberration", recorded),
    number<&I::amplitude_contrast>("amplitude_contrast", "", 0, 1, "amplitude contrast fraction", recorded),
    number<&I::envelope_B_A2>("envelope_B_A2", "A^2", 0, 1e6,
                              "CTF envelope B-factor: exp(-B k^2 / 4), 0 for none (CTS parity: 2000)", recorded),
    number<&I::defocus_um>("defocus_um", "um", -50, 100, "defocus at the specimen's mid-plane, positive = underfocus",
                           column(1)),
    number<&I::phase_shift_deg>("phase_shift_deg", "deg", -360, 360, "phase plate shift", column(4)),
    number<&I::dose_e_per_A2>("dose_e_per_A2", "e/A^2", 0, 1e6, "total dose over the series", column(2)),
    number<&I::dqe>("dqe", "", 1e-6, 1, "detective quantum efficiency (counts kept)", recorded),
    number<&I::imfp_A>("imfp_A", "A", 1, 1e7, "inelastic mean free path of vitreous ice", recorded),
    number<&I::scatter_factor>("scatter_factor", "", 0, 100, "factor on the ice thickness in the transmission law"),
    boolean<&I::ideal>("ideal", "no CTF, noise, damage or detector"),
    number<&I::astigmatism_um>("astigmatism_um", "um", -50, 50, "defocus difference of the major and minor axes"),
    number<&I::astigmatism_angle_deg>("astigmatism_angle_deg", "deg", -360, 360,
                                      "azimuth of the major (more underfocused) axis from image x"),
    boolean<&I::defocus_gradient>("defocus_gradient", "defocus varies across each tilted image"),
    integer<&I::ctf_slabs>("ctf_slabs", "", 1, 1000,
                           "CTF per z slab (depth-dependent defocus); auto: ceil(path along the beam at the steepest "
                           "tilt / depth of field 2 p^2 / lambda)",
                           recorded, "auto"),
    choice<&I::detector_mtf>("detector_mtf", kDetectorMtfNames, "detector MTF: none, or sinc(pi f / 2)"),
    choice<&I::noise_order>("noise_order", kNoiseOrderNames,
                            "physical (CTF, then counting) or cts (counting, then CTF)"),
    boolean<&I::damage>("damage", "radiation damage in acquisition order"),
    number<&I::damage_noise_rad_A_per_e_A2>("damage_noise_rad_A_per_e_A2", "rad A per e/A^2", 0, 10,
                                            "damage phase noise density: per pixel, this x exposure / pixel_A"),
    boolean<&I::half_series>("half_series", "also odd/even half-dose series and tomograms"),
    integer<&I::acquisition_binning>("acquisition_binning", "", 1, 16,
                                     "image at pixel_size_A / N (potential rasterized there for imaging only), then "
                                     "Fourier-bin each image to pixel_size_A"),
    number<&I::gold_absorption_mfp_A>("gold_absorption_mfp_A", "A", 0, 1e9,
                                      "gold beads: mean free path of the amplitude term, exp(-path / mfp); 0 = off"),
    number<&I::carbon_absorption_mfp_A>("carbon_absorption_mfp_A", "A", 0, 1e9,
                                        "carbon film: mean free path of the amplitude term; 0 = off"),
});

constexpr auto kTilt = std::to_array<Field<TiltParams>>({
    number<&T::min_deg>("min_deg", "deg", -89.999, 89.999, "lowest tilt", column(5)),
    number<&T::max_deg>("max_deg", "deg", -89.999, 89.999, "highest tilt", column(6)),
    number<&T::step_deg>("step_deg", "deg", 1e-3, 180, "tilt increment", column(7)),
    choice<&T::order>("order", kTiltOrderNames, "acquisition order (list: as angles_deg is written)"),
    number<&T::start_deg>("start_deg", "deg", -90, 90, "first tilt of dose-symmetric and bidirectional orders"),
    number<&T::axis_azimuth_deg>("axis_azimuth_deg", "deg", -360, 360, "tilt axis azimuth (missing-wedge orientation)",
                                 column(8)),
    number<&T::angle_error_deg>("angle_error_deg", "deg", 0, 10, "standard deviation of random per-tilt angle errors",
                                recorded),
    integer<&T::group_size>("group_size", "", 1, 1000, "dose-symmetric: tilts per side before switching"),
    choice<&T::first_branch>("first_branch", kFirstBranchNames, "bidirectional: the side acquired first"),
    choice<&T::dose_weighting>("dose_weighting", kDoseWeightingNames,
                               "dose per tilt: even, proportional to 1/cos(tilt), or doses_e_per_A2"),
    number<&T::shift_sd_A>("shift_sd_A", "A", 0, 1e4, "sd of the per-tilt image shift residual, each of x and y"),
    number<&T::rotation_sd_deg>("rotation_sd_deg", "deg", 0, 45, "sd of the per-tilt in-plane image rotation residual"),
    number<&T::magnification_sd>("magnification_sd", "", 0, 0.5,
                                 "sd of the per-tilt relative magnification residual (m = 1 + sd N(0,1))"),
    number<&T::defocus_jitter_um>("defocus_jitter_um", "um", 0, 10, "sd of the per-tilt defocus residual"),
    number<&T::axis_offset_deg>("axis_offset_deg", "deg", 0, 45,
                                "sd of the tilt-axis azimuth offset, one draw per series"),
    number<&T::motion_sd_A>(
        "motion_sd_A", "A",
        0, 1e4, "sd of the per-tilt straight-line drift during the exposure (motion blur), each of x and y"),
});

constexpr auto kReconstruction = std::to_array<Field<ReconParams>>({
    number<&R::cutoff>("cutoff", "cycles/pixel", 1e-3, 0.5, "radial filter cutoff", recorded),
    number<&R::falloff>("falloff", "cycles/pixel", 0, 0.5, "Gaussian fall-off sigma beyond the cutoff", recorded),
    choice<&R::method>("method", kReconMethodNames, "weighted back-projection or SIRT"),
    integer<&R::sirt_iterations>("sirt_iterations", "", 0, 10000, "SIRT iterations, started from zero"),
    number<&R::sirt_relaxation>("sirt_relaxation", "", 1e-3, 1.999, "SIRT step factor"),
    boolean<&R::true_geometry>("true_geometry",
                               "reconstruct with the geometry as acquired (residuals included), not the nominal"),
    choice<&R::ctf_correction>("ctf_correction", kCtfCorrectionNames,
                               "CTF correction per defocus strip before back projection: none, phaseflip or wiener"),
    number<&R::wiener_snr>("wiener_snr", "", 1e-6, 1e12, "wiener: signal-to-noise ratio in -CTF / (CTF^2 + 1 / snr)"),
    boolean<&R::exposure_filter>("exposure_filter",
                                 "weight each tilt per frequency by its radiation damage exp(-N / 2 N_e(k)), "
                                 "normalised to mean 1 over the tilts (not imaging.tilt.dose_weighting)"),
});

using Pr = PriorParams;
constexpr auto kPrior = std::to_array<Field<PriorParams>>({
    boolean<&Pr::enabled>("enabled", "compute the noise-free prior"),
    choice<&Pr::method>("method", kPriorMethodNames,
                        "bandlimit (potential filtered in 3D to the reconstruction's resolution) or wbp (of an "
                        "ideal -89..89 series, CTS)"),
});

constexpr auto kModel = std::to_array<Field<ModelParams>>({
    number<&M::pixel_size_A>("pixel_size_A", "A", 0.1, 1000, "voxel size of the rasterized volumes", column(0)),
    boolean<&M::ice>("ice", "embed in vitreous ice with solvent exclusion"),
    choice<&M::ice_texture>(
        "ice_texture", kIceTextureNames,
        "granular (water's density fluctuations: S(q) x molecule form factor) or none (a continuum)"),
    choice<&M::potential>("potential", kPotentialNames,
                          "atom weights: form-factor (f_e(0), protein-ice 3.4 V) or fast (electrons, CTS, 1.75 V)"),
    number<&M::b_factor_A2>("b_factor_A2", "A^2", 0, 1000, "extra B-factor blur in form-factor mode"),
});

/// Append the settings of `fields`, found in a JobConfig by `of`, under `prefix`.
template <class P>
void add_section(std::vector<Setting>& out, std::string_view prefix, std::span<const Field<P>> fields,
                 const P& (*of)(const JobConfig&)) {
  for (const Field<P>& f : fields)
    out.push_back({std::string(prefix) + "." + std::string(f.info.key), &f.info,
                   [&f, of](const JobConfig& c) { return f.get(of(c)); }});
}

} // namespace

std::span<const Field<ImagingParams>> imaging_fields() { return kImaging; }
std::span<const Field<TiltParams>> tilt_fields() { return kTilt; }
std::span<const Field<ReconParams>> reconstruction_fields() { return kReconstruction; }
std::span<const Field<ModelParams>> model_fields() { return kModel; }
std::span<const Field<PriorParams>> prior_fields() { return kPrior; }

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = [] {
    std::vector<Setting> out;
    add_section<ModelParams>(out, "model", kModel, [](const JobConfig& c) -> const ModelParams& { return c.model; });
    add_section<ImagingParams>(out, "imaging", kImaging,
                               [](const JobConfig& c) -> const ImagingParams& { return c.imaging; });
    add_section<TiltParams>(out, "imaging.tilt", kTilt,
                            [](const JobConfig& c) -> const TiltParams& { return c.imaging.tilt; });
    add_section<ReconParams>(out, "reconstruction", kReconstruction,
                             [](const JobConfig& c) -> const ReconParams& { return c.reconstruction; });
    add_section<PriorParams>(out, "prior", kPrior, [](const JobConfig& c) -> const PriorParams& { return c.prior; });
    for (Setting& s : out)
      if (s.path == "imaging.ctf_slabs") s.effective = [](const JobConfig& c) { return double(job_ctf_slabs(c)); };
    return out;
  }();
  return all;
}

const Setting* find_setting(std::string_view path) {
  for (const Setting& s : settings())
    if (s.path == path) return &s;
  return nullptr;
}

const std::vector<std::string>& corpus_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<const Setting*> cols;
    for (const Setting& s : settings())
      if (s.info->corpus_column >= 0) cols.push_back(&s);
    std::sort(cols.begin(), cols.end(),
              [](const Setting* a, const Setting* b) { return a->info->corpus_column < b->info->corpus_column; });
    std::vector<std::string> out;
    for (const Setting* s : cols) out.push_back(s->path);
    return out;
  }();
  return columns;
}

std::optional<double> known_setting(const JobConfig& c, const std::string& path) {
  const Setting* s = find_setting(path);
  if (!s || !s->info->recorded) return std::nullopt;
  return s->effective ? s->effective(c) : s->value(c);
}

} // namespace tomosweep

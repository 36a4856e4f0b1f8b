// Configuration loading: exact error messages with file:line:col and key paths; the settings table.
#include "expect_error.hpp"
#include "io/config/config_file.hpp"
#include "io/config/toml_reader.hpp"
#include "job/job.hpp"
#include "job/settings.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tomosweep;
using test_util::error_of;

namespace {

std::string problems_of(const std::string& text) {
  Problems problems;
  const toml::table root = parse_toml(text, "job.toml");
  read_job_config(root, "job.toml", problems);
  std::string all;
  for (const std::string& l : problems.lines) all += l + "\n";
  return all;
}

const char* kMinimal = "[model]\nbox_A = [200, 200, 50]\npixel_size_A = 10\n";

} // namespace

TEST(config, minimal_file_has_defaults) {
  Problems problems;
  const JobConfig c = read_job_config(parse_toml(kMinimal, "job.toml"), "job.toml", problems);
  EXPECT_TRUE(problems.empty()) << problems.lines.front();
  EXPECT_DOUBLE_EQ(c.model.box_A[2], 50);
  EXPECT_DOUBLE_EQ(c.imaging.voltage_kV, 300);
  EXPECT_DOUBLE_EQ(c.imaging.cs_mm, 2.7);
  EXPECT_DOUBLE_EQ(c.imaging.amplitude_contrast, 0.07);
  EXPECT_DOUBLE_EQ(c.imaging.defocus_um, 5.0);
  EXPECT_DOUBLE_EQ(c.imaging.dose_e_per_A2, 100);
  EXPECT_DOUBLE_EQ(c.imaging.tilt.min_deg, -60);
  EXPECT_DOUBLE_EQ(c.imaging.tilt.step_deg, 2);
  EXPECT_DOUBLE_EQ(c.prior.tilt.min_deg, -89);
  EXPECT_DOUBLE_EQ(c.prior.tilt.step_deg, 1);
  EXPECT_DOUBLE_EQ(c.reconstruction.cutoff, 0.35);
  EXPECT_DOUBLE_EQ(c.reconstruction.falloff, 0.035);
}

TEST(config, unknown_key_names_file_line_and_path) {
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[imaging]\ndefocus = 3\n"),
            "job.toml:5:1: unknown key 'imaging.defocus'\n");
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[colour]\n"), "job.toml:4:2: unknown key 'colour'\n");
}

TEST(config, wrong_type_names_expected_and_got) {
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[imaging]\ndefocus_um = \"3\"\n"),
            "job.toml:5:14: imaging.defocus_um: expected a number, got a string\n");
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[run]\nseed = 1.5\n"),
            "job.toml:5:8: run.seed: expected an integer, got a number\n");
}

TEST(config, every_problem_is_reported_at_once) {
  const std::string p = problems_of(std::string(kMinimal) + "[run]\nreplicates = 0\nnmae = \"x\"\n");
  EXPECT_EQ(p, "job.toml:5:14: run.replicates: expected an integer in [1, 100000], got 0\n"
               "job.toml:6:1: unknown key 'run.nmae'\n");
}

TEST(config, syntax_error_is_a_config_error_with_position) {
  EXPECT_EQ(error_of<ConfigError>([] { parse_toml("[model]\nbox_A = [1, 2\n", "bad.toml"); }),
            "bad.toml:2:15: Error while parsing array: encountered end-of-file");
}

TEST(config, missing_file_is_an_io_error) {
  EXPECT_EQ(error_of<IoError>([] { load_job_config("/nonexistent/job.toml"); }),
            "/nonexistent/job.toml: No such file or directory");
}

TEST(config, missing_model_table) {
  EXPECT_EQ(problems_of("[run]\nseed = 3\n"), "job.toml: model: missing [model] table\n");
}

TEST(config, problems_throw_one_config_error_with_one_line_each) {
  Problems p;
  p.add("a.toml:1:1: first");
  p.add("a.toml:2:1: second");
  EXPECT_EQ(error_of<ConfigError>([&] { p.throw_if_any(); }), "a.toml:1:1: first\na.toml:2:1: second");
}

// The settings table (job/settings.hpp) drives the readers, the sweep's recorded settings and the corpus columns.

namespace {

/// kMinimal with `path` set to `value` (the file's own pixel_size_A is replaced).
template <class V> JobConfig read_with(const std::string& path, const V& value, Problems& problems) {
  toml::table root = parse_toml(kMinimal, "job.toml");
  toml::table* t = &root;
  std::string rest = path;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    const std::string key = rest.substr(0, dot);
    if (!t->contains(key)) t->insert(key, toml::table{});
    t = t->get(key)->as_table();
    rest = rest.substr(dot + 1);
  }
  t->insert_or_assign(rest, value);
  return read_job_config(root, "job.toml", problems);
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string kind_name(SettingKind k) {
  switch (k) {
  case SettingKind::number:
    return "number";
  case SettingKind::integer:
    return "integer";
  case SettingKind::boolean:
    return "boolean";
  case SettingKind::choice:
    break;
  }
  return "choice";
}

std::string value_text(const SettingInfo& s, double v) {
  switch (s.kind) {
  case SettingKind::boolean:
    return v != 0 ? "true" : "false";
  case SettingKind::choice:
    return "\"" + std::string(s.names[static_cast<std::size_t>(v)]) + "\"";
  case SettingKind::integer:
    if (v == 0 && !s.zero_name.empty()) return "\"" + std::string(s.zero_name) + "\"";
    return fmt(v);
  default:
    return fmt(v);
  }
}

std::string range_text(const SettingInfo& s) {
  switch (s.kind) {
  case SettingKind::number:
    return "[" + fmt(s.lo) + ", " + fmt(s.hi) + "]";
  case SettingKind::integer:
    return "[" + fmt(s.lo) + ", " + fmt(s.hi) + "]" +
           (s.zero_name.empty() ? "" : " or \"" + std::string(s.zero_name) + "\"");
  case SettingKind::boolean:
    return "true, false";
  case SettingKind::choice:
    break;
  }
  std::string out;
  for (std::string_view n : s.names) out += (out.empty() ? "\"" : ", \"") + std::string(n) + "\"";
  return out;
}

/// docs/settings.md as the table gives it.
std::string settings_doc() {
  std::ostringstream os;
  os << "# Settings\n\n"
        "The scalar settings of `[model]` (its top level), `[imaging]`, `[imaging.tilt]`, `[reconstruction]` and\n"
        "`[prior]`, by the path a sweep axis names them with (docs/sweep.md). Ranges are inclusive; a value\n"
        "outside its range, of the wrong type or not among the names is an error naming the file, line and path.\n"
        "Recorded settings (\"recorded\", \"column\") show their effective value in `tomosweep expand` and in the\n"
        "corpus even where the file leaves them at the default; \"column\" ones have a column of their own in every\n"
        "corpus job table (docs/corpus.md).\n\n"
        "This file is generated from the table in src/job/settings.cpp: tests/unit/config_test.cpp fails when\n"
        "it is out of date, and `TOMOSWEEP_WRITE_SETTINGS_DOC=1 build/tests/config_test` rewrites it.\n\n"
        "| path | kind | unit | range or names | default | recorded | what |\n"
        "|---|---|---|---|---|---|---|\n";
  const JobConfig defaults;
  for (const Setting& s : settings()) {
    const SettingInfo& i = *s.info;
    os << "| " << s.path << " | " << kind_name(i.kind) << " | " << i.unit << " | " << range_text(i) << " | "
       << value_text(i, s.value(defaults)) << " | "
       << (i.corpus_column >= 0 ? "column"
           : i.recorded         ? "recorded"
                                : "")
       << " | " << i.doc << " |\n";
  }
  os << "\n`[prior.tilt]` (the tilt scheme of the prior's ideal series) takes the keys of `[imaging.tilt]` but\n"
        "`angle_error_deg`, the acquisition residuals, `motion_sd_A`, `dose_weighting` and `doses_e_per_A2` (refused:\n"
        "an ideal series has none of them), with other defaults:";
  const TiltParams prior = PriorParams{}.tilt, imaging;
  std::string sep = " ";
  for (const Field<TiltParams>& f : tilt_fields())
    if (f.get(prior) != f.get(imaging)) {
      os << sep << "`" << f.info.key << " = " << value_text(f.info, f.get(prior)) << "`";
      sep = ", ";
    }
  os << " (not recorded).\n\n"
        "Not in this table: the tilt lists `angles_deg` and `doses_e_per_A2` (docs/imaging.md), `[model]`'s\n"
        "sub-tables and layers (docs/model.md), and `[run]` (README.md, docs/sweep.md). Their\n"
        "scalars can be swept by path too, except `[run]`'s.\n";
  return os.str();
}

} // namespace

TEST(settings, every_setting_reads_through_the_table) {
  for (const Setting& s : settings()) {
    const SettingInfo& i = *s.info;
    Problems problems;
    JobConfig c;
    double want = 0;
    switch (i.kind) {
    case SettingKind::number:
      want = i.lo + (i.hi - i.lo) / 2;
      c = read_with(s.path, want, problems);
      break;
    case SettingKind::integer:
      want = i.hi;
      c = read_with(s.path, static_cast<int64_t>(want), problems);
      break;
    case SettingKind::boolean:
      want = s.value(JobConfig{}) == 0;
      c = read_with(s.path, want != 0, problems);
      break;
    case SettingKind::choice:
      want = static_cast<double>(i.names.size() - 1);
      c = read_with(s.path, std::string(i.names.back()), problems);
      break;
    }
    if (s.path == "imaging.tilt.order" || s.path == "imaging.tilt.dose_weighting") {
      EXPECT_EQ(problems.lines.size(), 1u) << s.path; // "list" needs a list: that check is by hand
    } else {
      EXPECT_TRUE(problems.empty()) << s.path << ": " << problems.lines.front();
    }
    EXPECT_EQ(s.value(c), want) << s.path;
  }
}

TEST(settings, ctf_slabs_takes_auto_or_an_integer) {
  Problems problems;
  EXPECT_EQ(read_with("imaging.ctf_slabs", std::string("auto"), problems).imaging.ctf_slabs, 0);
  EXPECT_EQ(read_with("imaging.ctf_slabs", int64_t{3}, problems).imaging.ctf_slabs, 3);
  EXPECT_TRUE(problems.empty());
  read_with("imaging.ctf_slabs", std::string("many"), problems);
  read_with("imaging.ctf_slabs", int64_t{0}, problems);
  EXPECT_EQ(problems.lines, (std::vector<std::string>{
                                "job.toml: imaging.ctf_slabs: expected an integer in [1, 1000] or 'auto', got 'many'",
                                "job.toml: imaging.ctf_slabs: expected an integer in [1, 1000], got 0"}));
}

TEST(settings, out_of_range_names_the_range) {
  Problems problems;
  read_with("imaging.defocus_um", 101.0, problems);
  read_with("imaging.tilt.group_size", int64_t{0}, problems);
  read_with("reconstruction.method", std::string("art"), problems);
  read_with("model.pixel_size_A", 0.05, problems);
  read_with("imaging.half_series", 1.0, problems);
  EXPECT_EQ(problems.lines, (std::vector<std::string>{
                                "job.toml: imaging.defocus_um: expected a number in [-50, 100], got 101",
                                "job.toml: imaging.tilt.group_size: expected an integer in [1, 1000], got 0",
                                "job.toml: reconstruction.method: expected one of 'wbp', 'sirt', got 'art'",
                                "job.toml: model.pixel_size_A: expected a number in [0.1, 1000], got 0.05",
                                "job.toml: imaging.half_series: expected a boolean, got a number",
                            }));
}

TEST(settings, prior_tilt_reads_over_its_own_defaults) {
  Problems problems;
  const JobConfig c = read_with("prior.tilt.step_deg", 2.0, problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(c.prior.tilt.step_deg, 2);
  EXPECT_EQ(c.prior.tilt.min_deg, -89);
  EXPECT_EQ(c.prior.tilt.order, TiltOrder::unidirectional);
  EXPECT_EQ(c.imaging.tilt.step_deg, 2);
  EXPECT_EQ(c.imaging.tilt.order, TiltOrder::dose_symmetric);
}

TEST(settings, prior_tilt_refuses_what_an_ideal_series_ignores) {
  for (const char* key : {"angle_error_deg", "shift_sd_A", "motion_sd_A", "axis_offset_deg"}) {
    Problems problems;
    read_with(std::string("prior.tilt.") + key, 1.0, problems);
    ASSERT_EQ(problems.lines.size(), 1u) << key;
    EXPECT_EQ(problems.lines[0], std::string("job.toml: prior.tilt.") + key +
                               ": the prior's tilt series is ideal (no angle errors, acquisition residuals, motion or "
                               "dose): set it in [imaging.tilt]");
  }
  Problems problems;
  read_with("prior.tilt.dose_weighting", std::string("cos"), problems);
  ASSERT_EQ(problems.lines.size(), 1u);
  EXPECT_NE(problems.lines[0].find("prior.tilt.dose_weighting: the prior's tilt series is ideal"), std::string::npos);
}

TEST(settings, recorded_settings_and_corpus_columns) {
  // These lists are part of the corpus format and of expand's output: change them only on purpose.
  std::vector<std::string> recorded;
  for (const Setting& s : settings())
    if (known_setting(JobConfig{}, s.path)) recorded.push_back(s.path);
  EXPECT_EQ(recorded,
            (std::vector<std::string>{
                "model.pixel_size_A", "imaging.voltage_kV", "imaging.cs_mm", "imaging.amplitude_contrast",
                "imaging.envelope_B_A2", "imaging.defocus_um", "imaging.phase_shift_deg", "imaging.dose_e_per_A2",
                "imaging.dqe", "imaging.imfp_A", "imaging.ctf_slabs", "imaging.tilt.min_deg", "imaging.tilt.max_deg",
                "imaging.tilt.step_deg", "imaging.tilt.axis_azimuth_deg", "imaging.tilt.angle_error_deg",
                "reconstruction.cutoff", "reconstruction.falloff"}));
  EXPECT_EQ(corpus_columns(), (std::vector<std::string>{
                                  "model.pixel_size_A", "imaging.defocus_um", "imaging.dose_e_per_A2",
                                  "imaging.voltage_kV", "imaging.phase_shift_deg", "imaging.tilt.min_deg",
                                  "imaging.tilt.max_deg", "imaging.tilt.step_deg", "imaging.tilt.axis_azimuth_deg"}));
  EXPECT_EQ(find_setting("imaging.ctf_slabs")->value(JobConfig{}), 0);                     // "auto" as written
  EXPECT_EQ(*known_setting(JobConfig{}, "imaging.ctf_slabs"), job_ctf_slabs(JobConfig{})); // as the job uses it
  EXPECT_FALSE(known_setting(JobConfig{}, "prior.tilt.min_deg"));
  EXPECT_EQ(*known_setting(JobConfig{}, "imaging.tilt.step_deg"), 2);
}

TEST(settings, enum_names_print_back) {
  EXPECT_EQ(name_of(TiltOrder::dose_symmetric), "dose-symmetric");
  EXPECT_EQ(name_of(FirstBranch::positive), "positive");
  EXPECT_EQ(name_of(DoseWeighting::cos), "cos");
  EXPECT_EQ(name_of(DetectorMtf::sinc), "sinc");
  EXPECT_EQ(name_of(NoiseOrder::cts), "cts");
  EXPECT_EQ(name_of(ReconMethod::sirt), "sirt");
}

TEST(settings, docs_list_every_setting) {
  const std::filesystem::path doc = std::filesystem::path(TOMOSWEEP_SOURCE_DIR) / "docs/settings.md";
  const std::string want = settings_doc();
  if (std::getenv("TOMOSWEEP_WRITE_SETTINGS_DOC")) {
    std::ofstream(doc, std::ios::binary) << want;
    return;
  }
  std::ifstream in(doc, std::ios::binary);
  ASSERT_TRUE(in) << doc;
  std::ostringstream have;
  have << in.rdbuf();
  EXPECT_EQ(have.str(), want) << "docs/settings.md is out of date: run TOMOSWEEP_WRITE_SETTINGS_DOC=1 config_test";
}

TEST(config, settings_renamed_to_physical_units_name_the_new_setting) {
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[imaging]\nenvelope_sigma = 0.9\n"),
            "job.toml:5:18: imaging.envelope_sigma: renamed: use envelope_B_A2, the envelope's B-factor in A^2 "
            "(E(k) = exp(-B k^2 / 4); sigma s of Nyquist at pixel p is B = 16 p^2 / s^2)\n");
  EXPECT_EQ(problems_of(std::string(kMinimal) + "[imaging]\ndamage_noise_rad_per_e_A2 = 2e-4\n"),
            "job.toml:5:29: imaging.damage_noise_rad_per_e_A2: renamed: use damage_noise_rad_A_per_e_A2, a density "
            "in rad A per e/A^2 (the old value times the pixel size in A)\n");
  Problems problems;
  const JobConfig c = read_job_config(
      parse_toml(std::string(kMinimal) + "[imaging]\nenvelope_B_A2 = 500\ndamage_noise_rad_A_per_e_A2 = 0.01\n",
                 "job.toml"),
      "job.toml", problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_DOUBLE_EQ(c.imaging.envelope_B_A2, 500);
  EXPECT_DOUBLE_EQ(c.imaging.damage_noise_rad_A_per_e_A2, 0.01);
  // Defaults: a field-emission gun's envelope, and the damage noise of 2e-4 rad per pixel at 10 A per pixel.
  EXPECT_DOUBLE_EQ(JobConfig{}.imaging.envelope_B_A2, 150);
  EXPECT_DOUBLE_EQ(JobConfig{}.imaging.damage_noise_rad_A_per_e_A2, 2e-3);
  EXPECT_EQ(JobConfig{}.model.potential, PotentialMode::form_factor);
}

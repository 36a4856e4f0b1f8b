// Configuration loading: exact error messages with file:line:col and key paths.
#include "io/config/config_file.hpp"
#include "io/config/toml_reader.hpp"

#include <gtest/gtest.h>

using namespace tomosweep;

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
  try {
    parse_toml("[model]\nbox_A = [1, 2\n", "bad.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bad.toml:", 0), 0u) << e.what();
  }
}

TEST(config, missing_file_is_an_io_error) {
  try {
    load_job_config("/nonexistent/job.toml");
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/job.toml: No such file or directory");
  }
}

TEST(config, missing_model_table) {
  EXPECT_EQ(problems_of("[run]\nseed = 3\n"), "job.toml: model: missing [model] table\n");
}

TEST(config, problems_throw_one_config_error_with_one_line_each) {
  Problems p;
  p.add("a.toml:1:1: first");
  p.add("a.toml:2:1: second");
  try {
    p.throw_if_any();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "a.toml:1:1: first\na.toml:2:1: second");
  }
}

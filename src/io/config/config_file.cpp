#include "io/config/config_file.hpp"

#include "io/config/config_imaging.hpp"
#include "io/config/config_model.hpp"
#include "io/config/config_settings.hpp"

#include <algorithm>

namespace tomosweep {
namespace {

const std::vector<std::string> kOutputs{"tomogram",  "prior", "atlas",       "instances",
                                        "particles", "model", "tilt_series", "prior_series"};

RunParams read_run(TableReader& t) {
  RunParams r;
  r.name = t.string("name", r.name);
  r.seed = static_cast<std::uint64_t>(t.integer_in("seed", static_cast<long long>(r.seed), 0, (1LL << 62)));
  r.replicates = static_cast<int>(t.integer_in("replicates", r.replicates, 1, 100000));
  for (double v : t.numbers("test_replicates", {})) {
    if (v != static_cast<int>(v) || v < 0 || v >= r.replicates)
      t.problem("test_replicates", "expected replicate numbers in [0, " + std::to_string(r.replicates - 1) + "]");
    else
      r.test_replicates.push_back(static_cast<int>(v));
  }
  r.outputs = t.strings("outputs", r.outputs);
  for (const std::string& o : r.outputs)
    if (std::find(kOutputs.begin(), kOutputs.end(), o) == kOutputs.end())
      t.problem("outputs", "unknown output '" + o +
                               "' (expected tomogram, prior, atlas, instances, particles, model, tilt_series, "
                               "prior_series)");
  t.finish();
  return r;
}

PriorParams read_prior(TableReader& t) {
  PriorParams p;
  read_fields(t, prior_fields(), p);
  if (auto tilt = t.table("tilt")) {
    p.tilt = read_tilt(*tilt, p.tilt);
    // The prior's series is ideal (simulate_ideal_series): no angle errors, residuals, motion or dose. A key that
    // would be ignored is refused instead.
    for (const char* key : {"angle_error_deg", "shift_sd_A", "rotation_sd_deg", "magnification_sd",
                             "defocus_jitter_um", "axis_offset_deg", "motion_sd_A", "dose_weighting", "doses_e_per_A2"})
      if (tilt->has(key))
        tilt->problem(key, "the prior's tilt series is ideal (no angle errors, acquisition residuals, motion or "
                           "dose): set it in [imaging.tilt]");
  }
  t.finish();
  return p;
}

} // namespace

JobConfig read_job_config(const toml::table& root, const std::string& file, Problems& problems) {
  JobConfig c;
  TableReader top(root, file, "", problems);
  if (auto t = top.table("run")) c.run = read_run(*t);
  if (auto t = top.table("model"))
    c.model = read_model(*t);
  else
    top.problem("model", "missing [model] table");
  if (auto t = top.table("imaging")) c.imaging = read_imaging(*t);
  if (auto t = top.table("reconstruction")) c.reconstruction = read_reconstruction(*t);
  if (auto t = top.table("prior")) c.prior = read_prior(*t);
  top.table("sweep"); // read by sweep/expand.cpp; marked as known here
  top.finish();
  return c;
}

JobConfig load_job_config(const std::string& path) {
  const toml::table root = parse_toml_file(path);
  Problems problems;
  JobConfig c = read_job_config(root, path, problems);
  problems.throw_if_any();
  return c;
}

} // namespace tomosweep

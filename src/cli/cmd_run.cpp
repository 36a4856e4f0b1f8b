// tomosweep run: a sweep on every rank into one corpus.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "sweep/run.hpp"

#include <cstdio>

namespace tomosweep::cli {

int cmd_run(int argc, char** argv) {
  po::options_description named("options");
  RunOptions o;
  named.add_options()("sweep", po::value(&o.sweep_path)->required(), "sweep file (TOML)")(
      "output,o", po::value(&o.output)->default_value("corpus.h5"), "corpus to write (HDF5)")(
      "work", po::value(&o.work_dir), "folder for staged jobs, shared by all ranks (default OUTPUT.work)")(
      "resume", po::bool_switch(&o.resume), "run only the jobs not yet staged, then gather")(
      "force", po::bool_switch(&o.force), "overwrite an existing corpus; without --resume, discard staged jobs")(
      "keep-work", po::bool_switch(&o.keep_work),
      "keep the staged jobs after gathering")("log-interval", po::value(&o.log_interval_s)->default_value(10.0),
                                              "seconds between progress lines off a terminal");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "run SWEEP.toml [-o corpus.h5] [--work DIR] [--resume] [--force]", named, pos, vm))
    return 0;
  const RunSummary s = run_sweep(o, pipeline_job_factory());
  if (s.root && s.complete)
    std::fprintf(stderr, "tomosweep: %s is complete (%zu jobs of this sweep); nothing to do\n", o.output.c_str(),
                 s.jobs);
  else if (s.root)
    std::fprintf(stderr,
                 "tomosweep: wrote %s: %zu jobs (%zu failed), %zu run now on %d rank%s in %.1f s, gathered in %.1f s "
                 "(%.2f s after the last job)\n",
                 o.output.c_str(), s.jobs, s.failed, s.ran, s.ranks, s.ranks == 1 ? "" : "s", s.run_s, s.gather_s,
                 s.tail_s);
  return 0;
}

} // namespace tomosweep::cli

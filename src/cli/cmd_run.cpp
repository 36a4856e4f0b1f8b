// tomosweep run: a sweep on every rank into one corpus.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "sweep/run.hpp"

#include <cstdio>

namespace tomosweep::cli {

int cmd_run(int argc, char** argv) {
  po::options_description named("options");
  RunOptions o;
  std::string memory;
  named.add_options()("sweep", po::value(&o.sweep_path)->required(), "sweep file (TOML)")(
      "output,o", po::value(&o.output)->default_value("corpus.h5"), "corpus to write (HDF5; the jobs' wall times go to OUTPUT.timings.tsv)")(
      "work", po::value(&o.work_dir), "folder for staged jobs, shared by all ranks (default OUTPUT.work)")(
      "resume", po::bool_switch(&o.resume), "run only the jobs not yet staged, then gather")(
      "force", po::bool_switch(&o.force), "overwrite an existing corpus; without --resume, discard staged jobs")(
      "memory-per-rank", po::value(&memory),
      "memory a rank may use, e.g. 180M or 4G (default: the node's memory / the ranks on it); a larger job runs on "
      "a group of ranks")(
      "keep-work", po::bool_switch(&o.keep_work),
      "keep the staged jobs after gathering")("log-interval", po::value(&o.log_interval_s)->default_value(10.0),
                                              "seconds between progress lines off a terminal");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "run SWEEP.toml [-o corpus.h5] [--work DIR] [--resume] [--force]", named, pos, vm))
    return 0;
  if (!memory.empty()) o.memory_per_rank = parse_memory_size("--memory-per-rank", memory);
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
  if (s.root && s.group_jobs > 0)
    std::fprintf(stderr, "tomosweep: %zu job%s ran on rank groups of up to %d ranks (a budget of %.0f MB per rank)\n",
                 s.group_jobs, s.group_jobs == 1 ? "" : "s", s.largest_group, s.memory_per_rank / 1e6);
  return 0;
}

} // namespace tomosweep::cli

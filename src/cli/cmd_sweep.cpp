// Subcommands of sweeps and corpora: run (MPI), expand, inspect, export.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/job_files.hpp"
#include "io/files/mrc.hpp"
#include "io/files/particles_file.hpp"
#include "io/sweep_file.hpp"
#include "sweep/job_table.hpp"
#include "sweep/run.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace tomosweep::cli {
namespace fs = std::filesystem;

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
  if (s.root)
    std::fprintf(stderr,
                 "tomosweep: wrote %s: %zu jobs (%zu failed), %zu run now on %d rank%s in %.1f s, gathered in %.1f s\n",
                 o.output.c_str(), s.jobs, s.failed, s.ran, s.ranks, s.ranks == 1 ? "" : "s", s.run_s, s.gather_s);
  return 0;
}

int cmd_expand(int argc, char** argv) {
  po::options_description named("options");
  std::string sweep;
  bool json = false;
  named.add_options()("sweep", po::value(&sweep)->required(), "sweep file (TOML)")("json", po::bool_switch(&json),
                                                                                   "print the job table as JSON");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "expand SWEEP.toml [--json]", named, pos, vm)) return 0;
  const Sweep s = load_sweep(sweep);
  std::cout << (json ? job_table_json(s) : job_table_text(s));
  return 0;
}

int cmd_inspect(int argc, char** argv) {
  po::options_description named("options");
  std::string corpus;
  named.add_options()("corpus", po::value(&corpus)->required(), "corpus (HDF5)");
  po::positional_options_description pos;
  pos.add("corpus", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "inspect corpus.h5", named, pos, vm)) return 0;
  if (!fs::exists(corpus)) fail_io(corpus, ": no such file");
  std::cout << corpus_summary(corpus);
  return 0;
}

int cmd_export(int argc, char** argv) {
  po::options_description named("options");
  std::string corpus, to;
  long long job = -1;
  named.add_options()("corpus", po::value(&corpus)->required(), "corpus (HDF5)")(
      "job", po::value(&job)->required(), "job id")("to", po::value(&to), "output folder (default job-N)");
  po::positional_options_description pos;
  pos.add("corpus", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "export corpus.h5 --job N [--to DIR]", named, pos, vm)) return 0;
  if (job < 0) fail("--job must be >= 0, got ", job);
  if (!fs::exists(corpus)) fail_io(corpus, ": no such file");
  if (to.empty()) to = "job-" + std::to_string(job);
  const CorpusJob cj = read_corpus_job(corpus, static_cast<std::uint64_t>(job));
  if (cj.status != "ok") fail(corpus, ": job ", job, " ", cj.status, ": ", cj.error);
  write_job_files(to, cj.result, "job-" + std::to_string(job));
  std::fprintf(stderr, "tomosweep: exported job %lld to %s\n", job, to.c_str());
  return 0;
}

} // namespace tomosweep::cli

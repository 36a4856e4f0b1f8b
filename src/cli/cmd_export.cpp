// tomosweep export: jobs of a corpus as MRC files (as simulate writes them), a copick project or a RELION-5
// tomography set.
#include "cli/commands.hpp"
#include "cli/isolate.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "io/corpus/corpus.hpp"
#include "io/corpus/corpus_overview.hpp"
#include "io/files/exports.hpp"
#include "io/files/job_files.hpp"
#include "sweep/sweep.hpp"

#include <cstdio>
#include <filesystem>

namespace tomosweep::cli {
namespace {

struct ExportArgs {
  std::string corpus, to, job = "", format = "mrc", user = "tomosweep", session = "0";
};

/// The job ids named by --job: one id, or every ok job for "all".
std::vector<std::uint64_t> chosen_jobs(const ExportArgs& a, const CorpusOverview& o) {
  std::vector<std::uint64_t> ids;
  if (a.job == "all") {
    for (const CorpusJobRow& j : o.jobs)
      if (j.status == "ok") ids.push_back(j.job_id);
    if (ids.empty()) fail(a.corpus, ": no job is ok, nothing to export");
    return ids;
  }
  std::size_t end = 0;
  long long id = -1;
  try {
    id = std::stoll(a.job, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  if (end != a.job.size() || id < 0) fail("--job must be a job id >= 0 or 'all', got '", a.job, "'");
  return {static_cast<std::uint64_t>(id)};
}

std::string run_name(std::uint64_t id) { return "job-" + std::to_string(id); }

/// CPU time (s) reading a corpus's metadata may take: well under a second even for 100 000 jobs.
constexpr double kMetadataCpuSeconds = 60;

/// CPU time (s) exporting one job may take: the metadata's, and 1 s per 10 MB of its arrays (about 16 bytes per
/// voxel in all), at least 10 times what reading, converting and writing them takes.
double job_cpu_seconds(const CorpusOverview& o, std::uint64_t id) {
  for (const CorpusJobRow& j : o.jobs)
    if (j.job_id == id)
      return kMetadataCpuSeconds + double(j.size_xyz[0]) * double(j.size_xyz[1]) * double(j.size_xyz[2]) * 16 / 1e7;
  return kMetadataCpuSeconds;
}

/// The export itself, in a child process (run_isolated): a damaged corpus can crash libhdf5.
int export_jobs(ExportArgs a) {
  allow_cpu_seconds(kMetadataCpuSeconds);
  const CorpusOverview o = read_corpus_overview(a.corpus);
  const std::vector<std::uint64_t> ids = chosen_jobs(a, o);
  if (a.to.empty()) a.to = a.job == "all" ? "export-" + a.format : run_name(ids[0]);

  // The settings of each job (voltage, Cs, astigmatism, reconstruction) come from the sweep text the corpus holds.
  Sweep sweep;
  if (a.format != "mrc") {
    try {
      sweep = parse_sweep(o.sweep_text, o.sweep_file);
    } catch (const ConfigError& e) {
      fail(a.corpus, ": cannot re-read the sweep text this corpus was run from: ", e.what());
    }
  }
  std::optional<CopickExport> copick;
  std::optional<RelionExport> relion;
  for (std::uint64_t id : ids) {
    allow_cpu_seconds(job_cpu_seconds(o, id));
    const CorpusJob cj = read_corpus_job(a.corpus, id);
    if (cj.status != "ok") fail(a.corpus, ": job ", id, " ", cj.status, ": ", cj.error);
    if (a.format == "mrc") {
      write_job_files(ids.size() > 1 ? a.to + "/" + run_name(id) : a.to, cj.result, run_name(id));
      continue;
    }
    if (id >= sweep.jobs.size()) fail(a.corpus, ": job ", id, " is not in the corpus's sweep");
    const JobConfig& config = sweep.jobs[id].config;
    if (a.format == "copick") {
      if (!copick) {
        std::vector<std::string> unread;
        auto objects = export_objects(cj.result.classes, config, sweep_folder(o.sweep_file), &unread);
        for (const std::string& s : unread)
          std::fprintf(stderr, "tomosweep: %s: structure not readable here, its copick object has no radius\n",
                       s.c_str());
        copick.emplace(a.to, objects,
                       CopickExportOptions{o.name, "tomosweep corpus " + a.corpus + " (" + o.sweep_file + ")", a.user,
                                           a.session});
      }
      copick->add(run_name(id), cj.result, config);
    } else {
      if (!relion) relion.emplace(a.to);
      if (!relion->add(run_name(id), cj.result, config))
        std::fprintf(stderr, "tomosweep: job %llu has no tilt images (run.outputs lacks \"tilt_series\"): its tilt-series "
                             "STAR has no _rlnMicrographName\n", static_cast<unsigned long long>(id));
    }
  }
  if (copick) copick->finish();
  if (relion) relion->finish();
  std::fprintf(stderr, "tomosweep: exported %zu job%s to %s (%s)\n", ids.size(), ids.size() == 1 ? "" : "s",
               a.to.c_str(), a.format.c_str());
  return 0;
}

} // namespace

int cmd_export(int argc, char** argv) {
  po::options_description named("options");
  ExportArgs a;
  named.add_options()("corpus", po::value(&a.corpus)->required(), "corpus (HDF5)")(
      "job", po::value(&a.job)->required(), "job id, or 'all' (every ok job)")(
      "to", po::value(&a.to), "output folder (default job-N, or export-FORMAT for --job all)")(
      "format", po::value(&a.format), "mrc (default): MRC + .tlt + STAR/JSON per job; copick: a copick project; "
                                      "relion: a RELION-5 tomography set")(
      "user", po::value(&a.user), "copick user id of the picks and segmentations (default tomosweep)")(
      "session", po::value(&a.session), "copick session id (default 0)");
  po::positional_options_description pos;
  pos.add("corpus", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "export corpus.h5 --job N|all [--to DIR] [--format mrc|copick|relion]", named, pos,
                     vm))
    return 0;
  if (a.format != "mrc" && a.format != "copick" && a.format != "relion")
    fail("--format must be mrc, copick or relion, got '", a.format, "'");
  if (!std::filesystem::exists(a.corpus)) fail_io(a.corpus, ": no such file");
  return run_isolated(a.corpus, [&] { return export_jobs(a); });
}

} // namespace tomosweep::cli

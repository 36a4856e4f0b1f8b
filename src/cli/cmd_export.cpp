// tomosweep export: one job of a corpus as the files simulate writes.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/job_files.hpp"

#include <cstdio>
#include <filesystem>

namespace tomosweep::cli {

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
  if (!std::filesystem::exists(corpus)) fail_io(corpus, ": no such file");
  if (to.empty()) to = "job-" + std::to_string(job);
  const CorpusJob cj = read_corpus_job(corpus, static_cast<std::uint64_t>(job));
  if (cj.status != "ok") fail(corpus, ": job ", job, " ", cj.status, ": ", cj.error);
  write_job_files(to, cj.result, "job-" + std::to_string(job));
  std::fprintf(stderr, "tomosweep: exported job %lld to %s\n", job, to.c_str());
  return 0;
}

} // namespace tomosweep::cli

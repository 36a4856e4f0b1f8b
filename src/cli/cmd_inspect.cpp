// tomosweep inspect: a corpus's summary, as text or JSON.
#include "cli/commands.hpp"
#include "cli/isolate.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "io/corpus/corpus_overview.hpp"

#include <filesystem>
#include <iostream>

namespace tomosweep::cli {

/// CPU time inspect may spend reading a corpus's metadata (a 100 000-job table takes well under a second).
constexpr int kInspectCpuSeconds = 60;

int cmd_inspect(int argc, char** argv) {
  po::options_description named("options");
  std::string corpus;
  named.add_options()("corpus", po::value(&corpus)->required(), "corpus (HDF5)")(
      "json", "print the summary as one JSON object (provenance, classes, per-condition counts, every job)");
  po::positional_options_description pos;
  pos.add("corpus", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "inspect corpus.h5 [--json]", named, pos, vm)) return 0;
  if (!std::filesystem::exists(corpus)) fail_io(corpus, ": no such file");
  const bool json = vm.count("json") > 0;
  return run_isolated(corpus, [&] {
    allow_cpu_seconds(kInspectCpuSeconds);
    const CorpusOverview o = read_corpus_overview(corpus);
    std::cout << (json ? corpus_overview_json(o) : corpus_overview_text(o));
    return 0;
  });
}

} // namespace tomosweep::cli

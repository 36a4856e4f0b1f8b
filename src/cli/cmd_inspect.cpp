// tomosweep inspect: a corpus's summary.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "io/corpus/corpus.hpp"

#include <filesystem>
#include <iostream>

namespace tomosweep::cli {

int cmd_inspect(int argc, char** argv) {
  po::options_description named("options");
  std::string corpus;
  named.add_options()("corpus", po::value(&corpus)->required(), "corpus (HDF5)");
  po::positional_options_description pos;
  pos.add("corpus", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "inspect corpus.h5", named, pos, vm)) return 0;
  if (!std::filesystem::exists(corpus)) fail_io(corpus, ": no such file");
  std::cout << corpus_summary(corpus);
  return 0;
}

} // namespace tomosweep::cli

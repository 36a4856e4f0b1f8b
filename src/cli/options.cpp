#include "cli/options.hpp"

#include "core/errors.hpp"

#include <iostream>

namespace tomosweep::cli {

bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& named,
                   const po::positional_options_description& positional, po::variables_map& vm) {
  named.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(argc, argv).options(named).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: tomosweep " << usage << "\n\n" << named << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    fail(argv[0], ": ", e.what(), " (usage: tomosweep ", usage, ")");
  }
  return true;
}

} // namespace tomosweep::cli

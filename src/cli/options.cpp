#include "cli/options.hpp"

#include "core/errors.hpp"

#include <cctype>
#include <cmath>
#include <iostream>
#include <string>

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

double parse_memory_size(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b') && unit.size() <= 2) unit.pop_back();
  double scale = 1;
  if (unit.size() == 1) {
    const std::string units = "KMGT";
    const auto k = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (k != std::string::npos) {
      scale = std::pow(1024.0, static_cast<double>(k + 1));
      unit.clear();
    }
  }
  if (used == 0 || !unit.empty() || !(v > 0) || !std::isfinite(v * scale))
    throw Error(option + ": expected a memory size such as 180M or 4G, got '" + text + "'");
  return v * scale;
}

} // namespace tomosweep::cli

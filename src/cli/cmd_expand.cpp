// tomosweep expand: a sweep's job table, nothing run.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "sweep/job_table.hpp"

#include <iostream>

namespace tomosweep::cli {

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

} // namespace tomosweep::cli

// tomosweep structure: how a PDB/mmCIF file (or a synthetic source) is read.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "io/structures/describe.hpp"
#include "io/structures/structure_file.hpp"
#include "model/synthetic.hpp"

#include <iostream>

namespace tomosweep::cli {

int cmd_structure(int argc, char** argv) {
  po::options_description named("options");
  std::string file;
  double pixel_A = 0;
  named.add_options()("file", po::value(&file)->required(), "PDB or mmCIF file, optionally .gz")(
      "pixel-size", po::value(&pixel_A)->default_value(0), "also report the size in voxels at this pixel size (A)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "structure FILE [--pixel-size A]", named, pos, vm)) return 0;
  if (is_synthetic(file)) {
    std::cout << describe_structure(make_synthetic(file), pixel_A);
    return 0;
  }
  StructureReadInfo info;
  const AtomicStructure s = read_structure(file, &info);
  std::cout << describe_structure(s, pixel_A);
  for (const std::string& note : info.notes) std::cout << "  note          " << note << "\n";
  return 0;
}

} // namespace tomosweep::cli

// Fuzz target: PDB / mmCIF / mmJSON bytes, gzipped or not, through read_structure as io/structures reads
// a file source of a sweep (and `tomosweep structure` shows it), as deposited and as biological assembly 1.
#include "fuzz_util.hpp"
#include "io/structures/describe.hpp"
#include "io/structures/structure_file.hpp"

#include <cstdint>

using namespace tomosweep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_input("input.pdb", data, size);
  try {
    StructureReadInfo info;
    const AtomicStructure s = read_structure(path, &info);
    (void)describe_structure(s, 10.0);
  } catch (const Error& e) {
    fuzz::check_one_line(e);
    return 0;
  }
  try {
    (void)read_structure(path, StructureReadOptions{.assembly = "1"});
  } catch (const Error& e) {
    fuzz::check_one_line(e);
  }
  return 0;
}

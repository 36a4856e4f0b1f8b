// Fuzz target: MRC bytes through read_mrc_header and read_mrc (io/files/mrc), as export's and the tests'
// readers use them.
#include "fuzz_util.hpp"
#include "io/files/mrc.hpp"

#include <cstdint>

using namespace tomosweep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_input("input.mrc", data, size);
  try {
    const MrcHeader h = read_mrc_header(path);
    const Volume<float> v = read_mrc(path);
    if (v.nx != h.nx || v.ny != h.ny || v.nz != h.nz) std::abort();
  } catch (const Error& e) {
    fuzz::check_one_line(e);
  }
  return 0;
}

// Writes one file of every MRC kind tomosweep writes into the folder given as argv[1]; the ctest
// mrc_validate_test.sh then runs Debian's `mrcfile-validate` (python3-mrcfile) on them.
#include "io/files/mrc.hpp"

#include <cmath>
#include <cstdio>
#include <string>

using namespace tomosweep;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mrc_validate_writer DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  try {
    Volume<float> vol(17, 12, 5, 10.0);
    for (std::size_t i = 0; i < vol.size(); ++i) vol.data[i] = static_cast<float>(std::sin(0.37 * i) * 3.0 + 0.1);
    write_mrc(dir + "/tomogram.mrc", vol);
    write_mrc(dir + "/constant.mrc", Volume<float>(3, 3, 3, 4.0, 2.0f));

    Volume<std::uint8_t> atlas(17, 12, 5, 10.0);
    for (std::size_t i = 0; i < atlas.size(); ++i) atlas.data[i] = static_cast<std::uint8_t>(i % 7);
    write_mrc(dir + "/atlas.mrc", atlas);
    Volume<std::uint8_t> wide = atlas;
    wide.data[3] = 250; // labels above 127 switch to mode 6
    write_mrc(dir + "/atlas_mode6.mrc", wide);

    Volume<std::uint32_t> inst(17, 12, 5, 10.0);
    for (std::size_t i = 0; i < inst.size(); ++i) inst.data[i] = static_cast<std::uint32_t>(i / 9);
    write_mrc(dir + "/instances.mrc", inst);

    Volume<float> series(16, 16, 9, 10.0);
    for (std::size_t i = 0; i < series.size(); ++i) series.data[i] = static_cast<float>((i * 7919) % 101);
    write_mrc_stack(dir + "/tilt_series.mrc", series);
    Volume<float> single(16, 16, 1, 10.0, 1.0f);
    single.data[5] = 3.0f;
    write_mrc_stack(dir + "/micrograph.mrc", single);
    write_tilt_angles(dir + "/tilt_series.tlt", {-4, -2, 0, 2, 4, 6, 8, 10, 12});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mrc_validate_writer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

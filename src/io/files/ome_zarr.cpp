#include "io/files/ome_zarr.hpp"

#include "core/errors.hpp"
#include "io/files/atomic_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <type_traits>
#include <vector>

namespace tomosweep {
namespace {

constexpr int kChunk = 64;

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

template <class T> Volume<T> halve(const Volume<T>& v) {
  Volume<T> h(std::max(1, v.nx / 2), std::max(1, v.ny / 2), std::max(1, v.nz / 2), 2 * v.voxel_A);
  for (int z = 0; z < h.nz; ++z)
    for (int y = 0; y < h.ny; ++y)
      for (int x = 0; x < h.nx; ++x) {
        if constexpr (std::is_same_v<T, float>) {
          double s = 0;
          for (int k = 0; k < 8; ++k) s += v(2 * x + (k & 1), 2 * y + ((k >> 1) & 1), 2 * z + (k >> 2));
          h(x, y, z) = float(s / 8);
        } else {
          h(x, y, z) = v(2 * x, 2 * y, 2 * z);
        }
      }
  return h;
}

template <class T> void write_array(const std::string& dir, const Volume<T>& v) {
  const char* dtype = std::is_same_v<T, float> ? "<f4" : "|u1";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/.zarray",
                        "{\n  \"zarr_format\": 2,\n  \"shape\": [" + std::to_string(v.nz) + ", " + std::to_string(v.ny) +
                            ", " + std::to_string(v.nx) + "],\n  \"chunks\": [" + std::to_string(kChunk) + ", " +
                            std::to_string(kChunk) + ", " + std::to_string(kChunk) + "],\n  \"dtype\": \"" + dtype +
                            "\",\n  \"compressor\": null,\n  \"fill_value\": 0,\n  \"order\": \"C\",\n"
                            "  \"filters\": null,\n  \"dimension_separator\": \"/\"\n}\n");
  std::vector<T> chunk(std::size_t(kChunk) * kChunk * kChunk);
  for (int cz = 0; cz * kChunk < v.nz; ++cz)
    for (int cy = 0; cy * kChunk < v.ny; ++cy)
      for (int cx = 0; cx * kChunk < v.nx; ++cx) {
        std::fill(chunk.begin(), chunk.end(), T{});
        const int x0 = cx * kChunk, nxc = std::min(kChunk, v.nx - x0);
        for (int z = 0; z < kChunk && cz * kChunk + z < v.nz; ++z)
          for (int y = 0; y < kChunk && cy * kChunk + y < v.ny; ++y)
            std::memcpy(&chunk[(std::size_t(z) * kChunk + y) * kChunk], &v(x0, cy * kChunk + y, cz * kChunk + z),
                        sizeof(T) * std::size_t(nxc));
        const std::string folder = dir + "/" + std::to_string(cz) + "/" + std::to_string(cy);
        std::filesystem::create_directories(folder);
        write_file_atomically(folder + "/" + std::to_string(cx),
                              std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size() * sizeof(T)));
      }
}

template <class T> void write_group(const std::string& dir, const Volume<T>& v, const std::string& name, int levels) {
  if (v.size() == 0) fail("cannot write ", dir, ": empty volume");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/.zgroup", "{\n  \"zarr_format\": 2\n}\n");
  std::string datasets;
  Volume<T> level = v;
  for (int k = 0; k < std::max(1, levels); ++k) {
    if (k > 0) {
      if (level.nx < 2 || level.ny < 2 || level.nz < 2) break;
      level = halve(level);
    }
    write_array(dir + "/" + std::to_string(k), level);
    const double s = level.voxel_A, t = 0.5 * (level.voxel_A - v.voxel_A);
    datasets += std::string(k ? ",\n" : "") + "        {\"path\": \"" + std::to_string(k) +
                "\", \"coordinateTransformations\": [{\"type\": \"scale\", \"scale\": [" + num(s) + ", " + num(s) +
                ", " + num(s) + "]}, {\"type\": \"translation\", \"translation\": [" + num(t) + ", " + num(t) + ", " +
                num(t) + "]}]}";
  }
  std::string attrs = "{\n  \"multiscales\": [\n    {\n      \"version\": \"0.4\",\n      \"name\": \"";
  for (char c : name) attrs += (c == '"' || c == '\\') ? '_' : c;
  attrs += "\",\n      \"axes\": [\n        {\"name\": \"z\", \"type\": \"space\", \"unit\": \"angstrom\"},\n"
           "        {\"name\": \"y\", \"type\": \"space\", \"unit\": \"angstrom\"},\n"
           "        {\"name\": \"x\", \"type\": \"space\", \"unit\": \"angstrom\"}\n      ],\n      \"datasets\": [\n" +
           datasets + "\n      ],\n      \"type\": \"" +
           (std::is_same_v<T, float> ? "local_mean" : "nearest") + "\"\n    }\n  ]\n}\n";
  write_file_atomically(dir + "/.zattrs", attrs);
}

} // namespace

void write_ome_zarr(const std::string& dir, const Volume<float>& v, const std::string& name, int levels) {
  write_group(dir, v, name, levels);
}
void write_ome_zarr(const std::string& dir, const Volume<std::uint8_t>& labels, const std::string& name, int levels) {
  write_group(dir, labels, name, levels);
}

} // namespace tomosweep

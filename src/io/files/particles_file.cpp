#include "io/files/particles_file.hpp"

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "io/files/atomic_file.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

namespace tomosweep {
namespace {

// For a format "%.Nf" or "%.Ng" (N of one or two digits): the std::to_chars form and precision that write the
// same characters as printf (the C locale, exact rounding), several times faster; none for other formats.
std::optional<std::pair<std::chars_format, int>> to_chars_form(const char* f) {
  const std::size_t len = std::strlen(f);
  if ((len != 4 && len != 5) || f[0] != '%' || f[1] != '.' || (f[len - 1] != 'f' && f[len - 1] != 'g'))
    return std::nullopt;
  int precision = 0;
  for (std::size_t i = 2; i + 1 < len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(f[i]))) return std::nullopt;
    precision = precision * 10 + (f[i] - '0');
  }
  return std::pair{f[len - 1] == 'f' ? std::chars_format::fixed : std::chars_format::general, precision};
}

std::string fmt(const char* f, double v) {
  char b[400];
  std::string s;
  const auto form = to_chars_form(f);
  const auto r = form ? std::to_chars(b, b + sizeof b, v, form->first, form->second)
                      : std::to_chars_result{b, std::errc::value_too_large};
  if (r.ec == std::errc{}) {
    s.assign(b, r.ptr);
  } else {
    std::snprintf(b, sizeof b, f, v);
    s = b;
  }
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1); // no "-0.000"
  return s;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else
      o += c;
  }
  return o + "\"";
}

std::string star_word(const std::string& s) {
  if (s.empty()) return "\"\"";
  for (char c : s)
    if (c == ' ' || c == '\t' || c == '"' || c == '\'') return "\"" + s + "\"";
  return s;
}

const ClassInfo* class_of(const std::vector<ClassInfo>& classes, int label) {
  for (const ClassInfo& c : classes)
    if (c.label == label) return &c;
  return nullptr;
}

void check(const std::vector<PlacedParticle>& particles, const std::vector<ClassInfo>& classes,
           const ParticleTableInfo& info) {
  if (!(info.pixel_size_A > 0)) fail("particle table: pixel size ", info.pixel_size_A, " A is not positive");
  for (const PlacedParticle& p : particles)
    if (!class_of(classes, p.label))
      fail("particle table: particle ", p.instance, " has label ", p.label, ", which is no class");
}

Vec3 voxel_position(const PlacedParticle& p, const ParticleTableInfo& info) {
  return {voxel_index(p.position_A.x, info.nx, info.pixel_size_A),
          voxel_index(p.position_A.y, info.ny, info.pixel_size_A),
          voxel_index(p.position_A.z, info.nz, info.pixel_size_A)};
}

} // namespace

std::string format_number(const char* printf_format, double v) { return fmt(printf_format, v); }
std::string json_quote(const std::string& s) { return json_string(s); }
std::string star_quote(const std::string& s) { return star_word(s); }

std::string particles_star(const std::vector<PlacedParticle>& particles, const std::vector<ClassInfo>& classes,
                           const ParticleTableInfo& info) {
  check(particles, classes, info);
  std::string o = "# tomosweep particle table; coordinates in pixels of " + info.tomogram_file + " (" +
                  fmt("%.4f", info.pixel_size_A) + " A/pixel), voxel 0 centre = 0\n";
  o += "# angles: RELION ZYZ (rot, tilt, psi); classes:";
  for (const ClassInfo& c : classes) {
    o += ' ';
    o += std::to_string(c.label);
    o += '=';
    o += c.name;
  }
  o += "\n\ndata_particles\n\nloop_\n";
  const char* labels[] = {"_rlnTomoName",
                          "_rlnMicrographName",
                          "_rlnCoordinateX",
                          "_rlnCoordinateY",
                          "_rlnCoordinateZ",
                          "_rlnAngleRot",
                          "_rlnAngleTilt",
                          "_rlnAnglePsi",
                          "_rlnClassNumber",
                          "_rlnCenteredCoordinateXAngst",
                          "_rlnCenteredCoordinateYAngst",
                          "_rlnCenteredCoordinateZAngst",
                          "_rlnHelicalTubeID",
                          "_tomosweepGroupDirectionX",
                          "_tomosweepGroupDirectionY",
                          "_tomosweepGroupDirectionZ"};
  for (int i = 0; i < 16; ++i) o += std::string(labels[i]) + " #" + std::to_string(i + 1) + "\n";
  for (const PlacedParticle& p : particles) {
    const Vec3 v = voxel_position(p, info);
    const auto e = euler_zyz_deg(p.rotation.transposed());
    o += star_word(info.tomo_name) + " " + star_word(info.tomogram_file) + " " + fmt("%.3f", v.x) + " " +
         fmt("%.3f", v.y) + " " + fmt("%.3f", v.z) + " " + fmt("%.4f", e[0]) + " " + fmt("%.4f", e[1]) + " " +
         fmt("%.4f", e[2]) + " " + std::to_string(p.label) + " " + fmt("%.3f", p.position_A.x) + " " +
         fmt("%.3f", p.position_A.y) + " " + fmt("%.3f", p.position_A.z) + " " + std::to_string(p.group) + " " +
         fmt("%.6f", p.direction.x) + " " + fmt("%.6f", p.direction.y) + " " + fmt("%.6f", p.direction.z) + "\n";
  }
  return o;
}

namespace {

// One copick point: location (Angstrom from voxel 0's centre), transformation_, instance_id; `extra` goes
// before the closing brace.
std::string point_json(const PlacedParticle& p, const ParticleTableInfo& info, const std::string& extra) {
  const Vec3 v = info.pixel_size_A * voxel_position(p, info);
  std::string o = "{\"location\": {\"x\": " + fmt("%.3f", v.x) + ", \"y\": " + fmt("%.3f", v.y) +
                  ", \"z\": " + fmt("%.3f", v.z) + "}, \"transformation_\": [";
  for (int r = 0; r < 4; ++r) {
    o += r ? ", [" : "[";
    for (int c = 0; c < 4; ++c) {
      const double m = r < 3 && c < 3 ? p.rotation(r, c) : (r == c ? 1.0 : 0.0);
      if (c) o += ", ";
      o += fmt("%.9f", m);
    }
    o += "]";
  }
  o += "], \"instance_id\": " + std::to_string(p.instance);
  o += extra;
  o += ", \"score\": 1.0}";
  return o;
}

} // namespace

std::string particles_json(const std::vector<PlacedParticle>& particles, const std::vector<ClassInfo>& classes,
                           const ParticleTableInfo& info) {
  check(particles, classes, info);
  std::string o = "{\n  \"format\": \"tomosweep-particles\",\n  \"version\": 1,\n  \"unit\": \"angstrom\",\n";
  o += "  \"run_name\": " + json_string(info.tomo_name) + ",\n";
  o += "  \"voxel_spacing\": " + fmt("%.6g", info.pixel_size_A) + ",\n";
  o += "  \"shape_xyz\": [" + std::to_string(info.nx) + ", " + std::to_string(info.ny) + ", " +
       std::to_string(info.nz) + "],\n";
  o += "  \"classes\": [";
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (i) o += ", ";
    o += "{\"label\": " + std::to_string(classes[i].label) + ", \"name\": " + json_string(classes[i].name) +
         ", \"source\": " + json_string(classes[i].source) + "}";
  }
  o += "],\n  \"points\": [";
  for (std::size_t k = 0; k < particles.size(); ++k) {
    const PlacedParticle& p = particles[k];
    o += k ? ",\n    " : "\n    ";
    o += point_json(p, info,
                    ", \"label\": " + std::to_string(p.label) +
                        ", \"class\": " + json_string(class_of(classes, p.label)->name) +
                        ", \"group\": " + std::to_string(p.group) + ", \"direction\": [" + fmt("%.6f", p.direction.x) +
                        ", " + fmt("%.6f", p.direction.y) + ", " + fmt("%.6f", p.direction.z) + "]");
  }
  o += particles.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return o;
}

std::vector<std::string> write_copick_picks(const std::string& dir, const std::vector<PlacedParticle>& particles,
                                            const std::vector<ClassInfo>& classes, const ParticleTableInfo& info,
                                            const std::string& user_id, const std::string& session_id) {
  check(particles, classes, info);
  std::vector<std::string> paths;
  for (const ClassInfo& c : classes) {
    std::string o = "{\n  \"pickable_object_name\": " + json_string(c.name) +
                    ",\n  \"user_id\": " + json_string(user_id) + ",\n  \"session_id\": " + json_string(session_id) +
                    ",\n  \"run_name\": " + json_string(info.tomo_name) +
                    ",\n  \"voxel_spacing\": " + fmt("%.6g", info.pixel_size_A) +
                    ",\n  \"unit\": \"angstrom\",\n  \"trust_orientation\": true,\n" + "  \"points\": [";
    bool first = true;
    for (const PlacedParticle& p : particles) {
      if (p.label != c.label) continue;
      o += first ? "\n    " : ",\n    ";
      o += point_json(p, info, "");
      first = false;
    }
    o += first ? "]\n}\n" : "\n  ]\n}\n";
    std::string name = c.name;
    for (char& ch : name)
      if (ch == '/' || ch == '\\' || ch == ' ') ch = '-';
    const std::string path = dir + "/" + user_id + "_" + session_id + "_" + name + ".json";
    write_file_atomically(path, o);
    paths.push_back(path);
  }
  return paths;
}

void write_particles_star(const std::string& path, const std::vector<PlacedParticle>& particles,
                          const std::vector<ClassInfo>& classes, const ParticleTableInfo& info) {
  write_file_atomically(path, particles_star(particles, classes, info));
}

void write_particles_json(const std::string& path, const std::vector<PlacedParticle>& particles,
                          const std::vector<ClassInfo>& classes, const ParticleTableInfo& info) {
  write_file_atomically(path, particles_json(particles, classes, info));
}

} // namespace tomosweep

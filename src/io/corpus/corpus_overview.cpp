#include "io/corpus/corpus_overview.hpp"

#include "io/corpus/h5_helpers.hpp"
#include "io/files/particles_file.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace tomosweep {
namespace {

using h5::Id;

long long read_attr_i64(hid_t obj, const char* name, const std::string& path) {
  Id a = h5::open_single_attr(obj, name, path);
  long long v = 0;
  h5::check_status(H5Aread(a, H5T_NATIVE_LLONG, &v), path, "read an attribute");
  return v;
}

std::vector<std::string> read_attr_strings(hid_t obj, const char* name, const std::string& path) {
  Id a = h5::attr(H5Aopen(obj, name, H5P_DEFAULT), path, (std::string("read attribute ") + name).c_str());
  Id s = h5::space(H5Aget_space(a), path, "read a dataspace");
  Id ft = h5::type(H5Aget_type(a), path, "read an attribute type");
  if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0)
    fail_io(path, ": attribute ", name, " is not a list of strings");
  // An attribute lives in an object header of at most 64 KB: more pointers than that is damage.
  const hssize_t count = H5Sget_simple_extent_npoints(s);
  if (count < 0 || count > 65536) fail_io(path, ": attribute ", name, " is damaged (", count, " values)");
  std::vector<char*> p(static_cast<std::size_t>(count));
  std::vector<std::string> out;
  if (p.empty()) return out;
  Id t = h5::vlstr(path);
  h5::check_status(H5Aread(a, t, p.data()), path, "read an attribute");
  for (char* c : p) out.push_back(c ? c : "");
  H5Dvlen_reclaim(t, s, H5P_DEFAULT, p.data());
  return out;
}

/// One column of /job_table as text (numbers %.10g, NaN as "", strings as stored).
std::vector<std::string> read_column_text(hid_t d, hid_t ftype, const std::string& col, std::size_t n,
                                          const std::string& path, bool* numeric = nullptr) {
  std::vector<std::string> out(n);
  const int idx = H5Tget_member_index(ftype, col.c_str());
  if (idx < 0 || n == 0) return out;
  const H5T_class_t cls = H5Tget_member_class(ftype, static_cast<unsigned>(idx));
  if (numeric) *numeric = cls != H5T_STRING;
  if (cls == H5T_STRING) {
    Id str = h5::vlstr(path);
    Id t = h5::type(H5Tcreate(H5T_COMPOUND, sizeof(char*)), path, "create a compound type");
    H5Tinsert(t, col.c_str(), 0, str);
    std::vector<char*> v(n, nullptr);
    h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path, "read /job_table");
    for (std::size_t i = 0; i < n; ++i) out[i] = v[i] ? v[i] : "", H5free_memory(v[i]);
  } else {
    Id t = h5::type(H5Tcreate(H5T_COMPOUND, sizeof(double)), path, "create a compound type");
    H5Tinsert(t, col.c_str(), 0, H5T_NATIVE_DOUBLE);
    std::vector<double> v(n);
    h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path, "read /job_table");
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isnan(v[i])) out[i] = format_number("%.10g", v[i]);
  }
  return out;
}

template <class T> std::vector<T> read_column(hid_t d, hid_t mem, const char* col, std::size_t n, const std::string& path) {
  std::vector<T> v(n);
  if (n == 0) return v;
  Id t = h5::type(H5Tcreate(H5T_COMPOUND, sizeof(T)), path, "create a compound type");
  H5Tinsert(t, col, 0, mem);
  h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path, "read /job_table");
  return v;
}

void read_jobs(hid_t f, CorpusOverview& o) {
  const std::string& path = o.path;
  Id d = h5::dataset(H5Dopen2(f, "job_table", H5P_DEFAULT), path, "open /job_table");
  Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
  Id ft = h5::type(H5Dget_type(d), path, "read a datatype");
  const std::size_t n = h5::stored_elements(d, s, path, "job_table");
  const auto ids = read_column<std::uint64_t>(d, H5T_NATIVE_UINT64, "job_id", n, path);
  const auto cond = read_column<std::uint64_t>(d, H5T_NATIVE_UINT64, "condition", n, path);
  const auto rep = read_column<std::int64_t>(d, H5T_NATIVE_INT64, "replicate", n, path);
  const auto nx = read_column<std::int64_t>(d, H5T_NATIVE_INT64, "nx", n, path);
  const auto ny = read_column<std::int64_t>(d, H5T_NATIVE_INT64, "ny", n, path);
  const auto nz = read_column<std::int64_t>(d, H5T_NATIVE_INT64, "nz", n, path);
  const auto split = read_column_text(d, ft, "split", n, path);
  const auto status = read_column_text(d, ft, "status", n, path);
  const auto error = read_column_text(d, ft, "error", n, path);
  std::vector<std::vector<std::string>> values;
  o.axis_numeric.assign(o.axes.size(), false);
  for (std::size_t a = 0; a < o.axes.size(); ++a) {
    bool numeric = false;
    values.push_back(read_column_text(d, ft, o.axes[a], n, path, &numeric));
    o.axis_numeric[a] = numeric;
  }
  for (std::size_t i = 0; i < n; ++i) {
    CorpusJobRow r{ids[i], cond[i], rep[i], split[i], status[i], error[i], {nx[i], ny[i], nz[i]}, {}};
    for (const auto& v : values) r.values.push_back(v[i]);
    o.jobs.push_back(std::move(r));
  }
}

void read_arrays(hid_t f, CorpusOverview& o) {
  for (const CorpusJobRow& j : o.jobs)
    if (j.status == "ok") {
      o.first_ok = static_cast<std::int64_t>(j.job_id);
      break;
    }
  if (o.first_ok < 0) return;
  Id g = h5::group(H5Gopen2(f, ("/jobs/" + std::to_string(o.first_ok)).c_str(), H5P_DEFAULT), o.path, "open a job");
  for (const char* n : {"tomogram", "prior", "atlas", "instances", "model", "tilt_series", "prior_series",
                        "tomogram_odd", "tomogram_even"}) {
    if (H5Lexists(g, n, H5P_DEFAULT) <= 0) continue;
    Id dd = h5::dataset(H5Dopen2(g, n, H5P_DEFAULT), o.path, "open a dataset");
    Id ss = h5::space(H5Dget_space(dd), o.path, "read a dataspace");
    hsize_t dims[3] = {0, 0, 0};
    if (H5Sget_simple_extent_ndims(ss) != 3) fail_io(o.path, ": ", n, " of job ", o.first_ok, " is not 3-dimensional");
    H5Sget_simple_extent_dims(ss, dims, nullptr);
    o.arrays.push_back({n, {dims[0], dims[1], dims[2]}});
  }
}

/// Jobs of one condition, counted.
struct ConditionCount {
  std::size_t jobs = 0, ok = 0, failed = 0, train = 0, test = 0;
  const CorpusJobRow* first = nullptr;
};

std::map<std::uint64_t, ConditionCount> by_condition(const CorpusOverview& o) {
  std::map<std::uint64_t, ConditionCount> out;
  for (const CorpusJobRow& j : o.jobs) {
    ConditionCount& c = out[j.condition];
    if (!c.first) c.first = &j;
    ++c.jobs;
    c.ok += j.status == "ok";
    c.failed += j.status == "failed";
    (j.split == "test" ? c.test : c.train) += 1;
  }
  return out;
}

} // namespace

CorpusOverview read_corpus_overview(const std::string& path) {
  Id f = h5::open_corpus(path);
  CorpusOverview o;
  o.path = path;
  o.format_version = read_attr_i64(f, "format_version", path);
  o.tool_version = h5::read_attr_string(f, "tool_version", path);
  o.name = h5::read_attr_string(f, "name", path);
  o.sweep_file = h5::read_attr_string(f, "sweep_file", path);
  o.sweep_text = h5::read_attr_string(f, "sweep_text", path);
  o.sweep_mode = h5::read_attr_string(f, "sweep_mode", path);
  o.axes = read_attr_strings(f, "sweep_axes", path);
  o.replicates = read_attr_i64(f, "replicates", path);
  o.conditions = read_attr_i64(f, "conditions", path);
  o.classes = h5::read_classes(f, path);
  read_jobs(f, o);
  read_arrays(f, o);
  return o;
}

std::string corpus_overview_text(const CorpusOverview& o) {
  std::ostringstream os;
  os << o.path << ": tomosweep-corpus version " << o.format_version << ", written by tomosweep " << o.tool_version
     << "\n";
  os << "run: " << o.name << ", sweep " << o.sweep_file << " (mode " << o.sweep_mode << ")\n";
  std::map<std::string, int> counts;
  for (const CorpusJobRow& j : o.jobs) ++counts[j.status];
  os << "jobs: " << o.jobs.size();
  for (const auto& [k, n] : counts) os << ", " << n << ' ' << k;
  os << "\nclasses:";
  for (const ClassInfo& c : o.classes) os << ' ' << c.label << '=' << c.name;
  os << "\nconditions: " << o.conditions << " x " << o.replicates << " replicates\n";
  for (const auto& [cond, c] : by_condition(o)) {
    os << "  condition " << cond << ":";
    for (std::size_t a = 0; a < o.axes.size(); ++a)
      os << ' ' << o.axes[a] << '=' << (c.first->values[a].empty() ? "(base)" : c.first->values[a]);
    os << "  jobs " << c.jobs << " (" << c.ok << " ok, " << c.failed << " failed), train " << c.train << ", test "
       << c.test << "\n";
  }
  if (o.first_ok >= 0) {
    os << "arrays of job " << o.first_ok << ":";
    for (const auto& a : o.arrays) os << ' ' << a.name << '[' << a.dims[0] << 'x' << a.dims[1] << 'x' << a.dims[2] << ']';
    os << "\n";
  }
  bool any = false;
  for (const CorpusJobRow& j : o.jobs)
    if (j.status == "failed") {
      if (!any) os << "failed jobs:\n";
      any = true;
      os << "  job " << j.job_id << ": " << j.error << "\n";
    }
  return os.str();
}

std::string corpus_overview_json(const CorpusOverview& o) {
  auto q = [](const std::string& s) { return json_quote(s); };
  std::ostringstream os;
  os << "{\n  \"path\": " << q(o.path) << ",\n  \"format\": \"tomosweep-corpus\",\n  \"format_version\": "
     << o.format_version << ",\n  \"tool_version\": " << q(o.tool_version) << ",\n  \"name\": " << q(o.name)
     << ",\n  \"sweep_file\": " << q(o.sweep_file) << ",\n  \"sweep_mode\": " << q(o.sweep_mode) << ",\n  \"axes\": [";
  for (std::size_t a = 0; a < o.axes.size(); ++a) os << (a ? ", " : "") << q(o.axes[a]);
  os << "],\n  \"replicates\": " << o.replicates << ",\n  \"conditions\": " << o.conditions << ",\n  \"classes\": [";
  for (std::size_t i = 0; i < o.classes.size(); ++i)
    os << (i ? ", " : "") << "{\"label\": " << o.classes[i].label << ", \"name\": " << q(o.classes[i].name)
       << ", \"source\": " << q(o.classes[i].source) << "}";
  auto values = [&](const CorpusJobRow& j) {
    std::string v = "{";
    for (std::size_t a = 0; a < o.axes.size(); ++a)
      v += (a ? ", " : "") + q(o.axes[a]) + ": " + (j.values[a].empty()  ? "null"
                                                 : o.axis_numeric[a] ? j.values[a]
                                                                     : q(j.values[a]));
    return v + "}";
  };
  os << "],\n  \"condition_summary\": [";
  bool first = true;
  for (const auto& [cond, c] : by_condition(o)) {
    os << (first ? "\n" : ",\n") << "    {\"condition\": " << cond << ", \"values\": " << values(*c.first)
       << ", \"jobs\": " << c.jobs << ", \"ok\": " << c.ok << ", \"failed\": " << c.failed << ", \"train\": " << c.train
       << ", \"test\": " << c.test << "}";
    first = false;
  }
  os << (first ? "],\n" : "\n  ],\n") << "  \"jobs\": [";
  for (std::size_t i = 0; i < o.jobs.size(); ++i) {
    const CorpusJobRow& j = o.jobs[i];
    os << (i ? ",\n" : "\n") << "    {\"job_id\": " << j.job_id << ", \"condition\": " << j.condition
       << ", \"replicate\": " << j.replicate << ", \"split\": " << q(j.split) << ", \"status\": " << q(j.status)
       << ", \"error\": " << q(j.error) << ", \"size_xyz\": [" << j.size_xyz[0] << ", " << j.size_xyz[1] << ", "
       << j.size_xyz[2] << "], \"values\": " << values(j) << "}";
  }
  os << (o.jobs.empty() ? "],\n" : "\n  ],\n") << "  \"arrays\": {";
  for (std::size_t i = 0; i < o.arrays.size(); ++i)
    os << (i ? ", " : "") << q(o.arrays[i].name) << ": [" << o.arrays[i].dims[0] << ", " << o.arrays[i].dims[1] << ", "
       << o.arrays[i].dims[2] << "]";
  os << "},\n  \"arrays_of_job\": " << o.first_ok << "\n}\n";
  return os.str();
}

} // namespace tomosweep

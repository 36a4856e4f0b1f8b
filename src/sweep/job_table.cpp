#include "sweep/job_table.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace tomosweep {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string json_value(const std::optional<SettingValue>& v) {
  if (!v) return "null";
  if (auto* s = std::get_if<std::string>(&*v)) return json_string(*s);
  return format_setting(*v);
}

std::string text_value(const std::optional<SettingValue>& v) { return v ? format_setting(*v) : "(default)"; }

} // namespace

std::string job_table_text(const Sweep& sweep) {
  std::vector<std::string> head{"job", "condition", "replicate", "split"};
  for (const std::string& a : sweep.axes) head.push_back(a);
  std::vector<std::vector<std::string>> rows;
  for (const SweepJob& j : sweep.jobs) {
    std::vector<std::string> r{std::to_string(j.job_id), std::to_string(j.condition), std::to_string(j.replicate),
                               j.test_split ? "test" : "train"};
    for (const auto& v : j.values) r.push_back(text_value(v));
    rows.push_back(std::move(r));
  }
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  std::ostringstream os;
  os << "# " << sweep.file << ": mode " << sweep.mode << ", " << sweep.conditions << " conditions x "
     << sweep.replicates << " replicates = " << sweep.jobs.size() << " jobs\n";
  auto line = [&](const std::vector<std::string>& r) {
    for (std::size_t c = 0; c < r.size(); ++c) {
      os << r[c];
      if (c + 1 < r.size()) os << std::string(width[c] - r[c].size() + 2, ' ');
    }
    os << '\n';
  };
  line(head);
  for (const auto& r : rows) line(r);
  return os.str();
}

std::string job_table_json(const Sweep& sweep) {
  std::ostringstream os;
  os << "{\"file\": " << json_string(sweep.file) << ", \"mode\": " << json_string(sweep.mode)
     << ", \"seed\": " << sweep.seed << ", \"replicates\": " << sweep.replicates
     << ", \"conditions\": " << sweep.conditions << ", \"axes\": [";
  for (std::size_t a = 0; a < sweep.axes.size(); ++a) os << (a ? ", " : "") << json_string(sweep.axes[a]);
  os << "],\n \"jobs\": [";
  for (std::size_t i = 0; i < sweep.jobs.size(); ++i) {
    const SweepJob& j = sweep.jobs[i];
    os << (i ? ",\n  " : "\n  ") << "{\"job_id\": " << j.job_id << ", \"condition\": " << j.condition
       << ", \"replicate\": " << j.replicate << ", \"split\": \"" << (j.test_split ? "test" : "train")
       << "\", \"values\": {";
    for (std::size_t a = 0; a < sweep.axes.size(); ++a)
      os << (a ? ", " : "") << json_string(sweep.axes[a]) << ": " << json_value(j.values[a]);
    os << "}}";
  }
  os << "\n]}\n";
  return os.str();
}

} // namespace tomosweep

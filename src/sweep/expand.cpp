// Sweep expansion: reading [sweep] into axes, axes into conditions, conditions into jobs (sweep.hpp).
#include "sweep/sweep.hpp"

#include "core/rng.hpp"
#include "io/config/config_file.hpp"
#include "io/files/atomic_file.hpp"
#include "job/settings.hpp"
#include "model/scene.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace tomosweep {
namespace {

// Every job holds its own JobConfig and every condition is a parse of the file: 100000 jobs take about 150 MB
// and a second; the former 10 million took more memory than a rank has before any check could refuse them.
constexpr std::size_t kMaxJobs = 100'000;

/// One axis as written: where its node is inside [sweep], and its values.
struct Axis {
  std::string path;
  std::vector<std::string> keys;    // keys from [sweep] down to the axis node
  std::vector<SettingValue> values; // list or expanded range
  bool from_list = true;            // values[i] is the i-th array element (else the range's start)
  bool random_range = false;        // { min, max }
  SettingValue min, max;
  toml::source_position pos;
};

/// One override of a condition: axis, value, and which node of the axis holds its source line.
struct Override {
  std::size_t axis = 0;
  SettingValue value;
  int element = -1; // array element index; -1: the range's start (or min)
};
using Condition = std::vector<Override>;

struct SweepReader {
  const toml::table& sweep;
  std::string file;
  Problems& problems;
  std::string mode = "grid";
  long long draws = 0;
  std::optional<long long> seed;
  std::vector<Axis> axes;

  void problem(const toml::node& n, const std::string& key, const std::string& what) {
    problems.add(where(file, n.source()) + ": " + key + ": " + what);
  }

  void read_range(Axis& a, const toml::table& t, const std::string& key) {
    auto num = [&](const char* k) -> std::optional<SettingValue> {
      const toml::node* n = t.get(k);
      if (!n) return std::nullopt;
      auto v = setting_of(*n);
      if (!v || !setting_number(*v)) {
        problem(*n, key + "." + k, "expected a number");
        return std::nullopt;
      }
      return v;
    };
    if (t.contains("min") || t.contains("max")) {
      auto lo = num("min"), hi = num("max");
      if (!lo || !hi) {
        if (t.contains("min") != t.contains("max")) problem(t, key, "a random range needs both min and max");
        return;
      }
      if (*setting_number(*hi) < *setting_number(*lo)) problem(t, key, "max is below min");
      a.random_range = true;
      a.min = *lo;
      a.max = *hi;
      return;
    }
    auto start = num("start"), stop = num("stop"), step = num("step");
    if (!start || !stop || !step) {
      if (t.contains("start") + t.contains("stop") + t.contains("step") != 3)
        problem(t, key, "a range needs start, stop and step");
      return;
    }
    const double s0 = *setting_number(*start), s1 = *setting_number(*stop), ds = *setting_number(*step);
    if (!(ds > 0) || s1 < s0) {
      problem(t, key, "expected step > 0 and stop >= start");
      return;
    }
    const double n = std::floor((s1 - s0) / ds + 1e-9) + 1;
    if (n > 100000) {
      problem(t, key, "range has more than 100000 values");
      return;
    }
    const bool ints = std::holds_alternative<long long>(*start) && std::holds_alternative<long long>(*stop) &&
                      std::holds_alternative<long long>(*step);
    a.from_list = false;
    for (long long i = 0; i < static_cast<long long>(n); ++i) {
      if (ints)
        a.values.emplace_back(std::get<long long>(*start) + i * std::get<long long>(*step));
      else
        a.values.emplace_back(s0 + static_cast<double>(i) * ds);
    }
  }

  void read_axes(const toml::table& t, const std::string& prefix, std::vector<std::string> keys) {
    for (const auto& [k, node] : t) {
      const std::string key(k.str());
      if (prefix.empty() && (key == "mode" || key == "draws" || key == "seed")) continue;
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      std::vector<std::string> sub = keys;
      sub.push_back(key);
      if (const toml::table* nt = node.as_table()) {
        const bool is_range = nt->contains("start") || nt->contains("stop") || nt->contains("step") ||
                              nt->contains("min") || nt->contains("max");
        if (!is_range) {
          read_axes(*nt, path, sub);
          continue;
        }
        Axis a;
        a.path = path;
        a.keys = sub;
        a.pos = node.source().begin;
        for (const auto& [rk, rn] : *nt)
          if (rk != "start" && rk != "stop" && rk != "step" && rk != "min" && rk != "max")
            problem(rn, path + "." + std::string(rk.str()), "unknown key in a sweep range");
        read_range(a, *nt, path);
        axes.push_back(std::move(a));
      } else if (const toml::array* arr = node.as_array()) {
        Axis a;
        a.path = path;
        a.keys = sub;
        a.pos = node.source().begin;
        for (const toml::node& e : *arr) {
          auto v = setting_of(e);
          if (!v) {
            problem(e, path, "sweep values must be numbers, strings or booleans");
            break;
          }
          a.values.push_back(*v);
        }
        if (arr->empty()) problem(node, path, "an axis needs at least one value");
        axes.push_back(std::move(a));
      } else {
        problem(node, path, "expected a list of values or a range table { start, stop, step }");
      }
    }
  }

  void read() {
    for (const auto& [k, node] : sweep) {
      if (k == "mode") {
        auto v = node.value_exact<std::string>();
        if (!v || (*v != "grid" && *v != "zip" && *v != "one-at-a-time" && *v != "random"))
          problem(node, "sweep.mode", "expected one of 'grid', 'zip', 'one-at-a-time', 'random'");
        else
          mode = *v;
      } else if (k == "draws" || k == "seed") {
        auto v = node.value_exact<int64_t>();
        if (!v || *v < (k == "draws" ? 1 : 0) || (k == "draws" && *v > static_cast<int64_t>(kMaxJobs)))
          problem(node, "sweep." + std::string(k.str()),
                  k == "draws" ? "expected an integer in [1, " + std::to_string(kMaxJobs) + "]"
                               : std::string("expected an integer >= 0"));
        else if (k == "draws")
          draws = *v;
        else
          seed = *v;
      }
    }
    read_axes(sweep, "", {});
    std::stable_sort(axes.begin(), axes.end(), [](const Axis& a, const Axis& b) {
      return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
    });
    for (const Axis& a : axes) {
      if (a.path.rfind("run.", 0) == 0 || a.path.rfind("sweep.", 0) == 0)
        problems.add(where(file, {a.pos, a.pos, nullptr}) + ": " + a.path +
                     ": [run] and [sweep] settings cannot be swept");
      if (a.random_range && mode != "random")
        problems.add(where(file, {a.pos, a.pos, nullptr}) + ": " + a.path +
                     ": { min, max } ranges need mode = \"random\"");
    }
    const toml::node* mode_node = sweep.get("mode");
    const toml::node& at = mode_node ? *mode_node : static_cast<const toml::node&>(sweep);
    if (mode == "random" && !sweep.contains("draws")) problem(at, "sweep.draws", "mode = \"random\" needs draws = N");
    if (mode != "random" && sweep.contains("draws"))
      problem(*sweep.get("draws"), "sweep.draws", "draws is only for mode = \"random\"");
    if (mode == "zip")
      for (const Axis& a : axes)
        if (a.values.size() != axes.front().values.size())
          problems.add(where(file, {a.pos, a.pos, nullptr}) + ": " + a.path + ": zip axes need equal lengths (" +
                       std::to_string(a.values.size()) + " vs " + std::to_string(axes.front().values.size()) + " for " +
                       axes.front().path + ")");
  }
};

std::vector<Condition> conditions_of(const SweepReader& r, const toml::table& root, std::uint64_t sweep_seed) {
  std::vector<Condition> out;
  const auto& axes = r.axes;
  if (axes.empty()) return {Condition{}};
  if (r.mode == "grid") {
    std::size_t total = 1;
    for (const Axis& a : axes) {
      total *= std::max<std::size_t>(a.values.size(), 1);
      if (total > kMaxJobs) fail_config(r.file, ": sweep has more than ", kMaxJobs, " conditions");
    }
    for (std::size_t c = 0; c < total; ++c) {
      Condition cond;
      std::size_t rest = c;
      for (std::size_t i = axes.size(); i-- > 0;) {
        const std::size_t n = axes[i].values.size(), k = rest % n;
        rest /= n;
        cond.push_back({i, axes[i].values[k], axes[i].from_list ? static_cast<int>(k) : -1});
      }
      std::reverse(cond.begin(), cond.end());
      out.push_back(std::move(cond));
    }
  } else if (r.mode == "zip") {
    for (std::size_t k = 0; k < axes.front().values.size(); ++k) {
      Condition cond;
      for (std::size_t i = 0; i < axes.size(); ++i)
        cond.push_back({i, axes[i].values[k], axes[i].from_list ? static_cast<int>(k) : -1});
      out.push_back(std::move(cond));
    }
  } else if (r.mode == "one-at-a-time") {
    out.push_back({});
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const toml::node* base = find_path(root, axes[i].path);
      const auto base_value = base ? setting_of(*base) : std::nullopt;
      for (std::size_t k = 0; k < axes[i].values.size(); ++k) {
        if (base_value && same_setting(*base_value, axes[i].values[k])) continue;
        out.push_back({{i, axes[i].values[k], axes[i].from_list ? static_cast<int>(k) : -1}});
      }
    }
  } else { // random
    for (long long d = 0; d < r.draws; ++d) {
      Rng rng(sweep_seed, Purpose::sweep, static_cast<std::uint64_t>(d));
      Condition cond;
      for (std::size_t i = 0; i < axes.size(); ++i) {
        const Axis& a = axes[i];
        if (a.random_range) {
          if (std::holds_alternative<long long>(a.min) && std::holds_alternative<long long>(a.max)) {
            const long long lo = std::get<long long>(a.min), hi = std::get<long long>(a.max);
            cond.push_back({i, lo + static_cast<long long>(rng.below(static_cast<std::uint64_t>(hi - lo + 1))), -1});
          } else {
            cond.push_back({i, rng.uniform(*setting_number(a.min), *setting_number(a.max)), -1});
          }
        } else if (!a.values.empty()) {
          const std::size_t k = rng.below(a.values.size());
          cond.push_back({i, a.values[k], a.from_list ? static_cast<int>(k) : -1});
        }
      }
      out.push_back(std::move(cond));
    }
  }
  return out;
}

toml::node* source_node(toml::table& root, const Axis& a, int element) {
  toml::node* n = root.get("sweep");
  for (const std::string& k : a.keys) {
    toml::table* t = n ? n->as_table() : nullptr;
    n = t ? t->get(k) : nullptr;
  }
  if (!n) return nullptr;
  if (toml::array* arr = n->as_array()) return element >= 0 ? arr->get(static_cast<std::size_t>(element)) : nullptr;
  if (toml::table* t = n->as_table()) return t->contains("start") ? t->get("start") : t->get("min");
  return nullptr;
}

/// Add the problems of one job's reading that were not reported yet. Two lines that differ only in their
/// position (one per value of an axis) are one problem: only the first is kept.
void add_unique(Problems& all, std::set<std::string>& seen, const Problems& p, const std::string& file) {
  for (const std::string& l : p.lines) {
    const auto colon = l.find(": ", file.size());
    const std::string what = colon == std::string::npos ? l : l.substr(colon);
    if (seen.insert(what).second) all.add(l);
  }
}

} // namespace

Sweep parse_sweep(const std::string& text, const std::string& file) {
  Sweep s;
  s.file = file;
  s.text = text;
  const toml::table root = parse_toml(text, file);
  Problems problems;
  std::set<std::string> seen;
  {
    Problems p;
    s.base = read_job_config(root, file, p);
    add_unique(problems, seen, p, file);
  }
  s.seed = s.base.run.seed;
  s.replicates = s.base.run.replicates;
  std::vector<Axis> axes;
  std::vector<Condition> conds{Condition{}};
  if (const toml::node* sn = root.get("sweep")) {
    if (const toml::table* st = sn->as_table()) {
      SweepReader r{*st, file, problems, "grid", 0, std::nullopt, {}};
      r.read();
      s.mode = r.mode;
      s.sweep_seed = r.seed ? static_cast<std::uint64_t>(*r.seed) : s.seed;
      for (const Axis& a : r.axes) s.axes.push_back(a.path);
      if (problems.empty()) conds = conditions_of(r, root, s.sweep_seed);
      axes = r.axes;
    } else {
      problems.add(where(file, sn->source()) + ": sweep: expected a table");
    }
  }
  problems.throw_if_any();
  if (conds.size() * static_cast<std::size_t>(s.replicates) > kMaxJobs)
    fail_config(file, ": sweep has more than ", kMaxJobs, " jobs");
  s.conditions = conds.size();
  const std::set<int> test(s.base.run.test_replicates.begin(), s.base.run.test_replicates.end());
  for (std::size_t c = 0; c < conds.size(); ++c) {
    toml::table job_root = parse_toml(text, file);
    for (const Override& o : conds[c])
      apply_override(job_root, file, axes[o.axis].path, o.value, source_node(job_root, axes[o.axis], o.element),
                     problems);
    Problems p;
    JobConfig cfg = read_job_config(job_root, file, p);
    add_unique(problems, seen, p, file);
    std::vector<std::optional<SettingValue>> values(axes.size());
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (const toml::node* n = find_path(job_root, axes[i].path)) values[i] = setting_of(*n);
      if (!values[i])
        if (auto k = known_setting(cfg, axes[i].path)) values[i] = SettingValue(*k);
    }
    for (int r = 0; r < s.replicates; ++r)
      s.jobs.push_back({.job_id = c * static_cast<std::uint64_t>(s.replicates) + static_cast<std::uint64_t>(r),
                        .condition = c,
                        .replicate = r,
                        .test_split = test.count(r) > 0,
                        .values = values,
                        .config = cfg});
  }
  problems.throw_if_any();
  return s;
}

Sweep load_sweep(const std::string& path) { return parse_sweep(read_file_bytes(path), path); }

std::vector<std::string> sweep_sources(const Sweep& sweep) {
  std::vector<std::string> sources;
  for (const SweepJob& j : sweep.jobs)
    for (const std::string& s : model_sources(j.config.model))
      if (std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
  return sources;
}

std::string sweep_folder(const std::string& sweep_path) {
  const std::filesystem::path dir = std::filesystem::path(sweep_path).parent_path();
  return dir.empty() ? "." : dir.string();
}

} // namespace tomosweep

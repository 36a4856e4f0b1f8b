// Reading the scalar settings of job/settings.hpp's tables from TOML: the kind and range of each setting
// decide how it is read and checked (TableReader's messages: type, range, "expected one of ...").
#pragma once

#include "io/config/toml_reader.hpp"
#include "job/settings.hpp"

namespace tomosweep {

/// Read one setting from `t` with `current` as the default (kept when the key is absent, of the wrong type or
/// not among the names; an out-of-range value is returned, with its problem recorded).
double read_setting(TableReader& t, const SettingInfo& s, double current);

/// Read field `f` of `p` (its current value is the default).
template <class P> void read_field(TableReader& t, const Field<P>& f, P& p) {
  f.set(p, read_setting(t, f.info, f.get(p)));
}

/// Read every field, in table order.
template <class P> void read_fields(TableReader& t, std::span<const Field<P>> fields, P& p) {
  for (const Field<P>& f : fields) read_field(t, f, p);
}

/// Read the fields from key `first` to key `last` (both included), in table order.
template <class P>
void read_fields(TableReader& t, std::span<const Field<P>> fields, P& p, std::string_view first,
                 std::string_view last) {
  bool on = false;
  for (const Field<P>& f : fields) {
    on = on || f.info.key == first;
    if (on) read_field(t, f, p);
    if (f.info.key == last) break;
  }
}

/// Read the field named `key` (which must be in `fields`).
template <class P> void read_field(TableReader& t, std::span<const Field<P>> fields, std::string_view key, P& p) {
  if (const Field<P>* f = find_field(fields, key)) read_field(t, *f, p);
}

} // namespace tomosweep

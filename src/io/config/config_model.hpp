// The [model] table of a sweep file -> ModelParams (schema in docs/model.md).
#pragma once

#include "io/config/toml_reader.hpp"
#include "model/params.hpp"

namespace tomosweep {

/// Read a [model] table. Unknown keys, wrong types and out-of-range values are recorded in t's Problems
/// with file:line:col and the key path; defaults fill what is absent.
ModelParams read_model(TableReader& t);

} // namespace tomosweep

// [imaging], [reconstruction] and tilt tables -> ImagingParams, TiltParams, ReconParams.
// Each reader records every problem (unknown keys, types, ranges) and calls finish() on its table.
#pragma once

#include "io/config/toml_reader.hpp"
#include "reconstruct/params.hpp"
#include "simulate/params.hpp"

namespace tomosweep {

/// Read an [imaging] table (with its optional `tilt` sub-table) over CTS defaults.
ImagingParams read_imaging(TableReader& t);
/// Read a tilt table over `defaults` (the prior's defaults differ from the imaging ones).
TiltParams read_tilt(TableReader& t, const TiltParams& defaults);
/// Read a [reconstruction] table.
ReconParams read_reconstruction(TableReader& t);

} // namespace tomosweep

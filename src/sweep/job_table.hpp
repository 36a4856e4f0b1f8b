// The job table of an expanded sweep, as `tomosweep expand` prints it.
#pragma once

#include "sweep/sweep.hpp"

#include <string>

namespace tomosweep {

/// One header line, then one line per job: job id, condition, replicate, split, each axis's value.
std::string job_table_text(const Sweep& sweep);
/// {"file":..., "mode":..., "seed":..., "replicates":..., "axes":[...], "jobs":[{"job_id":0, "condition":0,
/// "replicate":0, "split":"train", "values":{"imaging.defocus_um":1, ...}}, ...]}
std::string job_table_json(const Sweep& sweep);

} // namespace tomosweep

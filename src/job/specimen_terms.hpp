// The imaging terms of a scene beyond its potential (simulate/absorption.hpp): its ice surfaces, and the gold and
// carbon that the amplitude term needs, for the job's settings.
#pragma once

#include "job/job_config.hpp"
#include "model/scene.hpp"
#include "simulate/absorption.hpp"

namespace tomosweep {

/// The terms and the volume they point to; not copyable (terms.gold points into it).
struct JobSpecimenTerms {
  Volume<float> gold;
  SpecimenTerms terms;
  JobSpecimenTerms() = default;
  JobSpecimenTerms(const JobSpecimenTerms&) = delete;
  JobSpecimenTerms& operator=(const JobSpecimenTerms&) = delete;
};

/// Fill `out` for the scene and settings: the ice slab when model.ice_surface is in use, gold's volume fraction
/// when imaging.gold_absorption_mfp_A > 0 and there are beads, the carbon film when
/// imaging.carbon_absorption_mfp_A > 0 and there is one. Nothing otherwise. With acquisition binning `bin` > 1
/// the gold fraction is on the fine grid the series is imaged from (job.cpp's fine_potential).
void job_specimen_terms(const Scene& scene, const JobConfig& config, double ice_V, JobSpecimenTerms& out,
                        int bin = 1);

} // namespace tomosweep

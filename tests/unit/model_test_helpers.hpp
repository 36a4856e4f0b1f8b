// Helpers shared by the model tests (model_test.cpp, model_config_test.cpp).
#pragma once

#include "core/conventions.hpp"
#include "io/config/config_model.hpp"
#include "model/atoms.hpp"
#include "model/packing.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"
#include "model/synthetic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace tomosweep::test {

inline StructureSet structures_for(const ModelParams& p) {
  StructureSet s;
  auto add = [&](const std::string& src) {
    if (!src.empty() && !s.count(src)) s[src] = make_synthetic(src);
  };
  for (const Layer& l : p.layers)
    for (const ParticleSpec& q : l.particles) {
      add(q.source);
      add(q.satellite_source);
      for (const AssemblyMember& m : q.members) add(m.source);
    }
  return s;
}

inline ParticleSpec spec(const std::string& source, const std::string& class_name, double weight = 1) {
  ParticleSpec s;
  s.source = source;
  s.class_name = class_name;
  s.weight = weight;
  return s;
}

inline Layer layer(double density, long long attempts, std::vector<ParticleSpec> particles) {
  Layer l;
  l.max_density = density;
  l.max_attempts = attempts;
  l.particles = std::move(particles);
  return l;
}

inline ModelParams small_model(double density, const std::string& walls = "z") {
  ModelParams p;
  p.box_A = {1200, 1000, 300};
  p.walls = walls;
  p.layers = {
      layer(density, 4000, {spec("synthetic:globular?mass_kDa=300", "big"), spec("synthetic:cofilin", "small", 2)})};
  return p;
}

inline std::vector<Vec3> particle_atoms(const PlacedParticle& pp, const StructureSet& st) {
  const AtomicStructure& s = st.at(pp.source);
  const Vec3 c = structure_centre(s);
  std::vector<Vec3> out;
  for (const Atom& a : s.atoms) out.push_back(pp.rotation * (a.pos_A - c) + pp.position_A);
  return out;
}

inline double total_weight(const AtomicStructure& s) {
  double w = 0;
  for (const Atom& a : s.atoms) w += atom_weight(a);
  return w;
}

} // namespace tomosweep::test

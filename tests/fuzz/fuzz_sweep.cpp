// Fuzz target: a sweep file's text through what `tomosweep check` does, minus loading structures: parse
// and expand (parse_sweep), then validate the first replicate of every condition (validate_jobs) against
// one-atom stand-ins for the structures it names, and estimate every job's memory.
#include "fuzz_util.hpp"
#include "job/job.hpp"
#include "sweep/sweep.hpp"
#include "sweep/validate.hpp"

#include <cstdint>
#include <string>

using namespace tomosweep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const Sweep sweep = parse_sweep(text, "fuzz.toml");
    StructureSet structures;
    for (const std::string& source : sweep_sources(sweep)) {
      AtomicStructure s;
      s.name = "stand-in";
      s.source = source;
      s.chains = {"A"};
      s.atoms = {Atom{}};
      structures.emplace(source, std::move(s));
    }
    validate_jobs(sweep, first_replicates(sweep), structures);
    double total = 0;
    for (const SweepJob& j : sweep.jobs) total += job_memory_bytes(j.config);
    if (total < 0) std::abort(); // keep the estimate from being optimised away
  } catch (const Error& e) {
    // the expected rejection of bad input (one line per problem for a ConfigError)
    if (std::getenv("FUZZ_PRINT_ERRORS")) std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 0;
}

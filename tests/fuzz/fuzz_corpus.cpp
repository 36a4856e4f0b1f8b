// Fuzz target: an HDF5 file as `tomosweep inspect` and `tomosweep export` read a corpus: corpus_summary,
// then job 0 with read_corpus_job and, when it is ok, its files (write_job_files). Every HDF5 handle the
// readers open must be closed again, whatever the input: a handle left open is a finding too.
#include "fuzz_util.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/job_files.hpp"

#include <hdf5.h>

#include <cstdint>
#include <filesystem>

using namespace tomosweep;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // HDF5's error stack on stderr would only slow the fuzzer down
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_input("input.h5", data, size);
  try {
    (void)corpus_summary(path);
  } catch (const Error& e) {
    fuzz::check_one_line(e);
  }
  try {
    const CorpusJob job = read_corpus_job(path, 0);
    if (job.status == "ok") {
      const std::string dir = fuzz::scratch_dir() + "/export";
      std::filesystem::remove_all(dir);
      write_job_files(dir, job.result, "job-0");
    }
  } catch (const Error& e) {
    fuzz::check_one_line(e);
  }
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open != 0) {
    std::fprintf(stderr, "finding: %zd hdf5 handles left open\n", static_cast<ssize_t>(open));
    std::abort();
  }
  return 0;
}

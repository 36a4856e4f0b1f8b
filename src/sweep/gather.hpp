// The gather: a work folder's stage files into one corpus, written by every rank at once. The one place
// that knows both ranks and collective HDF5 writes (io/corpus stages, reads and indexes serially).
//
// Every rank creates all datasets (collective metadata), the owner of each job (job position % ranks)
// writes its arrays; atlas and instances are deflate-compressed and so written with collective H5Dwrite
// by all ranks (empty selections on non-owners). Rank 0 then adds the tables and attributes serially
// (finish_corpus), fsyncs and renames the file to its final name.
#pragma once

#include "io/corpus/corpus.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/sweep.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tomosweep {

/// Job ids staged in a work folder and their stage files (complete stage files only; temporaries are
/// ignored).
std::map<std::uint64_t, std::string> staged_jobs(const std::string& work);

/// Remove a work folder once its corpus is complete: the stage files, the sweep marker, the lock, the folder
/// (only if nothing else is left in it).
void remove_work(const std::string& work);

/// Stage infos as text for broadcasting, and back.
std::string encode_stage_infos(const std::vector<StageInfo>& infos);
std::vector<StageInfo> decode_stage_infos(const std::string& text);

/// Collective over MPI_COMM_WORLD when `parallel` (every rank calls it with the same `jobs`, sorted by job
/// id), else serial: create `tmp_path` and write every job's arrays from its stage file.
void write_corpus_arrays(const std::string& tmp_path, const std::vector<StageInfo>& jobs, int rank, int size,
                         bool parallel);

/// What the corpus records of a sweep (its jobs point into `sweep`, which must outlive the index).
CorpusIndex corpus_index(const Sweep& sweep);

/// Collective: rank 0 lists the stage files of every job of the sweep in `work`, every rank writes its
/// share into OUTPUT.tmp, rank 0 indexes it, renames it to `output` and (unless `keep_work`) removes the
/// stage files. Returns the number of failed jobs on rank 0 (0 on the others). A failure before the
/// collective writes is thrown on every rank; one during them ends every rank (MPI_Abort).
std::size_t gather_corpus(const MpiSession& mpi, const Sweep& sweep, const std::string& work, const std::string& output,
                          bool keep_work);

} // namespace tomosweep

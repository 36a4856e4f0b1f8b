// "pdb:1ABC" structure sources: a local cache, filled over plain HTTP/1.1 when a network exists.
//
// tomosweep has no TLS library, so it downloads only http:// URLs. The default URL is RCSB's https one:
// with it, an entry must be downloaded by hand (the error says which file and where to put it), or
// TOMOSWEEP_PDB_URL must point at an http:// mirror. Entries already in the cache are never fetched again.
#pragma once

#include <string>

namespace tomosweep {

/// RCSB's download URL; "{id}" becomes the upper-case entry id, "{id_lower}" the lower-case one.
inline constexpr const char* kDefaultPdbUrl = "https://files.rcsb.org/download/{id}.cif.gz";

struct FetchOptions {
  std::string url_template = kDefaultPdbUrl; ///< with {id} or {id_lower}; env TOMOSWEEP_PDB_URL
  std::string cache_dir;                     ///< env TOMOSWEEP_CACHE, else $HOME/.cache/tomosweep
  int timeout_s = 30;                        ///< connect and per-read timeout, seconds
};

/// Options from the environment (TOMOSWEEP_PDB_URL, TOMOSWEEP_CACHE, HOME).
FetchOptions fetch_options_from_env();

/// True for sources of the form "pdb:XXXX".
bool is_pdb_source(const std::string& source);

/// Local path of the entry named by `source` ("pdb:1abc"), downloading it into the cache if needed.
/// Throws IoError with a one-line message naming the source and URL when that is impossible.
std::string fetch_pdb(const std::string& source, const FetchOptions& options = fetch_options_from_env());

/// Body of an http:// URL (status 200, redirects followed); throws IoError "URL: reason".
std::string http_get(const std::string& url, int timeout_s = 30);

} // namespace tomosweep

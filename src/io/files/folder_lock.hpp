// An exclusive lock on a folder that lasts while its holder runs: flock(2) on FOLDER/lock, released by the
// kernel when the process ends in any way (kill -9 included), so a killed run never leaves a stale lock.
#pragma once

#include <string>

namespace tomosweep {

class FolderLock {
public:
  FolderLock() = default;
  /// Take the lock of `folder` (which must exist) or throw IoError "FOLDER: in use by another run (pid N)...".
  explicit FolderLock(const std::string& folder);
  FolderLock(FolderLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FolderLock& operator=(FolderLock&& o) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();
  bool held() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

} // namespace tomosweep

/* A full disk without root (tests/mpi/test_faults.py): LD_PRELOAD this library and writes to regular files
 * whose path contains $TOMOSWEEP_ENOSPC_PATH fail with ENOSPC once $TOMOSWEEP_ENOSPC_BYTES bytes have gone to
 * such files in this process. Everything else (pipes, sockets, other files) is untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long written = 0;

/* Whether a write of `bytes` to fd must fail: counted only for matching regular files. */
static int full(int fd, size_t bytes) {
  const char* pattern = getenv("TOMOSWEEP_ENOSPC_PATH");
  const char* limit = getenv("TOMOSWEEP_ENOSPC_BYTES");
  if (!pattern || !limit || fd < 3) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  if (!strstr(path, pattern)) return 0;
  if (written + (long long)bytes > atoll(limit)) {
    errno = ENOSPC;
    return 1;
  }
  written += (long long)bytes;
  return 0;
}

static size_t iov_bytes(const struct iovec* iov, int n) {
  size_t b = 0;
  for (int i = 0; i < n; ++i) b += iov[i].iov_len;
  return b;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void* buf, size_t n) { return full(fd, n) ? -1 : NEXT(write)(fd, buf, n); }
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  return full(fd, n) ? -1 : NEXT(pwrite)(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  return full(fd, n) ? -1 : NEXT(pwrite64)(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int c) {
  return full(fd, iov_bytes(iov, c)) ? -1 : NEXT(writev)(fd, iov, c);
}
ssize_t pwritev(int fd, const struct iovec* iov, int c, off_t off) {
  return full(fd, iov_bytes(iov, c)) ? -1 : NEXT(pwritev)(fd, iov, c, off);
}
ssize_t pwritev64(int fd, const struct iovec* iov, int c, off64_t off) {
  return full(fd, iov_bytes(iov, c)) ? -1 : NEXT(pwritev64)(fd, iov, c, off);
}

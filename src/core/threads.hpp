// Work shared out between the caller's thread and one more (tomosweep simulate's spare core, JobHooks::spare_core).
#pragma once

#include "core/errors.hpp"

#include <future>

namespace tomosweep {

/// f(k, n) for k = 0 .. n - 1, each on a thread of its own (k = 0 on the caller's), for n = 1 or 2 (`what` names
/// the caller in the error for any other n). Callers give each k its own part of the work (every n-th tilt or
/// block from k on) and its own buffers. If the caller's part throws, the other thread is waited for before the
/// exception leaves; the other's exception is rethrown after the caller's part is done.
template <class F> void split_work(int n, const char* what, F&& f) {
  if (n < 1 || n > 2) fail(what, ": ", n, " threads (1 or 2)");
  if (n == 1) return f(0, 1);
  auto second = std::async(std::launch::async, [&f] { f(1, 2); });
  f(0, 2); // if this throws, second's destructor waits for the other thread first
  second.get();
}

} // namespace tomosweep

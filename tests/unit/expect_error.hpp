// The one way the unit tests assert errors: the message of the exception a call throws, checked for its
// type, compared by the caller (EXPECT_EQ for the whole message, find() or rfind() for a part).
#pragma once

#include "core/errors.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <string>

namespace test_util {

/// The message of the `E` that `f()` throws. When `f()` throws nothing, or an exception of another type,
/// the calling test fails and the result says so ("(no error)", "(other error) MESSAGE").
template <class E = tomosweep::Error, class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw an exception of another type: " << e.what();
    return std::string("(other error) ") + e.what();
  }
  ADD_FAILURE() << "threw nothing";
  return "(no error)";
}

} // namespace test_util

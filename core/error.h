// Exception types for selfsup and the one `check` helper that throws them.
// Messages follow "<op>: <what is wrong> (<details>) at <file>:<line>".
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>

namespace selfsup::core {

/// Base of every selfsup error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { using Error::Error; };
class DTypeError : public Error { using Error::Error; };
class DeviceError : public Error { using Error::Error; };
class IoError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };
class AutogradError : public Error { using Error::Error; };

/// "file:line" of a source location, with the path shortened to the project-relative part.
std::string where(const std::source_location& loc);

/// Throws E(message + " at file:line") when `condition` is false.
template <typename E = ValueError>
void check(bool condition, const std::string& message,
           const std::source_location loc = std::source_location::current()) {
  if (!condition) throw E(message + " at " + where(loc));
}

}  // namespace selfsup::core

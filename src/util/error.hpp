#pragma once
// Two error tiers, as in ccache: Error is for conditions a caller may handle;
// Fatal is printed by main() as "certdoctor: error: ..." and ends the program.
#include <stdexcept>
#include <string>

namespace certdoctor {

/// A recoverable failure with a message meant for a person (names the input and the fix).
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A usage or input error: main() prints it and exits with status 2.
class UsageError : public Error {
public:
  using Error::Error;
};

/// Bad configuration or rule data: main() prints it and exits with status 2.
class ConfigError : public Error {
public:
  using Error::Error;
};

} // namespace certdoctor

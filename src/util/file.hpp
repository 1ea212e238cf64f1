#pragma once
// Whole-file reading for configuration inputs (resolv.conf, root hints).
#include <string>

namespace certdoctor {

/// Appends the contents of `path` to `out`. Returns false with errno set when the file cannot
/// be opened or read, so that callers can name the file and the reason.
bool read_file(const std::string& path, std::string& out);

/// Why a file could not be written at `path`, or "" when it can: an existing path must be a
/// writable regular file (or a character device such as /dev/null); a new one needs an existing,
/// writable folder. Checked before any work starts, so that a typo does not cost a whole check.
std::string file_write_problem(const std::string& path);

/// Why `path` could not serve as a folder to write into, or "" when it can: an existing path must
/// be a writable folder; a new one needs a writable parent (it is created when first used).
std::string folder_write_problem(const std::string& path);

} // namespace certdoctor

#pragma once
// Whole-file reading for configuration inputs (resolv.conf, root hints).
#include <string>

namespace certdoctor {

/// Appends the contents of `path` to `out`. Returns false with errno set when the file cannot
/// be opened or read, so that callers can name the file and the reason.
bool read_file(const std::string& path, std::string& out);

} // namespace certdoctor

// The constructor that uses the rules data compiled into the binary. Kept apart from
// knowledge.cpp so that the program generating that data links without it.
#include "pipeline/knowledge.hpp"

#include <cstdlib>

namespace certdoctor::pipeline {

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

} // namespace

Knowledge::Knowledge(const std::vector<std::string>& extra)
    : Knowledge(env_set("CERTDOCTOR_RULES_DIR") || env_set("CERTDOCTOR_REPORTS_DIR") ? from_files(extra)
                                                                                      : Knowledge(extra, builtin_data())) {}

} // namespace certdoctor::pipeline

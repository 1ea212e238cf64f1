#pragma once
// `certdoctor rules lint` without the command line: every check of the rules data at once.
#include <vector>

#include "pipeline/knowledge.hpp"
#include "rules/lint.hpp"

namespace certdoctor::pipeline {

/// Every problem of the loaded knowledge, ordered as found: the catalogue against the view of
/// facts::sample() (rules::lint), rules citing a source not in sources.yaml, ACME causes naming an
/// unknown finding id, notice kinds defined twice, reserved or citing an unknown source.
/// Loading already rejected malformed files and patterns.
std::vector<rules::LintIssue> lint_knowledge(const Knowledge& k);

} // namespace certdoctor::pipeline

#pragma once
// Evaluating the rule catalogue over a view of the facts: the findings and their severities.
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/finding.hpp"

namespace certdoctor::rules {

class Catalogue;

/// Every finding of `catalogue` over `view`, in catalogue order, then element order. Throws
/// EvalError (with the rule's file, line and id in front) when an expression fails.
std::vector<Finding> evaluate(const Catalogue& catalogue, const nlohmann::json& view);

} // namespace certdoctor::rules

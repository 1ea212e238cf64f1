#pragma once
// The view: what the rules see. It is the facts plus what follows from them by fixed
// algorithms that are not a matter of judgement — the CA's CAA decision (RFC 8659), the
// classification of each address, which address the CA dials first, which provider hosts the
// domain and at which addresses. Rules in rules/*.yaml then judge this view.
#include <string>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "view/address.hpp"
#include "view/data.hpp"

namespace certdoctor::view {

/// Everything derive() needs besides the facts.
struct DeriveContext {
  const DataSet& data;
  const address::AddressClassifier& classifier;
};

/// Builds the view of `facts` for the rules. Every key is always present (null or empty when
/// unknown), so that the linter's shape — the view of facts::sample() — lists every fact name.
/// Throws UsageError when the facts name a provider or CA that the data does not know.
nlohmann::json derive(const facts::Facts& facts, const DeriveContext& context);

/// Parses CAA presentation data (`0 issue "letsencrypt.org"`) as stored in facts.
/// Returns false for text that is not CAA presentation form.
bool parse_caa_presentation(const std::string& text, int& flags, std::string& tag, std::string& value);

} // namespace certdoctor::view

#pragma once
// Facts from outside the checked domain's own configuration: its certificate issuance history
// from Certificate Transparency, and the CA's status page. Plain data with JSON round trip, in
// the style of facts.hpp; missing keys keep their defaults when read.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certdoctor::facts {

/// How one outside source was read. `outcome`: "ok", "http-error", "timeout", "unreachable"
/// (DNS or connect failure), "malformed" (bad JSON or shape), "too-large", "error",
/// "not-fetched" (the deadline came first), or "disabled" (no URL configured).
struct FetchFact {
  std::string url;
  std::string outcome = "not-fetched";
  int http_status = 0;
  bool from_cache = false;
  std::string fetched_at;   // RFC 3339 UTC, when the body was fetched (earlier when from the cache)
  double elapsed_ms = 0;
  std::string error;        // what went wrong, for people
};

/// One certificate found in Certificate Transparency.
struct CtCertificate {
  std::string serial;
  std::string issuer;
  std::string not_before;   // RFC 3339 UTC, "" when the source gave none
  std::string not_after;
  std::string logged_at;    // RFC 3339 UTC, the log entry's timestamp
  std::vector<std::string> names; // sorted, lower case, unique
  bool lets_encrypt = false;
};

/// The issuance history of the registered domain and its subdomains.
struct CtFacts {
  std::string query_domain;
  FetchFact fetch;
  std::vector<CtCertificate> certificates; // one per serial (precertificate and certificate merged)
};

/// An open incident or a maintenance window on the CA's status page.
struct StatusIncident {
  std::string id;
  std::string name;
  std::string status;
  std::string started;      // RFC 3339 UTC when the source's time could be read, else as given
  std::string kind;         // "incident" | "maintenance-active" | "maintenance-upcoming"
};

/// The CA's status page.
struct StatusFacts {
  FetchFact fetch;
  int overall_code = 0;     // status.io: 100 operational ... 600 security event
  std::string overall_status;
  std::vector<StatusIncident> incidents;
};

void to_json(nlohmann::json&, const FetchFact&);
void from_json(const nlohmann::json&, FetchFact&);
void to_json(nlohmann::json&, const CtCertificate&);
void from_json(const nlohmann::json&, CtCertificate&);
void to_json(nlohmann::json&, const CtFacts&);
void from_json(const nlohmann::json&, CtFacts&);
void to_json(nlohmann::json&, const StatusIncident&);
void from_json(const nlohmann::json&, StatusIncident&);
void to_json(nlohmann::json&, const StatusFacts&);
void from_json(const nlohmann::json&, StatusFacts&);

/// Seconds since the Unix epoch of a UTC time written "YYYY-MM-DDTHH:MM:SS" with optional
/// fraction and optional "Z" or "+hh:mm"/"-hh:mm" offset (a space may replace the "T"; no offset
/// means UTC, as crt.sh writes). nullopt when the text is not such a time. Never throws.
std::optional<std::int64_t> parse_utc_time(const std::string& text);
/// The RFC 3339 form "YYYY-MM-DDTHH:MM:SSZ" of seconds since the Unix epoch.
std::string format_utc_time(std::int64_t seconds);

} // namespace certdoctor::facts

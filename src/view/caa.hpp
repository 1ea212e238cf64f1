#pragma once
// The CAA decision of a CA (RFC 8659, RFC 8657), made the way Let's Encrypt's
// Boulder makes it (va/caa.go): pure, over lookups the probes already made.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certdoctor::view::caa {

/// One CAA resource record: flags octet, property tag and value as received.
struct Record {
  std::uint8_t flags = 0;
  std::string tag;
  std::string value;
};

/// How the CAA lookup at one name ended.
enum class LookupOutcome {
  records,  ///< NOERROR with CAA records (an empty `records` list counts as empty)
  empty,    ///< NOERROR without CAA data, or NXDOMAIN
  failed,   ///< SERVFAIL, timeout, REFUSED, malformed answer
};

/// The CAA lookup at one name of the climb.
struct Level {
  std::string domain;
  LookupOutcome outcome = LookupOutcome::empty;
  std::vector<Record> records;
  std::string failure;  ///< what went wrong when outcome is failed, e.g. "SERVFAIL"
};

/// What the CA is asked for and who it is.
struct Policy {
  std::vector<std::string> issuer_domains{"letsencrypt.org"};
  std::string validation_method{"http-01"};
  std::optional<std::string> account_uri;  ///< unset when the ACME account is not known to us
  bool bit1_is_critical = true;            ///< Boulder also treats flag bit 1 as "critical"
};

/// The CA's answer.
enum class Verdict {
  permitted,
  permitted_if_account,  ///< permitted only for the account named by an accounturi parameter
  forbidden,
  lookup_failed,
};

/// The verdict with the evidence behind it.
///
/// `reason` is one of: "no-caa" (no relevant RRset, or one without issue/issuewild
/// properties that apply; relevant_domain tells which), "issuer-listed",
/// "issuer-not-listed", "critical-unknown-tag", "validation-method-not-allowed",
/// "account-uri-mismatch", "account-uri-required", "empty-issuer", "lookup-failed".
struct Decision {
  Verdict verdict = Verdict::permitted;
  std::string relevant_domain;  ///< where the relevant RRset or the failure was found, "" if none
  std::vector<Record> relevant_set;
  std::string reason;
  std::string detail;  ///< the deciding record in presentation form, or the lookup failure
};

/// Decides whether the CA may issue for `name` ("*.example.jp" is a wildcard name).
/// `climb` holds the lookups at the name (for a wildcard, the name without "*.")
/// first, then at each parent up to the TLD. Never throws.
Decision decide(std::string_view name, const std::vector<Level>& climb, const Policy& policy);

/// An issue or issuewild property value split into its parts (RFC 8659 §4.2).
/// `well_formed` is false when Boulder would skip the record: a parameter that
/// is not `tag=value`, a tag with other than letters and digits, a value with
/// whitespace or non-ASCII; also when a non-empty issuer domain breaks the §4.2
/// label grammar. `issuer_domain` is filled in even when not well formed.
struct IssueValue {
  std::string issuer_domain;
  std::vector<std::pair<std::string, std::string>> parameters;
  bool well_formed = false;
};

/// Parses an issue/issuewild value as Boulder does (split at ";", trim SP/HTAB).
IssueValue parse_issue_value(std::string_view value);

/// Returns "permitted", "permitted-if-account", "forbidden" or "lookup-failed".
std::string verdict_name(Verdict verdict);

/// Returns the record in zone-file presentation form, e.g. `0 issue "letsencrypt.org"`,
/// with `"` and `\` escaped and bytes outside printable ASCII as `\DDD` (RFC 8659 §4.1.1).
std::string presentation(const Record& record);

}  // namespace certdoctor::view::caa

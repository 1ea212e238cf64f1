#pragma once
// ACME errors: problem documents (RFC 8555 section 6.7) and the error output of ACME clients
// (certbot, lego, acme.sh, Caddy, Traefik, cert-manager), mapped to the finding ids of
// `certdoctor check` with the patterns of rules/acme-errors.yaml. Pure: no I/O but loading.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "triage/regex.hpp"

namespace certdoctor::triage {

/// One entry of `causes:`: a pattern over an error text and the finding it stands for.
struct AcmeCauseRule {
  std::string id;
  std::string finding;                 // a finding id; "" for a rule that only unwraps (inner)
  std::vector<std::string> types;      // ACME error types (short form) it is limited to; empty: any
  Pattern pattern;
  std::string inner;                   // a group whose text is matched again
  nlohmann::json evidence = nlohmann::json::object();  // fixed evidence added on a match
  std::string file;
  int line = 0;
  nlohmann::json note;                 // {en, ja}: what the text can mean and which check decides
};

/// One entry of `clients:`: how to recognise a client's output and the domains it names.
struct AcmeClient {
  std::string id;
  std::vector<Pattern> markers;
  std::vector<Pattern> domains;
};

/// The contents of rules/acme-errors.yaml (later rule directories replace entries by id).
struct AcmeCatalogue {
  std::vector<std::string> other_ids;
  std::vector<Pattern> evidence;
  std::vector<AcmeCauseRule> causes;
  std::vector<AcmeClient> clients;
  /// `notes:` finding id -> {en, ja}, for causes that triage names from the evidence (an
  /// address in a CDN's range, an IPv6 address that answered like another server).
  std::map<std::string, nlohmann::json> finding_notes;
  std::vector<std::string> files;

  /// Loads `<dir>/acme-errors.yaml` from each dir. Throws ConfigError with file:line for a
  /// malformed file or an invalid pattern.
  static AcmeCatalogue load(const std::vector<std::filesystem::path>& dirs);
};

/// What one error text means.
struct AcmeCause {
  std::string finding;        // "" when no rule matched
  std::string rule;           // the cause rule's id, or "unmapped"
  std::string type;           // the ACME error type (short form), if known
  std::string detail;         // the error text as the CA wrote it
  std::string domain;         // the domain concerned, ASCII, if known
  nlohmann::json evidence = nlohmann::json::object();
  nlohmann::json note;        // {en, ja} when the text alone cannot decide, else null
};

/// Matches one error text (a problem's `detail`, or a line of a client log) against the cause
/// rules. `type` is the problem type when known (short or urn form).
AcmeCause classify_error(const AcmeCatalogue&, std::string_view detail, std::string_view type = {});

/// What an ACME input says: the client, the causes (one per failed identifier), the domains.
struct AcmeReport {
  std::string form;                 // "acme-problem" or "client-log"
  std::string client;               // a client id, or "" when not recognised
  std::vector<AcmeCause> causes;
  std::vector<std::string> domains; // as written (ASCII or Unicode), in order of appearance
};

/// Reads an ACME problem document (or an authorization / order / challenge object that carries
/// one). Returns nothing when `text` is not such a JSON document.
std::optional<AcmeReport> read_problem_json(const AcmeCatalogue&, std::string_view text);

/// Reads text that may contain ACME errors: a client's output, a log, a mail body. Returns
/// nothing when no error text and no client is recognised.
std::optional<AcmeReport> read_client_log(const AcmeCatalogue&, std::string_view text);

/// "2024-01-02 03:04:05 UTC" and similar to RFC 3339 ("2024-01-02T03:04:05Z"); other text as is.
std::string rfc3339(const std::string& when);

} // namespace certdoctor::triage

#pragma once
// What the CA's HTTP request and the served certificate reveal: the HTTP-01 challenge path
// requested on port 80 of each address of each certified name (every redirect hop recorded),
// and the certificate chain served on port 443 of the same addresses. Plain data with JSON round
// trip, in the style of facts.hpp; the CA's redirect policy is applied by the rules, not here.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certdoctor::facts {

/// The outcome vocabulary of one HTTP request or TLS handshake, shared by the probe that
/// records it and the view that judges it. An HttpExchange's `outcome` is one of:
///   "response"           a complete status line and headers arrived (any status)
///   "refused"            the connection was refused (nothing listens on the port)
///   "connect-timeout"    no TCP connection within the time limit (a firewall dropping packets)
///   "unreachable"        no route to the address (network or host unreachable)
///   "timeout"            connected, but no complete answer within the time limit
///   "reset"              the peer closed or reset the connection before answering
///   "unresolved"         the host name of a redirect target did not resolve
///   "tls-error"          an https hop whose TLS handshake failed
///   "too-large"          the header section exceeded the cap
///   "error"              anything else (`error` says what)
///   "not-sent"           the deadline came first
///   "not-allowed"        the probe policy of the service refused to dial the address (loopback,
///                        private, ...; `address` is that address): the CA cannot reach it either
/// A TlsProbe's outcome is "handshake" or one of the failures above.
namespace web_outcome {
inline constexpr const char* response = "response";
inline constexpr const char* handshake = "handshake";
inline constexpr const char* refused = "refused";
inline constexpr const char* connect_timeout = "connect-timeout";
inline constexpr const char* unreachable = "unreachable";
inline constexpr const char* timeout = "timeout";
inline constexpr const char* reset = "reset";
inline constexpr const char* unresolved = "unresolved";
inline constexpr const char* tls_error = "tls-error";
inline constexpr const char* too_large = "too-large";
// The server answered in HTTP/2 without being asked (a SETTINGS frame where an HTTP/1.1 status
// line belongs): HTTP/2 configured in clear on port 80. Boulder: "Server is speaking HTTP/2 over
// HTTP" (va/va.go detailedError, h2SettingsFrameErrRegex).
inline constexpr const char* h2c = "h2c";
inline constexpr const char* error = "error";
inline constexpr const char* not_sent = "not-sent";
inline constexpr const char* not_allowed = "not-allowed";

/// True for a failure to establish the TCP connection (refused, unreachable, connect timeout):
/// what Go reports as a net.OpError with Op "dial", the only errors after which Boulder tries
/// the next address (va/http.go fallbackErr).
bool is_dial_error(const std::string& outcome);
/// True when no HTTP answer came back at all (every outcome but "response").
bool no_answer(const std::string& outcome);
} // namespace web_outcome

/// One HTTP request and what came back; `outcome` is one of web_outcome.
struct HttpExchange {
  std::string url;
  std::string address;       // the address connected to, "" when there was no connection
  std::string outcome = "not-sent";
  int status = 0;
  std::string location;      // the Location header as sent
  std::string next_url;      // Location made absolute against `url` ("" when no Location)
  std::string server;        // the Server header
  std::string content_type;
  std::size_t body_bytes = 0;// bytes of body read (the read stops at the body cap)
  bool body_truncated = false;
  std::string body_excerpt;  // the start of the body, valid UTF-8, for recognising block pages
  std::string body_sha256;  // SHA-256 of the body bytes read, hex lower case ("" when none)
  std::string error;
  double elapsed_ms = 0;
  // When the request started, in ms after the chain's first request started (the chain's time
  // to the end of this hop is started_ms + elapsed_ms); -1 when not recorded (older facts, and
  // the exchanges of UnknownHostProbe).
  double started_ms = -1;
  // How the hop's host was resolved when the probe resolved it itself (redirect targets): the
  // usable AAAA then A addresses in answer order; the hop dials the first ("" when not resolved
  // by the probe: the first hop goes to the chain's address, an IP literal to itself).
  std::vector<std::string> addresses_resolved;
  std::string tls_version;   // an https hop's negotiated protocol ("TLSv1.2", "TLSv1.3"), "" for http
  // A timeout (or an end at the deadline) of a request whose time was cut short by the check's
  // own deadline rather than by the request's limit or the CA's budget: our side ended it.
  bool deadline_cut = false;
};

/// How the server at one address answers a name it has no site for, next to how it answers the
/// certified name: a shared hosting server answers a name that is not set up on it with its
/// default site, and then answers the certified name the same way. Each request is one exchange
/// at the chain's address, no redirect followed. `host` is "" when the probe did not ask (an
/// older facts file, --no-web): the exchanges are then "not-sent".
struct UnknownHostProbe {
  std::string host;          // the random name asked for, under .invalid (RFC 2606)
  HttpExchange challenge;    // http://HOST/.well-known/acme-challenge/TOKEN (the chain's token)
  HttpExchange root;         // http://HOST/
  HttpExchange name_root;    // http://NAME/, the certified name's own "/"
};

/// The challenge URL of one name requested at one of its addresses, redirects followed hop by
/// hop. `stop`: why following ended:
///   "answer"     the last hop answered with a status that is not a redirect
///   "failed"     the last hop got no answer (see its outcome)
///   "loop"       the next URL was one already requested
///   "hop-limit"  the probe's own hop limit was reached (more than any CA follows)
///   "no-location" a 3xx without a usable Location
///   "scheme"     a redirect to a scheme other than http or https (not requested)
///   "deadline"   the check's deadline came first
///   "budget"     the CA's time budget for the whole fetch was spent before the next hop (or
///                ran out during the last one): the CA has given up by then
struct HttpChallenge {
  std::string name;          // the certified name (ASCII)
  std::string family;        // "ipv6" | "ipv4"
  std::string address;       // the address the first request went to
  std::string url;           // the first URL: http://NAME/.well-known/acme-challenge/TOKEN
  std::vector<HttpExchange> hops;
  std::string stop = "deadline";
  // From the start of the first request to the end of the last hop, redirect targets' DNS
  // lookups included: what the CA's one deadline for the whole fetch is measured against. -1
  // when not recorded (older facts).
  double elapsed_ms = -1;
  UnknownHostProbe unknown_host;  // the same address asked for a name it has no site for
};

/// One certificate of a served chain.
struct CertificateFact {
  std::string subject;       // RFC 2253 form
  std::string issuer;
  std::string subject_cn;
  std::string issuer_cn;
  std::string serial;        // hex, upper case
  std::string not_before;    // RFC 3339 UTC
  std::string not_after;
  std::vector<std::string> dns_names; // subjectAltName dNSName entries, lower case
  std::string key_type;      // "RSA 2048", "EC P-256", ...
  std::vector<std::string> crl_urls;
  std::vector<std::string> ocsp_urls;
  std::string sha256;        // fingerprint of the DER, hex lower case
};

/// The TLS handshake on port 443 of one address, with SNI for one name. `outcome`:
/// "handshake" (a chain was received), "refused", "connect-timeout", "timeout", "reset",
/// "tls-error" (no TLS, or the handshake failed), "error", "not-sent".
struct TlsProbe {
  std::string name;
  std::string family;
  std::string address;
  std::string outcome = "not-sent";
  std::string error;
  std::vector<CertificateFact> chain; // as served, leaf first
  bool verified = false;     // the chain verifies against the trust store at collection time
  std::string verify_error;  // OpenSSL's reason when it does not
  std::string trust_store;   // "system" or the --ca-file path
  double elapsed_ms = 0;
  bool deadline_cut = false;  // as HttpExchange::deadline_cut
};

/// Everything the web probe gathered.
struct WebFacts {
  bool probed = false;       // false when the web probe did not run (--no-web, or an old facts file)
  std::string token;         // the random token of the challenge URL
  std::vector<HttpChallenge> http;
  std::vector<TlsProbe> tls;
  double first_request_ms = 0; // from the start of the check to the first request
  double elapsed_ms = 0;       // from the start of the check to the end of the last request
};

void to_json(nlohmann::json&, const HttpExchange&);
void from_json(const nlohmann::json&, HttpExchange&);
void to_json(nlohmann::json&, const UnknownHostProbe&);
void from_json(const nlohmann::json&, UnknownHostProbe&);
void to_json(nlohmann::json&, const HttpChallenge&);
void from_json(const nlohmann::json&, HttpChallenge&);
void to_json(nlohmann::json&, const CertificateFact&);
void from_json(const nlohmann::json&, CertificateFact&);
void to_json(nlohmann::json&, const TlsProbe&);
void from_json(const nlohmann::json&, TlsProbe&);
void to_json(nlohmann::json&, const WebFacts&);
void from_json(const nlohmann::json&, WebFacts&);

} // namespace certdoctor::facts

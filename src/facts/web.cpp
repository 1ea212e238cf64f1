#include "facts/web.hpp"

#include "facts/json_fields.hpp"

namespace certdoctor::facts {

namespace web_outcome {
bool is_dial_error(const std::string& outcome) {
  return outcome == refused || outcome == connect_timeout || outcome == unreachable;
}
bool no_answer(const std::string& outcome) { return outcome != response; }
} // namespace web_outcome

void to_json(nlohmann::json& j, const HttpExchange& v) {
  j = nlohmann::json::object();
  CD_PUT(url); CD_PUT(address); CD_PUT(outcome); CD_PUT(status); CD_PUT(location); CD_PUT(next_url);
  CD_PUT(server); CD_PUT(content_type); CD_PUT(body_bytes); CD_PUT(body_truncated); CD_PUT(body_excerpt);
  CD_PUT(body_sha256); CD_PUT(error); CD_PUT(elapsed_ms); CD_PUT(started_ms); CD_PUT(addresses_resolved); CD_PUT(tls_version); CD_PUT(deadline_cut);
}
void from_json(const nlohmann::json& j, HttpExchange& v) {
  CD_GET(url); CD_GET(address); CD_GET(outcome); CD_GET(status); CD_GET(location); CD_GET(next_url);
  CD_GET(server); CD_GET(content_type); CD_GET(body_bytes); CD_GET(body_truncated); CD_GET(body_excerpt);
  CD_GET(body_sha256); CD_GET(error); CD_GET(elapsed_ms); CD_GET(started_ms); CD_GET(addresses_resolved); CD_GET(tls_version); CD_GET(deadline_cut);
}

void to_json(nlohmann::json& j, const UnknownHostProbe& v) {
  j = nlohmann::json::object();
  CD_PUT(host); CD_PUT(challenge); CD_PUT(root); CD_PUT(name_root);
}
void from_json(const nlohmann::json& j, UnknownHostProbe& v) {
  CD_GET(host); CD_GET(challenge); CD_GET(root); CD_GET(name_root);
}

void to_json(nlohmann::json& j, const HttpChallenge& v) {
  j = nlohmann::json::object();
  CD_PUT(name); CD_PUT(family); CD_PUT(address); CD_PUT(url); CD_PUT(hops); CD_PUT(stop); CD_PUT(elapsed_ms); CD_PUT(unknown_host);
}
void from_json(const nlohmann::json& j, HttpChallenge& v) {
  CD_GET(name); CD_GET(family); CD_GET(address); CD_GET(url); CD_GET(hops); CD_GET(stop); CD_GET(elapsed_ms); CD_GET(unknown_host);
}

void to_json(nlohmann::json& j, const CertificateFact& v) {
  j = nlohmann::json::object();
  CD_PUT(subject); CD_PUT(issuer); CD_PUT(subject_cn); CD_PUT(issuer_cn); CD_PUT(serial);
  CD_PUT(not_before); CD_PUT(not_after); CD_PUT(dns_names); CD_PUT(key_type); CD_PUT(crl_urls);
  CD_PUT(ocsp_urls); CD_PUT(sha256);
}
void from_json(const nlohmann::json& j, CertificateFact& v) {
  CD_GET(subject); CD_GET(issuer); CD_GET(subject_cn); CD_GET(issuer_cn); CD_GET(serial);
  CD_GET(not_before); CD_GET(not_after); CD_GET(dns_names); CD_GET(key_type); CD_GET(crl_urls);
  CD_GET(ocsp_urls); CD_GET(sha256);
}

void to_json(nlohmann::json& j, const TlsProbe& v) {
  j = nlohmann::json::object();
  CD_PUT(name); CD_PUT(family); CD_PUT(address); CD_PUT(outcome); CD_PUT(error);
  CD_PUT(chain); CD_PUT(verified); CD_PUT(verify_error); CD_PUT(trust_store); CD_PUT(elapsed_ms); CD_PUT(deadline_cut);
}
void from_json(const nlohmann::json& j, TlsProbe& v) {
  CD_GET(name); CD_GET(family); CD_GET(address); CD_GET(outcome); CD_GET(error);
  CD_GET(chain); CD_GET(verified); CD_GET(verify_error); CD_GET(trust_store); CD_GET(elapsed_ms); CD_GET(deadline_cut);
}

void to_json(nlohmann::json& j, const WebFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(probed); CD_PUT(token); CD_PUT(http); CD_PUT(tls); CD_PUT(first_request_ms); CD_PUT(elapsed_ms);
}
void from_json(const nlohmann::json& j, WebFacts& v) {
  CD_GET(probed); CD_GET(token); CD_GET(http); CD_GET(tls); CD_GET(first_request_ms); CD_GET(elapsed_ms);
}

} // namespace certdoctor::facts

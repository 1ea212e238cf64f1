#pragma once
// The web probe: what Let's Encrypt's HTTP-01 request and a visitor's TLS handshake meet at
// each address of each certified name. For every address it requests
// http://NAME/.well-known/acme-challenge/TOKEN on port 80 of exactly that address and follows
// redirects itself, hop by hop, recording each hop; and it opens port 443 with SNI NAME and
// records the served chain. All requests run concurrently on the engine's libcurl multi handle
// (probe::Engine), taking addresses as the DNS answers arrive, so DNS, HTTP and TLS overlap. It judges
// nothing: the CA's redirect policy is applied by the rules.
#include <chrono>
#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "facts/web.hpp"

struct x509_store_st;  // OpenSSL's X509_STORE
struct x509_st;        // OpenSSL's X509

#include "probe/address_policy.hpp"
#include "probe/dns_client.hpp"
#include "probe/shared.hpp"

namespace certdoctor::probe {

/// One request to a certified name's address as it ends (WebRequest::on_result): `kind` "http" (a
/// hop of the challenge path; `url` the URL requested, `status` the HTTP status or 0) or "tls" (the
/// handshake on 443); `outcome` as in facts (web.hpp), "handshake" for a TLS handshake that ended
/// with a certificate read.
struct WebStep {
  std::string kind;
  std::string name;
  std::string address;
  std::string url;
  std::string outcome;
  long status = 0;
};

struct WebRequest {
  std::string token;                  // the random token of the challenge URL ("" = make one)
  std::string ca_file;                // trust store for verifying served chains ("" = system)
  std::chrono::steady_clock::time_point origin;   // the start of the check, for the timings
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds hop_timeout{10000};  // one request, cut further by the deadline
  // The CA's one deadline for the whole fetch of a chain (every hop and the redirect targets'
  // lookups), from the CA model's http01.chain_budget_seconds; 0: none. A hop is not started once
  // it is spent, and a hop's own limit is cut to what is left of it (stop "budget").
  std::chrono::milliseconds chain_budget{0};
  int max_hops = 20;                  // more than any CA follows, so the CA's limit can be judged
  std::size_t max_body = 64 * 1024;   // body bytes read from one answer
  std::size_t excerpt = 4096;         // body bytes kept as evidence
  std::size_t max_header = 32 * 1024; // header bytes accepted from one answer
  std::size_t max_addresses = 4;      // addresses probed per name and family
  bool tls = true;                    // also read the chain on port 443
  bool unknown_host = true;           // also ask each address for a name it has no site for
  // Redirect targets are resolved as the CA resolves them (va/http.go newHTTPValidationTarget):
  // through these resolvers (the check's own), A and AAAA, addresses the CA cannot use dropped
  // (`usable`, from the pipeline), then the first AAAA dialled, else the first A. Without
  // resolvers libcurl resolves them.
  std::vector<DnsServer> resolvers;
  std::function<bool(const std::string& address)> usable;
  // Shared with the other checks of a batch (shared.hpp): each connection waits for a slot at its
  // address (connections at a time and per second); the time waited is the batch's, never the
  // CA's chain budget. nullptr for a lone check.
  std::shared_ptr<SharedProbes> shared;
  // Checked on every socket libcurl opens (the address actually dialled: the pinned one, a
  // redirect's IP literal); a refused one is never connected to and its request ends with the
  // outcome "not-allowed". Mode::open (the command line) admits every address.
  AddressPolicy policy;
  // Called on the worker thread as each request ends; optional, for a front end that shows
  // progress. It may run after the caller has returned (a stuck worker): it must own what it uses.
  std::function<void(const WebStep&)> on_result;
};

/// A random challenge token: 43 characters of base64url, like an ACME token.
std::string random_token();

/// Parses PEM certificates (leaf first) into facts; unparsable ones are skipped.
std::vector<facts::CertificateFact> parse_pem_chain(const std::vector<std::string>& pem);

/// Where the system trust store is read from. As OpenSSL's default paths: the directory of
/// certificates named by subject hash ($SSL_CERT_DIR, a list separated by ':', or OpenSSL's
/// default, /usr/lib/ssl/certs on Debian) and the bundle file ($SSL_CERT_FILE, or OpenSSL's
/// default). The directory is looked up by the subject of the issuer a chain needs, each
/// certificate read when first needed; the bundle (about 140 certificates, each decoded when
/// read) is read only when no directory of the list holds a hashed name (`dir` empty then) or
/// when $SSL_CERT_FILE names another file than the default bundle.
struct SystemTrustPaths {
  std::string dir;   // "" = none with hashed names
  std::string file;  // "" = not read
};
SystemTrustPaths system_trust_paths();

/// Trusted roots, read once: the system trust store (system_trust_paths()), or a PEM file of
/// roots.
class TrustStore {
 public:
  explicit TrustStore(const std::string& ca_file);  // "" = the system's
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;
  /// Verifies a PEM chain (leaf first) at the current time. Returns "" when it verifies, else
  /// the reason (OpenSSL's, or that the store could not be read). Never throws.
  std::string verify(const std::vector<std::string>& pem) const;
  /// The same for a chain already parsed (leaf first), as the TLS handshake gave it.
  std::string verify(const std::vector<::x509_st*>& chain) const;

  /// The store for `ca_file`, read at the first call for that file and kept for the rest of the
  /// process (every check and every thread of it uses the same one; verifying is thread-safe).
  static const TrustStore& shared(const std::string& ca_file);

 private:
  ::x509_store_st* store_;
  std::string error_;
};

/// TrustStore::shared(ca_file).verify(pem), for a single chain.
std::string verify_pem_chain(const std::vector<std::string>& pem, const std::string& ca_file);

/// The web probe of one check, as a state machine on a libcurl multi handle and a DNS loop that
/// probe::Engine drives on its one thread (every call on that thread). Addresses come in as the
/// DNS answers arrive; every request runs on the multi handle, never blocking the loop: a
/// redirect target is looked up on the DNS loop while the others go on.
class WebCheck {
 public:
  /// `multi`: the engine's CURLM; the transfers carry a CurlOwner in CURLOPT_PRIVATE, whose
  /// on_done the engine calls when one ends. `multi` and `dns` must outlive this object.
  WebCheck(WebRequest request, void* multi, DnsLoop& dns);
  /// Removes its transfers from the multi handle.
  ~WebCheck();
  WebCheck(const WebCheck&) = delete;
  WebCheck& operator=(const WebCheck&) = delete;

  /// Adds the addresses of one certified name ("ipv4" or "ipv6") and starts their requests.
  /// Duplicates and addresses beyond the cap are ignored.
  void add(const std::string& name, const std::string& family, const std::vector<std::string>& addresses);
  /// No more addresses will come.
  void close();
  /// Starts requests whose connection slot came free; at the deadline ends everything still
  /// open (a timeout, or not sent). Returns the latest time to call it again.
  std::chrono::steady_clock::time_point step(std::chrono::steady_clock::time_point now);
  /// Closed and every request ended (or the deadline came).
  bool done() const;
  /// Ends what is still open and moves the results out.
  void finish(facts::WebFacts& out);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

} // namespace certdoctor::probe

#include "probe/web_probe.hpp"

#include "util/text.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <mutex>
#include <set>

#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/random.h>

#include "facts/outside.hpp"
#include "probe/dns_probe.hpp"
#include "probe/curl_owner.hpp"
#include "probe/fetch.hpp"
#include "util/url.hpp"

namespace certdoctor::probe {

namespace outcome = facts::web_outcome;

using Clock = std::chrono::steady_clock;

// --- certificates ---------------------------------------------------------------------------

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr read_pem(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string name_text(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || !name) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

std::string common_name(const X509_NAME* name) {
  if (!name) return "";
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  return facts::format_utc_time(static_cast<std::int64_t>(timegm(&tm)));
}

std::string key_type(X509* x) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (!key) return "";
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
  if (id == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
      std::string g(group, len);
      if (g == "prime256v1") g = "P-256";
      else if (g == "secp384r1") g = "P-384";
      else if (g == "secp521r1") g = "P-521";
      return "EC " + g;
    }
    return "EC";
  }
  if (id == EVP_PKEY_ED25519) return "Ed25519";
  return OBJ_nid2sn(id) ? OBJ_nid2sn(id) : "unknown";
}

facts::CertificateFact to_fact(X509* x) {
  facts::CertificateFact c;
  c.subject = name_text(X509_get_subject_name(x));
  c.issuer = name_text(X509_get_issuer_name(x));
  c.subject_cn = common_name(X509_get_subject_name(x));
  c.issuer_cn = common_name(X509_get_issuer_name(x));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      c.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  c.not_before = time_text(X509_get0_notBefore(x));
  c.not_after = time_text(X509_get0_notAfter(x));
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = g->d.dNSName;
      c.dns_names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                              static_cast<std::size_t>(ASN1_STRING_length(s)))));
    }
    GENERAL_NAMES_free(names);
  }
  c.key_type = key_type(x);
  if (auto* points = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(x, NID_crl_distribution_points, nullptr, nullptr))) {
    for (int i = 0; i < sk_DIST_POINT_num(points); ++i) {
      const DIST_POINT* dp = sk_DIST_POINT_value(points, i);
      if (!dp->distpoint || dp->distpoint->type != 0) continue;
      const GENERAL_NAMES* full = dp->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num(full); ++j) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(full, j);
        if (g->type != GEN_URI) continue;
        const ASN1_IA5STRING* s = g->d.uniformResourceIdentifier;
        c.crl_urls.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                static_cast<std::size_t>(ASN1_STRING_length(s)));
      }
    }
    CRL_DIST_POINTS_free(points);
  }
  if (STACK_OF(OPENSSL_STRING)* ocsp = X509_get1_ocsp(x)) {
    for (int i = 0; i < sk_OPENSSL_STRING_num(ocsp); ++i) c.ocsp_urls.emplace_back(sk_OPENSSL_STRING_value(ocsp, i));
    X509_email_free(ocsp);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha256(), md, &len) == 1) {
    static const char* hex = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      c.sha256 += hex[md[i] >> 4];
      c.sha256 += hex[md[i] & 15];
    }
  }
  return c;
}

// Random bytes from the kernel (getrandom). Not OpenSSL's RAND_bytes: its first call sets up
// the library's random generator, which costs more CPU than all the DNS questions of a check;
// the names and tokens need unpredictability, not a DRBG.
void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r < 0 && errno != EINTR) {
      std::random_device rd;
      for (; got < n; ++got) out[got] = static_cast<unsigned char>(rd());
    }
  }
}

} // namespace

std::string random_token() {
  unsigned char bytes[32];
  random_bytes(bytes, sizeof bytes);
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  // 32 bytes as unpadded base64url: 43 characters.
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::vector<facts::CertificateFact> parse_pem_chain(const std::vector<std::string>& pem) {
  std::vector<facts::CertificateFact> out;
  for (const auto& p : pem)
    if (auto x = read_pem(p)) out.push_back(to_fact(x.get()));
  return out;
}

namespace {

// A name as c_rehash and update-ca-certificates make them: 8 hexadecimal digits, '.', a number.
bool hashed_name(const char* name) {
  int i = 0;
  for (; i < 8; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
  if (name[i++] != '.' || !name[i]) return false;
  for (; name[i]; ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

bool holds_hashed_names(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (const dirent* e = readdir(d))
    if (hashed_name(e->d_name)) {
      found = true;
      break;
    }
  closedir(d);
  return found;
}

bool same_file(const char* a, const char* b) {
  struct stat sa{}, sb{};
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

} // namespace

SystemTrustPaths system_trust_paths() {
  SystemTrustPaths out;
  const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
  const char* file_env = std::getenv(X509_get_default_cert_file_env());
  const std::string dirs = dir_env ? dir_env : X509_get_default_cert_dir();
  bool hashed = false;
  for (std::size_t start = 0; start <= dirs.size() && !hashed;) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    hashed = end > start && holds_hashed_names(dirs.substr(start, end - start));
    start = end + 1;
  }
  if (hashed) out.dir = dirs;
  // $SSL_CERT_FILE naming the default bundle itself (some environments set it so for every
  // program) is the default: the bundle holds what the directory holds (update-ca-certificates
  // writes both), so the directory does.
  const bool named_default = file_env && same_file(file_env, X509_get_default_cert_file());
  if (!hashed || (file_env && !named_default)) out.file = file_env ? file_env : X509_get_default_cert_file();
  return out;
}

TrustStore::TrustStore(const std::string& ca_file) : store_(X509_STORE_new()) {
  if (!store_) {
    error_ = "cannot create a trust store";
    return;
  }
  if (ca_file.empty()) {
    // As X509_STORE_set_default_paths, whose errors (a file or directory absent) are not
    // failures either: a chain then ends at "unable to get local issuer certificate".
    const SystemTrustPaths paths = system_trust_paths();
    if (!paths.file.empty()) X509_STORE_load_file(store_, paths.file.c_str());
    if (!paths.dir.empty()) X509_STORE_load_path(store_, paths.dir.c_str());
    ERR_clear_error();
    return;
  }
  if (X509_STORE_load_file(store_, ca_file.c_str()) != 1) error_ = "cannot read the CA file " + ca_file;
}

TrustStore::~TrustStore() { X509_STORE_free(store_); }

std::string TrustStore::verify(const std::vector<std::string>& pem) const {
  std::vector<X509Ptr> certs;
  std::vector<X509*> chain;
  for (const auto& p : pem)
    if (auto x = read_pem(p)) {
      chain.push_back(x.get());
      certs.push_back(std::move(x));
    }
  return verify(chain);
}

std::string TrustStore::verify(const std::vector<X509*>& certs) const {
  if (certs.empty()) return "no certificate was served";
  if (!error_.empty()) return error_;
  std::string result;
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (!untrusted || !ctx) {
    result = "out of memory";
  } else {
    for (std::size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted, certs[i]);
    if (X509_STORE_CTX_init(ctx, store_, certs[0], untrusted) != 1) {
      result = "cannot start the verification";
    } else if (X509_verify_cert(ctx) != 1) {
      result = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  return result;
}

const TrustStore& TrustStore::shared(const std::string& ca_file) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<TrustStore>> stores;  // never freed: lives as long as the process
  const std::lock_guard<std::mutex> lock(mutex);
  auto& store = stores[ca_file];
  if (!store) store = std::make_unique<TrustStore>(ca_file);
  return *store;
}

std::string verify_pem_chain(const std::vector<std::string>& pem, const std::string& ca_file) {
  return TrustStore::shared(ca_file).verify(pem);
}

// --- the worker -----------------------------------------------------------------------------

struct WebTarget {
  std::string name, family, address;
};

namespace {

struct Transfer {
  // http: a hop of a challenge chain; tls: the handshake on 443; unknown_host: one of the
  // exchanges of a chain's UnknownHostProbe (`slot`).
  enum Kind { http, tls, unknown_host } kind = http;
  enum Slot { challenge, root, name_root } slot = challenge;
  std::size_t index = 0;               // into result.http or result.tls
  CURL* easy = nullptr;
  Clock::time_point started;
  bool budget_cut = false;             // the hop's limit is what was left of the chain's budget
  std::string body;
  std::size_t body_bytes = 0;
  std::size_t header_bytes = 0;
  bool body_truncated = false;
  bool header_too_large = false;
  std::size_t max_body = 0, excerpt = 0, max_header = 0;
  curl_slist* resolve = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::string tls_version;             // read while the connection is open (first header line)
  EVP_MD_CTX* sha = nullptr;           // SHA-256 of every body byte read
  std::string address;                 // the address dialled ("" when libcurl resolves the name)
  long limit = 0;                      // the transfer's own time limit, in ms
  bool deadline_cut = false;           // that limit is what was left of the check's deadline
  bool holds_slot = false;             // a connection slot of the batch's politeness is held
  Clock::time_point waiting_since{};   // when it began to wait for a slot
  const AddressPolicy* policy = nullptr;  // checked on every socket libcurl opens
  std::string not_allowed;             // why the policy refused the address libcurl was to dial
  std::string not_allowed_address;
  STACK_OF(X509)* served = nullptr;    // tls: the chain the server sent, leaf first (our references)
};

// OpenSSL's certificate verification of a TLS probe's handshake (CURLOPT_SSL_CTX_FUNCTION
// installs it on the connection's context): it keeps the chain the server sent, as parsed by the
// handshake itself, so that each certificate is decoded once. libcurl's CURLOPT_CERTINFO would
// print every field of every certificate as text, to be parsed again here; and with
// CURLOPT_CONNECT_ONLY and a connection that may not be reused, the connection (and its SSL
// object) is gone by the time the transfer is reported done. The handshake does not depend on
// the result (CURLOPT_SSL_VERIFYPEER is off): the probe verifies the chain afterwards, against
// its own trust store.
int keep_served_chain(X509_STORE_CTX* ctx, void* user) {
  auto* t = static_cast<Transfer*>(user);
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(ctx);  // the peer's chain, leaf first
  if (t->served) sk_X509_pop_free(t->served, X509_free);
  t->served = sent ? X509_chain_up_ref(sent) : nullptr;
  if (!t->served) {
    // No chain: the leaf alone (OpenSSL calls this only when a certificate was received).
    if (X509* leaf = X509_STORE_CTX_get0_cert(ctx)) {
      t->served = sk_X509_new_null();
      if (t->served && X509_up_ref(leaf) == 1 && sk_X509_push(t->served, leaf) <= 0) X509_free(leaf);
    }
  }
  return 1;
}

CURLcode on_ssl_context(CURL*, void* ssl_ctx, void* user) {
  SSL_CTX_set_cert_verify_callback(static_cast<SSL_CTX*>(ssl_ctx), keep_served_chain, user);
  return CURLE_OK;
}

// libcurl's CURLOPT_OPENSOCKETFUNCTION: the address about to be dialled, whatever led to it
// (the pinned resolve, a redirect to an IP literal, a proxy), passes the policy or no socket is
// made, and the transfer ends with CURLE_COULDNT_CONNECT.
curl_socket_t open_socket(void* user, curlsocktype purpose, struct curl_sockaddr* a) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (t->policy) {
    const auto why = t->policy->refusal(&a->addr, a->addrlen);
    if (!why.empty()) {
      char text[INET6_ADDRSTRLEN] = {};
      if (a->family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a->addr)->sin_addr, text, sizeof text);
      else if (a->family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a->addr)->sin6_addr, text, sizeof text);
      t->not_allowed = why;
      t->not_allowed_address = text[0] ? text : "?";
      return CURL_SOCKET_BAD;
    }
  }
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  t->body_bytes += n;
  if (t->sha) EVP_DigestUpdate(t->sha, data, n);
  if (t->body.size() < t->excerpt) t->body.append(data, std::min(n, t->excerpt - t->body.size()));
  if (t->body_bytes > t->max_body) {
    t->body_truncated = true;
    return 0;  // ends the transfer: what Let's Encrypt reads of a body is far less
  }
  return n;
}

std::size_t on_header(char*, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->tls_version.empty()) {
    // The TLS session is only valid while the connection is open, that is during the transfer.
    struct curl_tlssessioninfo* info = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK && info &&
        info->backend == CURLSSLBACKEND_OPENSSL && info->internals)
      t->tls_version = SSL_get_version(static_cast<SSL*>(info->internals));
  }
  t->header_bytes += n;
  if (t->header_bytes > t->max_header) {
    t->header_too_large = true;
    return 0;
  }
  return n;
}

std::string header_value(CURL* e, const char* name) {
  struct curl_header* h = nullptr;
  if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value) return h->value;
  return "";
}

std::string hex_lower(const unsigned char* bytes, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 15];
  }
  return out;
}

// The SHA-256 of the body bytes a transfer read, "" when it read none.
std::string body_digest(Transfer& t) {
  if (!t.sha || t.body_bytes == 0) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(t.sha, md, &len) != 1) return "";
  return hex_lower(md, len);
}

// A random host name no server has a site for: one label of 16 lower-case letters and digits
// under .invalid, which never resolves (RFC 2606), so only the pinned address answers it.
std::string random_unknown_host() {
  unsigned char bytes[16];
  random_bytes(bytes, sizeof bytes);
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = "certdoctor-";
  for (unsigned char b : bytes) out += alphabet[b % 36];
  return out + ".invalid";
}

// Bytes of an answer body are kept as evidence only as valid UTF-8 (others become '?').
std::string utf8_clean(const std::string& in) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      if ((static_cast<unsigned char>(in[i + k]) >> 6) != 2) ok = false;
    if (ok && len == 1 && c < 0x20 && c != '\n' && c != '\r' && c != '\t') ok = false;
    if (!ok) {
      // A multi-byte character cut by the excerpt's end is dropped, not replaced.
      if (len > 1 && i + len > in.size()) break;
      out += '?';
      ++i;
      continue;
    }
    out.append(in, i, len);
    i += len;
  }
  return out;
}

std::string outcome_of(Transfer& t, CURLcode code) {
  if (!t.not_allowed.empty()) return outcome::not_allowed;
  long os_errno = 0;
  curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_errno);
  curl_off_t connect_time = 0;
  curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connect_time);
  switch (code) {
  case CURLE_OK:
    return outcome::response;
  case CURLE_WRITE_ERROR:
    if (t.body_truncated) return outcome::response;
    if (t.header_too_large) return outcome::too_large;
    return outcome::error;
  case CURLE_COULDNT_CONNECT:
    if (os_errno == ECONNREFUSED) return outcome::refused;
    if (os_errno == ETIMEDOUT) return outcome::connect_timeout;
    return outcome::unreachable;
  case CURLE_OPERATION_TIMEDOUT:
    return connect_time == 0 ? outcome::connect_timeout : outcome::timeout;
  case CURLE_COULDNT_RESOLVE_HOST:
    return outcome::unresolved;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    return outcome::reset;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_USE_SSL_FAILED:
    return outcome::tls_error;
  case CURLE_FILESIZE_EXCEEDED:
    return outcome::too_large;
  default:
    return outcome::error;
  }
}

// The web probe of one check: its transfers on a multi handle the engine drives, its redirect
// targets' lookups on the engine's DNS loop. Everything runs on the engine's thread.
class Worker : public CurlOwner {
 public:
  Worker(WebRequest request, CURLM* multi, DnsLoop& dns) : request_(std::move(request)), multi_(multi), dns_loop_(dns) {
    // The addresses pinned with CURLOPT_RESOLVE go to a name cache of this check's own, freed
    // with it: in the multi handle's cache they would never expire, and libcurl walks that whole
    // cache at every transfer (a batch's CPU per transfer would grow with the batch).
    share_ = curl_share_init();
    if (share_ && curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
      curl_share_cleanup(share_);
      share_ = nullptr;
    }
    if (request_.token.empty()) request_.token = random_token();
    result_.token = request_.token;
    result_.probed = true;
  }

  ~Worker() override {
    for (auto& t : waiting_) cleanup(*t);
    for (auto& [id, t] : parked_) cleanup(*t);
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      cleanup(*t);
    }
    if (share_) curl_share_cleanup(share_);  // after every easy handle that used it
  }

  void add_addresses(const std::string& name, const std::string& family, const std::vector<std::string>& addresses) {
    if (closed_ || ended_) return;
    for (const auto& a : addresses) {
      if (!seen_.insert(name + "|" + a).second) continue;
      auto& count = per_family_[name + "|" + family];
      if (count >= request_.max_addresses) continue;
      ++count;
      begin(WebTarget{name, family, a});
    }
  }

  void close() { closed_ = true; }

  // Starts what waited for a slot; at the deadline ends everything still open. Returns when to
  // look again.
  Clock::time_point step(Clock::time_point now) {
    if (ended_) return Clock::time_point::max();
    if (now >= request_.deadline) {
      end_all();
      return Clock::time_point::max();
    }
    // Requests waiting for a connection slot are looked at again when the batch's limits said
    // to, not at every turn of the loop.
    if (!waiting_.empty() && now >= retry_at_) retry_at_ = start_waiting();
    return std::min(waiting_.empty() ? Clock::time_point::max() : retry_at_, request_.deadline);
  }

  bool done() const { return ended_ || (closed_ && transfers_.empty() && waiting_.empty() && parked_.empty()); }

  void finish(facts::WebFacts& out) {
    end_all();
    if (!result_.http.empty()) result_.elapsed_ms = since_origin();
    out = std::move(result_);
  }

  void on_done(CURL* easy, CURLcode code) override {
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    complete(*t, code);
    cleanup(*t);
  }

 private:
  void end_all() {
    if (ended_) return;
    ended_ = true;
    for (auto& t : waiting_) {
      not_started(*t);
      cleanup(*t);
    }
    waiting_.clear();
    for (auto& [id, t] : parked_) {
      abandon(*t);
      cleanup(*t);
    }
    parked_.clear();
    for (auto& [easy, t] : transfers_) {
      abandon(*t);
      curl_multi_remove_handle(multi_, easy);
      cleanup(*t);
    }
    transfers_.clear();
    resolutions_.clear();
    dns_.reset();
  }

  long limit_ms() const {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(request_.deadline - Clock::now());
    return static_cast<long>(std::min(request_.hop_timeout, remaining).count());
  }

  static std::string pin(const std::string& host, int port, const std::string& address) {
    const bool v6 = address.find(':') != std::string::npos;
    return host + ":" + std::to_string(port) + ":" + (v6 ? "[" + address + "]" : address);
  }

  double since_origin() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - request_.origin).count();
  }

  void begin(const WebTarget& target) {
    if (result_.http.empty()) result_.first_request_ms = since_origin();
    facts::HttpChallenge c;
    c.name = target.name;
    c.family = target.family;
    c.address = target.address;
    c.url = "http://" + target.name + "/.well-known/acme-challenge/" + result_.token;
    result_.http.push_back(c);
    pinned_.push_back({target.name, target.address});
    chain_started_.push_back(Clock::now());
    start_hop(result_.http.size() - 1, c.url);
    if (request_.unknown_host) {
      // The same address asked for a name it cannot have a site for, at the challenge path and
      // at "/", and for the certified name's own "/": a server that answers the certified name
      // as it answers the unknown one has no site for it (its default site answers).
      auto& u = result_.http.back().unknown_host;
      u.host = unknown_host_;
      start_unknown(result_.http.size() - 1, Transfer::challenge, "http://" + u.host + "/.well-known/acme-challenge/" + result_.token);
      start_unknown(result_.http.size() - 1, Transfer::root, "http://" + u.host + "/");
      start_unknown(result_.http.size() - 1, Transfer::name_root, "http://" + target.name + "/");
    }
    if (request_.tls) {
      facts::TlsProbe p;
      p.name = target.name;
      p.family = target.family;
      p.address = target.address;
      p.trust_store = request_.ca_file.empty() ? "system" : request_.ca_file;
      result_.tls.push_back(p);
      start_tls(result_.tls.size() - 1);
    }
  }

  CURL* make_easy(Transfer& t, const std::string& url, long limit) {
    CURL* e = curl_easy_init();
    if (!e) return nullptr;
    if (share_) curl_easy_setopt(e, CURLOPT_SHARE, share_);
    // The bodies read are small (the challenge file; at most max_body of any other): a 4 KiB
    // receive buffer instead of libcurl's 16 KiB, for the hundreds of connections a batch holds.
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    t.easy = e;
    t.started = Clock::now();
    t.max_body = request_.max_body;
    t.excerpt = request_.excerpt;
    t.max_header = request_.max_header;
    t.limit = limit;
    t.deadline_cut = !t.budget_cut && limit < request_.hop_timeout.count();
    t.sha = EVP_MD_CTX_new();
    if (t.sha && EVP_DigestInit_ex(t.sha, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(t.sha);
      t.sha = nullptr;
    }
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, limit);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, limit);
    // Every request on a connection of its own, as a CA's validation does.
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    // Let's Encrypt does not check the certificate of an https redirect target; the served chain
    // is read and verified separately (start_tls).
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "certdoctor/" CERTDOCTOR_VERSION " (HTTP-01 pre-flight check)");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    if (request_.policy.restricts()) {
      t.policy = &request_.policy;
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
      // No proxy from the environment: the address dialled is the address checked.
      curl_easy_setopt(e, CURLOPT_PROXY, "");
    }
    return e;
  }

  void start_hop(std::size_t index, std::string url) {  // a copy: pushing the hop may move its source
    facts::HttpChallenge& c = result_.http[index];
    facts::HttpExchange hop;
    hop.url = url;
    c.hops.push_back(hop);
    if (c.hops.size() == 1) chain_started_[index] = Clock::now();
    const double since_start = chain_ms(index);
    c.hops.back().started_ms = since_start;
    long limit = limit_ms();
    if (limit <= 0) {
      c.hops.back().error = "no time left before the deadline";
      c.stop = "deadline";
      c.elapsed_ms = since_start;
      return;
    }
    // The CA gives up on the whole chain at its one deadline: no hop after it, and none longer
    // than what is left of it.
    bool budget_cut = false;
    if (request_.chain_budget.count() > 0) {
      const long left = static_cast<long>(static_cast<double>(request_.chain_budget.count()) - since_start);
      if (left <= 0) {
        c.hops.back().error = "the CA's time for the whole chain was spent before this request";
        c.stop = "budget";
        c.elapsed_ms = since_start;
        return;
      }
      if (left < limit) limit = left, budget_cut = true;
    }
    auto t = std::make_unique<Transfer>();
    t->kind = Transfer::http;
    t->index = index;
    t->budget_cut = budget_cut;
    CURL* e = make_easy(*t, url, limit);
    if (e) {
      // As Boulder's Go client: HTTP/1.1 only (a custom transport turns Go's HTTP/2 off) and TLS
      // 1.2 at least (Go's client default), so an older server fails at the handshake.
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
      curl_easy_setopt(e, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
      // An answer without an HTTP/1.x status line is taken as HTTP/0.9, so that its first bytes
      // reach on_body and can be named (an HTTP/2 SETTINGS frame); the hop never counts as an
      // answer (see finish).
      curl_easy_setopt(e, CURLOPT_HTTP09_ALLOWED, 1L);
    }
    if (!e) {
      c.hops.back().outcome = outcome::error;
      c.hops.back().error = "cannot initialise libcurl";
      c.stop = "failed";
      return;
    }
    // The first request goes to the address under test. A redirect target is resolved again, as
    // the CA does for every hop (the same name included), and dialled on its first AAAA, else its
    // first A, with no other address tried.
    const auto& [name, address] = pinned_[index];
    const auto u = parse_url(url);
    const bool first = c.hops.size() == 1;
    if (u && first && u->host == name) {
      t->address = address;
      t->resolve = curl_slist_append(t->resolve, pin(name, u->port, address).c_str());
      curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    } else if (u && !first && !request_.resolvers.empty() && !u->host.empty() && !u->ip_literal()) {
      // The request waits for the lookup (on the engine's DNS loop, never blocking it).
      const std::uint64_t id = next_parked_++;
      parked_.emplace(id, std::move(t));
      resolve_host(u->host, [this, index, id, host = u->host, port = u->port](const std::vector<std::string>& addresses) {
        auto it = parked_.find(id);
        if (it == parked_.end()) return;
        std::unique_ptr<Transfer> t = std::move(it->second);
        parked_.erase(it);
        resolved_hop(index, std::move(t), host, port, addresses);
      });
      return;
    } else if (u && u->host == name) {
      // Without resolvers of its own (tests), the certified name stays on the address under test.
      t->address = address;
      t->resolve = curl_slist_append(t->resolve, pin(name, u->port, address).c_str());
      curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    }
    add(std::move(t));
  }

  static facts::HttpExchange& slot_of(facts::HttpChallenge& c, Transfer::Slot slot) {
    return slot == Transfer::challenge ? c.unknown_host.challenge
           : slot == Transfer::root    ? c.unknown_host.root
                                       : c.unknown_host.name_root;
  }

  // One request of a chain's UnknownHostProbe, to the chain's address, no redirect followed.
  void start_unknown(std::size_t index, Transfer::Slot slot, const std::string& url) {
    facts::HttpExchange& x = slot_of(result_.http[index], slot);
    x.url = url;
    const long limit = limit_ms();
    if (limit <= 0) {
      x.error = "no time left before the deadline";
      return;
    }
    auto t = std::make_unique<Transfer>();
    t->kind = Transfer::unknown_host;
    t->slot = slot;
    t->index = index;
    CURL* e = make_easy(*t, url, limit);
    if (!e) {
      x.outcome = outcome::error;
      x.error = "cannot initialise libcurl";
      return;
    }
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    const auto u = parse_url(url);
    t->address = pinned_[index].second;
    t->resolve = curl_slist_append(t->resolve, pin(u ? u->host : "", u ? u->port : 80, pinned_[index].second).c_str());
    curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    add(std::move(t));
  }

  // A redirect's hop once its host is looked up: dialled on the first usable address.
  void resolved_hop(std::size_t index, std::unique_ptr<Transfer> t, const std::string& host, int port,
                    const std::vector<std::string>& addresses) {
    facts::HttpChallenge& c = result_.http[index];
    c.hops.back().addresses_resolved = addresses;
    if (addresses.empty()) {
      c.hops.back().outcome = outcome::unresolved;
      c.hops.back().error = "no usable A or AAAA record for " + host;
      c.stop = "failed";
      c.elapsed_ms = chain_ms(index);
      cleanup(*t);
      return;
    }
    // The lookup took time of the chain's budget too.
    if (request_.chain_budget.count() > 0) {
      const long left = static_cast<long>(static_cast<double>(request_.chain_budget.count()) - chain_ms(index));
      if (left <= 0) {
        c.hops.back().error = "the CA's time for the whole chain was spent before this request";
        c.stop = "budget";
        c.elapsed_ms = chain_ms(index);
        cleanup(*t);
        return;
      }
      if (left < t->limit) {
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, left);
        t->budget_cut = true;
        t->limit = left;
      }
    }
    t->address = addresses.front();
    t->resolve = curl_slist_append(t->resolve, pin(host, port, addresses.front()).c_str());
    curl_easy_setopt(t->easy, CURLOPT_RESOLVE, t->resolve);
    add(std::move(t));
  }

  // The usable AAAA addresses then the usable A addresses of `host` in answer order, asked of
  // the check's resolvers (the next one only when one gave no response), once per host and check;
  // `then` is called with them (at once when known).
  using Then = std::function<void(const std::vector<std::string>&)>;
  struct Resolution {
    std::size_t server = 0;
    int open = 0;
    std::optional<facts::Lookup> aaaa, a;
    std::vector<Then> waiting;
  };

  void resolve_host(const std::string& host, Then then) {
    if (auto it = resolved_.find(host); it != resolved_.end()) {
      then(it->second);
      return;
    }
    auto& r = resolutions_[host];
    r.waiting.push_back(std::move(then));
    if (r.waiting.size() == 1) ask_host(host);
  }

  void ask_host(const std::string& host) {
    if (!dns_) {
      DnsClient::Options options;
      options.attempt_timeout = std::chrono::milliseconds(1500);
      options.shared = request_.shared;
      dns_ = std::make_unique<DnsClient>(options, dns_loop_);
      dns_->set_deadline(request_.deadline);
    }
    Resolution& r = resolutions_[host];
    r.aaaa.reset();
    r.a.reset();
    r.open = 2;
    // AAAA and A are asked at once, so that the chain waits for one round trip, not two.
    const auto until = std::min(request_.deadline, Clock::now() + std::chrono::seconds(4));
    const DnsServer& server = request_.resolvers[r.server];
    for (std::uint16_t type : {std::uint16_t{28}, std::uint16_t{1}})
      dns_->query(server, host, type, dns::QueryFlags{}, [this, host, type](DnsResult result) {
        auto it = resolutions_.find(host);
        if (it == resolutions_.end()) return;
        Resolution& r = it->second;
        (type == 28 ? r.aaaa : r.a) = to_lookup(result);
        if (--r.open > 0) return;
        const bool answered = (r.aaaa && !r.aaaa->transport_failed()) || (r.a && !r.a->transport_failed());
        if (!answered && r.server + 1 < request_.resolvers.size()) {
          ++r.server;
          ask_host(host);
          return;
        }
        std::vector<std::string> out;
        for (const auto& [lookup, name] : {std::pair{&r.aaaa, "AAAA"}, std::pair{&r.a, "A"}})
          if (*lookup && !(*lookup)->transport_failed())
            for (const auto& addr : (*lookup)->values(name))
              if (!request_.usable || request_.usable(addr)) out.push_back(addr);
        const std::vector<Then> waiting = std::move(r.waiting);
        resolutions_.erase(it);
        const auto& known = resolved_[host] = std::move(out);
        for (const auto& then : waiting) then(known);
      }, std::nullopt, until);
  }

  void start_tls(std::size_t index) {
    facts::TlsProbe& p = result_.tls[index];
    const long limit = limit_ms();
    if (limit <= 0) {
      p.error = "no time left before the deadline";
      return;
    }
    auto t = std::make_unique<Transfer>();
    t->kind = Transfer::tls;
    t->index = index;
    CURL* e = make_easy(*t, "https://" + p.name + "/", limit);
    if (!e) {
      p.outcome = outcome::error;
      p.error = "cannot initialise libcurl";
      return;
    }
    t->address = p.address;
    t->resolve = curl_slist_append(t->resolve, pin(p.name, 443, p.address).c_str());
    curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, static_cast<void*>(t.get()));
    add(std::move(t));
  }

  void add(std::unique_ptr<Transfer> t) {
    // In a batch, a connection waits for a slot at its address; the requests already waiting
    // go first.
    if (request_.shared && !t->address.empty()) {
      bool queued = false;
      for (const auto& w : waiting_) queued = queued || w->address == t->address;
      const auto now = Clock::now();
      const auto wait = queued ? Clock::duration::zero() : request_.shared->politeness.web_open(t->address, now);
      if (queued || wait > Clock::duration::zero()) {
        t->waiting_since = now;
        if (!queued) retry_at_ = std::min(retry_at_, now + wait);
        waiting_.push_back(std::move(t));
        return;
      }
      t->holds_slot = true;
    }
    launch(std::move(t));
  }

  // Starts the requests whose slot has come free, in the order they came; returns when to look
  // again for the others.
  Clock::time_point start_waiting() {
    Clock::time_point next = Clock::time_point::max();
    std::set<std::string> blocked;  // addresses whose first waiting request is still waiting
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      Transfer& t = **it;
      const auto now = Clock::now();
      if (blocked.count(t.address)) {
        ++it;
        continue;
      }
      if (now >= request_.deadline) {
        not_started(t);
        cleanup(t);
        it = waiting_.erase(it);
        continue;
      }
      if (auto wait = request_.shared->politeness.web_open(t.address, now); wait > Clock::duration::zero()) {
        blocked.insert(t.address);
        next = std::min(next, now + wait);
        ++it;
        continue;
      }
      t.holds_slot = true;
      // The time spent waiting is the batch's: the chain's clock and the request's own start
      // move with it, so that the facts time what the server did.
      const auto waited = now - t.waiting_since;
      t.started = now;
      if (t.kind == Transfer::http) {
        chain_started_[t.index] += waited;
        result_.http[t.index].hops.back().started_ms = chain_ms(t.index);
      }
      const long left = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(request_.deadline - now).count());
      if (left <= 0) {
        not_started(t);
        cleanup(t);
        it = waiting_.erase(it);
        continue;
      }
      if (left < t.limit) {
        curl_easy_setopt(t.easy, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(t.easy, CURLOPT_CONNECTTIMEOUT_MS, left);
        t.budget_cut = false;  // the deadline, not the CA's budget, now cuts it
        t.deadline_cut = true;
      }
      launch(std::move(*it));
      it = waiting_.erase(it);
    }
    return next;
  }

  // A request the deadline came to while it waited for a connection slot: our side, not sent.
  void not_started(Transfer& t) {
    const std::string why = "not sent before the deadline (waiting for a connection to " + t.address +
                            ": at most " + std::to_string(request_.shared->politeness.limits().web_connections) +
                            " at a time in this batch)";
    if (t.kind == Transfer::tls) {
      result_.tls[t.index].error = why;
      return;
    }
    if (t.kind == Transfer::unknown_host) {
      slot_of(result_.http[t.index], t.slot).error = why;
      return;
    }
    auto& c = result_.http[t.index];
    c.hops.back().error = why;
    c.stop = "deadline";
    c.elapsed_ms = chain_ms(t.index);
  }

  void launch(std::unique_ptr<Transfer> t) {
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<CurlOwner*>(this));
    if (curl_multi_add_handle(multi_, e) != CURLM_OK) {
      abandon(*t, "cannot start the transfer", false);
      cleanup(*t);
      return;
    }
    transfers_[e] = std::move(t);
  }

  void complete(Transfer& t, CURLcode code) {
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t.started).count();
    char* ip = nullptr;
    curl_easy_getinfo(t.easy, CURLINFO_PRIMARY_IP, &ip);
    const std::string detail = !t.not_allowed.empty() ? AddressPolicy::explain(t.not_allowed_address, t.not_allowed)
                               : t.error[0]                 ? t.error
                                                            : curl_easy_strerror(code);
    if (!t.not_allowed.empty()) ip = t.not_allowed_address.data();
    const std::string result = outcome_of(t, code);
    if (request_.on_result && t.kind != Transfer::unknown_host) {
      long status = 0;
      char* url = nullptr;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &url);
      const bool tls = t.kind == Transfer::tls;
      request_.on_result(WebStep{tls ? "tls" : "http", tls ? result_.tls[t.index].name : result_.http[t.index].name, t.address,
                                 url ? url : "", tls && result == outcome::response ? outcome::handshake : result, tls ? 0 : status});
    }
    if (t.kind == Transfer::tls) {
      facts::TlsProbe& p = result_.tls[t.index];
      p.elapsed_ms = elapsed;
      const int served = t.served ? sk_X509_num(t.served) : 0;
      if (result == outcome::response && served > 0) {
        p.outcome = outcome::handshake;
        // Each certificate parsed once, by the handshake, for its facts and for the
        // verification: with OpenSSL 3 a parse (its public key through the decoder framework)
        // costs about 1.5M instructions.
        std::vector<X509*> chain;
        for (int i = 0; i < served; ++i) {
          X509* x = sk_X509_value(t.served, i);
          p.chain.push_back(to_fact(x));
          chain.push_back(x);
        }
        // The trust store is read once per process, at the first chain to verify. A chain this
        // check has already verified (apex and www often get the same one, seconds apart) is
        // not verified again: the same certificates against the same store.
        std::string key;
        bool fingerprinted = true;
        for (const auto& c : p.chain) {
          fingerprinted = fingerprinted && !c.sha256.empty();
          key += c.sha256 + "|";
        }
        if (auto known = verified_.find(key); fingerprinted && known != verified_.end()) {
          p.verify_error = known->second;
        } else {
          p.verify_error = TrustStore::shared(request_.ca_file).verify(chain);
          if (fingerprinted) verified_.emplace(std::move(key), p.verify_error);
        }
        p.verified = p.verify_error.empty();
      } else {
        // A handshake that completed without a certificate, or garbage instead of TLS.
        p.outcome = result == outcome::response || result == outcome::error || result == outcome::reset ? outcome::tls_error : result;
        p.error = result == outcome::response ? "the server sent no certificate" : detail;
        p.deadline_cut = t.deadline_cut && (p.outcome == outcome::timeout || p.outcome == outcome::connect_timeout);
      }
      return;
    }
    if (t.kind == Transfer::unknown_host) {
      record(t, slot_of(result_.http[t.index], t.slot), result, detail, elapsed, ip);
      return;
    }
    facts::HttpChallenge& c = result_.http[t.index];
    facts::HttpExchange& hop = c.hops.back();
    c.elapsed_ms = chain_ms(t.index);
    if (!record(t, hop, result, detail, elapsed, ip)) {
      const bool timed_out = result == outcome::timeout || result == outcome::connect_timeout;
      c.stop = t.budget_cut && timed_out ? "budget" : "failed";
      return;
    }
    const long status = hop.status;
    if (status < 300 || status >= 400) {
      c.stop = "answer";
      return;
    }
    char* next = nullptr;
    if (hop.location.empty()) {
      c.stop = "no-location";
      return;
    }
    if (curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next) {
      // libcurl cannot use the Location (http:///x has no host): an absolute one is kept as the
      // next URL, not requested, so that the view can name the CA's reason.
      if (parse_url(hop.location)) hop.next_url = hop.location;
      c.stop = "no-location";
      return;
    }
    hop.next_url = next;
    const auto target = parse_url(hop.next_url);
    if (!target || (target->scheme != "http" && target->scheme != "https")) {
      c.stop = "scheme";
      return;
    }
    for (const auto& earlier : c.hops)
      if (earlier.url == hop.next_url) {
        c.stop = "loop";
        return;
      }
    if (static_cast<int>(c.hops.size()) > request_.max_hops) {
      c.stop = "hop-limit";
      return;
    }
    start_hop(t.index, hop.next_url);
  }

  // What came back for one request, into `x`; false when no answer came (the outcome says why).
  static bool record(Transfer& t, facts::HttpExchange& x, const std::string& result, const std::string& detail,
                     double elapsed, const char* ip) {
    x.elapsed_ms = elapsed;
    x.address = ip ? ip : "";
    x.outcome = result;
    x.deadline_cut = t.deadline_cut && (result == outcome::timeout || result == outcome::connect_timeout);
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    x.status = static_cast<int>(status);
    if (result != outcome::response) {
      x.error = detail;
      return false;
    }
    if (long version = 0; curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
                          version == CURL_HTTP_VERSION_NONE) {  // HTTP/0.9: libcurl names no version
      // No status line. Go's client fails with `malformed HTTP response "..."`; Boulder names an
      // HTTP/2 SETTINGS frame (9-byte header: length, type 4, flags 0, stream 0) in that text.
      const auto& b = t.body;
      const bool settings = b.size() >= 9 && b[3] == '\x04' && b[4] == '\0' && b.compare(5, 4, std::string(4, '\0')) == 0;
      x.outcome = settings ? outcome::h2c : outcome::error;
      x.error = settings ? "HTTP/2 SETTINGS frame instead of an HTTP/1.1 answer" : "no HTTP status line in the answer";
      x.status = 0;
      return false;
    }
    x.tls_version = t.tls_version;
    x.server = utf8_clean(header_value(t.easy, "Server"));
    x.location = utf8_clean(header_value(t.easy, "Location"));
    char* type = nullptr;
    if (curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) x.content_type = utf8_clean(type);
    x.body_bytes = t.body_bytes;
    x.body_truncated = t.body_truncated;
    x.body_excerpt = utf8_clean(t.body);
    x.body_sha256 = body_digest(t);
    return true;
  }

  // Ends a request that got no answer: at the deadline (`started`: a timeout, before or after the
  // connection was made) or because it could not be started at all (an error).
  void abandon(Transfer& t, const std::string& why = "no complete answer before the deadline", bool started = true) {
    std::string result = outcome::error;
    if (started) {
      curl_off_t connect_time = 0;
      curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connect_time);
      result = connect_time == 0 ? outcome::connect_timeout : outcome::timeout;
    }
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t.started).count();
    auto mark = [&](std::string& o, std::string& error, double& ms, bool& cut) {
      if (o != outcome::not_sent) return false;
      o = result;
      error = why;
      ms = elapsed;
      cut = started;  // ended by the check's deadline, not by the server
      return true;
    };
    if (t.kind == Transfer::tls) {
      auto& p = result_.tls[t.index];
      mark(p.outcome, p.error, p.elapsed_ms, p.deadline_cut);
      return;
    }
    if (t.kind == Transfer::unknown_host) {
      auto& x = slot_of(result_.http[t.index], t.slot);
      mark(x.outcome, x.error, x.elapsed_ms, x.deadline_cut);
      return;
    }
    auto& c = result_.http[t.index];
    auto& hop = c.hops.back();
    if (mark(hop.outcome, hop.error, hop.elapsed_ms, hop.deadline_cut)) {
      c.stop = "failed";
      c.elapsed_ms = chain_ms(t.index);
    }
  }

  void cleanup(Transfer& t) {
    if (t.holds_slot) request_.shared->politeness.web_close(t.address);
    t.holds_slot = false;
    if (t.easy) curl_easy_cleanup(t.easy);
    t.easy = nullptr;
    curl_slist_free_all(t.resolve);
    t.resolve = nullptr;
    EVP_MD_CTX_free(t.sha);
    t.sha = nullptr;
    if (t.served) sk_X509_pop_free(t.served, X509_free);
    t.served = nullptr;
  }

  WebRequest request_;
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;  // this check's own name cache (the pinned addresses)
  std::map<std::string, std::string> verified_;  // chain's fingerprints -> verify_error
  DnsLoop& dns_loop_;
  bool closed_ = false;
  bool ended_ = false;
  Clock::time_point retry_at_{};                               // when to look at waiting_ again                                         // the deadline ended what was open
  std::set<std::string> seen_;                                 // name|address
  std::map<std::string, std::size_t> per_family_;              // name|family -> addresses taken
  std::map<std::uint64_t, std::unique_ptr<Transfer>> parked_;  // requests waiting for their lookup
  std::uint64_t next_parked_ = 1;
  std::map<std::string, Resolution> resolutions_;             // lookups of redirect targets under way
  std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::list<std::unique_ptr<Transfer>> waiting_;              // for a connection slot (batch)
  std::vector<std::pair<std::string, std::string>> pinned_;  // per chain: name, address
  std::vector<Clock::time_point> chain_started_;              // per chain: its first request's start

  double chain_ms(std::size_t index) const {
    return std::chrono::duration<double, std::milli>(Clock::now() - chain_started_[index]).count();
  }
  std::unique_ptr<DnsClient> dns_;                           // for redirect targets, made when first needed
  std::map<std::string, std::vector<std::string>> resolved_; // host -> usable AAAA then A
  facts::WebFacts result_;
  std::string unknown_host_ = random_unknown_host();        // one name per check

};

} // namespace

class WebCheck::Impl : public Worker {
 public:
  using Worker::Worker;
};

WebCheck::WebCheck(WebRequest request, void* multi, DnsLoop& dns)
    : impl_(std::make_unique<Impl>(std::move(request), static_cast<CURLM*>(multi), dns)) {}

WebCheck::~WebCheck() = default;

void WebCheck::add(const std::string& name, const std::string& family, const std::vector<std::string>& addresses) {
  impl_->add_addresses(name, family, addresses);
}

void WebCheck::close() { impl_->close(); }

std::chrono::steady_clock::time_point WebCheck::step(std::chrono::steady_clock::time_point now) { return impl_->step(now); }

bool WebCheck::done() const { return impl_->done(); }

void WebCheck::finish(facts::WebFacts& out) { impl_->finish(out); }

} // namespace certdoctor::probe

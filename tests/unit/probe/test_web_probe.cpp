// The web probe's pure parts: challenge tokens, and reading and verifying a served chain.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "probe/web_probe.hpp"

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(CERTDOCTOR_PROBE_CERTS) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  REQUIRE_MESSAGE(!s.str().empty(), "missing fixture " << name);
  return s.str();
}

} // namespace

using namespace certdoctor;

TEST_CASE("challenge tokens are 43 base64url characters and differ") {
  const auto a = probe::random_token();
  const auto b = probe::random_token();
  CHECK(a.size() == 43);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("a served chain is read into facts, leaf first") {
  const auto chain = probe::parse_pem_chain({fixture("leaf.pem"), fixture("root.pem")});
  REQUIRE(chain.size() == 2);
  const auto& leaf = chain[0];
  CHECK(leaf.subject_cn == "example.jp");
  CHECK(leaf.issuer_cn == "certdoctor test root");
  CHECK(leaf.subject == "CN=example.jp");
  CHECK(leaf.issuer == "CN=certdoctor test root,O=certdoctor tests");
  CHECK(leaf.dns_names == std::vector<std::string>{"example.jp", "*.example.jp"});
  CHECK(leaf.key_type == "RSA 2048");
  CHECK(leaf.crl_urls == std::vector<std::string>{"http://crl.example.test/ca.crl"});
  CHECK(leaf.ocsp_urls == std::vector<std::string>{"http://ocsp.example.test"});
  CHECK(leaf.not_before.size() == 20);
  CHECK(leaf.not_after.rfind("2126-", 0) == 0);
  CHECK(leaf.sha256.size() == 64);
  CHECK(!leaf.serial.empty());
  CHECK(chain[1].key_type == "EC P-256");
  CHECK(chain[1].subject_cn == chain[1].issuer_cn);
}

TEST_CASE("text that is not PEM is skipped, not fatal") {
  CHECK(probe::parse_pem_chain({"garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}).empty());
  CHECK(probe::verify_pem_chain({"garbage"}, "") == "no certificate was served");
}

TEST_CASE("a chain verifies against the CA file that holds its root, and only then") {
  const std::string root = std::string(CERTDOCTOR_PROBE_CERTS) + "/root.pem";
  CHECK(probe::verify_pem_chain({fixture("leaf.pem")}, root) == "");
  // The system store does not know the test root.
  CHECK(probe::verify_pem_chain({fixture("leaf.pem")}, "") != "");
  // A self-signed leaf: the root itself served as the only certificate, without the CA file.
  CHECK(probe::verify_pem_chain({fixture("root.pem")}, "") == "self-signed certificate");
  CHECK(probe::verify_pem_chain({fixture("leaf.pem")}, "/nonexistent.pem").find("cannot read the CA file") == 0);
}

TEST_CASE("a trust store is read once per process and file") {
  const std::string root = std::string(CERTDOCTOR_PROBE_CERTS) + "/root.pem";
  const probe::TrustStore& first = probe::TrustStore::shared(root);
  CHECK(&probe::TrustStore::shared(root) == &first);
  CHECK(&probe::TrustStore::shared("") != &first);
  CHECK(&probe::TrustStore::shared("") == &probe::TrustStore::shared(""));
  CHECK(first.verify({fixture("leaf.pem")}) == "");
}

namespace {

// Sets (or, for nullptr, removes) an environment variable for the scope, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string temp_dir() {
  char dir[] = "/tmp/certdoctor-trust-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}

// The name the hashed directory's lookup asks for: the subject hash of the certificate, ".0".
std::string hashed_name_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(x != nullptr);
  int ok = 0;
  const unsigned long hash = X509_NAME_hash_ex(X509_get_subject_name(x), nullptr, nullptr, &ok);
  X509_free(x);
  REQUIRE(ok == 1);
  char name[16];
  std::snprintf(name, sizeof name, "%08lx.0", hash);
  return name;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  REQUIRE(out.good());
}

// OpenSSL's own default paths (the whole bundle, the directory and the store), as the system
// trust store was read before it looked up the directory only.
std::string verify_with_default_paths(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_set_default_paths(store);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  std::string result = "unreadable";
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (x && ctx && X509_STORE_CTX_init(ctx, store, x, nullptr) == 1)
    result = X509_verify_cert(ctx) == 1 ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_free(x);
  X509_STORE_free(store);
  return result;
}

} // namespace

TEST_CASE("the system trust store looks up the hashed directory, the bundle only when it must") {
  const std::string root_pem = fixture("root.pem");
  const std::string root_file = std::string(CERTDOCTOR_PROBE_CERTS) + "/root.pem";
  const std::string hashed = temp_dir();
  write_file(hashed + "/" + hashed_name_of(root_pem), root_pem);
  const std::string unhashed = temp_dir();
  write_file(unhashed + "/root.pem", root_pem);

  {
    // A directory with the root under its hashed name: only the directory, and the chain verifies.
    ScopedEnv dir("SSL_CERT_DIR", hashed.c_str()), file("SSL_CERT_FILE", nullptr);
    const auto paths = probe::system_trust_paths();
    CHECK(paths.dir == hashed);
    CHECK(paths.file.empty());
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "");
  }
  {
    // A list: the first directory is absent, the second holds the root.
    const std::string list = "/nonexistent-certdoctor:" + hashed;
    ScopedEnv dir("SSL_CERT_DIR", list.c_str()), file("SSL_CERT_FILE", nullptr);
    CHECK(probe::system_trust_paths().dir == list);
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "");
  }
  {
    // No hashed name in the directory: the default bundle instead, which does not hold the
    // test root, so the chain fails.
    ScopedEnv dir("SSL_CERT_DIR", unhashed.c_str()), file("SSL_CERT_FILE", nullptr);
    const auto paths = probe::system_trust_paths();
    CHECK(paths.dir.empty());
    CHECK(paths.file == X509_get_default_cert_file());
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "unable to get local issuer certificate");
  }
  {
    // $SSL_CERT_FILE is read, as OpenSSL does, with or without a directory.
    ScopedEnv dir("SSL_CERT_DIR", "/nonexistent-certdoctor"), file("SSL_CERT_FILE", root_file.c_str());
    const auto paths = probe::system_trust_paths();
    CHECK(paths.dir.empty());
    CHECK(paths.file == root_file);
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "");
  }
  {
    ScopedEnv dir("SSL_CERT_DIR", unhashed.c_str()), file("SSL_CERT_FILE", root_file.c_str());
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "");
  }
  {
    // $SSL_CERT_FILE naming the default bundle (through a link of its own) is the default: the
    // hashed directory does, the bundle is not read.
    const std::string link = unhashed + "/bundle-link.pem";
    std::filesystem::create_symlink(X509_get_default_cert_file(), link);
    ScopedEnv dir("SSL_CERT_DIR", hashed.c_str()), file("SSL_CERT_FILE", link.c_str());
    const auto paths = probe::system_trust_paths();
    CHECK(paths.dir == hashed);
    if (std::filesystem::exists(X509_get_default_cert_file())) CHECK(paths.file.empty());
    else CHECK(paths.file == link);  // no default bundle here: nothing is the same file
    // With a file of its own beside the directory, both are read.
    ScopedEnv own("SSL_CERT_FILE", root_file.c_str());
    CHECK(probe::system_trust_paths().file == root_file);
    CHECK(probe::system_trust_paths().dir == hashed);
  }
  {
    // Neither holds the root: an unknown root fails.
    const std::string other = temp_dir();
    write_file(other + "/" + hashed_name_of(root_pem), fixture("leaf.pem"));  // the wrong certificate under the name
    ScopedEnv dir("SSL_CERT_DIR", other.c_str()), file("SSL_CERT_FILE", nullptr);
    CHECK(probe::system_trust_paths().dir == other);
    CHECK(probe::TrustStore("").verify({fixture("leaf.pem")}) == "unable to get local issuer certificate");
    std::filesystem::remove_all(other);
  }
  std::filesystem::remove_all(hashed);
  std::filesystem::remove_all(unhashed);
}

TEST_CASE("the system trust store verifies what OpenSSL's default paths verify") {
  ScopedEnv dir("SSL_CERT_DIR", nullptr), file("SSL_CERT_FILE", nullptr);
  std::ifstream in(X509_get_default_cert_file());
  std::stringstream s;
  s << in.rdbuf();
  const std::string bundle = s.str();
  const std::string end = "-----END CERTIFICATE-----";
  std::vector<std::string> roots;
  for (std::size_t at = 0, stop; (stop = bundle.find(end, at)) != std::string::npos; at = stop + end.size())
    roots.push_back(bundle.substr(at, stop + end.size() - at) + "\n");
  if (roots.empty()) {
    MESSAGE("no system bundle at " << X509_get_default_cert_file() << ": only the test root is compared");
  } else {
    // On Debian the directory holds every root of the bundle under its hashed name: the bundle
    // itself is not read.
    CHECK(probe::system_trust_paths().file.empty());
  }
  const probe::TrustStore store("");
  // Each root of the bundle served as a chain of its own verifies (or fails) as before; the test
  // chain, whose root the system does not know, fails as before.
  roots.push_back(fixture("leaf.pem"));
  roots.push_back(fixture("root.pem"));
  std::size_t verified = 0;
  for (const auto& pem : roots) {
    const std::string before = verify_with_default_paths(pem);
    CHECK(store.verify({pem}) == before);
    verified += before.empty();
  }
  CHECK(store.verify({fixture("leaf.pem")}) == "unable to get local issuer certificate");
  if (roots.size() > 2) CHECK(verified > 0);
}

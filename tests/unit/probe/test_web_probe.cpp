// The web probe's pure parts: challenge tokens, and reading and verifying a served chain.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

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

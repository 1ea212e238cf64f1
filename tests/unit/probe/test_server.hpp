#pragma once
// A small authoritative-looking DNS responder for tests: UDP and TCP on one loopback port,
// served by its own thread. What it does depends on the first label of the query name:
//   a        answer A 192.0.2.1 (AA, with an OPT record)
//   servfail SERVFAIL with Extended DNS Error 22 "no reachable authority"
//   refused  REFUSED
//   nxdomain NXDOMAIN with an SOA in the authority section
//   big      over UDP an empty TC=1 response; over TCP 200 TXT records (about 13 kB)
//   medium   a 1000-octet-ish answer over UDP without TC
//   silent   never answers
//   garbage  a response with the right ID and question but a cut-off answer record
//   slow     answers like "a" after 300 ms (UDP only)
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certdoctor::test {

class TestDnsServer {
public:
  /// Binds 127.0.0.1 (or "::1") on a free port, UDP and TCP. Throws std::runtime_error on failure.
  explicit TestDnsServer(const std::string& address = "127.0.0.1");
  ~TestDnsServer();
  TestDnsServer(const TestDnsServer&) = delete;
  TestDnsServer& operator=(const TestDnsServer&) = delete;

  std::uint16_t port() const { return port_; }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }
  /// The raw octets of every query received, in order.
  std::vector<std::vector<std::uint8_t>> queries() const;

  /// Returns a port on `address` where nothing listens (bound, then released).
  static std::uint16_t unused_port(const std::string& address = "127.0.0.1");
  /// True if an IPv6 loopback socket can be bound here.
  static bool ipv6_available();

private:
  void serve();
  void handle_udp();
  void handle_tcp_conn(int fd, std::vector<int>& conns);
  std::vector<std::uint8_t> respond(const std::vector<std::uint8_t>& query, bool tcp, bool& drop);

  int family_;
  int udp_ = -1, tcp_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> udp_queries_{0}, tcp_queries_{0};
  mutable std::mutex mu_;
  std::vector<std::vector<std::uint8_t>> queries_;
  std::thread thread_;
};

} // namespace certdoctor::test

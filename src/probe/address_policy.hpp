#pragma once
// Which addresses a check may connect to. The command line connects wherever the domain points
// (a person checks their own server); a service on the internet must not be turned against the
// network it runs in (SSRF). Its policy admits only addresses the CA could reach itself: never
// loopback, private, link-local (the cloud metadata address 169.254.169.254 among them), shared
// (CGNAT), documentation, multicast or any other special-purpose block, nor the IPv4-mapped,
// IPv4-compatible, NAT64 or 6to4 forms of an IPv4 address. The lab mode admits the documentation
// blocks (where the lab's servers live) and nothing else. The table is code, not data: no
// `--rules-dir` overlay can open it. Pure: no I/O.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace certdoctor::probe {

class AddressPolicy {
 public:
  enum class Mode {
    open,      // everything (the command line)
    internet,  // only what the CA could reach (the service)
    lab,       // the service in the lab: the internet policy plus the documentation blocks
  };

  AddressPolicy() = default;
  explicit AddressPolicy(Mode mode) : mode_(mode) {}

  Mode mode() const { return mode_; }
  bool restricts() const { return mode_ != Mode::open; }

  /// "" when the address may be connected to, else why not: the class of the address
  /// ("loopback", "private", "link-local", "metadata", "shared", "documentation", "multicast",
  /// "unspecified", "this-network", "benchmarking", "protocol-assignment", "reserved",
  /// "broadcast", "discard", "teredo", "6to4", "site-local", "not-an-address"), prefixed with
  /// "ipv4-mapped ", "ipv4-compatible " or "nat64 " for an IPv4 address inside those IPv6 forms
  /// ("nat64 loopback"; a form around a public IPv4 address is refused as "ipv4-mapped",
  /// "ipv4-compatible" or "nat64" alone: the CA does not dial them either).
  std::string refusal(std::string_view address) const;
  /// The same for the socket address libcurl or c-ares is about to connect to; any family other
  /// than IPv4 and IPv6, and an IPv6 address with a scope, is refused.
  std::string refusal(const sockaddr* address, socklen_t length) const;

  /// The class of an IPv4 or IPv6 address as the policy sees it ("" for a public unicast one),
  /// whatever the mode; "not-an-address" for other text.
  static std::string classify(std::string_view address);

  /// One sentence for facts and logs: "not connected: 127.0.0.1 is loopback, which the CA
  /// cannot reach either".
  static std::string explain(const std::string& address, const std::string& refusal);

 private:
  std::string decide(int family, const std::array<std::uint8_t, 16>& bytes) const;
  Mode mode_ = Mode::open;
};

/// "open", "internet" or "lab".
const char* to_string(AddressPolicy::Mode mode);

}  // namespace certdoctor::probe

#pragma once
// Address classification: IANA special-purpose blocks (RFC 6890 registries)
// and CDN ranges, read from rules/data/*.yaml. Pure apart from that loading.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace certdoctor::view::address {

/// What an address is, as far as a CA reaching it is concerned.
///
/// `kind` is one of: "this-network", "unspecified", "private", "shared",
/// "loopback", "link-local", "protocol-assignment", "transition", "anycast",
/// "documentation", "benchmarking", "discard", "deprecated", "reserved",
/// "broadcast", "multicast"; "" when the address is in no special block.
struct Classification {
  bool valid = false;      ///< false when the text is not an IPv4 or IPv6 address
  int family = 0;          ///< 4 or 6, the family of the text (6 for ::ffff:a.b.c.d)
  bool v4_mapped = false;  ///< ::ffff:a.b.c.d; block, kind and CDN are those of a.b.c.d
  bool reserved = false;   ///< inside a special-purpose block (Let's Encrypt refuses all of them)
  bool global = true;      ///< the registry's "Globally Reachable" for the block (true outside blocks)
  std::string block;       ///< the most specific block, e.g. "192.0.2.0/24"
  std::string block_name;  ///< e.g. "Documentation (TEST-NET-1)"
  std::string kind;
  std::string rfc;        ///< e.g. "5737"
  std::string cdn;        ///< CDN id, e.g. "cloudflare", or ""
  std::string cdn_name;   ///< e.g. "Cloudflare"
  std::string cdn_range;  ///< the most specific CDN range, e.g. "104.16.0.0/13"
};

/// Classifies addresses against special-purpose blocks and CDN ranges.
class AddressClassifier {
 public:
  /// Reads special-purpose.yaml and cdn-ranges.yaml from each directory that has
  /// them; later directories add entries (an identical block replaces the earlier
  /// one). Throws ConfigError "file:line: message" on unreadable or malformed data.
  static AddressClassifier load(const std::vector<std::filesystem::path>& data_dirs);
  /// `base` with the files of `data_dirs` added, as if base's directories came first.
  static AddressClassifier load(AddressClassifier base, const std::vector<std::filesystem::path>& data_dirs);

  /// The loaded blocks as JSON, for the built-in data compiled into the binary; from_json() reads
  /// it back and throws ConfigError on anything malformed.
  nlohmann::json to_json() const;
  static AddressClassifier from_json(const nlohmann::json& j);

  bool operator==(const AddressClassifier&) const = default;

  /// Classifies the textual address; the most specific matching block wins.
  /// Invalid text (including zone ids and surrounding spaces) gives valid=false.
  Classification classify(std::string_view address) const;

  /// True when the CA cannot use the address: invalid, IPv4-mapped, or reserved.
  /// With allow_reserved (lab mode) documentation and private blocks count as
  /// reachable; loopback, unspecified, multicast, link-local and the rest never do.
  bool unreachable_for_ca(const Classification& c, bool allow_reserved) const;

 private:
  // A CIDR block in network byte order; an IPv4 block uses the first 4 bytes.
  struct Prefix {
    int family = 0;
    std::array<std::uint8_t, 16> bytes{};
    int length = 0;
    bool operator==(const Prefix&) const = default;
  };
  struct SpecialBlock {
    Prefix prefix;
    std::string text, name, kind, rfc;
    bool global = false;
    bool operator==(const SpecialBlock&) const = default;
  };
  struct CdnRange {
    Prefix prefix;
    std::string text, cdn, cdn_name;
    bool operator==(const CdnRange&) const = default;
  };

  void load_special(const std::filesystem::path& file);
  void load_cdn(const std::filesystem::path& file);

  std::vector<SpecialBlock> special_;
  std::vector<CdnRange> cdn_;
};

}  // namespace certdoctor::view::address

#pragma once
// DNS messages in wire format (RFC 1035 section 4, EDNS0 RFC 6891): building queries and
// parsing responses into plain data. Pure code: no I/O.
#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::dns {

/// Resource record types used by certdoctor (IANA "Resource Record (RR) TYPEs").
namespace rrtype {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t NS = 2;
inline constexpr std::uint16_t CNAME = 5;
inline constexpr std::uint16_t SOA = 6;
inline constexpr std::uint16_t PTR = 12;
inline constexpr std::uint16_t MX = 15;
inline constexpr std::uint16_t TXT = 16;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t SRV = 33;
inline constexpr std::uint16_t DNAME = 39;
inline constexpr std::uint16_t OPT = 41;
inline constexpr std::uint16_t DS = 43;
inline constexpr std::uint16_t RRSIG = 46;
inline constexpr std::uint16_t NSEC = 47;
inline constexpr std::uint16_t DNSKEY = 48;
inline constexpr std::uint16_t NSEC3 = 50;
inline constexpr std::uint16_t HTTPS = 65;
inline constexpr std::uint16_t ANY = 255;
inline constexpr std::uint16_t CAA = 257;
} // namespace rrtype

/// Response codes (RFC 1035, RFC 6891 extended codes).
namespace rcode {
inline constexpr int NOERROR = 0;
inline constexpr int FORMERR = 1;
inline constexpr int SERVFAIL = 2;
inline constexpr int NXDOMAIN = 3;
inline constexpr int NOTIMP = 4;
inline constexpr int REFUSED = 5;
inline constexpr int BADVERS = 16;
} // namespace rcode

/// Class IN.
inline constexpr std::uint16_t class_in = 1;

/// Returns the mnemonic of an RR type ("A", "CAA"), or "TYPE<n>" (RFC 3597) for others.
std::string type_name(std::uint16_t type);

/// Returns the type for a mnemonic or "TYPE<n>", ignoring case; nullopt if unknown.
std::optional<std::uint16_t> type_from_name(std::string_view name);

/// Returns the mnemonic of a response code ("NOERROR", "BADVERS"), or "RCODE<n>" for others.
std::string rcode_name(int rcode);

/// Header bits and EDNS0 parameters of a query.
struct QueryFlags {
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;
  std::uint16_t edns_udp_size = 1232;
};

/// Builds a class IN query for `qname` (presentation format, see encode_name) with an EDNS0 OPT
/// record (RFC 6891) carrying the UDP size and DO bit. Throws UsageError for an unencodable name.
std::vector<std::uint8_t> build_query(std::uint16_t id, std::string_view qname, std::uint16_t qtype,
                                      const QueryFlags& flags);

/// One resource record. Names are lower-cased presentation format without the trailing dot
/// (the root is ""); unusual octets are escaped as in RFC 1035 section 5.1.
struct Record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  /// RDATA octets with any compressed names expanded, so they stand on their own.
  std::vector<std::uint8_t> rdata;
  /// RDATA in presentation format: A/AAAA address text; NS/CNAME/PTR/DNAME target; "MNAME RNAME
  /// SERIAL REFRESH RETRY EXPIRE MINIMUM" for SOA; "PREF EXCHANGE" for MX; quoted strings for TXT;
  /// `0 issue "letsencrypt.org"` for CAA; "KEYTAG ALG DIGESTTYPE HEX" for DS; "FLAGS PROTO ALG
  /// tag=KEYTAG" for DNSKEY; "TYPE ALG LABELS TTL EXPIRATION INCEPTION KEYTAG SIGNER" for RRSIG;
  /// "PRIO WEIGHT PORT TARGET" for SRV; "\# LEN HEX" (RFC 3597) for the rest. Names inside are
  /// written without trailing dot, the root as ".".
  std::string data;
};

/// The fields of a CAA record (RFC 8659 section 4.1).
struct CaaData {
  std::uint8_t flags = 0;
  std::string tag;
  std::string value;
};

/// Decodes a CAA record's RDATA; nullopt if the record is not CAA or its RDATA is malformed.
std::optional<CaaData> parse_caa(const Record& record);

/// An Extended DNS Error (RFC 8914), EDNS option 15.
struct ExtendedError {
  std::uint16_t code = 0;
  std::string text;
};

/// A parsed DNS message. The OPT pseudo-record is not listed in `additional`; its contents are
/// in the edns_* fields and `rcode`.
struct Message {
  std::uint16_t id = 0;
  /// The full response code: header RCODE plus the OPT record's extended bits (RFC 6891 6.1.3).
  int rcode = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  /// The first question (messages with no question leave qname "" and qtype 0).
  std::string qname;
  std::uint16_t qtype = 0;
  std::vector<Record> answer, authority, additional;
  bool has_edns = false;
  std::uint16_t edns_udp_size = 0;
  std::vector<ExtendedError> extended_errors;
  std::uint8_t opcode = 0;
  std::uint8_t edns_version = 0;
  bool edns_do = false;
};

/// A malformed DNS message; what() says what is wrong and where.
class ParseError : public Error {
public:
  using Error::Error;
};

/// Parses a complete DNS message. Throws ParseError with the reason for truncated header or
/// sections, section counts larger than the message allows, compression pointer loops or forward
/// pointers, names over 255 octets, RDATA overrunning the message or not fitting its type, and
/// misplaced or repeated OPT records. Runs in time linear in the message size.
Message parse_message(std::span<const std::uint8_t> wire);

} // namespace certdoctor::dns

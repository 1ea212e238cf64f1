#pragma once
// Helpers on domain names in presentation format ("www.example.jp", no trailing dot).
// The root name is written as the empty string "".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::dns {

/// Returns `name` lower-cased (ASCII) without its trailing dot. Throws UsageError naming the input
/// if it is empty, has an empty label or a label over 63 characters, is over 253 characters, or
/// contains anything but letters, digits, '-' and '_' (IDNs must be converted to A-labels first).
std::string normalize(std::string_view name);

/// True if `name` equals `ancestor` or lies below it, comparing whole labels without regard to
/// ASCII case. Every name is below the root "". A trailing dot on either argument is ignored.
bool is_subdomain_or_equal(std::string_view name, std::string_view ancestor);

/// Returns `name` without its first label: "www.example.jp" -> "example.jp", "jp" -> "" (root).
/// Throws UsageError for the root name itself, which has no parent.
std::string parent(std::string_view name);

/// Returns `name` and each ancestor down to its top-level domain, longest first:
/// "a.b.example.jp" -> {"a.b.example.jp", "b.example.jp", "example.jp", "jp"}; {} for the root.
std::vector<std::string> ancestors_to_tld(std::string_view name);

/// Encodes a presentation-format name (escapes "\." and "\DDD" allowed, trailing dot optional,
/// "" or "." for the root) as uncompressed wire format (RFC 1035 section 3.1), keeping its case.
/// Throws UsageError naming the input for an empty label, a label over 63 octets, a name over
/// 255 octets, or a malformed escape.
std::vector<std::uint8_t> encode_name(std::string_view name);

} // namespace certdoctor::dns

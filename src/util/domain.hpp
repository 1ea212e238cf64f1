#pragma once
// Turning what a person typed into the domain to check: IDNA2008 conversion (libidn2) and the
// registered domain from the Public Suffix List (libpsl, private section included).
#include <string>

namespace certdoctor {

/// A domain as the tool uses it.
struct DomainName {
  std::string ascii;          // A-label form, lower case, no trailing dot
  std::string unicode;        // U-label form for display (same as ascii when not an IDN)
  std::string registered;     // registrable domain per the PSL; "" when ascii is itself a suffix
  std::string public_suffix;  // the public suffix of ascii
};

/// Parses a domain typed by a person (Unicode or ASCII, optional trailing dot). Throws
/// UsageError with the input and the fix for URLs, e-mail addresses, wildcards, addresses,
/// public suffixes and names that are not valid host names.
DomainName parse_domain(const std::string& input);

/// Registered domain and public suffix for an ASCII name (no validation).
void psl_split(const std::string& ascii, std::string& registered, std::string& suffix);

/// True when the last label of `host` is a top-level domain of the Public Suffix List's ICANN
/// section, matched by an explicit rule (no wildcard, no default rule): what Boulder requires of
/// a redirect target's host (iana.ExtractSuffix). A trailing dot fails, as it does there.
bool has_icann_suffix(const std::string& host);

} // namespace certdoctor

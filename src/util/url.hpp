#pragma once
// One way to split a URL into scheme, host, port, path and query (RFC 3986 §3), for the web
// probe (which host a hop goes to) and the view (what a CA checks of a redirect target). The
// host is kept as close to what was sent as a CA sees it: lower-cased, brackets removed, a
// trailing dot kept, so that the judgement can follow Boulder's checks to the letter.
#include <optional>
#include <string>
#include <string_view>

namespace certdoctor {

/// An absolute URL split into its parts.
struct Url {
  std::string scheme;     // lower case
  std::string host;       // lower case, without brackets and zone; a trailing dot is kept; may be ""
  std::string zone;       // an IPv6 scope zone ("[fe80::1%25eth0]" -> "eth0"), "" when none
  bool bracketed = false; // the host was written in brackets (an IPv6 literal)
  std::string port_text;  // the explicit port as written, "" when none
  int port = 0;           // the explicit port, else 80 for http, 443 for https, 0 for other schemes
  std::string path;       // as sent (percent-encoding kept), "" or starting with '/'
  std::string query;      // after '?', without it; "" when none

  /// True when the host is an IP address literal as Go's netip.ParseAddr reads it: a dotted
  /// quad of four decimal parts, or an IPv6 address in brackets.
  bool ip_literal() const;
  /// Bytes of the path with its percent-escapes decoded (what Go's URL.Path holds).
  std::size_t decoded_path_bytes() const;
};

/// Splits an absolute URL ("scheme://authority/path?query#fragment"). Returns nullopt when there
/// is no "scheme://" or the port is not a number of at most five digits (up to 65535). User
/// information before '@' is dropped. Never throws.
std::optional<Url> parse_url(std::string_view url);

} // namespace certdoctor

#pragma once
// The pure parts of the service's HTTP handling: form bodies, the reader's language, the
// client's address behind a proxy. No I/O.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace certdoctor::serve {

/// Percent-decoding of application/x-www-form-urlencoded text ('+' is a space); nullopt for a
/// broken escape ("%G1", "%4").
std::optional<std::string> url_decode(std::string_view text);

/// The fields of a form body (name=value&...); a repeated name keeps its first value. nullopt for
/// a broken escape.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

/// "ja" or "en": `?lang=` when it is one of them, else the first of ja and en in Accept-Language
/// (by q-value, then order), else "ja" (the service is for customers of Japanese hosting).
std::string pick_lang(const std::string& query_lang, const std::string& accept_language);

/// The client's address: `peer`, or with `trust_proxy` the last valid address of
/// X-Forwarded-For (the one the trusted proxy appended), else `peer`.
std::string client_address(const std::string& peer, const std::string& forwarded_for, bool trust_proxy);

/// A random id for a check: 22 characters of base64url (128 bits); throws std::runtime_error
/// when the system has no randomness to give.
std::string random_id();

/// True for text that random_id() could have made.
bool plausible_id(std::string_view id);

/// "ADDRESS:PORT" or "[IPv6]:PORT" -> address and port; nullopt for anything else.
std::optional<std::pair<std::string, int>> parse_listen(std::string_view text);

}  // namespace certdoctor::serve

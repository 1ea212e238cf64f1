#pragma once
// Reading an e-mail as saved or piped from a mail system (RFC 5322, MIME), with GMime: headers
// with RFC 2047 encoded words, multipart bodies, message/rfc822 attachments, and the charsets
// Japanese mail uses (ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8) in 7bit, base64 and
// quoted-printable. Everything comes out as UTF-8. Pure: no I/O.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::triage {

/// One message: the outer mail, or one attached (message/rfc822) or quoted in a forward.
struct MailHeaderSet {
  std::string subject;   // decoded, unfolded
  std::string from;      // the address only, lower case
  std::string from_name; // the display name, decoded
  std::string origin;    // "header", "attachment" or "quoted"
};

struct Mail {
  std::vector<MailHeaderSet> messages;  // [0] is the outer mail
  std::string message_id;               // without angle brackets
  std::string references;               // the References header as it was
  std::string reply_to;                 // Reply-To address, or ""
  std::string date;
  std::string body;                     // the text parts, decoded, joined; quotes unmarked
  std::vector<std::string> notes;       // best-effort repairs: "part 2: declared charset ... "
  std::size_t parts = 0;                // MIME leaves seen
  std::size_t skipped_bytes = 0;        // attachments not decoded
};

/// Parses `bytes` as one RFC 5322 message. Throws Error when the bytes are not a mail at all
/// (no header block); damaged MIME below a header gives a best-effort result with notes.
Mail parse_mail(std::string_view bytes);

/// True when `bytes` begins like a mail header block ("Name: value" lines).
bool looks_like_mail(std::string_view bytes);

/// Converts text in `charset` to UTF-8. When the label is missing or wrong, tries UTF-8,
/// ISO-2022-JP, EUC-JP and Shift_JIS (CP932) and says which one was used in `used`; bytes that
/// fit none are replaced with U+FFFD.
std::string to_utf8(std::string_view bytes, const std::string& charset, std::string* used = nullptr);

/// Removes quoting marks ("> ", "| ") at the start of lines, so that a forwarded or replied-to
/// notice reads like the original.
std::string unquote(std::string_view text);

} // namespace certdoctor::triage

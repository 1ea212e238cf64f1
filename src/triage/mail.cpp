#include "triage/mail.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::triage {

namespace {

// Text parts larger than this are not read whole: a notice is a few kilobytes.
constexpr std::size_t max_text_part = 2 * 1024 * 1024;
// message/rfc822 nesting deeper than this is not followed.
constexpr int max_depth = 8;

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    // Raw 8-bit headers (no encoded words) are decoded with the first of these that fits.
    static const char* fallback[] = {"UTF-8", "ISO-2022-JP", "EUC-JP", "CP932", nullptr};
    g_mime_parser_options_set_fallback_charsets(g_mime_parser_options_get_default(), fallback);
  });
}

template <typename T>
struct GUnref {
  void operator()(T* p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GUnref<T>>;

bool try_convert(std::string_view bytes, const char* from, std::string& out) {
  gsize read = 0, written = 0;
  GError* err = nullptr;
  gchar* res = g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", from, &read, &written, &err);
  if (err) {
    g_error_free(err);
    g_free(res);
    return false;
  }
  if (!res) return false;
  out.assign(res, written);
  g_free(res);
  return read == bytes.size() && g_utf8_validate(out.data(), static_cast<gssize>(out.size()), nullptr);
}

// Japanese charset labels as mail systems write them, to the names iconv knows, most common
// first; CP932 and EUC-JP-MS are supersets that also take the vendor characters (①, ㈱) that
// real mail contains.
std::vector<std::string> iconv_names(const std::string& label) {
  std::string l = lower(label);
  if (l == "shift_jis" || l == "shift-jis" || l == "sjis" || l == "x-sjis" || l == "windows-31j" || l == "ms932" ||
      l == "cp932" || l == "ms_kanji")
    return {"CP932", "SHIFT_JIS"};
  if (l == "euc-jp" || l == "x-euc-jp" || l == "eucjp") return {"EUC-JP-MS", "EUC-JP"};
  if (l == "iso-2022-jp" || l == "csiso2022jp" || l == "iso-2022-jp-ms" || l == "cp50220" || l == "cp50221")
    return {"ISO-2022-JP", "ISO-2022-JP-2", "ISO-2022-JP-3"};
  if (l == "utf8" || l == "utf-8" || l == "us-ascii" || l == "ascii") return {"UTF-8"};
  return {label};
}

bool has_kana(const std::string& utf8) {
  // Hiragana and katakana are U+3040..U+30FF: E3 81 80 .. E3 83 BF in UTF-8.
  for (std::size_t i = 0; i + 1 < utf8.size(); ++i)
    if (static_cast<unsigned char>(utf8[i]) == 0xE3 && (static_cast<unsigned char>(utf8[i + 1]) & 0xFC) == 0x80) return true;
  return false;
}

std::string collect_text(GMimeObject* part, std::size_t& skipped) {
  GMimePart* leaf = GMIME_PART(part);
  GMimeDataWrapper* content = g_mime_part_get_content(leaf);
  if (!content) return {};
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  // Decoding only the transfer encoding here; the charset is decided afterwards, with checks.
  gint64 n = g_mime_data_wrapper_write_to_stream(content, mem.get());
  if (n < 0) return {};
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  std::size_t len = arr->len;
  if (len > max_text_part) {
    skipped += len - max_text_part;
    len = max_text_part;
  }
  return std::string(reinterpret_cast<const char*>(arr->data), len);
}

// HTML to plain text, coarsely: tags removed, line breaks kept, the common entities decoded.
std::string strip_html(const std::string& html) {
  std::string out;
  out.reserve(html.size());
  bool in_tag = false;
  std::string tag;
  for (std::size_t i = 0; i < html.size(); ++i) {
    char c = html[i];
    if (in_tag) {
      if (c == '>') {
        in_tag = false;
        std::string t = lower(tag.substr(0, 4));
        if (t.rfind("br", 0) == 0 || t.rfind("/p", 0) == 0 || t.rfind("/div", 0) == 0 || t.rfind("/tr", 0) == 0 ||
            t.rfind("p", 0) == 0)
          out += '\n';
      } else if (tag.size() < 8)
        tag += c;
      continue;
    }
    if (c == '<') {
      in_tag = true;
      tag.clear();
      continue;
    }
    if (c == '&') {
      static const std::pair<const char*, const char*> ents[] = {
          {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&nbsp;", " "}, {"&#39;", "'"}};
      bool done = false;
      for (auto [e, r] : ents)
        if (html.compare(i, std::char_traits<char>::length(e), e) == 0) {
          out += r;
          i += std::char_traits<char>::length(e) - 1;
          done = true;
          break;
        }
      if (done) continue;
    }
    out += c;
  }
  return out;
}

std::string header_address(InternetAddressList* list, std::string* name) {
  if (!list) return {};
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      if (name) {
        const char* nm = internet_address_get_name(a);
        *name = nm ? nm : "";
      }
      return lower(addr ? addr : "");
    }
  }
  return {};
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string decode_b(std::string_view in) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) continue;  // padding and stray characters
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_q(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '_') out += ' ';
    else if (in[i] == '=' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
             std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += in[i];
  }
  return out;
}

/// Header text with RFC 2047 encoded words, decoded and unfolded. Adjacent encoded words in one
/// charset are joined as bytes before conversion: mailers split multibyte characters across
/// words, and pad each B word (GMime's own decoder stops at such padding).
std::string decode_header(std::string_view raw) {
  std::string out, literal, encoded, charset, gap;
  bool last_encoded = false;
  auto flush_encoded = [&] {
    if (!encoded.empty()) out += to_utf8(encoded, charset);
    encoded.clear();
  };
  auto flush_literal = [&] {
    if (!literal.empty()) out += to_utf8(literal, "");
    literal.clear();
  };
  std::size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (c == '=' && i + 1 < raw.size() && raw[i + 1] == '?') {
      std::size_t q1 = raw.find('?', i + 2);
      std::size_t end = std::string_view::npos;
      if (q1 != std::string_view::npos && q1 + 2 < raw.size() && raw[q1 + 2] == '?' && q1 - i < 80)
        end = raw.find("?=", q1 + 3);
      if (end != std::string_view::npos && end - i < 4096) {
        std::string cs(raw.substr(i + 2, q1 - i - 2));
        if (auto star = cs.find('*'); star != std::string::npos) cs.resize(star);  // RFC 2231 language
        char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(raw[q1 + 1])));
        std::string_view payload = raw.substr(q1 + 3, end - q1 - 3);
        if ((enc == 'B' || enc == 'Q') && cs.find(' ') == std::string::npos) {
          std::string bytes = enc == 'B' ? decode_b(payload) : decode_q(payload);
          flush_literal();
          // White space between two encoded words is not part of the text (RFC 2047 section 6.2).
          if (!last_encoded) out += gap;
          if (lower(cs) != lower(charset)) flush_encoded();
          gap.clear();
          charset = cs;
          encoded += bytes;
          last_encoded = true;
          i = end + 2;
          continue;
        }
      }
    }
    if (c == ' ' || c == '\t') {
      gap += c;
      ++i;
      continue;
    }
    flush_encoded();
    if (!gap.empty()) {
      literal += gap;
      gap.clear();
    }
    literal += c;
    last_encoded = false;
    ++i;
  }
  flush_encoded();
  flush_literal();
  return out;
}

std::string raw_header(GMimeObject* obj, const char* name) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  if (!list) return {};
  GMimeHeader* h = g_mime_header_list_get_header(list, name);
  if (!h) return {};
  const char* raw = g_mime_header_get_raw_value(h);
  return raw ? raw : "";
}

struct Walker {
  Mail& mail;
  int leaf_index = 0;

  void message(GMimeMessage* msg, const char* origin, int depth) {
    MailHeaderSet h;
    h.subject = decode_header(raw_header(GMIME_OBJECT(msg), "Subject"));
    h.subject.erase(0, h.subject.find_first_not_of(" \t"));
    h.from = header_address(g_mime_message_get_from(msg), &h.from_name);
    h.origin = origin;
    mail.messages.push_back(std::move(h));
    if (GMimeObject* body = g_mime_message_get_mime_part(msg)) walk(body, depth);
  }

  void walk(GMimeObject* obj, int depth) {
    if (depth > max_depth) return;
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) {
        mail.body += "\n";
        message(inner, "attachment", depth + 1);
      }
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      // multipart/alternative: the plain text alone, when there is one.
      GMimeContentType* ct = g_mime_object_get_content_type(obj);
      bool alternative = ct && g_mime_content_type_is_type(ct, "multipart", "alternative");
      bool has_plain = false;
      if (alternative)
        for (int i = 0; i < n; ++i) {
          GMimeContentType* c = g_mime_object_get_content_type(g_mime_multipart_get_part(mp, i));
          if (c && g_mime_content_type_is_type(c, "text", "plain")) has_plain = true;
        }
      for (int i = 0; i < n; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        if (alternative && has_plain) {
          GMimeContentType* c = g_mime_object_get_content_type(child);
          if (c && g_mime_content_type_is_type(c, "text", "html")) continue;
        }
        walk(child, depth + 1);
      }
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    ++mail.parts;
    ++leaf_index;
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    bool text = ct && g_mime_content_type_is_type(ct, "text", "*");
    bool html = ct && g_mime_content_type_is_type(ct, "text", "html");
    if (!text) {
      // Binary attachments are never decoded; their size is only noted.
      GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(obj));
      if (content) {
        GMimeStream* s = g_mime_data_wrapper_get_stream(content);
        gint64 len = s ? g_mime_stream_length(s) : -1;
        if (len > 0) mail.skipped_bytes += static_cast<std::size_t>(len);
      }
      return;
    }
    std::string raw = collect_text(obj, mail.skipped_bytes);
    const char* cs = g_mime_object_get_content_type_parameter(obj, "charset");
    std::string used;
    std::string declared = cs ? cs : "";
    std::string utf8 = to_utf8(raw, declared, &used);
    auto names = iconv_names(declared);
    if (!declared.empty() && std::find(names.begin(), names.end(), used) == names.end())
      mail.notes.push_back("part " + std::to_string(leaf_index) + ": declared charset " + declared +
                           " does not fit the text; read as " + used);
    if (html) utf8 = strip_html(utf8);
    mail.body += utf8;
    if (!utf8.empty() && utf8.back() != '\n') mail.body += '\n';
  }
};

} // namespace

std::string to_utf8(std::string_view bytes, const std::string& charset, std::string* used) {
  std::string out;
  auto done = [&](const std::string& name) {
    if (used) *used = name;
    return out;
  };
  const bool high = std::any_of(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  // Valid UTF-8 with multibyte sequences almost never happens by accident in another charset,
  // so it wins over any label (UTF-8 text labelled Shift_JIS is a common mistake).
  if (high && g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr)) {
    out.assign(bytes);
    return done("UTF-8");
  }
  // Japanese text labelled as a Western single-byte charset converts without error but into
  // nonsense; a Japanese reading that yields kana is taken instead.
  const std::string l = lower(charset);
  if (high && (l.empty() || l.rfind("iso-8859", 0) == 0 || l.rfind("windows-125", 0) == 0 || l == "us-ascii"))
    for (const char* cand : {"EUC-JP-MS", "CP932"})
      if (try_convert(bytes, cand, out) && has_kana(out)) return done(cand);
  if (!charset.empty())
    for (const auto& name : iconv_names(charset)) {
      if (name == "UTF-8") {
        if (!g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr)) continue;
        out.assign(bytes);
        return done(name);
      }
      if (try_convert(bytes, name.c_str(), out)) return done(name);
    }
  // The label is missing or wrong: an escape sequence means ISO-2022-JP; otherwise the first
  // charset that converts every byte, UTF-8 first since it almost never fits by accident.
  if (g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr) && bytes.find('\x1b') == std::string_view::npos) {
    out.assign(bytes);
    return done("UTF-8");
  }
  for (const char* cand : {"ISO-2022-JP", "ISO-2022-JP-2", "EUC-JP-MS", "CP932"})
    if (try_convert(bytes, cand, out)) return done(cand);
  // Nothing fits: keep what is valid UTF-8 and mark the rest.
  gchar* valid = g_utf8_make_valid(bytes.data(), static_cast<gssize>(bytes.size()));
  out = valid;
  g_free(valid);
  return done("UTF-8 (repaired)");
}

std::string unquote(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    std::size_t i = 0;
    while (true) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && (line[i] == '>' || line[i] == '|')) {
        ++i;
        continue;
      }
      break;
    }
    out.append(line.substr(i));
    if (nl == std::string_view::npos) break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

bool looks_like_mail(std::string_view b) {
  // A header block: "Name: value" lines (names of letters, digits and '-') and folded
  // continuations up to the first empty line, with at least one of the headers every mail
  // system writes. An mbox "From " line may come first. Logs such as "Name:  web-tls" or
  // {"level": ...} are not mail.
  if (b.rfind("From ", 0) == 0) {
    std::size_t nl = b.find('\n');
    if (nl == std::string_view::npos) return false;
    b = b.substr(nl + 1);
  }
  static const char* known[] = {"from", "subject", "date", "message-id", "received", "return-path", "mime-version",
                                "delivered-to", "to", "reply-to", "x-mailer", "content-type"};
  int seen = 0;
  std::size_t pos = 0, lines = 0;
  while (pos < b.size() && lines++ < 500) {
    std::size_t nl = b.find('\n', pos);
    std::string_view line = b.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? b.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      if (lines == 1) return false;
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon > 76) return false;
    for (std::size_t i = 0; i < colon; ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
    }
    std::string name = lower(std::string(line.substr(0, colon)));
    for (const char* k : known)
      if (name == k) ++seen;
  }
  return seen >= 2;
}

Mail parse_mail(std::string_view bytes) {
  init_gmime();
  if (!looks_like_mail(bytes)) throw Error("the input is not an e-mail: it does not begin with a header line (Name: value)");
  Mail mail;
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), bytes.rfind("From ", 0) == 0 ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) throw Error("the input could not be read as an e-mail (no message found)");
  const char* id = g_mime_message_get_message_id(msg.get());
  mail.message_id = id ? id : "";
  const char* refs = g_mime_object_get_header(GMIME_OBJECT(msg.get()), "References");
  mail.references = refs ? refs : "";
  mail.reply_to = header_address(g_mime_message_get_reply_to(msg.get()), nullptr);
  const char* date = g_mime_object_get_header(GMIME_OBJECT(msg.get()), "Date");
  mail.date = date ? date : "";
  Walker w{mail};
  w.message(msg.get(), "header", 0);
  mail.body = unquote(mail.body);
  // A forward quotes the original's headers in the body ("Subject: ...", "件名: ..."); they
  // are read like the headers of an attached message.
  std::size_t pos = 0;
  const std::string& body = mail.body;
  MailHeaderSet quoted;
  quoted.origin = "quoted";
  auto flush = [&] {
    if (!quoted.subject.empty() || !quoted.from.empty()) mail.messages.push_back(quoted);
    quoted = MailHeaderSet{};
    quoted.origin = "quoted";
  };
  while (pos < body.size() && mail.messages.size() < 32) {
    std::size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    std::size_t s = line.find_first_not_of(" \t");
    if (s == std::string::npos) continue;
    line = line.substr(s);
    for (const char* label : {"Subject:", "件名:", "件名：", "Sujet:"}) {
      std::string l = label;
      if (line.size() > l.size() && (line.compare(0, l.size(), l) == 0 || lower(line.substr(0, l.size())) == lower(l))) {
        if (!quoted.subject.empty()) flush();
        std::string v = line.substr(l.size());
        v.erase(0, v.find_first_not_of(" \t"));
        // A quoted subject may itself carry encoded words.
        quoted.subject = decode_header(v);
      }
    }
    for (const char* label : {"From:", "差出人:", "差出人：", "送信者:"}) {
      std::string l = label;
      if (line.size() > l.size() && (line.compare(0, l.size(), l) == 0 || lower(line.substr(0, l.size())) == lower(l))) {
        if (!quoted.from.empty()) flush();
        std::string v = line.substr(l.size());
        std::size_t lt = v.find('<'), gt = v.find('>', lt == std::string::npos ? 0 : lt);
        if (lt != std::string::npos && gt != std::string::npos) v = v.substr(lt + 1, gt - lt - 1);
        v.erase(0, v.find_first_not_of(" \t"));
        while (!v.empty() && v.back() == ' ') v.pop_back();
        if (v.find('@') != std::string::npos) quoted.from = lower(v);
      }
    }
  }
  flush();
  return mail;
}

} // namespace certdoctor::triage

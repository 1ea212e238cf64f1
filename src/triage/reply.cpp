// The MIME form of an answer to a mail (module.hpp: compose_reply), with GMime.
#include "triage/module.hpp"

#include <gmime/gmime.h>

#include "util/error.hpp"

namespace certdoctor::triage {

std::string compose_reply(const Reply& r) {
  g_mime_init();
  GMimeMessage* msg = g_mime_message_new(TRUE);
  auto add = [&](GMimeAddressType type, const std::string& addr) {
    InternetAddressList* list = internet_address_list_parse(nullptr, addr.c_str());
    if (!list || internet_address_list_length(list) == 0) {
      if (list) g_object_unref(list);
      g_object_unref(msg);
      throw UsageError("'" + addr + "' is not an e-mail address");
    }
    internet_address_list_append(g_mime_message_get_addresses(msg, type), list);
    g_object_unref(list);
  };
  add(GMIME_ADDRESS_TYPE_FROM, r.from);
  if (!r.to.empty()) add(GMIME_ADDRESS_TYPE_TO, r.to);
  g_mime_message_set_subject(msg, r.subject.c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(msg, now);
  g_date_time_unref(now);
  std::string domain = r.from.substr(r.from.rfind('@') == std::string::npos ? 0 : r.from.rfind('@') + 1);
  while (!domain.empty() && (domain.back() == '>' || domain.back() == ' ')) domain.pop_back();
  char* mid = g_mime_utils_generate_message_id(domain.empty() ? "certdoctor.invalid" : domain.c_str());
  g_mime_message_set_message_id(msg, mid);
  g_free(mid);
  if (!r.in_reply_to.empty()) {
    std::string id = "<" + r.in_reply_to + ">";
    g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", id.c_str(), nullptr);
    std::string refs = r.references;
    // References: the original's references followed by its own id (RFC 5322 section 3.6.4).
    while (!refs.empty() && (refs.back() == ' ' || refs.back() == '\n' || refs.back() == '\r' || refs.back() == '\t'))
      refs.pop_back();
    refs = refs.empty() ? id : refs + " " + id;
    g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs.c_str(), nullptr);
  }
  // An automatic answer (RFC 3834): other robots must not answer it in turn.
  g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", nullptr);
  GMimeTextPart* body = g_mime_text_part_new_with_subtype("plain");
  g_mime_text_part_set_text(body, r.text.c_str());
  g_mime_text_part_set_charset(body, "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(body),
                                   g_mime_part_get_best_content_encoding(GMIME_PART(body), GMIME_ENCODING_CONSTRAINT_7BIT));
  g_mime_message_set_mime_part(msg, GMIME_OBJECT(body));
  g_object_unref(body);
  GMimeFormatOptions* opts = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
  char* s = g_mime_object_to_string(GMIME_OBJECT(msg), opts);
  std::string out = s ? s : "";
  g_free(s);
  g_mime_format_options_free(opts);
  g_object_unref(msg);
  return out;
}

} // namespace certdoctor::triage

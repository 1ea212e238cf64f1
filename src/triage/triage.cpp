#include "triage/triage.hpp"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::triage {

namespace {

bool valid_utf8(std::string_view s) { return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr); }

std::string nfkc(std::string_view utf8) {
  gchar* n = g_utf8_normalize(utf8.data(), static_cast<gssize>(utf8.size()), G_NORMALIZE_NFKC);
  if (!n) return std::string(utf8);
  std::string out(n);
  g_free(n);
  return out;
}

bool matches(const std::string& normalised_text, const std::vector<std::string>& pattern) {
  return std::all_of(pattern.begin(), pattern.end(),
                     [&](const std::string& part) { return normalised_text.find(normalise(part)) != std::string::npos; });
}

bool any_pattern(const std::string& text, const std::vector<std::vector<std::string>>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return matches(text, p); });
}

// Reply and forward prefixes, so that "Fwd: Re: [さくら...]" is compared like the original.
std::string strip_prefixes(std::string s) {
  while (true) {
    std::size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    s = s.substr(b);
    bool cut = false;
    for (const char* p : {"re:", "fwd:", "fw:", "転送:", "転送：", "re：", "fwd：", "fw：", "aw:", "wg:"}) {
      std::string pre = p;
      const std::string head = lower(s.substr(0, pre.size()));
      if (head == pre) {
        s = s.substr(pre.size());
        cut = true;
        break;
      }
    }
    if (!cut) return s;
  }
}

void add_domain(Triage& t, const std::string& raw) {
  std::string d = raw;
  while (!d.empty() && (d.back() == '.' || d.back() == ',' || d.back() == ')')) d.pop_back();
  if (d.rfind("*.", 0) == 0) d = d.substr(2);
  if (d.empty() || d.size() > 253) return;
  try {
    DomainName n = parse_domain(d);
    for (const auto& x : t.domains)
      if (x.ascii == n.ascii) return;
    if (t.domains.size() < 32) t.domains.push_back({n.ascii, n.unicode});
  } catch (const Error&) {
    // Not a domain (a placeholder such as ●●●●, an address, a URL): not a common name.
  }
}

} // namespace

std::string normalise(std::string_view utf8) {
  if (!valid_utf8(utf8)) return {};
  std::string n = nfkc(utf8);
  gchar* folded = g_utf8_casefold(n.data(), static_cast<gssize>(n.size()));
  std::string f = folded ? folded : n;
  g_free(folded);
  std::string out;
  out.reserve(f.size());
  for (char c : f)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  // NFKC leaves the ideographic space (U+3000) as a space, removed above; 【】 and 「」 stay.
  return out;
}

std::vector<std::string> labelled_values(const std::string& text, const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  if (!valid_utf8(text)) return out;
  const std::string n = nfkc(text);
  std::vector<std::string> norm_labels;
  for (const auto& l : labels) norm_labels.push_back(nfkc(l));
  std::size_t pos = 0;
  while (pos < n.size() && out.size() < 64) {
    std::size_t nl = n.find('\n', pos);
    std::string line = n.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? n.size() : nl + 1;
    if (line.size() > 4096) continue;
    const std::string lowline = lower(line);
    for (const auto& label : norm_labels) {
      const std::string low = lower(label);
      std::size_t at = lowline.find(low);
      if (at == std::string::npos) continue;
      std::size_t i = at + low.size();
      auto skip_spaces = [&] {
        while (i < line.size()) {
          if (line[i] == ' ' || line[i] == '\t') ++i;
          else if (line.compare(i, 3, "\u3000") == 0) i += 3;
          else break;
        }
      };
      skip_spaces();
      // A separator must follow the label: ':' (NFKC folds '：'), '=', or an opening bracket.
      bool sep = false;
      for (const char* s : {":", "=", "「", "『", "\"", "("}) {
        std::size_t sl = std::char_traits<char>::length(s);
        if (line.compare(i, sl, s) == 0) {
          i += sl;
          sep = true;
          break;
        }
      }
      if (!sep) continue;
      skip_spaces();
      std::size_t end = i;
      while (end < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[end]);
        if (c == ' ' || c == '\t' || c == '"' || c == ')' || c == ',' || c == '<' || c == '>') break;
        if (line.compare(end, 3, "」") == 0 || line.compare(end, 3, "』") == 0 || line.compare(end, 3, "、") == 0 ||
            line.compare(end, 3, "\u3000") == 0 || line.compare(end, 3, "。") == 0)
          break;
        ++end;
      }
      if (end > i) out.push_back(line.substr(i, end - i));
      break;
    }
  }
  return out;
}

std::string month_day(std::string_view date) {
  static const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  // Tokens: an optional weekday, then day, month, year (RFC 5322 section 3.3).
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : date) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  for (std::size_t i = 1; i < tokens.size(); ++i)
    for (int m = 0; m < 12; ++m)
      if (tokens[i] == months[m]) {
        const std::string& day = tokens[i - 1];
        if (day.empty() || day.size() > 2 || !std::all_of(day.begin(), day.end(), [](char c) { return c >= '0' && c <= '9'; }))
          return "";
        char buf[8];
        std::snprintf(buf, sizeof buf, "%02d-%02d", m + 1, std::stoi(day));
        return buf;
      }
  return "";
}

Triage triage(std::string_view bytes, const TriageData& d) {
  Triage t;
  std::size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) throw Error("the input is empty: give an e-mail, an ACME problem document or an ACME client's output");

  // 1. An ACME problem document (JSON).
  if (bytes[first] == '{') {
    if (auto rep = read_problem_json(d.acme, bytes)) {
      t.input_type = rep->form;
      t.kind = "acme-error";
      t.causes = rep->causes;
      for (const auto& dom : rep->domains) add_domain(t, dom);
      return t;
    }
  }

  // 2. A mail.
  if (looks_like_mail(bytes)) {
    t.input_type = "mail";
    t.mail = parse_mail(bytes);
    t.notes = t.mail.notes;
    const std::string body_n = normalise(t.mail.body);
    // Provider: a sender or a subject tag of its profile, in the outer, attached or quoted
    // messages (a forward comes from the customer, the original from the provider).
    std::vector<std::string> hits;
    for (const auto& [id, prof] : d.data.providers()) {
      const auto& nt = prof.notices;
      bool hit = false;
      for (const auto& m : t.mail.messages) {
        for (const auto& s : nt.senders)
          if (!m.from.empty() && glob_match(s, m.from)) hit = true;
        std::string subj = normalise(m.subject);
        for (const auto& tag : nt.subject_tags)
          if (!subj.empty() && subj.find(normalise(tag)) != std::string::npos) hit = true;
      }
      if (hit) hits.push_back(id);
    }
    std::vector<std::string> subjects;
    for (const auto& m : t.mail.messages) subjects.push_back(normalise(strip_prefixes(m.subject)));
    // The kind: a subject pattern first, then a body pattern; the providers the mail comes
    // from are tried before the others (a customer may forward a notice without its headers).
    auto try_kinds = [&](bool preferred, bool by_subject) {
      for (const auto& [id, prof] : d.data.providers()) {
        if (t.notice) return;
        bool is_hit = std::find(hits.begin(), hits.end(), id) != hits.end();
        if (is_hit != preferred) continue;
        for (const auto& kind : prof.notices.kinds) {
          bool ok = by_subject ? std::any_of(subjects.begin(), subjects.end(),
                                             [&](const std::string& s) { return any_pattern(s, kind.subjects); })
                               : any_pattern(body_n, kind.body);
          if (!ok) continue;
          t.provider = id;
          t.kind = kind.id;
          t.notice = &kind;
          t.matched_by = by_subject ? "subject" : "body";
          return;
        }
      }
    };
    for (bool by_subject : {true, false})
      for (bool preferred : {true, false}) try_kinds(preferred, by_subject);
    if (!t.notice && !hits.empty()) t.provider = hits.front();
    if (!t.notice) t.kind = "unrelated";
    // Domains and ids: the labelled fields of the provider's notices (not every domain-looking
    // string of a mail is a common name: support URLs and sender domains are not).
    if (t.notice) {
      const auto& fields = d.data.provider(t.provider).notices.fields;
      for (const auto& [field, labels] : fields)
        for (const auto& v : labelled_values(t.mail.body, labels)) {
          if (field == "domain") add_domain(t, v);
          else {
            auto& list = t.ids[field];
            if (std::find(list.begin(), list.end(), v) == list.end() && list.size() < 16) list.push_back(v);
          }
        }
      // A subject may name the domain too ("... (example.jp)").
      // A notice sent on a day the provider mailed it by mistake.
      const std::string md = month_day(t.mail.date);
      if (!md.empty())
        for (const auto& fault : t.notice->known_faults)
          for (const auto& d : fault["dates"])
            if (d == md) t.fault_notes.push_back(fault["note"]);
    }
    // ACME error text quoted in the mail (a forwarded client log, a CA message).
    if (auto rep = read_client_log(d.acme, t.mail.body)) {
      t.client = rep->client;
      t.causes = rep->causes;
      if (t.domains.empty())
        for (const auto& dom : rep->domains) add_domain(t, dom);
    }
    // A mail that is no known notice but carries a CA's error (a cron mail of certbot, a
    // colleague's forward of a log) is about that error.
    if (!t.notice && !t.causes.empty()) t.kind = "acme-error";
    if (t.mail.skipped_bytes > 0)
      t.notes.push_back(std::to_string(t.mail.skipped_bytes) + " bytes of attachments were not read");
    return t;
  }

  // 3. An ACME client's output or log.
  if (auto rep = read_client_log(d.acme, bytes)) {
    t.input_type = rep->form;
    t.kind = "acme-error";
    t.client = rep->client;
    t.causes = rep->causes;
    for (const auto& dom : rep->domains) add_domain(t, dom);
    return t;
  }
  if (!valid_utf8(bytes.substr(0, 4096)))
    throw Error("the input is neither an e-mail nor text: it looks like binary data (give a .eml file, an ACME problem document or a client log)");
  t.input_type = "unknown";
  t.kind = "unrelated";
  return t;
}

} // namespace certdoctor::triage

#include "triage/triage.hpp"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>

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

// What the evidence of an error text adds to its cause: an address inside a CDN's published
// ranges means the CA talked to the CDN's edge, not to the hosting server (cdn-proxy); an IPv6
// address that answered with an error page or the wrong content, while IPv6 is tried first,
// is probably not the hosting server (aaaa-not-host, probable). The cause the text itself
// names stays in the evidence.
void refine_causes(std::vector<AcmeCause>& causes, const TriageData& d) {
  for (auto& c : causes) {
    if (!c.evidence.contains("address") || !c.evidence["address"].is_string()) continue;
    std::string addr = c.evidence["address"].get<std::string>();
    if (!addr.empty() && addr.front() == '[') addr = addr.substr(1);
    if (!addr.empty() && addr.back() == ']') addr.pop_back();
    if (d.addresses) {
      const auto cls = d.addresses->classify(addr);
      if (cls.valid && !cls.cdn.empty() && c.finding != "cdn-proxy") {
        c.evidence["text_names"] = c.finding;
        c.evidence["cdn"] = cls.cdn_name;
        c.evidence["cdn_range"] = cls.cdn_range;
        c.finding = "cdn-proxy";
        c.rule += "+cdn-range";
        auto it = d.acme.finding_notes.find("cdn-proxy");
        c.note = it == d.acme.finding_notes.end() ? nlohmann::json() : it->second;
        continue;
      }
    }
    const std::string reason = c.evidence.value("reason", "");
    const bool v6 = addr.find(':') != std::string::npos;
    if (v6 && c.finding == "http-error" && reason != "slow-body" && c.rule != "tls-after-redirect") {
      c.evidence["text_names"] = c.finding;
      c.evidence["certainty"] = "probable";
      c.finding = "aaaa-not-host";
      c.rule += "+ipv6-answer";
      auto it = d.acme.finding_notes.find("aaaa-not-host");
      c.note = it == d.acme.finding_notes.end() ? nlohmann::json() : it->second;
    }
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

std::vector<std::string> labelled_values(const std::string& text, const std::vector<std::string>& labels, bool whole_line) {
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
      if (whole_line) {
        end = line.size();
        while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) --end;
        if (end > i) out.push_back(line.substr(i, end - i));
        break;
      }
      while (end < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[end]);
        if (c == ' ' || c == '\t' || c == '\r' || c == '"' || c == ')' || c == ',' || c == '<' || c == '>') break;
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
      refine_causes(t.causes, d);
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
    std::vector<std::string> subjects;
    for (const auto& m : t.mail.messages) subjects.push_back(normalise(strip_prefixes(m.subject)));
    std::string subjects_n;
    for (const auto& s : subjects) subjects_n += s + "\n";
    const std::string all_n = subjects_n + body_n;
    // Each provider is scored on independent cues (its profile's `recognition:`); the one with
    // the highest score whose kind is recognised wins. A kind is known by its subject or body
    // patterns (the provider's own wording) or, reworded, by its groups of words.
    struct Candidate {
      Recognition rec;
      const view::NoticeKind* kind = nullptr;
      std::string matched_by;
      bool hit = false;
    };
    std::vector<Candidate> candidates;
    for (const auto& [id, prof] : d.data.providers()) {
      const auto& nt = prof.notices;
      if (nt.kinds.empty()) continue;
      Candidate c;
      c.rec.provider = id;
      c.rec.threshold = nt.threshold;
      auto weight = [&](const char* cue, int dflt) {
        auto it = nt.weights.find(cue);
        return it == nt.weights.end() ? dflt : it->second;
      };
      auto add = [&](const char* cue, const std::string& what, int dflt) {
        const int w = weight(cue, dflt);
        c.rec.cues.push_back({cue, what, w});
        c.rec.score += w;
      };
      auto first_in = [&](const std::vector<std::string>& words, const std::string& text) -> std::string {
        for (const auto& w : words)
          if (!normalise(w).empty() && text.find(normalise(w)) != std::string::npos) return w;
        return "";
      };
      // Provider cues: a sender of the profile, its tag in a subject, its name in the text.
      std::string sender, tag;
      for (const auto& m : t.mail.messages) {
        for (const auto& g : nt.senders)
          if (sender.empty() && !m.from.empty() && glob_match(g, m.from)) sender = m.from;
        const std::string subj = normalise(m.subject);
        for (const auto& tg : nt.subject_tags)
          if (tag.empty() && !subj.empty() && subj.find(normalise(tg)) != std::string::npos) tag = tg;
      }
      if (!sender.empty()) add("sender", sender, 3);
      if (!tag.empty()) add("tag", tag, 2);
      c.hit = !sender.empty() || !tag.empty();
      if (auto w = first_in(nt.names, all_n); !w.empty()) add("name", w, 1);
      if (auto w = first_in(nt.certificate_words, all_n); !w.empty()) add("certificate", w, 1);
      const std::string failure = first_in(nt.failure_words, all_n);
      if (!failure.empty()) add("failure", failure, 1);
      // Labelled fields of the provider's notices that carry a value.
      for (const auto& [field, labels] : nt.fields) {
        auto values = labelled_values(t.mail.body, labels, field == "cert_type");
        if (!values.empty()) add("field", field + "=" + values.front(), 1);
      }
      // Mails from the same senders about other things: billing, maintenance, domain renewal.
      if (auto w = first_in(nt.unrelated_words, subjects_n); !w.empty()) add("unrelated-subject", w, -6);
      else if (auto w2 = first_in(nt.unrelated_words, body_n); !w2.empty()) add("unrelated-body", w2, -2);
      // The kind.
      auto group_present = [&](const std::vector<std::string>& group) {
        for (const auto& alt : group) {
          if (alt == "@failure") {
            if (!failure.empty()) return true;
          } else if (!normalise(alt).empty() && all_n.find(normalise(alt)) != std::string::npos)
            return true;
        }
        return false;
      };
      for (const auto& kind : nt.kinds)
        if (std::any_of(subjects.begin(), subjects.end(), [&](const std::string& s) { return any_pattern(s, kind.subjects); })) {
          c.kind = &kind;
          c.matched_by = "subject";
          break;
        }
      if (!c.kind)
        for (const auto& kind : nt.kinds)
          if (any_pattern(body_n, kind.body)) {
            c.kind = &kind;
            c.matched_by = "body";
            break;
          }
      if (c.kind) add(c.matched_by == "subject" ? "subject-pattern" : "body-pattern", c.kind->id, 4);
      else {
        std::size_t best = 0;
        for (const auto& kind : nt.kinds) {
          if (kind.words.empty() || kind.words.size() <= best) continue;
          if (std::all_of(kind.words.begin(), kind.words.end(), group_present)) {
            best = kind.words.size();
            c.kind = &kind;
          }
        }
        if (c.kind) {
          c.matched_by = "words";
          add("words", c.kind->id, 3);
        }
      }
      if (c.kind) c.rec.kind = c.kind->id;
      candidates.push_back(std::move(c));
    }
    // The best candidate: recognised before not, then the higher score, then a sender or tag.
    const Candidate* best = nullptr;
    for (const auto& c : candidates) {
      auto rank = [](const Candidate& x) {
        const bool ok = x.kind && x.rec.score >= x.rec.threshold;
        return std::tuple<bool, int, bool>(ok, x.rec.score, x.hit);
      };
      if (!best || rank(c) > rank(*best)) best = &c;
    }
    if (best) t.recognition = best->rec;
    if (best && best->kind && best->rec.score >= best->rec.threshold) {
      t.provider = best->rec.provider;
      t.kind = best->kind->id;
      t.notice = best->kind;
      t.matched_by = best->matched_by;
    } else {
      t.kind = "unrelated";
      for (const auto& c : candidates)
        if (c.hit && t.provider.empty()) t.provider = c.rec.provider;
    }
    // Domains and ids: the labelled fields of the provider's notices (not every domain-looking
    // string of a mail is a common name: support URLs and sender domains are not). Every block
    // of a notice about several certificates gives its own common name.
    if (t.notice) {
      const auto& nt = d.data.provider(t.provider).notices;
      for (const auto& [field, labels] : nt.fields)
        for (const auto& v : labelled_values(t.mail.body, labels, field == "cert_type")) {
          if (field == "domain") add_domain(t, v);
          else {
            auto& list = t.ids[field];
            if (std::find(list.begin(), list.end(), v) == list.end() && list.size() < 16) list.push_back(v);
          }
        }
      // The hosting account: the first account field with a value, without the provider's
      // host suffix (an initial domain "acct.sakura.ne.jp" is the account "acct").
      for (const auto& f : nt.account_fields) {
        auto it = t.ids.find(f);
        if (it == t.ids.end() || it->second.empty()) continue;
        std::string a = lower(it->second.front());
        for (const auto& suffix : nt.account_strip) {
          const std::string sfx = lower(suffix);
          if (a.size() > sfx.size() && a.compare(a.size() - sfx.size(), sfx.size(), sfx) == 0) a.resize(a.size() - sfx.size());
        }
        t.account = a;
        break;
      }
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
      refine_causes(t.causes, d);
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
    refine_causes(t.causes, d);
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

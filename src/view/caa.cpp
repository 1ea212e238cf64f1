#include "view/caa.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cstddef>

namespace certdoctor::view::caa {

namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// RFC 8659 §4.2: issuer-domain-name = label *("." label),
// label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)).
bool is_issuer_domain_name(std::string_view name) {
  if (name.empty()) return false;
  for (const auto label : split(name, '.')) {
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (const char c : label)
      if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

struct Parsed {
  IssueValue value;
  bool parameters_ok = false;  // what Boulder's parseCAARecord accepts
};

Parsed parse(std::string_view text) {
  Parsed out;
  // Semicolons cannot occur in a parameter tag or value (RFC 8659 §4.2), so
  // splitting on them is exact.
  const auto parts = split(text, ';');
  out.value.issuer_domain = std::string(trim_wsp(parts[0]));
  const bool domain_ok = out.value.issuer_domain.empty() || is_issuer_domain_name(out.value.issuer_domain);

  const std::vector<std::string_view> params(parts.begin() + 1, parts.end());
  if (params.size() == 1 && trim_wsp(params[0]).empty()) {
    out.parameters_ok = true;
    out.value.well_formed = domain_ok;
    return out;
  }
  for (const auto param : params) {
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) {
      out.value.parameters.clear();
      return out;
    }
    const auto tag = trim_wsp(param.substr(0, eq));
    const auto val = trim_wsp(param.substr(eq + 1));
    // Boulder admits only letters and digits in a tag, stricter than the
    // §4.2 grammar, which also allows inner hyphens.
    const bool tag_ok = std::all_of(tag.begin(), tag.end(), is_alnum);
    // value = *(%x21-3A / %x3C-7E)
    const bool val_ok = std::all_of(val.begin(), val.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x21 && u <= 0x7e && u != 0x3b;
    });
    if (!tag_ok || !val_ok) {
      out.value.parameters.clear();
      return out;
    }
    out.value.parameters.emplace_back(std::string(tag), std::string(val));
  }
  out.parameters_ok = true;
  out.value.well_formed = domain_ok;
  return out;
}

// How one issue/issuewild property relates to the policy, in Boulder's order
// of checks: syntax, issuer domain, accounturi, validationmethods.
enum class Match { malformed, empty_issuer, other_issuer, account_mismatch, method_mismatch, needs_account, match };

bool is_method_label(std::string_view m) {
  return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

Match evaluate(const Parsed& parsed, const Policy& policy) {
  if (!parsed.parameters_ok) return Match::malformed;
  const auto& value = parsed.value;
  // Boulder compares the issuer domain byte for byte, without case folding.
  if (std::find(policy.issuer_domains.begin(), policy.issuer_domains.end(), value.issuer_domain) ==
      policy.issuer_domains.end())
    return value.issuer_domain.empty() ? Match::empty_issuer : Match::other_issuer;

  // RFC 8657 §3; Boulder treats a property with two accounturi parameters as unsatisfiable.
  const std::string* account = nullptr;
  for (const auto& [tag, val] : value.parameters) {
    if (tag != "accounturi") continue;
    if (account != nullptr) return Match::account_mismatch;
    account = &val;
  }
  bool account_unknown = false;
  if (account != nullptr) {
    if (!policy.account_uri)
      account_unknown = true;
    else if (*account != *policy.account_uri)
      return Match::account_mismatch;
  }

  // RFC 8657 §4: value = [*(label ",") label], label = 1*(ALPHA / DIGIT / "-");
  // Boulder rejects the whole property when any label breaks that, and when
  // the parameter appears twice.
  const std::string* methods = nullptr;
  for (const auto& [tag, val] : value.parameters) {
    if (tag != "validationmethods") continue;
    if (methods != nullptr) return Match::method_mismatch;
    methods = &val;
  }
  if (methods != nullptr) {
    bool listed = false;
    for (const auto m : split(*methods, ',')) {
      if (!is_method_label(m)) return Match::method_mismatch;
      if (m == policy.validation_method) {
        listed = true;
        break;
      }
    }
    if (!listed) return Match::method_mismatch;
  }
  return account_unknown ? Match::needs_account : Match::match;
}

// True when `issuer` names one of the policy's issuers up to ASCII case and a
// trailing dot: such a record was meant for this CA even if it does not match.
bool names_policy_issuer(std::string_view issuer, const Policy& policy) {
  if (!issuer.empty() && issuer.back() == '.') issuer.remove_suffix(1);
  const auto folded = lower(issuer);
  return std::any_of(policy.issuer_domains.begin(), policy.issuer_domains.end(), [&](const std::string& d) {
    std::string_view want = d;
    if (!want.empty() && want.back() == '.') want.remove_suffix(1);
    return lower(want) == folded;
  });
}

Decision finish(Decision d, Verdict verdict, std::string reason, const Record* record) {
  d.verdict = verdict;
  d.reason = std::move(reason);
  d.detail = record != nullptr ? presentation(*record) : std::string();
  return d;
}

}  // namespace

IssueValue parse_issue_value(std::string_view value) {
  return parse(value).value;
}

std::string verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::permitted:
      return "permitted";
    case Verdict::permitted_if_account:
      return "permitted-if-account";
    case Verdict::forbidden:
      return "forbidden";
    case Verdict::lookup_failed:
      return "lookup-failed";
  }
  return "unknown";
}

std::string presentation(const Record& record) {
  const auto escape_byte = [](std::string& out, unsigned char u) {
    out += '\\';
    out += static_cast<char>('0' + u / 100);
    out += static_cast<char>('0' + u / 10 % 10);
    out += static_cast<char>('0' + u % 10);
  };
  std::string out = std::to_string(record.flags);
  out += ' ';
  for (const char c : record.tag) {
    if (is_alnum(c))
      out += c;
    else
      escape_byte(out, static_cast<unsigned char>(c));
  }
  out += " \"";
  for (const char c : record.value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u > 0x7e) {
      escape_byte(out, u);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Decision decide(std::string_view name, const std::vector<Level>& climb, const Policy& policy) {
  Decision d;
  const bool wildcard = name.size() >= 2 && name[0] == '*' && name[1] == '.';

  // RFC 8659 §3: the relevant RRset is the first non-empty CAA RRset from the
  // name upward. Like Boulder's selectCAA, a failed lookup met before it may
  // hide records, so the CA refuses; failures above it do not matter.
  const Level* relevant = nullptr;
  for (const auto& level : climb) {
    if (level.outcome == LookupOutcome::failed) {
      d.verdict = Verdict::lookup_failed;
      d.relevant_domain = level.domain;
      d.reason = "lookup-failed";
      d.detail = level.failure;
      return d;
    }
    if (level.outcome == LookupOutcome::records && !level.records.empty()) {
      relevant = &level;
      break;
    }
  }
  if (relevant == nullptr) return finish(std::move(d), Verdict::permitted, "no-caa", nullptr);
  d.relevant_domain = relevant->domain;
  d.relevant_set = relevant->records;

  // RFC 8659 §4.1: tags match case-insensitively; an unknown tag with the
  // critical flag forbids issuance. Boulder also honours bit 1, which many
  // zone operators set by mistake for "critical"; iodef is known, never critical.
  std::vector<const Record*> issue;
  std::vector<const Record*> issuewild;
  const std::uint8_t critical_mask = policy.bit1_is_critical ? 0x81 : 0x80;
  for (const auto& record : relevant->records) {
    const auto tag = lower(record.tag);
    if (tag == "issue")
      issue.push_back(&record);
    else if (tag == "issuewild")
      issuewild.push_back(&record);
    else if (tag != "iodef" && (record.flags & critical_mask) != 0)
      return finish(std::move(d), Verdict::forbidden, "critical-unknown-tag", &record);
  }

  // RFC 8659 §4.3: issuewild properties are ignored for non-wildcard names;
  // when a wildcard name has any, its issue properties are ignored.
  const auto& applicable = (wildcard && !issuewild.empty()) ? issuewild : issue;
  if (applicable.empty()) return finish(std::move(d), Verdict::permitted, "no-caa", nullptr);

  std::vector<std::pair<const Record*, Parsed>> parsed;
  std::vector<Match> matches;
  for (const auto* record : applicable) {
    parsed.emplace_back(record, parse(record->value));
    matches.push_back(evaluate(parsed.back().second, policy));
  }
  const auto first = [&](Match m) -> const Record* {
    for (std::size_t i = 0; i < matches.size(); ++i)
      if (matches[i] == m) return parsed[i].first;
    return nullptr;
  };

  if (const auto* r = first(Match::match)) return finish(std::move(d), Verdict::permitted, "issuer-listed", r);
  if (const auto* r = first(Match::needs_account))
    return finish(std::move(d), Verdict::permitted_if_account, "account-uri-required", r);
  // A property that got past the account check but not the method check is
  // the closer miss, so it is reported first.
  if (const auto* r = first(Match::method_mismatch))
    return finish(std::move(d), Verdict::forbidden, "validation-method-not-allowed", r);
  if (const auto* r = first(Match::account_mismatch))
    return finish(std::move(d), Verdict::forbidden, "account-uri-mismatch", r);
  // Nothing names this CA exactly. Point at a near miss (case, trailing dot,
  // malformed parameters) if there is one, since that is what the owner meant.
  for (const auto& [record, p] : parsed)
    if (names_policy_issuer(p.value.issuer_domain, policy))
      return finish(std::move(d), Verdict::forbidden, "issuer-not-listed", record);
  const bool any_valid = std::any_of(matches.begin(), matches.end(), [](Match m) { return m != Match::malformed; });
  const bool all_empty = std::all_of(matches.begin(), matches.end(),
                                     [](Match m) { return m == Match::empty_issuer || m == Match::malformed; });
  if (any_valid && all_empty)
    return finish(std::move(d), Verdict::forbidden, "empty-issuer", first(Match::empty_issuer));
  const auto* other = first(Match::other_issuer);
  return finish(std::move(d), Verdict::forbidden, "issuer-not-listed", other != nullptr ? other : parsed.front().first);
}

}  // namespace certdoctor::view::caa

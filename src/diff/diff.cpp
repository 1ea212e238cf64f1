#include "diff/diff.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "rules/engine.hpp"
#include "util/text.hpp"

namespace certdoctor::diff {

using nlohmann::json;

namespace {

// --- paths -------------------------------------------------------------------------------------

// Components of a normalised path: "names[].caa.levels" -> {"names", "[]", "caa", "levels"}.
std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char ch = path[i];
    if (ch == '.') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch == '[') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      out.push_back("[]");
      const auto close = path.find(']', i);
      i = close == std::string::npos ? path.size() : close;
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string join_components(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p == "[]") out += "[]";
    else out += (out.empty() ? "" : ".") + p;
  }
  return out;
}

// Leaves whose difference says nothing about the domain: how long a step took, a cached
// record's remaining TTL.
const std::set<std::string> volatile_keys = {"elapsed_ms", "started_ms", "chain_seconds", "ttl",
                                             "first_request_ms", "dns_elapsed_ms", "queries_sent"};

void collect_differences(const json& a, const json& b, const std::string& path, std::set<std::string>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      if (volatile_keys.count(k)) continue;
      static const json null;
      collect_differences(a.contains(k) ? a[k] : null, b.contains(k) ? b[k] : null,
                          path.empty() ? k : path + "." + k, out);
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const std::size_t n = std::max(a.size(), b.size());
    static const json null;
    if (a.size() != b.size()) out.insert(path + "[]");
    for (std::size_t i = 0; i < n; ++i)
      collect_differences(i < a.size() ? a[i] : null, i < b.size() ? b[i] : null, path + "[]", out);
    return;
  }
  // A whole subtree appeared or went: every leaf of it differs.
  if (a.is_structured() || b.is_structured()) {
    static const json null;
    const json& s = a.is_structured() ? a : b;
    if (s.empty()) out.insert(path);
    if (s.is_object())
      for (auto it = s.begin(); it != s.end(); ++it)
        if (!volatile_keys.count(it.key())) collect_differences(it.value(), null, path + "." + it.key(), out);
    if (s.is_array())
      for (const auto& e : s) collect_differences(e, null, path + "[]", out);
    if (a.is_structured() && b.is_structured()) return;
    out.insert(path);
    return;
  }
  out.insert(path);
}

// --- the one table: which parts of the view each change kind touches --------------------------

// What an address of a certified name feeds: its classes, whether it is the hosting server's,
// which address the CA dials, and everything the web probe found at it.
const std::vector<std::string> address_paths = {
    "names[].a", "names[].aaaa", "names[].a_addresses", "names[].aaaa_addresses", "names[].a_status",
    "names[].aaaa_status", "names[].addresses", "names[].status", "names[].off_host*", "names[].on_host",
    "names[].ca_first_address", "names[].ca_fallback_address", "names[].unreachable_addresses",
    "names[].answers_unlike", "names[].web", "names[].failures", "names[].failure_summary", "all_names_on_host",
    "main_name_ok", "host.not_host", "host.not_host_names", "web.challenges", "web.names", "web.certs"};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<std::pair<std::string, std::vector<std::string>>>& table() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> t = {
      // The nameservers at the parent decide which servers every answer comes from.
      {"nameservers-parent",
       plus({"delegation", "provider", "host", "names[].caa", "names[].cname_chain", "names[].provider_answers",
             "names[].dnssec"},
            address_paths)},
      // The zone's own NS set: the servers it names, and the provider recognised from them.
      {"nameservers-zone", {"delegation", "provider", "host", "names[].provider_answers"}},
      {"resolution", plus({"names[].dnssec", "names[].caa"}, address_paths)},
      {"a", address_paths},
      {"aaaa", address_paths},
      {"cname", plus({"names[].cname_chain"}, address_paths)},
      {"caa", {"names[].caa"}},
      {"redirect", {"web.challenges", "web.names", "names[].web"}},
      {"challenge-answer", {"web.challenges", "web.names", "names[].web"}},
      {"block-page", {"web.challenges", "web.names", "names[].web"}},
      {"certificate", {"web.certs", "renewal"}},
      {"certificate-issuer", {"web.certs", "renewal"}},
      {"certificate-expiry", {"web.certs", "renewal"}},
      {"certificate-names", {"web.certs"}},
      {"certificate-unrenewed", {"web.certs", "renewal"}},
      {"provider", {"provider", "host", "renewal", "web.certs", "names[].provider_answers", "names[].off_host*",
                    "names[].on_host", "names[].addresses", "all_names_on_host", "main_name_ok", "web.challenges"}},
      {"host", {"host", "names[].off_host*", "names[].on_host", "names[].addresses", "all_names_on_host",
                "main_name_ok", "web.challenges", "web.names", "names[].web"}},
  };
  return t;
}

// Kinds about one certified name: they explain only that name's findings.
const std::set<std::string> per_name_kinds = {"resolution", "a", "aaaa", "cname", "redirect", "challenge-answer",
                                              "block-page", "certificate", "certificate-issuer",
                                              "certificate-expiry", "certificate-names", "certificate-unrenewed"};

// `touched` (a prefix from the table, a trailing '*' matching any component that starts so)
// against a normalised path.
bool prefix_meets(const std::string& prefix, const std::string& path) {
  auto p = components(prefix);
  auto q = components(path);
  const std::size_t n = std::min(p.size(), q.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& a = p[i];
    if (!a.empty() && a.back() == '*') {
      if (q[i].rfind(a.substr(0, a.size() - 1), 0) != 0) return false;
    } else if (a != q[i]) {
      return false;
    }
  }
  return true;
}

// --- reading the facts -------------------------------------------------------------------------

std::vector<std::string> sorted_lower(std::vector<std::string> v) {
  for (auto& s : v) {
    s = lower(s);
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// An answer the name's state can be read from (a failed lookup says nothing about the records).
bool usable(const facts::Lookup& l) {
  return l.outcome == "answer" || l.outcome == "nodata" || l.outcome == "nxdomain";
}

bool delegation_known(const facts::DelegationFacts& d) {
  return d.status == "delegated" || d.status == "not-delegated";
}

// The member `key` of an object, or null: a reference that outlives the call (json::value()
// returns a copy).
const json& member(const json& v, const std::string& key) {
  static const json null;
  if (!v.is_object()) return null;
  auto it = v.find(key);
  return it == v.end() ? null : *it;
}

const json* find_in(const json& list, const std::string& name, const std::string& family = "") {
  if (!list.is_array()) return nullptr;
  for (const auto& e : list) {
    if (!e.is_object() || e.value("name", "") != name) continue;
    if (!family.empty() && e.value("family", "") != family) continue;
    return &e;
  }
  return nullptr;
}

std::string text_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// The chain of one name and family that the CA would use first.
const facts::HttpChallenge* chain_of(const facts::Facts& f, const std::string& name, const std::string& family) {
  for (const auto& c : f.web.http)
    if (c.name == name && c.family == family) return &c;
  return nullptr;
}

std::vector<std::string> redirects_of(const facts::HttpChallenge& c) {
  std::vector<std::string> out;
  for (const auto& h : c.hops)
    if (h.status >= 300 && h.status < 400 && !h.next_url.empty()) out.push_back(h.next_url);
  return out;
}

// The redirect targets with the check's own random token in place of "TOKEN": a site that
// forwards the challenge path carries the token along, and two checks differ in their tokens,
// not in their redirects.
std::vector<std::string> redirects_compared(const facts::HttpChallenge& c, const std::string& token) {
  std::vector<std::string> out = redirects_of(c);
  if (token.size() < 8) return out;
  for (auto& url : out)
    for (auto at = url.find(token); at != std::string::npos; at = url.find(token, at + 5)) url.replace(at, token.size(), "TOKEN");
  return out;
}

std::string answer_of(const facts::HttpChallenge& c) {
  if (c.hops.empty()) return c.stop == "deadline" ? "not-sent" : c.stop;
  const auto& last = c.hops.back();
  if (last.outcome == "response") return std::to_string(last.status);
  return last.outcome;
}

// The leaf served for a name: over IPv4 when a handshake there gave one, else over IPv6, so that
// both sides are read from the same family when they can be.
const facts::CertificateFact* leaf_of(const facts::Facts& f, const std::string& name) {
  for (const char* family : {"ipv4", "ipv6"})
    for (const auto& t : f.web.tls)
      if (t.name == name && t.family == family && t.outcome == "handshake" && !t.chain.empty())
        return &t.chain.front();
  return nullptr;
}

class Detector {
public:
  Detector(const facts::Facts& a, const facts::Facts& b, const json& va, const json& vb)
      : a_(a), b_(b), va_(va), vb_(vb) {}

  std::vector<Change> run() {
    nameservers();
    names();
    caa();
    challenges();
    certificates();
    provider_and_host();
    // Listed in the order of change_kinds(), then as found.
    std::stable_sort(out_.begin(), out_.end(), [](const Change& x, const Change& y) {
      const auto& k = change_kinds();
      return std::find(k.begin(), k.end(), x.kind) < std::find(k.begin(), k.end(), y.kind);
    });
    return std::move(out_);
  }

private:
  void add(const std::string& kind, const std::string& name, std::vector<std::string> before,
           std::vector<std::string> after) {
    if (before == after) return;
    Change c;
    c.kind = kind;
    c.name = name;
    c.action = before.empty() ? "added" : after.empty() ? "removed" : "changed";
    c.before = std::move(before);
    c.after = std::move(after);
    c.since = a_.collected_at;
    c.until = b_.collected_at;
    out_.push_back(std::move(c));
  }

  void nameservers() {
    const auto& da = a_.delegation;
    const auto& db = b_.delegation;
    if (!delegation_known(da) || !delegation_known(db)) return;
    const std::string zone = db.zone.empty() ? da.zone : db.zone;
    add("nameservers-parent", zone, sorted_lower(da.parent_ns), sorted_lower(db.parent_ns));
    add("nameservers-zone", zone, sorted_lower(da.child_ns), sorted_lower(db.child_ns));
  }

  void names() {
    for (const auto& nb : b_.names) {
      const facts::NameFacts* na = nullptr;
      for (const auto& n : a_.names)
        if (n.name == nb.name) na = &n;
      if (!na) continue;
      const json* ea = find_in(member(va_, "names"), nb.name);
      const json* eb = find_in(member(vb_, "names"), nb.name);
      const std::string sa = ea ? ea->value("status", "") : "";
      const std::string sb = eb ? eb->value("status", "") : "";
      if (sa != sb && !sa.empty() && !sb.empty()) add("resolution", nb.display, {sa}, {sb});
      if (usable(na->a) && usable(nb.a)) {
        add("cname", nb.display, na->a.cname_chain(), nb.a.cname_chain());
        add("a", nb.display, sorted_lower(na->a.values("A")), sorted_lower(nb.a.values("A")));
      }
      if (usable(na->aaaa) && usable(nb.aaaa))
        add("aaaa", nb.display, sorted_lower(na->aaaa.values("AAAA")), sorted_lower(nb.aaaa.values("AAAA")));
    }
  }

  // CAA at each level, once per level (the names share their parents).
  void caa() {
    auto levels = [](const facts::Facts& f) {
      std::map<std::string, std::optional<std::vector<std::string>>> out;
      for (const auto& n : f.names)
        for (const auto& l : n.caa) {
          std::string level = lower(l.qname);
          if (!level.empty() && level.back() == '.') level.pop_back();
          if (out.count(level)) continue;
          if (usable(l)) out[level] = sorted_values(l);
          else out[level] = std::nullopt;
        }
      return out;
    };
    auto la = levels(a_);
    auto lb = levels(b_);
    for (const auto& [level, vb] : lb) {
      auto it = la.find(level);
      if (it == la.end() || !it->second || !vb) continue;
      add("caa", level, *it->second, *vb);
    }
  }

  static std::vector<std::string> sorted_values(const facts::Lookup& l) {
    auto v = l.values("CAA");
    std::sort(v.begin(), v.end());
    return v;
  }

  void challenges() {
    for (const auto& nb : b_.names)
      for (const char* family : {"ipv6", "ipv4"}) {
        const auto* ca = chain_of(a_, nb.name, family);
        const auto* cb = chain_of(b_, nb.name, family);
        if (!ca || !cb) continue;
        const std::string label = nb.display + " (" + (std::string(family) == "ipv6" ? "IPv6" : "IPv4") + ")";
        if (redirects_compared(*ca, a_.web.token) != redirects_compared(*cb, b_.web.token))
          add("redirect", label, redirects_of(*ca), redirects_of(*cb));
        add("challenge-answer", label, {answer_of(*ca)}, {answer_of(*cb)});
        const json* wa = find_in(member(member(va_, "web"), "challenges"), nb.name, family);
        const json* wb = find_in(member(member(vb_, "web"), "challenges"), nb.name, family);
        auto page = [](const json* w) -> std::vector<std::string> {
          if (!w) return {};
          const std::string n = text_of(w->value("block_page_name", json()));
          const std::string k = text_of(w->value("block_page_kind", json()));
          if (n.empty() && k.empty()) return {};
          return {n.empty() ? k : n};
        };
        add("block-page", label, page(wa), page(wb));
      }
  }

  void certificates() {
    for (const auto& nb : b_.names) {
      const auto* la = leaf_of(a_, nb.name);
      const auto* lb = leaf_of(b_, nb.name);
      if (!la && !lb) continue;
      auto summary = [](const facts::CertificateFact* l) -> std::vector<std::string> {
        if (!l) return {};
        return {l->issuer_cn + ", " + l->not_after.substr(0, 10)};
      };
      if (!la || !lb) {
        // Only when both sides asked: a check without the web probe says nothing here.
        if (a_.web.probed && b_.web.probed) add("certificate", nb.display, summary(la), summary(lb));
        continue;
      }
      if (la->sha256 == lb->sha256) {
        const json* ca = find_in(member(member(va_, "web"), "certs"), nb.name);
        const json* cb = find_in(member(member(vb_, "web"), "certs"), nb.name);
        if (!ca || !cb) continue;
        bool crossed = false;
        for (const char* k : {"not_renewed", "expired", "expiring"})
          if (ca->value(k, json()) != cb->value(k, json())) crossed = true;
        if (crossed) add("certificate-unrenewed", nb.display, {text_of(ca->value("days_left", json()))},
                         {text_of(cb->value("days_left", json()))});
        continue;
      }
      add("certificate-issuer", nb.display, {la->issuer_cn}, {lb->issuer_cn});
      add("certificate-expiry", nb.display, {la->not_after}, {lb->not_after});
      add("certificate-names", nb.display, sorted_lower(la->dns_names), sorted_lower(lb->dns_names));
    }
  }

  void provider_and_host() {
    const std::string pa = text_of(member(member(va_, "provider"), "id"));
    const std::string pb = text_of(member(member(vb_, "provider"), "id"));
    add("provider", a_.domain, pa.empty() ? std::vector<std::string>{} : std::vector<std::string>{pa},
        pb.empty() ? std::vector<std::string>{} : std::vector<std::string>{pb});
    auto host = [](const json& v) {
      std::vector<std::string> out;
      for (const auto& a : member(member(v, "host"), "addresses"))
        out.push_back(a.is_object() ? a.value("address", "") : text_of(a));
      return sorted_lower(out);
    };
    add("host", a_.domain, host(va_), host(vb_));
  }

  const facts::Facts& a_;
  const facts::Facts& b_;
  const json& va_;
  const json& vb_;
  std::vector<Change> out_;
};

// The certified name a finding is about, when it names one.
std::string finding_name(const rules::Finding& f) {
  if (f.arguments.is_object() && f.arguments.contains("name") && f.arguments["name"].is_string())
    return f.arguments["name"].get<std::string>();
  return "";
}

std::string identity(const rules::Finding& f) { return f.id + "\n" + finding_name(f); }

// The random parts of a check (the challenge token, the unknown name asked for) made equal, so
// that they do not count as changes.
json without_random(const json& view, const facts::Facts& from, const facts::Facts& to) {
  std::vector<std::pair<std::string, std::string>> swaps;
  if (!to.web.token.empty() && !from.web.token.empty()) swaps.emplace_back(to.web.token, from.web.token);
  for (std::size_t i = 0; i < to.web.http.size() && i < from.web.http.size(); ++i) {
    const auto& ha = from.web.http[i].unknown_host.host;
    const auto& hb = to.web.http[i].unknown_host.host;
    if (!ha.empty() && !hb.empty()) swaps.emplace_back(hb, ha);
  }
  if (swaps.empty()) return view;
  std::string text = view.dump();
  for (const auto& [x, y] : swaps) {
    for (auto p = text.find(x); p != std::string::npos; p = text.find(x, p + y.size())) text.replace(p, x.size(), y);
  }
  return json::parse(text);
}

} // namespace

const std::vector<std::string>& change_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k;
    for (const auto& [kind, paths] : table()) k.push_back(kind);
    return k;
  }();
  return kinds;
}

const std::vector<std::string>& kind_paths(const std::string& kind) {
  for (const auto& [k, paths] : table())
    if (k == kind) return paths;
  static const std::vector<std::string> none;
  return none;
}

std::string normalise_path(const std::string& path) {
  // Quoted keys (`domain["ascii"]`) become ".ascii"; any other index "[]".
  std::string flat;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[' && i + 1 < path.size() && (path[i + 1] == '"' || path[i + 1] == '\'')) {
      const char q = path[i + 1];
      const auto end = path.find(q, i + 2);
      if (end != std::string::npos) {
        flat += "." + path.substr(i + 2, end - i - 2);
        i = path.find(']', end);
        if (i == std::string::npos) break;
        continue;
      }
    }
    flat += path[i];
  }
  return join_components(components(flat));
}

bool paths_meet(const std::string& a, const std::string& b) {
  const auto p = components(a);
  const auto q = components(b);
  const std::size_t n = std::min(p.size(), q.size());
  return std::equal(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n), q.begin());
}

std::vector<std::string> differing_paths(const json& a, const json& b) {
  std::set<std::string> out;
  collect_differences(a, b, "", out);
  return {out.begin(), out.end()};
}

std::vector<std::string> rule_paths(const rules::Rule& rule) {
  std::vector<std::string> out;
  auto push = [&](const std::string& p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  std::vector<std::string> lists;  // the paths `as` stands for an element of
  if (rule.each) {
    const auto free = rule.each->expr.free_paths();
    for (const auto& p : free) lists.push_back(normalise_path(p));
    // A plain list path is only iterated: what the rule reads of it is in `when`. A computed
    // list (a filter) reads its source as a whole.
    if (!(free.size() == 1 && normalise_path(free.front()) == normalise_path(rule.each->expr.text())))
      for (const auto& p : lists) push(p);
  }
  if (rule.when) {
    for (const auto& raw : rule.when->expr.free_paths()) {
      const std::string p = normalise_path(raw);
      const auto parts = components(p);
      if (!rule.as.empty() && !parts.empty() && parts.front() == rule.as) {
        const std::string rest = join_components({parts.begin() + 1, parts.end()});
        for (const auto& l : lists) push(rest.empty() ? l + "[]" : l + (rest.rfind("[]", 0) == 0 ? "[]" : "[].") + rest);
      } else {
        push(p);
      }
    }
  }
  return out;
}

Result compare(const Side& from, const Side& to, const view::DeriveContext& context, const rules::Catalogue& catalogue) {
  const facts::Facts& fa = *from.facts;
  const facts::Facts& fb = *to.facts;
  Result r;
  r.domain = fb.domain;
  r.from_time = fa.collected_at;
  r.to_time = fb.collected_at;
  r.from_view = view::derive(fa, context);
  r.to_view = view::derive(fb, context);
  r.from_findings = rules::evaluate(catalogue, r.from_view);
  r.to_findings = rules::evaluate(catalogue, r.to_view);
  r.from_complete = member(member(r.from_view, "diagnosis"), "complete") != false;
  r.to_complete = member(member(r.to_view, "diagnosis"), "complete") != false;

  // The views without the raw facts (the changes are read from them directly) and without the
  // check's random parts.
  json va = r.from_view, vb = without_random(r.to_view, fa, fb);
  va.erase("facts");
  vb.erase("facts");
  const auto differing = differing_paths(va, vb);

  r.changes = Detector(fa, fb, r.from_view, r.to_view).run();
  for (auto& c : r.changes)
    for (const auto& d : differing)
      for (const auto& prefix : kind_paths(c.kind))
        if (prefix_meets(prefix, d)) {
          if (std::find(c.paths.begin(), c.paths.end(), d) == c.paths.end()) c.paths.push_back(d);
          break;
        }

  // The findings on one side only, by id and the name they are about.
  auto ids = [](const std::vector<rules::Finding>& v) {
    std::set<std::string> s;
    for (const auto& f : v) s.insert(identity(f));
    return s;
  };
  const auto in_a = ids(r.from_findings), in_b = ids(r.to_findings);
  auto explain = [&](const rules::Finding& f, const std::string& state) {
    FindingDelta d;
    d.finding = f;
    d.state = state;
    if (const rules::Rule* rule = catalogue.find(f.id)) d.rule_paths = rule_paths(*rule);
    const std::string fname = finding_name(f);
    std::set<std::string> certified;
    for (const auto* side : {&fa, &fb})
      for (const auto& n : side->names) certified.insert(n.display);
    for (std::size_t i = 0; i < r.changes.size(); ++i) {
      const Change& c = r.changes[i];
      if (per_name_kinds.count(c.kind) && !fname.empty() && certified.count(fname)) {
        // "www.example.jp (IPv6)" is about www.example.jp.
        const std::string cname = c.name.substr(0, c.name.find(' '));
        if (cname != fname) continue;
      }
      bool meets = false;
      for (const auto& p : c.paths)
        for (const auto& q : d.rule_paths)
          if (paths_meet(p, q)) meets = true;
      if (meets) d.explained_by.push_back(i);
    }
    r.findings.push_back(std::move(d));
  };
  std::set<std::string> seen;
  for (const auto& f : r.to_findings)
    if (!in_a.count(identity(f)) && seen.insert(identity(f)).second) explain(f, "appeared");
  seen.clear();
  for (const auto& f : r.from_findings)
    if (!in_b.count(identity(f)) && seen.insert(identity(f)).second) explain(f, "gone");

  if (from.recorded) r.rules_changed = ids(*from.recorded) != in_a;
  return r;
}

json to_json(const Result& r) {
  json changes = json::array();
  for (const auto& c : r.changes)
    changes.push_back({{"kind", c.kind},
                       {"action", c.action},
                       {"name", c.name},
                       {"before", c.before},
                       {"after", c.after},
                       {"between", {{"since", c.since}, {"until", c.until}}},
                       {"view_paths", c.paths}});
  json findings = json::array();
  for (const auto& d : r.findings) {
    json f;
    rules::to_json(f, d.finding);
    f["state"] = d.state;
    f["explained_by"] = d.explained_by;
    findings.push_back(std::move(f));
  }
  auto ids = [](const std::vector<rules::Finding>& v) {
    json out = json::array();
    for (const auto& f : v) out.push_back(f.id);
    return out;
  };
  return {{"domain", r.domain},
          {"from", {{"collected_at", r.from_time}, {"findings", ids(r.from_findings)}, {"complete", r.from_complete}}},
          {"to", {{"collected_at", r.to_time}, {"findings", ids(r.to_findings)}, {"complete", r.to_complete}}},
          {"changes", changes},
          {"findings", findings},
          {"nothing_changed", r.changes.empty()},
          {"rules_changed", r.rules_changed}};
}

} // namespace certdoctor::diff

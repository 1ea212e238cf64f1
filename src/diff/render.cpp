#include "diff/render.hpp"

#include <sstream>

#include "report/wrap.hpp"

namespace certdoctor::diff {

using nlohmann::json;

namespace {

// The day in Japan's time, as the report gives times.
std::string day_of(const std::string& rfc3339) { return report::collected_jst(rfc3339).substr(0, 10); }

std::string joined(const std::vector<std::string>& v, const std::string& lang) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : (lang == "ja" ? "、" : ", ")) + s;
  return out;
}

// The finding ids a change explains, in the state given.
std::vector<std::string> explained(const Result& r, std::size_t change, const std::string& state) {
  std::vector<std::string> out;
  for (const auto& d : r.findings)
    if (d.state == state && std::find(d.explained_by.begin(), d.explained_by.end(), change) != d.explained_by.end() &&
        std::find(out.begin(), out.end(), d.finding.id) == out.end())
      out.push_back(d.finding.id);
  return out;
}

std::string provider_of(const json& view) {
  if (view.contains("provider") && view["provider"].is_object() && view["provider"].value("id", json()).is_string())
    return view["provider"]["id"].get<std::string>();
  return "generic";
}

std::string title_of(const FindingDelta& d, const Result& r, const rules::Catalogue& catalogue,
                     const std::string& lang) {
  if (!catalogue.find(d.finding.id)) return d.finding.id;
  const json& view = d.state == "gone" ? r.from_view : r.to_view;
  json texts = json::object();
  if (view.contains("provider") && view["provider"].contains("texts")) texts = view["provider"]["texts"];
  return catalogue.render(d.finding, lang, "title", provider_of(view), texts);
}

std::string sentence(const Result& r, std::size_t i, const report::Labels& words, const std::string& lang) {
  std::string s = describe(r.changes[i], words, lang);
  const auto now = explained(r, i, "appeared");
  const auto gone = explained(r, i, "gone");
  if (!now.empty())
    s += rules::fill_placeholders(words.get(lang, now.size() > 1 ? "explains_many" : "explains"),
                                  {{"ids", joined(now, lang)}});
  if (!gone.empty()) s += rules::fill_placeholders(words.get(lang, "explains_gone"), {{"ids", joined(gone, lang)}});
  return s + words.get(lang, "end");
}

} // namespace

std::string describe(const Change& c, const report::Labels& words, const std::string& lang) {
  const std::string key = "kinds." + c.kind + "." + c.action;
  const std::string none = words.get(lang, "nothing_value");
  // The challenge path's answers in words ("401 (a password is asked ...)").
  auto worded = [&](std::vector<std::string> values) {
    if (c.kind == "challenge-answer")
      for (auto& v : values)
        if (const json* w = words.find(lang, "answers." + v); w && w->is_string()) v = w->get<std::string>();
    return values;
  };
  json args = {{"name", c.name},
               {"before", c.before.empty() ? none : joined(worded(c.before), lang)},
               {"after", c.after.empty() ? none : joined(worded(c.after), lang)},
               {"since", day_of(c.since)},
               {"until", day_of(c.until)}};
  std::string text = words.find(lang, key) ? words.get(lang, key) : words.get(lang, "kinds." + c.kind + ".changed");
  const bool one_day = args["since"] == args["until"];
  return rules::fill_placeholders(text, args) + rules::fill_placeholders(words.get(lang, one_day ? "on" : "between"), args);
}

std::string render_text(const Result& r, const rules::Catalogue& catalogue, const report::Labels& words,
                        const std::string& lang, int width) {
  std::ostringstream out;
  auto para = [&](const std::string& text, int indent, const std::string& lead = "") {
    const auto lines = report::wrap(lead + text, width > 0 ? width - indent : 0, static_cast<int>(lead.size()));
    for (const auto& l : lines) out << std::string(static_cast<std::size_t>(indent), ' ') << l << '\n';
  };
  out << rules::fill_placeholders(words.get(lang, "heading"), {{"domain", r.domain}}) << '\n';
  para(words.get(lang, "from") + ": " + report::collected_jst(r.from_time), 2);
  para(words.get(lang, "to") + ": " + report::collected_jst(r.to_time), 2);
  out << '\n';
  if (!r.from_complete || !r.to_complete) {
    para(words.get(lang, "incomplete"), 2);
    out << '\n';
  }
  if (r.changes.empty()) {
    if (r.findings.empty()) para(words.get(lang, "nothing"), 2);
    else para(words.get(lang, "nothing_but_findings"), 2);
  } else {
    out << words.get(lang, "changes") << ":\n";
    for (std::size_t i = 0; i < r.changes.size(); ++i)
      para(sentence(r, i, words, lang), 2, std::to_string(i + 1) + ". ");
  }
  if (r.rules_changed) {
    out << '\n';
    para(words.get(lang, "rules_changed"), 2);
  }
  if (!r.findings.empty()) {
    out << '\n' << words.get(lang, "findings") << ":\n";
    for (const auto& d : r.findings) {
      const std::string mark = d.state == "appeared" ? "+ " : "- ";
      para(words.get(lang, d.state) + " [" + d.finding.id + "] " + title_of(d, r, catalogue, lang), 2, mark);
      std::string by;
      for (auto i : d.explained_by) by += (by.empty() ? "" : ", ") + std::to_string(i + 1);
      para(by.empty() ? words.get(lang, "unexplained")
                      : rules::fill_placeholders(words.get(lang, "explained_by"), {{"changes", by}}),
           6);
    }
  } else if (!r.changes.empty()) {
    out << '\n';
    para(words.get(lang, "same_findings"), 2);
  }
  return out.str();
}

json render_json(const Result& r, const rules::Catalogue& catalogue, const report::Labels& words,
                 const std::string& lang) {
  json j = to_json(r);
  j["lang"] = lang;
  for (std::size_t i = 0; i < r.changes.size(); ++i) j["changes"][i]["text"] = sentence(r, i, words, lang);
  for (std::size_t i = 0; i < r.findings.size(); ++i) j["findings"][i]["title"] = title_of(r.findings[i], r, catalogue, lang);
  return j;
}

} // namespace certdoctor::diff

#include "rules/catalogue.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "util/error.hpp"

namespace certdoctor::rules {

using nlohmann::json;

namespace {

const std::vector<std::string> rule_keys = {"id",       "severity",  "source",       "each", "as", "when", "variant",
                                            "variants", "arguments", "follows_from", "text"};
const std::vector<std::string> language_keys = {"title", "remediation", "variants"};
const std::vector<std::string> variant_keys = {"severity", "source"};
const std::vector<std::string> severity_names = {"info", "warning", "error"};

bool valid_id(std::string_view id) {
  if (id.empty()) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool placeholder_char(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

bool valid_argument_name(std::string_view name) {
  if (name.empty() || !placeholder_char(name[0], true)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return placeholder_char(c, false); });
}

// Reads one catalogue file; every error names FILE:LINE.
class FileLoader {
public:
  FileLoader(std::string file, std::string content) : file_(std::move(file)), content_(std::move(content)) {}

  // The rules of the file, or nullopt when it is not a rule file.
  std::optional<std::vector<Rule>> load() {
    YAML::Node doc;
    try {
      doc = YAML::Load(content_);
    } catch (const YAML::Exception& e) {
      fail(e.mark.is_null() ? 1 : e.mark.line + 1, e.msg);
    }
    if (!doc.IsMap()) return std::nullopt;
    YAML::Node rules;
    bool found = false;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (!it->first.IsScalar() || it->first.Scalar() != "rules") continue;
      if (found) fail(line_of(it->first), "duplicate key 'rules'");
      found = true;
      rules = it->second;
    }
    if (!found) return std::nullopt;
    std::vector<Rule> out;
    if (rules.IsNull()) return out;
    if (!rules.IsSequence()) fail(line_of(rules), "'rules' must be a list");
    for (const auto& node : rules) out.push_back(rule(node));
    return out;
  }

private:
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw ConfigError(file_ + ":" + std::to_string(line) + ": " + message);
  }

  static int line_of(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return m.is_null() ? 1 : m.line + 1;
  }

  // An empty value has no position of its own; yaml-cpp marks it where the next token starts.
  static int value_line(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() ? line_of(key) : line_of(value);
  }

  Rule rule(const YAML::Node& node) {
    if (!node.IsMap()) fail(line_of(node), "each rule must be a map");
    Rule r;
    r.file = file_;
    r.line = line_of(node);

    std::map<std::string, std::pair<YAML::Node, YAML::Node>> fields;  // key -> (key node, value node)
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "id") {
        if (!it->second.IsScalar()) fail(value_line(it->first, it->second), "rule id must be a string");
        r.id = it->second.Scalar();
        if (!valid_id(r.id)) fail(line_of(it->second), "rule id '" + r.id + "' must match [a-z0-9-]+");
      }
    }
    if (r.id.empty()) fail(r.line, "rule has no 'id'");
    const std::string in_rule = " in rule '" + r.id + "'";

    for (auto it = node.begin(); it != node.end(); ++it) {
      const int key_line = line_of(it->first);
      if (!it->first.IsScalar()) fail(key_line, "keys must be strings" + in_rule);
      const std::string key = it->first.Scalar();
      if (std::find(rule_keys.begin(), rule_keys.end(), key) == rule_keys.end()) {
        fail(key_line, "unknown key '" + key + "'" + in_rule + did_you_mean(key, rule_keys));
      }
      if (fields.count(key)) fail(key_line, "duplicate key '" + key + "'" + in_rule);
      fields.emplace(key, std::make_pair(it->first, it->second));
    }

    auto scalar = [&](const std::string& key) -> std::optional<std::pair<std::string, YAML::Node>> {
      auto it = fields.find(key);
      if (it == fields.end()) return std::nullopt;
      const YAML::Node& v = it->second.second;
      if (!v.IsScalar()) fail(value_line(it->second.first, v), "'" + key + "'" + in_rule + " must be a string");
      return std::make_pair(v.Scalar(), v);
    };

    auto severity = scalar("severity");
    if (!severity) fail(r.line, "rule '" + r.id + "' has no 'severity'");
    auto sev = parse_severity(severity->first);
    if (!sev) {
      fail(line_of(severity->second),
           "unknown severity '" + severity->first + "'" + in_rule + did_you_mean(severity->first, severity_names));
    }
    r.severity = *sev;

    // `source: ID` or `source: {generic: ID, PROVIDER: ID...}`.
    auto source_field = [&](const YAML::Node& key, const YAML::Node& v, const std::string& where,
                            std::map<std::string, std::string>& map) -> std::string {
      if (v.IsScalar()) {
        if (v.Scalar().empty()) fail(line_of(v), "'source'" + where + " must be a document id");
        map["generic"] = v.Scalar();
        return v.Scalar();
      }
      if (!v.IsMap()) fail(value_line(key, v), "'source'" + where + " must be a document id or a map of provider ids to document ids");
      for (auto e = v.begin(); e != v.end(); ++e) {
        const std::string provider = e->first.IsScalar() ? e->first.Scalar() : "";
        const std::string id = e->second.IsScalar() ? e->second.Scalar() : "";
        if (provider.empty() || id.empty())
          fail(line_of(e->first), "'source'" + where + ": each entry must map a provider id (or 'generic') to a document id");
        map[provider] = id;
      }
      if (!map.count("generic")) fail(line_of(key), "'source'" + where + " needs a 'generic' document, cited for every other provider");
      return map["generic"];
    };
    if (auto it = fields.find("source"); it != fields.end() && !(it->second.second.IsScalar() && it->second.second.Scalar().empty()) &&
                                           !it->second.second.IsNull()) {
      r.source = source_field(it->second.first, it->second.second, in_rule, r.sources);
    } else {
      fail(r.line, "rule '" + r.id + "' has no 'source'");
    }

    auto each = scalar("each");
    auto as = scalar("as");
    if (each && !as) fail(line_of(fields["each"].first), "'each'" + in_rule + " needs 'as'");
    if (as && !each) fail(line_of(fields["as"].first), "'as'" + in_rule + " needs 'each'");
    if (each) {
      r.each = expression(each->second, "'each'", r.id);
      r.as = as->first;
      if (!is_identifier(r.as)) {
        fail(line_of(as->second), "'as'" + in_rule + " must be an identifier, got '" + r.as + "'");
      }
    }
    if (auto when = scalar("when")) r.when = expression(when->second, "'when'", r.id);
    if (auto variant = scalar("variant")) r.variant = expression(variant->second, "'variant'", r.id);
    if (auto it = fields.find("variants"); it != fields.end()) {
      const YAML::Node defs = it->second.second;
      if (!defs.IsMap()) fail(value_line(it->second.first, defs), "'variants'" + in_rule + " must be a map of variant names");
      for (auto v = defs.begin(); v != defs.end(); ++v) {
        const std::string name = v->first.IsScalar() ? v->first.Scalar() : "";
        if (name.empty()) fail(line_of(v->first), "variant names" + in_rule + " must be strings");
        VariantDef def;
        def.line = line_of(v->first);
        const YAML::Node body = v->second;
        if (!body.IsNull() && !body.IsMap()) fail(value_line(v->first, body), "variant '" + name + "'" + in_rule + " must be a map");
        if (body.IsMap()) {
          for (auto k = body.begin(); k != body.end(); ++k) {
            const std::string key = k->first.IsScalar() ? k->first.Scalar() : "";
            if (key != "severity" && key != "source")
              fail(line_of(k->first), "unknown key '" + key + "' in variant '" + name + "'" + in_rule + did_you_mean(key, variant_keys));
            const std::string sv = k->second.IsScalar() ? k->second.Scalar() : "";
            if (key == "source") {
              def.source = source_field(k->first, k->second, " of variant '" + name + "'" + in_rule, def.sources);
              continue;
            }
            auto parsed = parse_severity(sv);
            if (!parsed)
              fail(line_of(k->second), "unknown severity '" + sv + "' in variant '" + name + "'" + in_rule + did_you_mean(sv, severity_names));
            def.severity = *parsed;
          }
        }
        r.variants[name] = def;
      }
    }
    if (r.variant.has_value() != !r.variants.empty())
      fail(r.line, "rule '" + r.id + "' needs both 'variant' and 'variants', or neither");

    if (auto it = fields.find("arguments"); it != fields.end()) {
      const YAML::Node& args = it->second.second;
      if (!args.IsNull()) {
        if (!args.IsMap()) fail(value_line(it->second.first, args), "'arguments'" + in_rule + " must be a map");
        for (auto a = args.begin(); a != args.end(); ++a) {
          const int line = line_of(a->first);
          const std::string name = a->first.IsScalar() ? a->first.Scalar() : "";
          if (!valid_argument_name(name)) {
            fail(line, "argument name '" + name + "'" + in_rule + " must match [A-Za-z_][A-Za-z0-9_]*");
          }
          if (std::any_of(r.arguments.begin(), r.arguments.end(), [&](const Argument& x) { return x.name == name; })) {
            fail(line, "duplicate argument '" + name + "'" + in_rule);
          }
          if (!a->second.IsScalar()) fail(value_line(a->first, a->second), "argument '" + name + "'" + in_rule + " must be a string");
          r.arguments.push_back({name, expression(a->second, "argument '" + name + "'", r.id)});
        }
      }
    }

    if (auto it = fields.find("follows_from"); it != fields.end()) {
      const YAML::Node& ids = it->second.second;
      r.follows_from_line = line_of(it->second.first);
      if (ids.IsScalar() && !ids.Scalar().empty()) r.follows_from.push_back(ids.Scalar());
      else if (ids.IsSequence())
        for (const auto& id : ids) {
          if (!id.IsScalar() || id.Scalar().empty()) fail(line_of(id), "'follows_from'" + in_rule + " must list rule ids");
          r.follows_from.push_back(id.Scalar());
        }
      else fail(value_line(it->second.first, ids), "'follows_from'" + in_rule + " must be a rule id or a list of rule ids");
    }

    auto text = fields.find("text");
    if (text == fields.end()) fail(r.line, "rule '" + r.id + "' has no 'text'");
    r.text_line = line_of(text->second.first);
    load_text(r, text->second.first, text->second.second);
    return r;
  }

  void load_text(Rule& r, const YAML::Node& key, const YAML::Node& text) {
    const std::string in_rule = " in rule '" + r.id + "'";
    if (!text.IsMap()) fail(value_line(key, text), "'text'" + in_rule + " must be a map of languages");
    for (auto it = text.begin(); it != text.end(); ++it) {
      const std::string lang = it->first.IsScalar() ? it->first.Scalar() : "";
      if (lang.empty()) fail(line_of(it->first), "language names in 'text'" + in_rule + " must be strings");
      if (r.text.count(lang)) fail(line_of(it->first), "duplicate language '" + lang + "'" + in_rule);
      const std::string where = "text." + lang;
      const YAML::Node body = it->second;  // a copy: the iterator yields a temporary
      if (!body.IsMap()) fail(value_line(it->first, body), "'" + where + "'" + in_rule + " must be a map");
      LanguageText lt = language_body(r, it->first, body, where, true);
      r.text.emplace(lang, std::move(lt));
    }
  }

  // One language's texts (or one variant's, with allow_variants false).
  LanguageText language_body(const Rule& r, const YAML::Node& key_node, const YAML::Node& body, const std::string& where,
                             bool allow_variants) {
    const std::string in_rule = " in rule '" + r.id + "'";
    LanguageText lt;
    lt.line = line_of(key_node);
    for (auto f = body.begin(); f != body.end(); ++f) {
      const int line = line_of(f->first);
      const std::string key = f->first.IsScalar() ? f->first.Scalar() : "";
      if (std::find(language_keys.begin(), language_keys.end(), key) == language_keys.end() ||
          (key == "variants" && !allow_variants)) {
        fail(line, "unknown key '" + key + "' in " + where + " of rule '" + r.id + "'" + did_you_mean(key, language_keys));
      }
      if ((key == "title" && lt.title) || (key == "remediation" && lt.remediation_line)) {
        fail(line, "duplicate key '" + key + "' in " + where + " of rule '" + r.id + "'");
      }
      const YAML::Node v = f->second;  // a copy: the iterator yields a temporary
      if (key == "variants") {
        if (!v.IsMap()) fail(value_line(f->first, v), "'" + where + ".variants'" + in_rule + " must be a map of variant names");
        for (auto vn = v.begin(); vn != v.end(); ++vn) {
          const std::string name = vn->first.IsScalar() ? vn->first.Scalar() : "";
          const YAML::Node vb = vn->second;
          if (!vb.IsMap()) fail(value_line(vn->first, vb), "'" + where + ".variants." + name + "'" + in_rule + " must be a map");
          lt.variants.push_back({name, language_body(r, vn->first, vb, where + ".variants." + name, false)});
        }
        continue;
      }
      if (key == "title") {
        if (!v.IsScalar()) fail(value_line(f->first, v), "'" + where + ".title'" + in_rule + " must be a string");
        lt.title = Text{v.Scalar(), line_of(v)};
        continue;
      }
      lt.remediation_line = line;
      if (!v.IsMap()) fail(value_line(f->first, v), "'" + where + ".remediation'" + in_rule + " must be a map with a 'generic' key");
      for (auto p = v.begin(); p != v.end(); ++p) {
        const std::string provider = p->first.IsScalar() ? p->first.Scalar() : "";
        const std::string at = "'" + where + ".remediation." + provider + "'";
        if (lt.remediation.count(provider)) fail(line_of(p->first), "duplicate key " + at + in_rule);
        if (!p->second.IsScalar()) fail(value_line(p->first, p->second), at + in_rule + " must be a string");
        lt.remediation.emplace(provider, Text{p->second.Scalar(), line_of(p->second)});
      }
    }
    return lt;
  }

  SourceExpr expression(const YAML::Node& node, const std::string& what, const std::string& id) {
    const YAML::Mark m = node.Mark();
    const int line = line_of(node);
    // A literal block scalar ("when: |") keeps its line breaks; its text starts on the next line.
    const bool literal_block = !m.is_null() && m.pos >= 0 && static_cast<std::size_t>(m.pos) < content_.size() &&
                               content_[static_cast<std::size_t>(m.pos)] == '|';
    try {
      return SourceExpr{Expr::parse(node.Scalar()), line};
    } catch (const ExprError& e) {
      const int at = literal_block ? line + static_cast<int>(e.line()) : line;
      fail(at, "in " + what + " of rule '" + id + "', " + e.what());
    }
  }

  std::string file_;
  std::string content_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read rule file '" + path.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ConfigError("cannot read rule file '" + path.string() + "'");
  return ss.str();
}

// The length of the placeholder name that starts at text[i] (just after '{'): an identifier, or
// identifiers joined by '.' ("provider.retry"); 0 when there is none.
std::size_t name_length(std::string_view text, std::size_t i) {
  std::size_t j = i;
  for (;;) {
    const std::size_t start = j;
    while (j < text.size() && placeholder_char(text[j], j == start)) ++j;
    if (j == start) return 0;
    if (j + 1 < text.size() && text[j] == '.' && placeholder_char(text[j + 1], true)) {
      ++j;
      continue;
    }
    return j - i;
  }
}

} // namespace

Placeholders scan_placeholders(std::string_view text) {
  Placeholders out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        ++i;
        continue;
      }
      const std::size_t j = i + 1 + name_length(text, i + 1);
      if (j == i + 1 || j >= text.size() || text[j] != '}') {
        if (!out.stray_brace) out.stray_brace = i;
        continue;
      }
      std::string name(text.substr(i + 1, j - i - 1));
      if (std::find(out.names.begin(), out.names.end(), name) == out.names.end()) out.names.push_back(name);
      i = j;
    } else if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        ++i;
        continue;
      }
      if (!out.stray_brace) out.stray_brace = i;
    }
  }
  return out;
}

std::string fill_placeholders(std::string_view text, const json& arguments, const json& provider_texts) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '{') {
      const std::size_t j = i + 1 + name_length(text, i + 1);
      if (j > i + 1 && j < text.size() && text[j] == '}') {
        const std::string name(text.substr(i + 1, j - i - 1));
        if (arguments.is_object() && arguments.contains(name)) {
          out += to_text(arguments.at(name));
          i = j;
          continue;
        }
        if (name.starts_with(provider_prefix) && provider_texts.is_object()) {
          auto it = provider_texts.find(name.substr(provider_prefix.size()));
          if (it != provider_texts.end() && it->is_string()) {
            out += it->get<std::string>();
            i = j;
            continue;
          }
        }
      }
    }
    out += c;
  }
  return out;
}

Catalogue Catalogue::load(const std::vector<std::filesystem::path>& dirs) { return load(Catalogue(), dirs); }

Catalogue Catalogue::load(Catalogue base, const std::vector<std::filesystem::path>& dirs) {
  namespace fs = std::filesystem;
  Catalogue cat = std::move(base);
  for (std::size_t d = 0; d < dirs.size(); ++d) {
    const fs::path& dir = dirs[d];
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw ConfigError("rule directory '" + dir.string() + "' does not exist");
    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec);
    if (ec) throw ConfigError("cannot read rule directory '" + dir.string() + "': " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) throw ConfigError("cannot read rule directory '" + dir.string() + "': " + ec.message());
      const fs::path& p = it->path();
      std::error_code type_ec;
      if (p.extension() == ".yaml" && it->is_regular_file(type_ec)) files.push_back(p);
    }
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });

    std::map<std::string, std::pair<std::string, int>> seen;  // id -> first file and line in this dir
    for (const auto& path : files) {
      FileLoader loader(path.string(), read_file(path));
      auto rules = loader.load();
      if (!rules) continue;
      for (auto& r : *rules) {
        if (auto s = seen.find(r.id); s != seen.end()) {
          cat.duplicates_.push_back({r.id, r.file, r.line, s->second.first, s->second.second});
        } else {
          seen.emplace(r.id, std::make_pair(r.file, r.line));
        }
        if (auto at = cat.index_.find(r.id); at != cat.index_.end()) {
          cat.rules_[at->second] = std::move(r);
        } else {
          cat.index_.emplace(r.id, cat.rules_.size());
          cat.rules_.push_back(std::move(r));
        }
      }
    }
  }
  return cat;
}

bool LanguageText::operator==(const LanguageText& o) const {
  if (line != o.line || title != o.title || remediation_line != o.remediation_line || remediation != o.remediation ||
      variants.size() != o.variants.size())
    return false;
  for (std::size_t i = 0; i < variants.size(); ++i)
    if (!(variants[i] == o.variants[i])) return false;
  return true;
}

bool LanguageVariant::operator==(const LanguageVariant& o) const { return name == o.name && text == o.text; }

namespace {

// The built-in form (Catalogue::write): every member in declaration order, expressions as their
// text (each parsed on first use).
void put_expr(CompactWriter& w, const SourceExpr& e) {
  w.put_string(e.expr.text());
  w.put_int(e.line);
}

SourceExpr get_expr(CompactReader& r) {
  // Parsed when the build wrote the form: the tree is made on first use.
  std::string text = r.get_string();
  const int line = r.get_int32();
  return {Expr::deferred(std::move(text)), line};
}

void put_opt_expr(CompactWriter& w, const std::optional<SourceExpr>& e) {
  w.put_bool(e.has_value());
  if (e) put_expr(w, *e);
}

std::optional<SourceExpr> get_opt_expr(CompactReader& r) {
  if (!r.get_bool()) return std::nullopt;
  return get_expr(r);
}

void put_text(CompactWriter& w, const Text& t) {
  w.put_string(t.value);
  w.put_int(t.line);
}

Text get_text(CompactReader& r) {
  Text t;
  t.value = r.get_string();
  t.line = r.get_int32();
  return t;
}

void put_string_map(CompactWriter& w, const std::map<std::string, std::string>& m) {
  w.put_uint(m.size());
  for (const auto& [k, v] : m) {
    w.put_string(k);
    w.put_string(v);
  }
}

std::map<std::string, std::string> get_string_map(CompactReader& r) {
  std::map<std::string, std::string> m;
  for (std::size_t n = r.get_count(2); n > 0; --n) {
    std::string k = r.get_string();
    m.emplace_hint(m.end(), std::move(k), r.get_string());
  }
  return m;
}

void put_severity(CompactWriter& w, Severity s) { w.put_string(to_string(s)); }

Severity get_severity(CompactReader& r) {
  const std::string name = r.get_string();
  auto s = parse_severity(name);
  if (!s) r.fail("unknown severity '" + name + "'");
  return *s;
}

void put_language(CompactWriter& w, const LanguageText& lt, int depth = 0) {
  w.put_int(lt.line);
  w.put_bool(lt.title.has_value());
  if (lt.title) put_text(w, *lt.title);
  w.put_bool(lt.remediation_line.has_value());
  if (lt.remediation_line) w.put_int(*lt.remediation_line);
  w.put_uint(lt.remediation.size());
  for (const auto& [who, t] : lt.remediation) {
    w.put_string(who);
    put_text(w, t);
  }
  w.put_uint(lt.variants.size());
  for (const auto& v : lt.variants) {
    w.put_string(v.name);
    put_language(w, v.text, depth + 1);
  }
}

LanguageText get_language(CompactReader& r, int depth = 0) {
  // Variants do not nest in the files; the form allows one level more than they use.
  if (depth > 2) r.fail("language texts nested too deep");
  LanguageText lt;
  lt.line = r.get_int32();
  if (r.get_bool()) lt.title = get_text(r);
  if (r.get_bool()) lt.remediation_line = r.get_int32();
  for (std::size_t n = r.get_count(3); n > 0; --n) {
    std::string who = r.get_string();
    lt.remediation.emplace_hint(lt.remediation.end(), std::move(who), get_text(r));
  }
  const std::size_t variants = r.get_count(5);
  lt.variants.reserve(variants);
  for (std::size_t i = 0; i < variants; ++i) {
    std::string name = r.get_string();
    lt.variants.push_back({std::move(name), get_language(r, depth + 1)});
  }
  return lt;
}

void put_rule(CompactWriter& w, const Rule& rule) {
  w.put_string(rule.id);
  put_severity(w, rule.severity);
  w.put_string(rule.source);
  put_string_map(w, rule.sources);
  put_opt_expr(w, rule.each);
  w.put_string(rule.as);
  put_opt_expr(w, rule.when);
  w.put_uint(rule.arguments.size());
  for (const auto& a : rule.arguments) {
    w.put_string(a.name);
    put_expr(w, a.value);
  }
  put_opt_expr(w, rule.variant);
  w.put_uint(rule.variants.size());
  for (const auto& [name, v] : rule.variants) {
    w.put_string(name);
    w.put_bool(v.severity.has_value());
    if (v.severity) put_severity(w, *v.severity);
    w.put_string(v.source);
    put_string_map(w, v.sources);
    w.put_int(v.line);
  }
  w.put_uint(rule.text.size());
  for (const auto& [lang, lt] : rule.text) {
    w.put_string(lang);
    put_language(w, lt);
  }
  w.put_uint(rule.follows_from.size());
  for (const auto& id : rule.follows_from) w.put_string(id);
  w.put_int(rule.follows_from_line);
  w.put_string(rule.file);
  w.put_int(rule.line);
  w.put_int(rule.text_line);
}

Rule get_rule(CompactReader& r) {
  Rule rule;
  rule.id = r.get_string();
  rule.severity = get_severity(r);
  rule.source = r.get_string();
  rule.sources = get_string_map(r);
  rule.each = get_opt_expr(r);
  rule.as = r.get_string();
  rule.when = get_opt_expr(r);
  const std::size_t arguments = r.get_count(3);
  rule.arguments.reserve(arguments);
  for (std::size_t i = 0; i < arguments; ++i) {
    std::string name = r.get_string();
    rule.arguments.push_back({std::move(name), get_expr(r)});
  }
  rule.variant = get_opt_expr(r);
  for (std::size_t n = r.get_count(5); n > 0; --n) {
    std::string name = r.get_string();
    VariantDef d;
    if (r.get_bool()) d.severity = get_severity(r);
    d.source = r.get_string();
    d.sources = get_string_map(r);
    d.line = r.get_int32();
    rule.variants.emplace_hint(rule.variants.end(), std::move(name), std::move(d));
  }
  for (std::size_t n = r.get_count(6); n > 0; --n) {
    std::string lang = r.get_string();
    rule.text.emplace_hint(rule.text.end(), std::move(lang), get_language(r));
  }
  const std::size_t follows = r.get_count();
  rule.follows_from.reserve(follows);
  for (std::size_t i = 0; i < follows; ++i) rule.follows_from.push_back(r.get_string());
  rule.follows_from_line = r.get_int32();
  rule.file = r.get_string();
  rule.line = r.get_int32();
  rule.text_line = r.get_int32();
  return rule;
}

} // namespace

void Catalogue::write(CompactWriter& w) const {
  w.put_uint(rules_.size());
  for (const auto& r : rules_) put_rule(w, r);
  w.put_uint(duplicates_.size());
  for (const auto& d : duplicates_) {
    w.put_string(d.id);
    w.put_string(d.file);
    w.put_int(d.line);
    w.put_string(d.first_file);
    w.put_int(d.first_line);
  }
}

Catalogue Catalogue::read(CompactReader& r) {
  Catalogue cat;
  const std::size_t rules = r.get_count(16);
  cat.rules_.reserve(rules);
  for (std::size_t i = 0; i < rules; ++i) {
    Rule rule = get_rule(r);
    if (!cat.index_.emplace(rule.id, cat.rules_.size()).second) r.fail("rule '" + rule.id + "' twice");
    cat.rules_.push_back(std::move(rule));
  }
  for (std::size_t n = r.get_count(5); n > 0; --n) {
    DuplicateRule d;
    d.id = r.get_string();
    d.file = r.get_string();
    d.line = r.get_int32();
    d.first_file = r.get_string();
    d.first_line = r.get_int32();
    cat.duplicates_.push_back(std::move(d));
  }
  return cat;
}

const LanguageText* LanguageText::variant(std::string_view name) const {
  for (const auto& [n, text] : variants)
    if (n == name) return &text;
  return nullptr;
}

const Rule* Catalogue::find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &rules_[it->second];
}

std::string Catalogue::render(const Finding& finding, std::string_view lang, std::string_view field,
                              std::string_view provider, const json& provider_texts) const {
  const Rule* rule = find(finding.id);
  if (!rule) throw ConfigError("no rule '" + finding.id + "' in the catalogue");
  auto texts = rule->text.find(std::string(lang));
  if (texts == rule->text.end()) {
    throw ConfigError("rule '" + finding.id + "' has no text in '" + std::string(lang) + "'");
  }
  const LanguageText& lt = texts->second;
  const LanguageText* variant = finding.variant.empty() ? nullptr : lt.variant(finding.variant);
  const Text* chosen = nullptr;
  auto pick_remediation = [&](const LanguageText& from) -> const Text* {
    auto it = from.remediation.find(std::string(provider));
    if (provider.empty() || it == from.remediation.end()) it = from.remediation.find("generic");
    return it != from.remediation.end() ? &it->second : nullptr;
  };
  if (field == "title") {
    // A variant's own text wins; what it leaves out comes from the base text.
    if (variant && variant->title) chosen = &*variant->title;
    else if (lt.title) chosen = &*lt.title;
  } else if (field == "remediation") {
    if (variant) chosen = pick_remediation(*variant);
    if (!chosen) chosen = pick_remediation(lt);
  } else {
    throw ConfigError("unknown text field '" + std::string(field) + "' (expected 'title' or 'remediation')");
  }
  if (!chosen) {
    throw ConfigError("rule '" + finding.id + "' has no " + std::string(field) + " in '" + std::string(lang) + "'");
  }
  json texts_in_lang = json::object();
  if (provider_texts.is_object())
    for (const auto& [key, text] : provider_texts.items())
      if (text.is_object() && text.contains(std::string(lang)) && text[std::string(lang)].is_string())
        texts_in_lang[key] = text[std::string(lang)];
  return fill_placeholders(chosen->value, finding.arguments, texts_in_lang);
}

} // namespace certdoctor::rules

#include "pipeline/batch_input.hpp"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include "util/domain.hpp"
#include "util/text.hpp"

namespace certdoctor::pipeline {

namespace {

constexpr std::string_view blanks = " \t\r\v\f";

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(blanks);
  return std::string(s.substr(first, last - first + 1));
}

bool is_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_account(const std::string& s) {
  return !s.empty() && s.size() <= 63 && s.front() != '-' && s.back() != '-' &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

bool is_provider_id(const std::string& s) {
  return !s.empty() && s.size() <= 63 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-' || c == '_'; });
}

// Splits one CSV line (RFC 4180 quoting, no field across lines). Returns false for an unclosed
// quote or text after a closing quote.
bool split_csv(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  std::size_t i = 0;
  while (true) {
    field.clear();
    // Blanks before an opening quote are allowed.
    std::size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    if (j < line.size() && line[j] == '"') {
      i = j + 1;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed) return false;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') return false;
    } else {
      const auto comma = line.find(',', i);
      field = trim(std::string_view(line).substr(i, comma == std::string::npos ? std::string::npos : comma - i));
      i = comma == std::string::npos ? line.size() : comma;
    }
    fields.push_back(field);
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

BatchLineError line_error(std::size_t line, const std::string& text, Message why) {
  return BatchLineError{line, printable(text, 200), std::move(why)};
}

// The domain of a line checked as `check` would; the error keeps the domain's own message.
bool domain_ok(const std::string& domain, std::size_t line, const std::string& text, std::vector<BatchLineError>& errors) {
  if (domain.empty()) {
    errors.push_back(line_error(line, text, Message{"batch-domain-missing", {{"line", std::to_string(line)}}}));
    return false;
  }
  try {
    parse_domain(domain);
    return true;
  } catch (const Error& e) {
    // The domain's own message (naming the input and the fix), in the language installed now.
    errors.push_back(line_error(line, text, Message{"batch-line-invalid", {{"line", std::to_string(line)}, {"detail", e.what()}}}));
    return false;
  }
}

const std::vector<std::string> column_names = {"domain", "provider", "server_ip", "account", "www"};

} // namespace

BatchReader::BatchReader(std::istream& in) : in_(in) {}

bool BatchReader::read_line(std::string& out, bool& too_long) {
  out.clear();
  too_long = false;
  std::streambuf* buf = in_.rdbuf();
  if (!buf) return false;
  bool any = false;
  while (true) {
    const auto c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      if (!any) {
        in_.setstate(std::ios::eofbit);
        return false;
      }
      break;
    }
    any = true;
    if (c == '\n') break;
    if (out.size() < max_line) out += static_cast<char>(c);
    else too_long = true;
  }
  ++line_;
  if (line_ == 1 && out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return true;
}

void BatchReader::read_header(const std::string& text) {
  std::vector<std::string> fields;
  if (!split_csv(text, fields))
    throw UsageError(Message{"batch-header-quote", {{"line", std::to_string(line_)}, {"text", printable(text)}}});
  std::vector<std::string> known = column_names;
  known.insert(known.end(), {"server-ip", "server_id", "server-id"});
  for (const auto& raw : fields) {
    const std::string name = lower(trim(raw));
    Column c;
    if (name == "domain") c = c_domain;
    else if (name == "provider") c = c_provider;
    else if (name == "server_ip" || name == "server-ip") c = c_server_ip;
    else if (name == "account" || name == "server_id" || name == "server-id") c = c_account;
    else if (name == "www") c = c_www;
    else
      throw UsageError(Message{"batch-header-unknown",
                               {{"line", std::to_string(line_)}, {"column", printable(raw)},
                                {"hint", did_you_mean(name, known)}, {"known", "domain, provider, server_ip, account, www"}}});
    if (std::find(columns_.begin(), columns_.end(), c) != columns_.end())
      throw UsageError(Message{"batch-header-repeated", {{"line", std::to_string(line_)}, {"column", printable(raw)}}});
    columns_.push_back(c);
  }
  if (std::find(columns_.begin(), columns_.end(), c_domain) == columns_.end())
    throw UsageError(Message{"batch-header-no-domain", {{"line", std::to_string(line_)}, {"text", printable(text)}}});
}

std::optional<BatchItem> BatchReader::parse_plain(const std::string& text, std::vector<BatchLineError>& errors) {
  BatchItem item;
  item.line = line_;
  item.domain = trim(text);
  if (!domain_ok(item.domain, line_, text, errors)) return std::nullopt;
  return item;
}

std::optional<BatchItem> BatchReader::parse_csv(const std::string& text, std::vector<BatchLineError>& errors) {
  const std::string n = std::to_string(line_);
  std::vector<std::string> fields;
  if (!split_csv(text, fields)) {
    errors.push_back(line_error(line_, text, Message{"batch-csv-quote", {{"line", n}}}));
    return std::nullopt;
  }
  if (fields.size() != columns_.size()) {
    errors.push_back(line_error(line_, text, Message{"batch-csv-fields",
                                                     {{"line", n}, {"count", std::to_string(fields.size())},
                                                      {"expected", std::to_string(columns_.size())}}}));
    return std::nullopt;
  }
  BatchItem item;
  item.line = line_;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string& v = fields[i];
    switch (columns_[i]) {
      case c_domain: item.domain = v; break;
      case c_provider:
        if (!v.empty() && !is_provider_id(lower(v))) {
          errors.push_back(line_error(line_, text, Message{"batch-provider-invalid", {{"line", n}, {"value", printable(v)}}}));
          return std::nullopt;
        }
        item.provider = lower(v);
        break;
      case c_server_ip: {
        std::string ip;
        for (std::size_t at = 0; at <= v.size(); ++at) {
          if (at == v.size() || v[at] == ' ' || v[at] == ';' || v[at] == '\t') {
            if (!ip.empty()) {
              if (!is_address(ip)) {
                errors.push_back(line_error(line_, text, Message{"batch-server-ip-invalid", {{"line", n}, {"value", printable(ip)}}}));
                return std::nullopt;
              }
              item.server_ips.push_back(ip);
            }
            ip.clear();
          } else ip += v[at];
        }
        break;
      }
      case c_account:
        if (!v.empty() && !is_account(v)) {
          errors.push_back(line_error(line_, text, Message{"batch-account-invalid", {{"line", n}, {"value", printable(v)}}}));
          return std::nullopt;
        }
        item.account = v;
        break;
      case c_www: {
        const std::string w = lower(v);
        if (w.empty()) break;
        if (w == "yes" || w == "true" || w == "1") item.www = true;
        else if (w == "no" || w == "false" || w == "0") item.www = false;
        else {
          errors.push_back(line_error(line_, text, Message{"batch-www-invalid", {{"line", n}, {"value", printable(v)}}}));
          return std::nullopt;
        }
        break;
      }
    }
  }
  if (!domain_ok(item.domain, line_, text, errors)) return std::nullopt;
  return item;
}

std::optional<BatchItem> BatchReader::next(std::vector<BatchLineError>& errors) {
  std::string text;
  bool too_long = false;
  while (read_line(text, too_long)) {
    if (too_long) {
      errors.push_back(line_error(line_, text, Message{"batch-line-too-long",
                                                       {{"line", std::to_string(line_)}, {"max", std::to_string(max_line)}}}));
      continue;
    }
    const std::string t = trim(text);
    if (t.empty() || t.front() == '#') continue;
    if (format_ == Format::unknown) {
      if (t.find(',') != std::string::npos || lower(t) == "domain") {
        format_ = Format::csv;
        read_header(t);
        continue;
      }
      format_ = Format::plain;
    }
    auto item = format_ == Format::csv ? parse_csv(t, errors) : parse_plain(t, errors);
    if (item) return item;
  }
  return std::nullopt;
}

std::size_t shard_of(const std::string& domain, std::size_t shards) {
  if (shards <= 1) return 0;
  std::string key;
  try {
    const DomainName d = parse_domain(domain);
    key = d.registered.empty() ? d.ascii : d.registered;
  } catch (const Error&) {
    key = lower(trim(domain));
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return static_cast<std::size_t>(v % shards);
}

CheckOptions options_for(const BatchItem& item, const CheckOptions& base) {
  CheckOptions o = base;
  o.domain = item.domain;
  if (!item.provider.empty()) o.provider = item.provider;
  if (!item.server_ips.empty()) o.server_ips = item.server_ips;
  if (!item.account.empty()) o.account = item.account;
  if (item.www) {
    o.www = *item.www;
    o.no_www = !*item.www;
  }
  return o;
}

} // namespace certdoctor::pipeline

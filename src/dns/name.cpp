#include "dns/name.hpp"

#include "util/error.hpp"

#include <cstdio>

namespace certdoctor::dns {

namespace {

// Quotes user input for an error message; control and non-ASCII bytes become \xHH so that
// hostile input cannot garble a terminal.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

[[noreturn]] void invalid(std::string_view name, const std::string& why) {
  throw UsageError("invalid domain name " + quote(name) + ": " + why);
}

std::string_view strip_trailing_dot(std::string_view name) {
  // A final dot preceded by an odd number of backslashes is an escaped dot inside the last label.
  if (name.empty() || name.back() != '.')
    return name;
  std::size_t backslashes = 0;
  for (std::size_t i = name.size() - 1; i > 0 && name[i - 1] == '\\'; --i)
    ++backslashes;
  if (backslashes % 2 == 1)
    return name;
  return name.substr(0, name.size() - 1);
}

// Offset just past the first label separator of `name` (escape-aware), or npos if it has one label.
std::size_t after_first_dot(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\')
      ++i; // skips the escaped character; "\DDD" digits are never dots
    else if (name[i] == '.')
      return i + 1;
  }
  return std::string_view::npos;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

} // namespace

std::string normalize(std::string_view input) {
  if (input.empty())
    invalid(input, "the name is empty");
  std::string_view name = input;
  if (name.back() == '.')
    name.remove_suffix(1);
  if (name.empty())
    invalid(input, "the name is empty");

  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    char l = lower(c);
    bool ok = (l >= 'a' && l <= 'z') || is_digit(l) || l == '-' || l == '_' || l == '.';
    if (!ok) {
      std::string shown = quote(std::string_view(&c, 1));
      shown = "'" + shown.substr(1, shown.size() - 2) + "'";
      invalid(input, "character " + shown +
                         " is not allowed (only letters, digits, '-' and '_'; convert an IDN to its "
                         "xn-- form first)");
    }
    out += l;
  }

  std::size_t start = 0;
  while (true) {
    std::size_t dot = out.find('.', start);
    std::size_t end = dot == std::string::npos ? out.size() : dot;
    if (end == start)
      invalid(input, "empty label");
    if (end - start > 63)
      invalid(input, "label \"" + out.substr(start, end - start) + "\" is longer than 63 characters");
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  // 253 characters without the final dot is the 255-octet wire limit (RFC 1035 section 2.3.4).
  if (out.size() > 253)
    invalid(input, "the name is longer than 253 characters");
  return out;
}

bool is_subdomain_or_equal(std::string_view name, std::string_view ancestor) {
  name = strip_trailing_dot(name);
  ancestor = strip_trailing_dot(ancestor);
  if (ancestor.empty())
    return true;
  // Walk the label boundaries of `name` so that "xexample.jp" is not taken to be under "example.jp".
  std::string_view rest = name;
  while (true) {
    if (iequals(rest, ancestor))
      return true;
    std::size_t next = after_first_dot(rest);
    if (next == std::string_view::npos)
      return false;
    rest.remove_prefix(next);
  }
}

std::string parent(std::string_view name) {
  std::string_view n = strip_trailing_dot(name);
  if (n.empty())
    throw UsageError("the root name has no parent");
  std::size_t next = after_first_dot(n);
  if (next == std::string_view::npos)
    return "";
  return std::string(n.substr(next));
}

std::vector<std::string> ancestors_to_tld(std::string_view name) {
  std::vector<std::string> out;
  std::string_view rest = strip_trailing_dot(name);
  while (!rest.empty()) {
    out.emplace_back(rest);
    std::size_t next = after_first_dot(rest);
    if (next == std::string_view::npos)
      break;
    rest.remove_prefix(next);
  }
  return out;
}

std::vector<std::uint8_t> encode_name(std::string_view input) {
  std::vector<std::uint8_t> out;
  std::string_view name = strip_trailing_dot(input);
  if (name.empty()) {
    out.push_back(0);
    return out;
  }
  std::vector<std::uint8_t> label;
  auto finish_label = [&] {
    if (label.empty())
      invalid(input, "empty label");
    if (label.size() > 63)
      invalid(input, "label longer than 63 octets");
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    label.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      finish_label();
    } else if (c == '\\') {
      // RFC 1035 section 5.1: "\X" quotes X, "\DDD" is a decimal octet value.
      if (i + 1 >= name.size())
        invalid(input, "backslash at the end of the name");
      if (is_digit(name[i + 1])) {
        if (i + 3 >= name.size() || !is_digit(name[i + 2]) || !is_digit(name[i + 3]))
          invalid(input, "\\DDD escape needs three digits");
        int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
        if (v > 255)
          invalid(input, "\\DDD escape is larger than 255");
        label.push_back(static_cast<std::uint8_t>(v));
        i += 3;
      } else {
        label.push_back(static_cast<std::uint8_t>(name[i + 1]));
        i += 1;
      }
    } else {
      label.push_back(static_cast<std::uint8_t>(c));
    }
  }
  finish_label();
  out.push_back(0);
  if (out.size() > 255)
    invalid(input, "the name is longer than 255 octets in wire format");
  return out;
}

} // namespace certdoctor::dns

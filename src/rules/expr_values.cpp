#include "rules/expr_tree.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace certdoctor::rules {

using nlohmann::json;

namespace detail {

namespace {

int type_rank(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return 0;
    case json::value_t::boolean: return 1;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return 2;
    case json::value_t::string: return 3;
    case json::value_t::array: return 4;
    case json::value_t::object: return 5;
    default: return 6;
  }
}

std::string format_number(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  const double d = v.get<double>();
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

} // namespace

std::optional<std::int64_t> as_int(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return std::nullopt;
}

// Three-way comparison of two numbers; nullopt when either is NaN.
std::optional<int> compare_numbers(const json& a, const json& b) {
  auto ia = as_int(a), ib = as_int(b);
  if (ia && ib) return *ia < *ib ? -1 : (*ia > *ib ? 1 : 0);
  const double da = a.get<double>(), db = b.get<double>();
  if (std::isnan(da) || std::isnan(db)) return std::nullopt;
  return da < db ? -1 : (da > db ? 1 : 0);
}

// A total order (NaN after every other number) for sort(), unique(), min() and max().
int order(const json& a, const json& b) {
  const int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: return a.get<bool>() == b.get<bool>() ? 0 : (a.get<bool>() ? 1 : -1);
    case 2: {
      if (auto c = compare_numbers(a, b)) return *c;
      const bool na = std::isnan(a.get<double>()), nb = std::isnan(b.get<double>());
      return na == nb ? 0 : (na ? 1 : -1);
    }
    case 3: {
      int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 4: {
      for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (int c = order(a[i], b[i])) return c;
      }
      return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
    }
    case 5: {
      auto ia = a.begin(), ib = b.begin();
      for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
        int c = ia.key().compare(ib.key());
        if (c) return c < 0 ? -1 : 1;
        if (int d = order(ia.value(), ib.value())) return d;
      }
      return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
    }
    default: return 0;
  }
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if (!is_continuation(c)) ++n;
  }
  return n;
}

json parse_number(const std::string& s) {
  if (s.empty()) return nullptr;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  std::int64_t i = 0;
  auto ri = std::from_chars(b, e, i);
  if (ri.ec == std::errc() && ri.ptr == e) return i;
  // from_chars would also accept "inf" and "nan"; a number here has digits only.
  for (char c : s) {
    if (!(digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return nullptr;
  }
  double d = 0;
  auto rd = std::from_chars(b, e, d);
  if (rd.ec == std::errc() && rd.ptr == e && std::isfinite(d)) return d;
  return nullptr;
}

} // namespace detail

using detail::format_number;

// -----------------------------------------------------------------------------------------------
// Helpers shared with the catalogue and the engine

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "list";
    case json::value_t::object: return "object";
    default: return "value";
  }
}

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: return v.get<double>() != 0.0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    default: return true;
  }
}

std::string to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return format_number(v);
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::array: {
      std::string out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += v[i].is_structured() ? v[i].dump() : to_text(v[i]);
      }
      return out;
    }
    default: return v.dump();
  }
}

} // namespace certdoctor::rules

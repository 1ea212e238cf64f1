#include "util/compact.hpp"

#include <bit>
#include <cstring>
#include <limits>

namespace certdoctor {

using nlohmann::json;

namespace {

// The type tag in front of each JSON value.
enum Tag : std::uint8_t { t_null, t_false, t_true, t_int, t_uint, t_float, t_string, t_array, t_object };

constexpr int kMaxDepth = 256;

} // namespace

void CompactWriter::put_uint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void CompactWriter::put_int(std::int64_t v) {
  // Zig-zag: small negative numbers stay short.
  put_uint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void CompactWriter::put_string(std::string_view s) {
  put_uint(s.size());
  out_.insert(out_.end(), s.begin(), s.end());
}

void CompactWriter::put_bytes(std::span<const std::uint8_t> bytes) {
  put_uint(bytes.size());
  out_.insert(out_.end(), bytes.begin(), bytes.end());
}

void CompactWriter::put_json(const json& v) {
  switch (v.type()) {
  case json::value_t::null:
  case json::value_t::discarded: out_.push_back(t_null); break;
  case json::value_t::boolean: out_.push_back(v.get<bool>() ? t_true : t_false); break;
  case json::value_t::number_integer:
    out_.push_back(t_int);
    put_int(v.get<std::int64_t>());
    break;
  case json::value_t::number_unsigned:
    out_.push_back(t_uint);
    put_uint(v.get<std::uint64_t>());
    break;
  case json::value_t::number_float: {
    out_.push_back(t_float);
    const auto bits = std::bit_cast<std::uint64_t>(v.get<double>());
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
    break;
  }
  case json::value_t::string:
    out_.push_back(t_string);
    put_string(v.get_ref<const std::string&>());
    break;
  case json::value_t::array:
    out_.push_back(t_array);
    put_uint(v.size());
    for (const auto& e : v) put_json(e);
    break;
  case json::value_t::object:
    out_.push_back(t_object);
    put_uint(v.size());
    for (const auto& [k, e] : v.items()) {
      put_string(k);
      put_json(e);
    }
    break;
  case json::value_t::binary: throw ConfigError("compact form: binary JSON values are not written");
  }
}

void CompactReader::fail(const std::string& message) const {
  throw ConfigError(what_ + ": " + message + " (at byte " + std::to_string(pos_) + " of " + std::to_string(data_.size()) + ")");
}

std::uint64_t CompactReader::get_uint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) fail("truncated number");
    const std::uint8_t b = data_[pos_++];
    if (shift == 63 && b > 1) fail("number out of range");
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("number too long");
}

std::int64_t CompactReader::get_int() {
  const std::uint64_t z = get_uint();
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

int CompactReader::get_int32() {
  const std::int64_t v = get_int();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) fail("number out of range");
  return static_cast<int>(v);
}

bool CompactReader::get_bool() {
  if (pos_ >= data_.size()) fail("truncated value");
  const std::uint8_t b = data_[pos_++];
  if (b > 1) fail("not a boolean");
  return b == 1;
}

std::span<const std::uint8_t> CompactReader::get_bytes() {
  const std::uint64_t n = get_uint();
  if (n > data_.size() - pos_) fail("truncated string");
  const auto out = data_.subspan(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return out;
}

std::string CompactReader::get_string() {
  const auto b = get_bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::size_t CompactReader::get_count(std::size_t min_size) {
  const std::uint64_t n = get_uint();
  if (min_size == 0) min_size = 1;
  if (n > (data_.size() - pos_) / min_size) fail("count larger than the data left");
  return static_cast<std::size_t>(n);
}

json CompactReader::get_json() { return get_json(0); }

json CompactReader::get_json(int depth) {
  if (depth > kMaxDepth) fail("values nested too deep");
  if (pos_ >= data_.size()) fail("truncated value");
  switch (data_[pos_++]) {
  case t_null: return nullptr;
  case t_false: return false;
  case t_true: return true;
  case t_int: return get_int();
  case t_uint: return get_uint();
  case t_float: {
    if (data_.size() - pos_ < 8) fail("truncated number");
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(data_[pos_++]) << (8 * i);
    return std::bit_cast<double>(bits);
  }
  case t_string: return get_string();
  case t_array: {
    const std::size_t n = get_count();
    json out = json::array();
    auto& a = out.get_ref<json::array_t&>();
    a.reserve(n);
    for (std::size_t i = 0; i < n; ++i) a.push_back(get_json(depth + 1));
    return out;
  }
  case t_object: {
    const std::size_t n = get_count(2);
    json out = json::object();
    auto& o = out.get_ref<json::object_t&>();
    for (std::size_t i = 0; i < n; ++i) {
      std::string key = get_string();
      // Keys were written in order: each goes at the end of the map.
      o.emplace_hint(o.end(), std::move(key), get_json(depth + 1));
    }
    return out;
  }
  default: --pos_; fail("unknown value type");
  }
}

} // namespace certdoctor

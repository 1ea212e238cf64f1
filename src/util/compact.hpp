#pragma once
// A compact binary form for data written by one build and read by the same program: unsigned and
// signed integers as variable-length numbers, strings with their length in front, and JSON values
// tagged by type. Reading it needs no parser and copies each string once, straight into the
// structure that keeps it; the rules data compiled into the binary is stored this way.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace certdoctor {

/// Appends values in the compact form.
class CompactWriter {
public:
  void put_uint(std::uint64_t v);
  void put_int(std::int64_t v);
  void put_bool(bool v) { out_.push_back(v ? 1 : 0); }
  void put_string(std::string_view s);
  /// Any JSON value but binary (throws ConfigError for one).
  void put_json(const nlohmann::json& v);
  /// A length and then `bytes` as they are (a section another reader decodes).
  void put_bytes(std::span<const std::uint8_t> bytes);

  const std::vector<std::uint8_t>& bytes() const noexcept { return out_; }
  std::vector<std::uint8_t> take() { return std::move(out_); }

private:
  std::vector<std::uint8_t> out_;
};

/// Reads what a CompactWriter wrote, in the same order. Every read checks the bounds: truncated or
/// malformed input throws ConfigError "WHAT: ..." (WHAT as given to the constructor), never reads
/// past the end, and nesting deeper than 256 levels is refused.
class CompactReader {
public:
  CompactReader(std::span<const std::uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  std::uint64_t get_uint();
  std::int64_t get_int();
  /// get_int() as an int, refusing a value out of its range.
  int get_int32();
  bool get_bool();
  std::string get_string();
  nlohmann::json get_json();
  std::span<const std::uint8_t> get_bytes();
  /// A count of elements that follow, each at least `min_size` bytes long: refused when the rest
  /// of the input cannot hold that many (so a corrupt count allocates nothing).
  std::size_t get_count(std::size_t min_size = 1);

  bool at_end() const noexcept { return pos_ == data_.size(); }
  /// Throws ConfigError "WHAT: MESSAGE".
  [[noreturn]] void fail(const std::string& message) const;

private:
  nlohmann::json get_json(int depth);
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  std::string what_;
};

} // namespace certdoctor

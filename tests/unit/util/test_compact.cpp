#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "util/compact.hpp"

using namespace certdoctor;
using nlohmann::json;

TEST_CASE("compact: numbers, strings and JSON values read back as written") {
  const json value = {{"ja", "証明書の更新"},
                      {"n", -42},
                      {"u", std::numeric_limits<std::uint64_t>::max()},
                      {"min", std::numeric_limits<std::int64_t>::min()},
                      {"f", 0.125},
                      {"list", {nullptr, true, false, json::array(), json::object()}},
                      {"", "empty key"}};
  CompactWriter w;
  w.put_uint(0);
  w.put_uint(300);
  w.put_int(-1);
  w.put_int(std::numeric_limits<std::int64_t>::max());
  w.put_bool(true);
  w.put_string(std::string("nul\0byte", 8));
  w.put_json(value);
  const auto bytes = w.bytes();
  CompactReader r(bytes, "test data");
  CHECK(r.get_uint() == 0);
  CHECK(r.get_uint() == 300);
  CHECK(r.get_int() == -1);
  CHECK(r.get_int() == std::numeric_limits<std::int64_t>::max());
  CHECK(r.get_bool());
  CHECK(r.get_string() == std::string("nul\0byte", 8));
  const json back = r.get_json();
  CHECK(back == value);
  CHECK(back["n"].is_number_integer());
  CHECK(back["u"].is_number_unsigned());
  CHECK(back["f"].is_number_float());
  CHECK(r.at_end());
}

TEST_CASE("compact: every truncation of valid data is refused with the data's name, never read past") {
  CompactWriter w;
  w.put_string("abc");
  w.put_json({{"a", {1, 2.5, "x"}}, {"b", nullptr}});
  w.put_int(-1000000);
  const auto bytes = w.bytes();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    CompactReader r(cut, "the cut data");
    CHECK_THROWS_WITH_AS(
        {
          r.get_string();
          r.get_json();
          r.get_int();
        },
        doctest::Contains("the cut data: "), ConfigError);
  }
}

TEST_CASE("compact: malformed data is refused") {
  SUBCASE("an unknown type tag") {
    const std::vector<std::uint8_t> bytes{0x7f};
    CompactReader r(bytes, "x");
    CHECK_THROWS_WITH_AS(r.get_json(), doctest::Contains("unknown value type"), ConfigError);
  }
  SUBCASE("a count larger than the data left allocates nothing") {
    CompactWriter w;
    w.put_uint(7);  // array tag
    w.put_uint(std::numeric_limits<std::uint64_t>::max());
    const auto bytes = w.bytes();
    CompactReader r(bytes, "x");
    CHECK_THROWS_WITH_AS(r.get_json(), doctest::Contains("count larger"), ConfigError);
  }
  SUBCASE("a number of more than 64 bits") {
    const std::vector<std::uint8_t> bytes(11, 0xff);
    CompactReader r(bytes, "x");
    CHECK_THROWS_AS(r.get_uint(), ConfigError);
  }
  SUBCASE("an int beyond int's range") {
    CompactWriter w;
    w.put_int(std::int64_t{1} << 40);
    const auto bytes = w.bytes();
    CompactReader r(bytes, "x");
    CHECK_THROWS_WITH_AS(r.get_int32(), doctest::Contains("out of range"), ConfigError);
  }
  SUBCASE("arrays nested without end") {
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < 100000; ++i) {
      bytes.push_back(7);
      bytes.push_back(1);
    }
    CompactReader r(bytes, "x");
    CHECK_THROWS_WITH_AS(r.get_json(), doctest::Contains("nested too deep"), ConfigError);
  }
  SUBCASE("a boolean other than 0 or 1") {
    const std::vector<std::uint8_t> bytes{2};
    CompactReader r(bytes, "x");
    CHECK_THROWS_AS(r.get_bool(), ConfigError);
  }
}

#include "facts/outside.hpp"
#include "facts/json_fields.hpp"

#include <cctype>
#include <cstdio>

namespace certdoctor::facts {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

} // namespace


void to_json(nlohmann::json& j, const FetchFact& v) {
  j = nlohmann::json::object();
  CD_PUT(url); CD_PUT(outcome); CD_PUT(http_status); CD_PUT(from_cache); CD_PUT(fetched_at);
  CD_PUT(elapsed_ms); CD_PUT(error);
}
void from_json(const nlohmann::json& j, FetchFact& v) {
  CD_GET(url); CD_GET(outcome); CD_GET(http_status); CD_GET(from_cache); CD_GET(fetched_at);
  CD_GET(elapsed_ms); CD_GET(error);
}

void to_json(nlohmann::json& j, const CtCertificate& v) {
  j = nlohmann::json::object();
  CD_PUT(serial); CD_PUT(issuer); CD_PUT(not_before); CD_PUT(not_after); CD_PUT(logged_at);
  CD_PUT(names); CD_PUT(lets_encrypt);
}
void from_json(const nlohmann::json& j, CtCertificate& v) {
  CD_GET(serial); CD_GET(issuer); CD_GET(not_before); CD_GET(not_after); CD_GET(logged_at);
  CD_GET(names); CD_GET(lets_encrypt);
}

void to_json(nlohmann::json& j, const CtFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(query_domain); CD_PUT(fetch); CD_PUT(certificates);
}
void from_json(const nlohmann::json& j, CtFacts& v) {
  CD_GET(query_domain); CD_GET(fetch); CD_GET(certificates);
}

void to_json(nlohmann::json& j, const StatusIncident& v) {
  j = nlohmann::json::object();
  CD_PUT(id); CD_PUT(name); CD_PUT(status); CD_PUT(started); CD_PUT(kind);
}
void from_json(const nlohmann::json& j, StatusIncident& v) {
  CD_GET(id); CD_GET(name); CD_GET(status); CD_GET(started); CD_GET(kind);
}

void to_json(nlohmann::json& j, const StatusFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(fetch); CD_PUT(overall_code); CD_PUT(overall_status); CD_PUT(incidents);
}
void from_json(const nlohmann::json& j, StatusFacts& v) {
  CD_GET(fetch); CD_GET(overall_code); CD_GET(overall_status); CD_GET(incidents);
}

#undef CD_PUT
#undef CD_GET

std::optional<std::int64_t> parse_utc_time(const std::string& s) {
  int y, mo, d, h, mi, sec;
  if (!read_digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !read_digits(s, 5, 2, mo) || s[7] != '-' ||
      !read_digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !read_digits(s, 11, 2, h) ||
      s[13] != ':' || !read_digits(s, 14, 2, mi) || s[16] != ':' || !read_digits(s, 17, 2, sec))
    return std::nullopt;
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] + (mo == 2 && leap(y) ? 1 : 0) || h > 23 || mi > 59 ||
      sec > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t digits_start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == digits_start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      // UTC
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!read_digits(s, pos + 1, 2, oh) || !read_digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
        return std::nullopt;
      offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  // A leap second (RFC 3339 §5.7) is read as the second before the next minute.
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 +
         (sec == 60 ? 59 : sec) - offset;
}

std::string format_utc_time(std::int64_t t) {
  std::int64_t days = t / 86400;
  std::int64_t rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // H. Hinnant's civil_from_days.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m, d,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

} // namespace certdoctor::facts

#include "store/store.hpp"

#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "store/backends.hpp"
#include "store/queue.hpp"

namespace certdoctor::store {

bool passed(const std::string& verdict) { return verdict == "ok" || verdict == "warning"; }

int current_schema_version() { return 4; }

bool is_postgres(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

std::string default_path() {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x == '/') base = x;
  else if (const char* h = std::getenv("HOME"); h && *h) base = std::filesystem::path(h) / ".local" / "share";
  else throw StoreError("no place for the history: neither XDG_DATA_HOME nor HOME is set; give --db FILE");
  return (base / "certdoctor" / "history.sqlite3").string();
}

std::unique_ptr<Store> open(const std::string& db, Open how) {
  if (is_postgres(db)) return open_postgres(db);
  return open_sqlite(db.empty() ? default_path() : db, how);
}

std::string compress(const std::string& text) {
  uLongf size = compressBound(text.size());
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(text.data()), text.size(),
                Z_BEST_COMPRESSION) != Z_OK)
    throw StoreError("cannot compress the facts (out of memory)");
  out.resize(size);
  return out;
}

std::string decompress(const std::string& data) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw StoreError("cannot decompress the facts (out of memory)");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw StoreError("the recorded facts are damaged (they do not decompress)");
  return out;
}

std::int64_t parse_age(const std::string& text, const std::string& option) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  const std::string unit = text.substr(i);
  const long long n = i == 0 || i > 6 ? -1 : std::atoll(text.substr(0, i).c_str());
  std::int64_t scale = unit.empty() || unit == "d" ? 86400 : unit == "w" ? 7 * 86400 : unit == "h" ? 3600 : 0;
  if (n < 0 || scale == 0)
    throw UsageError(option + " " + text + ": give an age such as 400d (days), 12w (weeks) or 36h (hours)");
  return n * scale;
}

std::string redact(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string new_token() {
  std::random_device random;  // the kernel's generator
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t v = random();
    for (int shift = 28; shift >= 0; shift -= 4) out += hex[(v >> shift) & 15];
  }
  return out;
}

std::string ids_text(const std::vector<std::string>& ids) { return nlohmann::json(ids).dump(); }

std::vector<std::string> ids_of(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

} // namespace certdoctor::store

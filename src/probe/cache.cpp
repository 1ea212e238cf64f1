#include "probe/cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace certdoctor::probe {

namespace fs = std::filesystem;

// File layout: one line of JSON metadata {"url", "fetched_at", "status", "size"}, then exactly
// `size` bytes of body. The body stays raw bytes, so an answer that is not UTF-8 round-trips.

std::string default_cache_dir(const std::string& override) {
  if (!override.empty()) return override;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  // The XDG base directory specification says relative paths are invalid and must be ignored.
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/certdoctor";
  const char* home = std::getenv("HOME");
  if (home && home[0]) return std::string(home) + "/.cache/certdoctor";
  return "";
}

std::string cache_key(const std::string& url) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(url.data(), url.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

Cache::Cache(std::string dir) : dir_(std::move(dir)) {}

std::optional<CacheEntry> Cache::get(const std::string& url, std::chrono::seconds max_age,
                                     std::chrono::system_clock::time_point now) const {
  if (dir_.empty()) return std::nullopt;
  const std::string key = cache_key(url);
  if (key.empty()) return std::nullopt;
  try {
    const fs::path path = fs::path(dir_) / key;
    // Opening a FIFO or a device planted in the cache could block or read without end.
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string header;
    if (!std::getline(in, header)) return std::nullopt;
    const auto meta = nlohmann::json::parse(header, nullptr, false);
    if (!meta.is_object()) return std::nullopt;
    const auto u = meta.find("url"), f = meta.find("fetched_at"), s = meta.find("status"), z = meta.find("size");
    if (u == meta.end() || !u->is_string() || f == meta.end() || !f->is_number_integer() || s == meta.end() ||
        !s->is_number_integer() || z == meta.end() || !z->is_number_unsigned())
      return std::nullopt;
    CacheEntry e;
    e.url = u->get<std::string>();
    e.fetched_at = f->get<std::int64_t>();
    e.status = s->get<int>();
    const auto size = z->get<std::uint64_t>();
    // A different URL here would be a hash collision or a foreign file.
    if (e.url != url || e.status != 200) return std::nullopt;
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t age = now_s - e.fetched_at;
    if (age < 0 || age > max_age.count()) return std::nullopt;
    e.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (e.body.size() != size) return std::nullopt; // truncated or appended to
    return e;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool Cache::put(const CacheEntry& entry) const {
  if (dir_.empty()) return false;
  const std::string key = cache_key(entry.url);
  if (key.empty()) return false;
  try {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return false;
    std::random_device rd;
    const fs::path final_path = fs::path(dir_) / key;
    const fs::path tmp = fs::path(dir_) / (key + ".tmp." + std::to_string(rd()));
    const nlohmann::json meta = {{"url", entry.url},
                                 {"fetched_at", entry.fetched_at},
                                 {"status", entry.status},
                                 {"size", static_cast<std::uint64_t>(entry.body.size())}};
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return false;
      out << meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n' << entry.body;
      out.flush();
      if (!out) {
        out.close();
        fs::remove(tmp, ec);
        return false;
      }
    }
    // rename(2) replaces the old entry in one step: a reader sees the old file or the new one.
    fs::rename(tmp, final_path, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace certdoctor::probe

#pragma once
// A disk cache of fetched answers, so that repeated checks do not hammer outside services.
// One file per URL, named by the SHA-256 of the URL. A cache that is missing, corrupt or not
// writable is ignored: every failure here means "fetch again", never an error.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace certdoctor::probe {

/// One cached answer.
struct CacheEntry {
  std::string url;
  std::int64_t fetched_at = 0; // seconds since the Unix epoch
  int status = 0;              // HTTP status
  std::string body;
};

/// Cache directory to use: `override` when not empty, else $XDG_CACHE_HOME/certdoctor when that
/// variable holds an absolute path, else $HOME/.cache/certdoctor; "" when none can be found.
std::string default_cache_dir(const std::string& override);

/// Lower-case hex SHA-256 of `url`: the entry's file name.
std::string cache_key(const std::string& url);

class Cache {
public:
  /// A cache in `dir` (created on the first put). An empty `dir` is a cache that keeps nothing.
  explicit Cache(std::string dir);

  /// The entry for `url` when one exists, is well formed, has HTTP status 200, and was fetched
  /// no more than `max_age` before `now` (nor after it). Never throws.
  std::optional<CacheEntry> get(const std::string& url, std::chrono::seconds max_age,
                                std::chrono::system_clock::time_point now) const;
  /// Stores `entry`, replacing any older one atomically (temporary file, then rename).
  /// Returns false when it could not be written. Never throws.
  bool put(const CacheEntry& entry) const;

  const std::string& dir() const { return dir_; }

private:
  std::string dir_;
};

} // namespace certdoctor::probe

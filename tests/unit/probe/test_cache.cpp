#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "probe/cache.hpp"
#include "../temp_dir.hpp"

using namespace certdoctor;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(std::int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

} // namespace

TEST_CASE("probe::cache_key") {
  CHECK(probe::cache_key("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(probe::cache_key("https://crt.sh/?q=example.jp&output=json").size() == 64);
  CHECK(probe::cache_key("a") != probe::cache_key("b"));
}

TEST_CASE("probe::default_cache_dir") {
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old_xdg ? old_xdg : "";
  SUBCASE("an explicit directory wins") {
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(probe::default_cache_dir("/mine") == "/mine");
  }
  SUBCASE("XDG_CACHE_HOME when absolute") {
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(probe::default_cache_dir("") == "/xdg/certdoctor");
  }
  SUBCASE("HOME otherwise") {
    setenv("XDG_CACHE_HOME", "relative", 1);
    setenv("HOME", "/home/u", 1);
    CHECK(probe::default_cache_dir("") == "/home/u/.cache/certdoctor");
  }
  if (old_xdg) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else unsetenv("XDG_CACHE_HOME");
}

TEST_CASE("probe::Cache") {
  TempDir dir;
  const probe::Cache cache(dir.str() + "/sub");
  const std::string url = "https://crt.sh/?q=example.jp&output=json";
  const std::string body = std::string("[{\"a\":1}]\n\xff\x00 binary", 18);
  REQUIRE(cache.put(probe::CacheEntry{url, 1000000, 200, body}));
  const auto file = dir.path() / "sub" / probe::cache_key(url);
  REQUIRE(std::filesystem::exists(file));

  SUBCASE("a fresh entry is returned whole") {
    const auto e = cache.get(url, 3600s, at(1000000 + 3600));
    REQUIRE(e);
    CHECK(e->url == url);
    CHECK(e->fetched_at == 1000000);
    CHECK(e->status == 200);
    CHECK(e->body == body);
  }
  SUBCASE("a stale entry, or one from the future, is not") {
    CHECK_FALSE(cache.get(url, 3600s, at(1000000 + 3601)));
    CHECK_FALSE(cache.get(url, 3600s, at(1000000 - 1)));
  }
  SUBCASE("another URL misses") { CHECK_FALSE(cache.get(url + "x", 3600s, at(1000000))); }
  SUBCASE("a failed fetch is never served") {
    REQUIRE(cache.put(probe::CacheEntry{url, 1000000, 500, "oops"}));
    CHECK_FALSE(cache.get(url, 3600s, at(1000000)));
  }
  SUBCASE("corrupt files are ignored") {
    for (const std::string& garbage : {std::string("not json\nbody"), std::string(""), std::string("{\"url\":1}\n"),
                                      "{\"url\":\"" + url + "\",\"fetched_at\":1000000,\"status\":200,\"size\":99}\nshort"}) {
      CAPTURE(garbage);
      std::ofstream(file, std::ios::binary | std::ios::trunc) << garbage;
      CHECK_FALSE(cache.get(url, 3600s, at(1000000)));
    }
  }
  SUBCASE("a FIFO or a directory in the entry's place is not opened") {
    std::filesystem::remove(file);
    REQUIRE(mkfifo(file.c_str(), 0600) == 0);
    CHECK_FALSE(cache.get(url, 3600s, at(1000000)));
    std::filesystem::remove(file);
    std::filesystem::create_directory(file);
    CHECK_FALSE(cache.get(url, 3600s, at(1000000)));
    CHECK_FALSE(cache.put(probe::CacheEntry{url, 1000000, 200, body}));
  }
  SUBCASE("a newer entry replaces the old one and leaves no temporary file") {
    REQUIRE(cache.put(probe::CacheEntry{url, 1000100, 200, "new"}));
    CHECK(cache.get(url, 3600s, at(1000100))->body == "new");
    int files = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir.path() / "sub")) ++files;
    CHECK(files == 1);
  }
  SUBCASE("an unusable directory is not an error") {
    std::ofstream(dir.path() / "plain-file") << "x";
    const probe::Cache broken((dir.path() / "plain-file" / "cache").string());
    CHECK_FALSE(broken.put(probe::CacheEntry{url, 1000000, 200, body}));
    CHECK_FALSE(broken.get(url, 3600s, at(1000000)));
    const probe::Cache none("");
    CHECK_FALSE(none.put(probe::CacheEntry{url, 1000000, 200, body}));
    CHECK_FALSE(none.get(url, 3600s, at(1000000)));
  }
}

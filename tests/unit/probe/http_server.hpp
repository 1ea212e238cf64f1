#pragma once
// A small HTTP/1.1 server for tests on 127.0.0.1, one thread per connection. What it serves
// depends on the request path (the query string is ignored):
//   /500       status 500 with body "oops"
//   /slow      status 200, Content-Length 1000, then one body byte per second
//   /silent    reads the request and never answers
//   /big       status 200 with a 9 MiB body and its Content-Length
//   /big-close status 200 with a 9 MiB body, no Content-Length (ends at connection close)
//   /to-file   a 302 redirect to file:///etc/hostname
//   a path registered with serve() (longest prefix wins): status 200 with that body
//   anything else: 404
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certdoctor::test {

class TestHttpServer {
public:
  /// Listens on a free port of 127.0.0.1. Throws std::runtime_error on failure.
  TestHttpServer();
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  /// "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const;
  /// Serves `body` with status 200 for paths starting with `prefix`.
  void serve(const std::string& prefix, const std::string& body);
  /// Requests received whose path starts with `prefix`.
  int hits(const std::string& prefix) const;

private:
  void accept_loop();
  void handle(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, std::string> routes_;
  std::vector<std::string> paths_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

/// A port on 127.0.0.1 on which nothing listens (bound, then closed).
std::uint16_t closed_port();

} // namespace certdoctor::test

#include "http_server.hpp"

#include <chrono>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace certdoctor::test {

namespace {

bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string response(int status, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

} // namespace

TestHttpServer::TestHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen failed");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  acceptor_.join();
  for (auto& t : connections_) t.join();
  ::close(listen_fd_);
}

std::string TestHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestHttpServer::serve(const std::string& prefix, const std::string& body) {
  std::lock_guard lock(mutex_);
  routes_[prefix] = body;
}

int TestHttpServer::hits(const std::string& prefix) const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& p : paths_) n += starts_with(p, prefix);
  return n;
}

void TestHttpServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd] {
      handle(fd);
      ::close(fd);
    });
  }
}

void TestHttpServer::handle(int fd) {
  std::string request;
  char buf[4096];
  while (!stop_ && request.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  if (stop_) return;
  const auto sp1 = request.find(' ');
  const auto sp2 = request.find(' ', sp1 + 1);
  std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string body;
  bool found = false;
  {
    std::lock_guard lock(mutex_);
    paths_.push_back(path);
    std::size_t best = 0;
    for (const auto& [prefix, b] : routes_) {
      if (starts_with(path, prefix) && prefix.size() >= best) {
        best = prefix.size();
        body = b;
        found = true;
      }
    }
  }
  const auto wait_for_stop = [&](std::chrono::milliseconds total) {
    const auto until = std::chrono::steady_clock::now() + total;
    while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  if (path == "/500") {
    send_all(fd, response(500, "Internal Server Error", "oops"));
  } else if (path == "/slow") {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")) return;
    for (int i = 0; i < 1000 && !stop_; ++i) {
      if (!send_all(fd, "x")) return;
      wait_for_stop(std::chrono::seconds(1));
    }
  } else if (path == "/silent") {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) return;
    }
  } else if (path == "/big") {
    send_all(fd, response(200, "OK", std::string(9 * 1024 * 1024, 'x')));
  } else if (path == "/big-close") {
    send_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(9 * 1024 * 1024, 'x'));
  } else if (path == "/to-file") {
    send_all(fd, "HTTP/1.1 302 Found\r\nLocation: file:///etc/hostname\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  } else if (found) {
    send_all(fd, response(200, "OK", body));
  } else {
    send_all(fd, response(404, "Not Found", "{}"));
  }
}

std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace certdoctor::test

#include "test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace certdoctor::test {

namespace {

using Clock = std::chrono::steady_clock;

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

Addr make_addr(int family, const std::string& address, std::uint16_t port) {
  Addr a;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &sin->sin_addr);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

std::uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET)
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

void put16(std::vector<std::uint8_t>& v, unsigned x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x & 0xff));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  put16(v, x >> 16);
  put16(v, x & 0xffff);
}

// A record owned by the question name (pointer to offset 12).
void add_rr(std::vector<std::uint8_t>& v, unsigned type, const std::vector<std::uint8_t>& rdata) {
  put16(v, 0xc00c);
  put16(v, type);
  put16(v, 1);
  put32(v, 300);
  put16(v, static_cast<unsigned>(rdata.size()));
  v.insert(v.end(), rdata.begin(), rdata.end());
}

std::vector<std::uint8_t> txt(std::size_t len, char fill) {
  std::vector<std::uint8_t> rd(len + 1, static_cast<std::uint8_t>(fill));
  rd[0] = static_cast<std::uint8_t>(len);
  return rd;
}

bool recv_all(int fd, std::uint8_t* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, buf + got, n - got, 0);
    if (r <= 0)
      return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

struct Delayed {
  Clock::time_point due;
  Addr to;
  std::vector<std::uint8_t> data;
};

} // namespace

TestDnsServer::TestDnsServer(const std::string& address)
    : family_(address.find(':') != std::string::npos ? AF_INET6 : AF_INET) {
  // UDP first on an ephemeral port, then TCP on the same number; retry if TCP's is taken.
  for (int attempt = 0; attempt < 20 && tcp_ < 0; ++attempt) {
    udp_ = ::socket(family_, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    Addr a = make_addr(family_, address, 0);
    if (udp_ < 0 || ::bind(udp_, reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0)
      throw std::runtime_error("test server: cannot bind UDP on " + address);
    port_ = port_of(udp_);
    tcp_ = ::socket(family_, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    Addr t = make_addr(family_, address, port_);
    if (::bind(tcp_, reinterpret_cast<sockaddr*>(&t.ss), t.len) != 0 || ::listen(tcp_, 16) != 0) {
      ::close(tcp_);
      ::close(udp_);
      tcp_ = udp_ = -1;
    }
  }
  if (tcp_ < 0)
    throw std::runtime_error("test server: cannot bind TCP on " + address);
  if (::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("test server: pipe failed");
  thread_ = std::thread([this] { serve(); });
}

TestDnsServer::~TestDnsServer() {
  char c = 'x';
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
  ::close(udp_);
  ::close(tcp_);
}

std::vector<std::vector<std::uint8_t>> TestDnsServer::queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queries_;
}

std::uint16_t TestDnsServer::unused_port(const std::string& address) {
  int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  Addr a = make_addr(family, address, 0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a.ss), a.len);
  std::uint16_t port = port_of(fd);
  ::close(fd);
  return port;
}

bool TestDnsServer::ipv6_available() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  Addr a = make_addr(AF_INET6, "::1", 0);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a.ss), a.len) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::uint8_t> TestDnsServer::respond(const std::vector<std::uint8_t>& q, bool tcp,
                                                 bool& drop) {
  drop = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queries_.push_back(q);
  }
  if (q.size() < 17) {
    drop = true;
    return {};
  }
  // The question ends after its (uncompressed) name, type and class.
  std::size_t p = 12;
  while (p < q.size() && q[p] != 0)
    p += 1 + q[p];
  std::size_t qend = p + 5;
  if (qend > q.size()) {
    drop = true;
    return {};
  }
  std::string first;
  for (std::size_t i = 0; i < q[12] && 13 + i < q.size(); ++i)
    first += static_cast<char>(std::tolower(q[13 + i]));
  bool edns = ((q[10] << 8) | q[11]) > 0;

  unsigned rcode = 0;
  bool tc = false;
  std::vector<std::vector<std::uint8_t>> answers;
  std::vector<std::uint8_t> authority_soa;
  std::vector<std::uint8_t> opt_options;
  unsigned answer_type = 1;
  if (first == "a" || first == "slow") {
    answers.push_back({192, 0, 2, 1});
  } else if (first == "servfail") {
    rcode = 2;
    const char text[] = "no reachable authority";
    put16(opt_options, 15);
    put16(opt_options, 2 + sizeof text - 1);
    put16(opt_options, 22);
    opt_options.insert(opt_options.end(), text, text + sizeof text - 1);
  } else if (first == "refused") {
    rcode = 5;
  } else if (first == "nxdomain") {
    rcode = 3;
    authority_soa = {0xc0, 0x0c, 0xc0, 0x0c};
    for (int i = 0; i < 20; ++i)
      authority_soa.push_back(static_cast<std::uint8_t>(i));
  } else if (first == "big") {
    answer_type = 16;
    if (tcp)
      for (int i = 0; i < 200; ++i)
        answers.push_back(txt(60, static_cast<char>('a' + i % 26)));
    else
      tc = true;
  } else if (first == "medium") {
    answer_type = 16;
    for (int i = 0; i < 15; ++i)
      answers.push_back(txt(60, 'm'));
  } else if (first == "silent") {
    drop = true;
    return {};
  } else if (first == "garbage") {
    answers.push_back({1, 2, 3, 4, 5});
  } else {
    rcode = 3;
  }

  std::vector<std::uint8_t> r;
  put16(r, (q[0] << 8) | q[1]);
  unsigned flags = 0x8000 | 0x0400 | (q[2] & 0x01 ? 0x0100 : 0) | rcode;
  if (tc)
    flags |= 0x0200;
  put16(r, flags);
  put16(r, 1);
  put16(r, static_cast<unsigned>(answers.size()));
  put16(r, authority_soa.empty() ? 0 : 1);
  put16(r, edns ? 1 : 0);
  r.insert(r.end(), q.begin() + 12, q.begin() + static_cast<std::ptrdiff_t>(qend));
  for (const auto& a : answers)
    add_rr(r, answer_type, a);
  if (!authority_soa.empty())
    add_rr(r, 6, authority_soa);
  if (edns) {
    r.push_back(0);
    put16(r, 41);
    put16(r, 1232);
    put32(r, 0);
    put16(r, static_cast<unsigned>(opt_options.size()));
    r.insert(r.end(), opt_options.begin(), opt_options.end());
  }
  return r;
}

void TestDnsServer::serve() {
  std::vector<int> conns;
  std::vector<Delayed> delayed;
  while (true) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
    for (int c : conns)
      fds.push_back({c, POLLIN, 0});
    int timeout = -1;
    auto now = Clock::now();
    for (const Delayed& d : delayed) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d.due - now).count() + 1;
      timeout = timeout < 0 ? static_cast<int>(std::max<long long>(ms, 0))
                            : std::min(timeout, static_cast<int>(std::max<long long>(ms, 0)));
    }
    ::poll(fds.data(), fds.size(), timeout);
    now = Clock::now();
    for (auto it = delayed.begin(); it != delayed.end();) {
      if (it->due <= now) {
        ::sendto(udp_, it->data.data(), it->data.size(), 0,
                 reinterpret_cast<sockaddr*>(&it->to.ss), it->to.len);
        it = delayed.erase(it);
      } else {
        ++it;
      }
    }
    if (fds[0].revents)
      break;
    if (fds[1].revents & POLLIN) {
      std::vector<std::uint8_t> buf(65536);
      Addr from;
      from.len = sizeof from.ss;
      ssize_t n = ::recvfrom(udp_, buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&from.ss), &from.len);
      if (n > 0) {
        ++udp_queries_;
        buf.resize(static_cast<std::size_t>(n));
        bool drop = false;
        std::vector<std::uint8_t> r = respond(buf, false, drop);
        bool slow = buf.size() > 17 && buf[12] == 4 && std::memcmp(&buf[13], "slow", 4) == 0;
        if (!drop && slow)
          delayed.push_back({Clock::now() + std::chrono::milliseconds(300), from, r});
        else if (!drop)
          ::sendto(udp_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from.ss), from.len);
      }
    }
    if (fds[2].revents & POLLIN) {
      int c = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0)
        conns.push_back(c);
    }
    for (std::size_t i = 3; i < fds.size(); ++i)
      if (fds[i].revents)
        handle_tcp_conn(fds[i].fd, conns);
  }
  for (int c : conns)
    ::close(c);
}

void TestDnsServer::handle_tcp_conn(int fd, std::vector<int>& conns) {
  std::uint8_t len[2];
  std::vector<std::uint8_t> msg;
  bool ok = recv_all(fd, len, 2);
  if (ok) {
    msg.resize(static_cast<std::size_t>((len[0] << 8) | len[1]));
    ok = recv_all(fd, msg.data(), msg.size());
  }
  if (!ok) {
    ::close(fd);
    std::erase(conns, fd);
    return;
  }
  ++tcp_queries_;
  bool drop = false;
  std::vector<std::uint8_t> r = respond(msg, true, drop);
  if (drop)
    return;
  std::vector<std::uint8_t> out;
  put16(out, static_cast<unsigned>(r.size()));
  out.insert(out.end(), r.begin(), r.end());
  (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

} // namespace certdoctor::test

#pragma once
// The HTTP server of `certdoctor serve`: libmicrohttpd (Debian's libmicrohttpd-dev, a small,
// maintained C library made for embedding an HTTP/1.1 server) carries requests to a Service and
// its responses back. Its own limits: connections in all and per client address, an idle
// timeout, the memory of one connection (which bounds the request line and headers: more gets
// 431), and the body (a larger Content-Length is refused before it is read).
#include <atomic>
#include <string>

#include "serve/service.hpp"

namespace certdoctor::serve {

struct DaemonLimits {
  unsigned connections = 256;
  unsigned per_client = 16;
  unsigned idle_timeout_s = 15;
  std::size_t connection_memory = 32 * 1024;  // request line and headers
  unsigned threads = 4;
};

/// Serves `service` on `address`:`port` until `stop` becomes true. Throws Error (message
/// serve-listen-failed) when the address cannot be listened on.
void run_daemon(Service& service, const std::string& address, int port, const DaemonLimits& limits,
                const std::atomic<bool>& stop);

}  // namespace certdoctor::serve

#include "serve/daemon.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

#include "serve/http_util.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::serve {

namespace {

struct Context {
  Service* service;
  std::size_t max_body;
  std::size_t max_triage_body;  // POST /api/v1/triage: a pasted mail
};

// What one connection has received of its request so far.
struct Pending {
  std::string body;
  std::size_t limit = 0;
  bool too_large = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

MHD_Result collect(void* cls, enum MHD_ValueKind, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  if (key) map->emplace(lower(key), value ? value : "");
  return MHD_YES;
}

MHD_Result collect_args(void* cls, enum MHD_ValueKind, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  if (key) map->emplace(key, value ? value : "");
  return MHD_YES;
}

std::string peer_of(MHD_Connection* c) {
  const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return "";
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* a = info->client_addr;
  if (a->sa_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, text, sizeof text);
  else if (a->sa_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, text, sizeof text);
  return text;
}

MHD_Result reply(MHD_Connection* c, const Response& r, bool head) {
  MHD_Response* response = MHD_create_response_from_buffer(head ? 0 : r.body.size(), const_cast<char*>(r.body.data()),
                                                          MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  for (const auto& [name, value] : r.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
  const MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return ok;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*, const char* upload,
                      size_t* upload_size, void** state) {
  auto* ctx = static_cast<Context*>(cls);
  auto* pending = static_cast<Pending*>(*state);
  if (!pending) {
    pending = new Pending();
    *state = pending;
    // A pasted mail: as it is to the API, percent-encoded (up to three bytes a byte) in the form.
    pending->limit = url && std::strcmp(url, "/api/v1/triage") == 0 ? ctx->max_triage_body
                     : url && std::strcmp(url, "/triage") == 0      ? 3 * ctx->max_triage_body
                                                                    : ctx->max_body;
    // A declared body over the limit is refused before a byte of it is read.
    if (const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length")) {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(length, &end, 10);
      if (end == length || *end != '\0' || n > pending->limit) pending->too_large = true;
    }
    if (!pending->too_large) return MHD_YES;
  }
  if (*upload_size > 0) {
    if (!pending->too_large) {
      if (pending->body.size() + *upload_size > pending->limit) {
        pending->too_large = true;
        pending->body.clear();
      } else {
        pending->body.append(upload, *upload_size);
      }
    }
    *upload_size = 0;
    return MHD_YES;
  }
  Request req;
  req.method = method ? method : "";
  req.path = url ? url : "";
  req.peer = peer_of(c);
  req.body = std::move(pending->body);
  req.body_too_large = pending->too_large;
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &req.headers);
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_args, &req.args);
  const Response r = ctx->service->handle(req);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - pending->started).count();
  std::cerr << "certdoctor serve: " << req.peer << " " << printable(req.method) << " " << printable(req.path) << " " << r.status
            << " " << static_cast<int>(ms) << " ms\n";
  return reply(c, r, req.method == "HEAD");
}

void on_completed(void*, MHD_Connection*, void** state, enum MHD_RequestTerminationCode) {
  delete static_cast<Pending*>(*state);
  *state = nullptr;
}

}  // namespace

void run_daemon(Service& service, const std::string& address, int port, const DaemonLimits& limits, const std::atomic<bool>& stop) {
  Context ctx{&service, service.config().max_body, service.config().max_triage_body};
  sockaddr_storage storage{};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  const auto listen_text = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
  if (address.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr);
    flags |= MHD_USE_IPv6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &a4->sin_addr);
  }
  MHD_Daemon* d = MHD_start_daemon(
      flags, static_cast<std::uint16_t>(port), nullptr, nullptr, on_request, &ctx,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&storage),
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(std::max(1u, limits.threads)),
      MHD_OPTION_CONNECTION_LIMIT, limits.connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.per_client,
      MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.connection_memory,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, nullptr,
      MHD_OPTION_END);
  if (!d) throw Error(Message{"serve-listen-failed", {{"value", listen_text}}});
  std::cerr << "certdoctor serve: listening on http://" << listen_text << "/ (" << service.config().workers << " workers, queue "
            << service.config().queue << ", policy " << (service.config().lab ? "lab" : "internet") << ")\n";
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::cerr << "certdoctor serve: stopping\n";
  MHD_stop_daemon(d);
}

}  // namespace certdoctor::serve

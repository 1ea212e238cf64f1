#pragma once
// The engine: one thread (the loop) runs the probes of every check submitted to it. All checks'
// DNS questions go through one DnsLoop (c-ares, one channel per server), all their HTTP, TLS and
// outside-source transfers through one libcurl multi handle, and both wait in one poll(): libcurl
// by its socket interface (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), c-ares by its
// sockets (ares_getsock). Each check is a state machine (the DNS gatherer, the web probe, the
// outside sources) under its own deadline: when it passes, its open questions and transfers end
// as timeouts or not sent, and no other check is touched. Nothing on the loop blocks: a silent,
// slow or endless server holds only its own check's transfers.
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "facts/facts.hpp"
#include "probe/dns_client.hpp"
#include "probe/dns_probe.hpp"
#include "probe/outside_probe.hpp"
#include "probe/web_probe.hpp"

namespace certdoctor::probe {

/// Everything one check asks of the network, and the facts it starts from.
struct ProbeJob {
  DnsProbeRequest dns;                  // its deadline is the check's; on_addresses, if set, is called after the engine's own
  DnsClient::Options dns_options;
  bool web = true;                      // the web probe; its `usable` also filters the addresses
  WebRequest web_request;
  OutsideRequest outside;
  facts::Facts facts;                   // the request part, filled in by the front end
  /// Optional, on the loop's thread: "dns-done" when the DNS questions have ended, "web-done"
  /// when the web probe has (only with `web`).
  std::function<void(const std::string& stage)> on_stage;
  std::chrono::steady_clock::time_point started;
};

class Engine {
 public:
  /// Called on the loop's thread with the completed facts, or with the exception a probe threw
  /// (our failure, never the domain's). It must return quickly: judging the facts belongs on
  /// another thread.
  using Done = std::function<void(facts::Facts&& facts, std::exception_ptr error)>;

  /// Starts the loop's thread; throws std::system_error when it cannot.
  Engine();
  /// Waits for the checks in flight (each ends by its deadline), then stops the loop.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Hands one check to the loop; thread-safe.
  void submit(ProbeJob job, Done done);
  /// One check, its facts to come: submits it; the future holds the facts, or the exception a
  /// probe threw. For a front end that starts several checks and waits for each (triage).
  std::future<facts::Facts> start(ProbeJob job);
  /// One check: submits it and waits for its facts (rethrows a probe's exception).
  facts::Facts run(ProbeJob job);

  /// Checks submitted and not completed.
  std::size_t in_flight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

} // namespace certdoctor::probe

#include "probe/engine.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include "probe/curl_owner.hpp"
#include "probe/fetch.hpp"

namespace certdoctor::probe {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// One check on the loop: its DNS client and gatherer, its web probe and its outside sources.
struct Check {
  ProbeJob job;
  Engine::Done done;
  std::unique_ptr<DnsClient> client;
  std::unique_ptr<DnsGather> gather;
  std::unique_ptr<WebCheck> web;
  std::unique_ptr<OutsideCheck> outside;
  bool dns_done = false;

  ~Check() {
    // The gatherer refers to the client, the request and the facts: it goes first.
    gather.reset();
    web.reset();
    outside.reset();
    client.reset();
  }
};

} // namespace

struct Engine::Impl {
  // Shared with submitters (under mutex).
  mutable std::mutex mutex;
  std::condition_variable idle_cv;
  std::deque<std::unique_ptr<Check>> incoming;
  std::size_t open = 0;  // submitted and not completed
  bool stopping = false;
  int wake_fd = -1;

  // The loop's own.
  std::thread thread;
  CURLM* multi = nullptr;
  std::unique_ptr<DnsLoop> dns;
  std::list<std::unique_ptr<Check>> checks;
  std::map<curl_socket_t, int> curl_sockets;  // socket -> CURL_POLL_IN/OUT/INOUT
  Clock::time_point curl_timer = Clock::time_point::max();

  static int on_socket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    if (what == CURL_POLL_REMOVE) self->curl_sockets.erase(s);
    else self->curl_sockets[s] = what;
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<Impl*>(user);
    self->curl_timer = timeout_ms < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void complete(Check& c, std::exception_ptr error) {
    const auto now = Clock::now();
    if (!error) {
      try {
        if (!c.dns_done) {
          c.gather->finish();
          c.job.facts.dns_elapsed_ms = ms_between(c.job.started, now);
          if (c.job.on_stage) c.job.on_stage("dns-done");
        }
        c.outside->finish(c.job.facts.ct, c.job.facts.ca_status);
        if (c.web) {
          c.web->finish(c.job.facts.web);
          if (c.job.on_stage) c.job.on_stage("web-done");
        }
        c.job.facts.elapsed_ms = ms_between(c.job.started, Clock::now());
      } catch (...) {
        error = std::current_exception();
      }
    }
    try {
      c.done(std::move(c.job.facts), error);
    } catch (...) {
      // A front end's callback that throws must not stop the loop for the other checks.
    }
  }

  void start(Check& c) {
    c.client = std::make_unique<DnsClient>(c.job.dns_options, *dns);
    c.client->set_deadline(c.job.dns.deadline);
    auto also = std::move(c.job.dns.on_addresses);  // the front end's own (progress)
    if (c.job.web) {
      c.web = std::make_unique<WebCheck>(c.job.web_request, multi, *dns);
      // Each name's addresses go to the web probe as the resolver answers them, so HTTP and TLS
      // run while the rest of DNS is asked; addresses the CA could not reach are not requested.
      c.job.dns.on_addresses = [web = c.web.get(), usable = c.job.web_request.usable, also](const facts::NameFacts& name,
                                                                                              const facts::Lookup& lookup) {
        std::vector<std::string> addresses;
        for (const auto& a : lookup.values(lookup.qtype))
          if (!usable || usable(a)) addresses.push_back(a);
        web->add(name.name, lookup.qtype == "AAAA" ? "ipv6" : "ipv4", addresses);
        if (also) also(name, lookup);
      };
    } else {
      c.job.dns.on_addresses = std::move(also);
    }
    c.outside = std::make_unique<OutsideCheck>(c.job.outside, multi);
    c.outside->start();
    c.gather = std::make_unique<DnsGather>(*c.client, c.job.dns, c.job.facts);
    c.gather->start();
  }

  // Moves one check on; true when it is complete. `wake`: when to look at it again.
  bool advance(Check& c, Clock::time_point now, Clock::time_point& wake) {
    if (!c.dns_done && c.client->pending() == 0) {
      c.gather->finish();
      c.dns_done = true;
      c.job.facts.dns_elapsed_ms = ms_between(c.job.started, Clock::now());
      if (c.web) c.web->close();  // no more addresses will come
      if (c.job.on_stage) c.job.on_stage("dns-done");
    }
    bool done = c.dns_done;
    if (c.web) {
      wake = std::min(wake, c.web->step(now));
      done = done && c.web->done();
    }
    wake = std::min(wake, c.outside->step(now));
    done = done && c.outside->done();
    // A check past its deadline is complete once DNS has ended its questions (the loop ends
    // them at the deadline); what web and outside still hold ends in finish().
    if (!done && c.dns_done && now >= c.job.dns.deadline) done = true;
    if (!c.dns_done) wake = std::min(wake, c.job.dns.deadline);
    return done;
  }

  void drive_curl(curl_socket_t s, int events) {
    int running = 0;
    curl_multi_socket_action(multi, s, events, &running);
  }

  void loop() {
    std::vector<pollfd> fds;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        while (!incoming.empty()) {
          checks.push_back(std::move(incoming.front()));
          incoming.pop_front();
          Check& c = *checks.back();
          lock.unlock();
          try {
            start(c);
          } catch (...) {
            // Our failure (out of memory): this check ends with it, the others go on.
            complete_and_drop(std::prev(checks.end()), std::current_exception());
          }
          lock.lock();
        }
        if (stopping && checks.empty()) return;
      }

      Clock::time_point wake = Clock::time_point::max();
      try {
        // DNS first: its answers start web requests and end lookups at the deadline.
        wake = std::min(wake, dns->step());
        if (Clock::now() >= curl_timer) {
          curl_timer = Clock::time_point::max();
          drive_curl(CURL_SOCKET_TIMEOUT, 0);
        }
        hand_back_done(multi);
        const auto now = Clock::now();
        for (auto it = checks.begin(); it != checks.end();) {
          auto next = it;
          ++next;
          if (advance(**it, now, wake)) complete_and_drop(it, nullptr);
          it = next;
        }
        // Web steps and completions may have added transfers, and DNS questions.
        wake = std::min(wake, dns->step());
      } catch (...) {
        // An exception from a probe's callback cannot be told to one check: every check in
        // flight ends with it, as our failure.
        const auto error = std::current_exception();
        while (!checks.empty()) complete_and_drop(checks.begin(), error);
        continue;
      }

      // One poll for the wake-up, libcurl's sockets and c-ares' sockets.
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      for (const auto& [s, what] : curl_sockets) {
        short events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= POLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= POLLOUT;
        if (events) fds.push_back({s, events, 0});
      }
      const std::size_t curl_end = fds.size();
      const auto now = Clock::now();
      const auto until = std::min(wake, curl_timer);
      long long left = until == Clock::time_point::max()
                           ? 1000
                           : std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
      int timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 1000));
      dns->prepare(fds, timeout_ms);
      const int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0)
        for (auto& f : fds) f.revents = 0;
      if (fds[0].revents & POLLIN) {
        std::uint64_t count = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
      }
      for (std::size_t i = 1; i < curl_end; ++i) {
        const short re = fds[i].revents;
        if (!re) continue;
        int ev = 0;
        if (re & POLLIN) ev |= CURL_CSELECT_IN;
        if (re & POLLOUT) ev |= CURL_CSELECT_OUT;
        if (re & (POLLERR | POLLHUP | POLLNVAL)) ev |= CURL_CSELECT_ERR;
        drive_curl(fds[i].fd, ev);
      }
      dns->process(fds, curl_end);
    }
  }

  void complete_and_drop(std::list<std::unique_ptr<Check>>::iterator it, std::exception_ptr error) {
    std::unique_ptr<Check> c = std::move(*it);
    checks.erase(it);
    complete(*c, error);
    c.reset();
    std::lock_guard lock(mutex);
    --open;
    idle_cv.notify_all();
  }
};

Engine::Engine() : impl_(std::make_unique<Impl>()) {
  curl_global();
  Impl& d = *impl_;
  d.wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d.wake_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  d.multi = curl_multi_init();
  if (!d.multi) {
    ::close(d.wake_fd);
    throw std::system_error(ENOMEM, std::generic_category(), "curl_multi_init");
  }
  curl_multi_setopt(d.multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(d.multi, CURLMOPT_SOCKETDATA, &d);
  curl_multi_setopt(d.multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
  curl_multi_setopt(d.multi, CURLMOPT_TIMERDATA, &d);
  d.dns = std::make_unique<DnsLoop>();
  try {
    d.thread = std::thread([&d] { d.loop(); });
  } catch (...) {
    d.dns.reset();
    curl_multi_cleanup(d.multi);
    ::close(d.wake_fd);
    throw;
  }
}

Engine::~Engine() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mutex);
    d.stopping = true;
  }
  d.wake();
  if (d.thread.joinable()) d.thread.join();
  d.dns.reset();
  curl_multi_cleanup(d.multi);
  ::close(d.wake_fd);
}

void Engine::submit(ProbeJob job, Done done) {
  auto c = std::make_unique<Check>();
  c->job = std::move(job);
  c->done = std::move(done);
  {
    std::lock_guard lock(impl_->mutex);
    impl_->incoming.push_back(std::move(c));
    ++impl_->open;
  }
  impl_->wake();
}

std::future<facts::Facts> Engine::start(ProbeJob job) {
  auto promise = std::make_shared<std::promise<facts::Facts>>();
  auto future = promise->get_future();
  submit(std::move(job), [promise](facts::Facts&& f, std::exception_ptr error) {
    if (error) promise->set_exception(error);
    else promise->set_value(std::move(f));
  });
  return future;
}

facts::Facts Engine::run(ProbeJob job) { return start(std::move(job)).get(); }

std::size_t Engine::in_flight() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open;
}

} // namespace certdoctor::probe

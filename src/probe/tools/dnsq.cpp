// dnsq: sends one query through DnsClient and prints what came back, for debugging.
// Usage: dnsq [@SERVER] NAME [TYPE] [+norec] [+cd] [+do] [+bufsize=N] [+timeout=MS] [+tries=N]
// Without @SERVER the first nameserver of /etc/resolv.conf is asked.
#include "dns/message.hpp"
#include "probe/dns_client.hpp"
#include "probe/resolv_conf.hpp"
#include "util/error.hpp"

#include <chrono>
#include <iostream>
#include <string>

using namespace certdoctor;

namespace {

void print_section(const char* title, const std::vector<dns::Record>& records) {
  if (records.empty())
    return;
  std::cout << ";; " << title << "\n";
  for (const auto& r : records)
    std::cout << (r.name.empty() ? "." : r.name) << "\t" << r.ttl << "\t"
              << (r.klass == dns::class_in ? std::string("IN") : "CLASS" + std::to_string(r.klass))
              << "\t" << dns::type_name(r.type) << "\t" << r.data << "\n";
}

int usage() {
  std::cerr << "usage: dnsq [@SERVER] NAME [TYPE] [+norec] [+cd] [+do] [+bufsize=N] "
               "[+timeout=MS] [+tries=N]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  try {
    std::optional<probe::DnsServer> server;
    std::string name;
    std::uint16_t type = dns::rrtype::A;
    bool have_type = false;
    dns::QueryFlags flags;
    probe::DnsClient::Options options;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.starts_with("@"))
        server = probe::parse_server(a.substr(1));
      else if (a == "+norec")
        flags.recursion_desired = false;
      else if (a == "+cd")
        flags.checking_disabled = true;
      else if (a == "+do")
        flags.dnssec_ok = true;
      else if (a.starts_with("+bufsize="))
        flags.edns_udp_size = static_cast<std::uint16_t>(std::stoul(a.substr(9)));
      else if (a.starts_with("+timeout="))
        options.attempt_timeout = std::chrono::milliseconds(std::stol(a.substr(9)));
      else if (a.starts_with("+tries="))
        options.tries = std::stoi(a.substr(7));
      else if (name.empty())
        name = a;
      else if (!have_type) {
        auto t = dns::type_from_name(a);
        if (!t) {
          std::cerr << "dnsq: unknown type \"" << a << "\"\n";
          return 2;
        }
        type = *t;
        have_type = true;
      } else
        return usage();
    }
    if (name.empty())
      return usage();
    if (!server)
      server = probe::system_resolvers().front();

    probe::DnsClient client(options);
    probe::DnsResult result;
    client.query(*server, name, type, flags, [&](probe::DnsResult r) { result = std::move(r); });
    client.run(std::chrono::steady_clock::now() + options.attempt_timeout * (options.tries + 1));

    std::cout << ";; server " << result.server.to_string() << ", " << result.elapsed_ms
              << " ms, status " << probe::to_string(result.status) << "\n";
    if (!result.response) {
      std::cout << ";; " << result.error << "\n";
      return 1;
    }
    const dns::Message& m = *result.response;
    std::cout << ";; rcode " << dns::rcode_name(m.rcode) << ", id " << m.id << ", flags"
              << (m.qr ? " qr" : "") << (m.aa ? " aa" : "") << (m.tc ? " tc" : "")
              << (m.rd ? " rd" : "") << (m.ra ? " ra" : "") << (m.ad ? " ad" : "")
              << (m.cd ? " cd" : "") << "\n";
    if (m.has_edns)
      std::cout << ";; EDNS version " << int(m.edns_version) << ", udp " << m.edns_udp_size
                << (m.edns_do ? ", do" : "") << "\n";
    for (const auto& e : m.extended_errors)
      std::cout << ";; extended error " << e.code << " \"" << e.text << "\"\n";
    std::cout << ";; question " << (m.qname.empty() ? "." : m.qname) << " "
              << dns::type_name(m.qtype) << "\n";
    print_section("answer", m.answer);
    print_section("authority", m.authority);
    print_section("additional", m.additional);
    return 0;
  } catch (const Error& e) {
    std::cerr << "dnsq: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "dnsq: " << e.what() << "\n";
    return 2;
  }
}

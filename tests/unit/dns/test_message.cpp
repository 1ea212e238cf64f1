#include "dns/message.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace certdoctor;
using namespace certdoctor::dns;

namespace {

// Writes DNS wire format by hand, so tests do not depend on the code under test.
struct Wire {
  std::vector<std::uint8_t> b;
  Wire& u8(unsigned v) {
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Wire& u16(unsigned v) { return u8(v >> 8).u8(v & 0xff); }
  Wire& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
  Wire& raw(std::string_view s) {
    for (char c : s)
      u8(static_cast<unsigned char>(c));
    return *this;
  }
  Wire& bytes(const std::vector<std::uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Wire& label(std::string_view l) { return u8(static_cast<unsigned>(l.size())).raw(l); }
  // Uncompressed name from dotted text ("" is the root).
  Wire& name(std::string_view dotted) {
    while (!dotted.empty()) {
      auto dot = dotted.find('.');
      label(dotted.substr(0, dot));
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return u8(0);
  }
  Wire& ptr(unsigned offset) { return u16(0xc000 | offset); }
  Wire& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // TYPE, CLASS IN, TTL and RDLENGTH of a record.
  Wire& rr(unsigned type, std::uint32_t ttl, unsigned rdlen) {
    return u16(type).u16(1).u32(ttl).u16(rdlen);
  }
  std::size_t size() const { return b.size(); }
};

// A response header plus the question "example.jp" (offsets 12..27); the answer starts at 28.
Wire response(unsigned qtype, unsigned an, unsigned ns = 0, unsigned ar = 0, unsigned flags = 0x8180) {
  Wire w;
  w.header(0xbeef, flags, 1, an, ns, ar).name("example.jp").u16(qtype).u16(1);
  return w;
}

Record one_answer(unsigned type, const std::vector<std::uint8_t>& rdata) {
  Wire w = response(type, 1);
  w.ptr(12).rr(type, 300, static_cast<unsigned>(rdata.size())).bytes(rdata);
  dns::Message m = parse_message(w.b);
  REQUIRE(m.answer.size() == 1);
  return m.answer[0];
}

std::string parse_error(const std::vector<std::uint8_t>& wire) {
  try {
    (void)parse_message(wire);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

} // namespace

TEST_CASE("Message::type_name") {
  CHECK(type_name(rrtype::A) == "A");
  CHECK(type_name(rrtype::CAA) == "CAA");
  CHECK(type_name(rrtype::DNSKEY) == "DNSKEY");
  CHECK(type_name(rrtype::OPT) == "OPT");
  CHECK(type_name(65280) == "TYPE65280");
  CHECK(type_from_name("caa") == rrtype::CAA);
  CHECK(type_from_name("AAAA") == rrtype::AAAA);
  CHECK(type_from_name("type99") == 99);
  CHECK(type_from_name("TYPE65535") == 65535);
  CHECK_FALSE(type_from_name("TYPE65536").has_value());
  CHECK_FALSE(type_from_name("TYPE").has_value());
  CHECK_FALSE(type_from_name("TYPE1x").has_value());
  CHECK_FALSE(type_from_name("BOGUS").has_value());
}

TEST_CASE("Message::rcode_name") {
  CHECK(rcode_name(0) == "NOERROR");
  CHECK(rcode_name(1) == "FORMERR");
  CHECK(rcode_name(2) == "SERVFAIL");
  CHECK(rcode_name(3) == "NXDOMAIN");
  CHECK(rcode_name(4) == "NOTIMP");
  CHECK(rcode_name(5) == "REFUSED");
  CHECK(rcode_name(16) == "BADVERS");
  CHECK(rcode_name(23) == "BADCOOKIE");
  CHECK(rcode_name(15) == "RCODE15");
  CHECK(rcode_name(4000) == "RCODE4000");
}

TEST_CASE("Message::build_query") {
  SUBCASE("exact octets with default flags") {
    Wire want;
    want.header(0x1234, 0x0100, 1, 0, 0, 1).name("example.jp").u16(1).u16(1);
    want.u8(0).u16(41).u16(1232).u32(0).u16(0);
    CHECK(build_query(0x1234, "example.jp", rrtype::A, QueryFlags{}) == want.b);
  }
  SUBCASE("CD, DO, no RD, custom UDP size") {
    QueryFlags f;
    f.recursion_desired = false;
    f.checking_disabled = true;
    f.dnssec_ok = true;
    f.edns_udp_size = 4096;
    Wire want;
    want.header(7, 0x0010, 1, 0, 0, 1).name("jp").u16(43).u16(1);
    want.u8(0).u16(41).u16(4096).u32(0x8000).u16(0);
    CHECK(build_query(7, "jp.", rrtype::DS, f) == want.b);
  }
  SUBCASE("round trip through parse_message") {
    QueryFlags f;
    f.dnssec_ok = true;
    f.checking_disabled = true;
    dns::Message m = parse_message(build_query(0xabcd, "WWW.Example.JP", rrtype::CAA, f));
    CHECK(m.id == 0xabcd);
    CHECK_FALSE(m.qr);
    CHECK(m.rd);
    CHECK(m.cd);
    CHECK_FALSE(m.ad);
    CHECK(m.qname == "www.example.jp");
    CHECK(m.qtype == rrtype::CAA);
    CHECK(m.has_edns);
    CHECK(m.edns_udp_size == 1232);
    CHECK(m.edns_do);
    CHECK(m.edns_version == 0);
    CHECK(m.rcode == 0);
    CHECK(m.additional.empty());
    CHECK(m.answer.empty());
  }
  SUBCASE("root query") {
    dns::Message m = parse_message(build_query(1, ".", rrtype::NS, QueryFlags{}));
    CHECK(m.qname == "");
    CHECK(m.qtype == rrtype::NS);
  }
}

TEST_CASE("Message::parse_message header and compression") {
  // www.example.jp CNAME web.example.jp; web.example.jp A 192.0.2.1, names compressed.
  Wire w;
  w.header(0x0102, 0x8580, 1, 2, 0, 0).name("www.example.jp").u16(1).u16(1); // qname at 12, 4 + 8 + 3 + 1
  // answer 1 at 32: owner -> 12, target "web" + pointer to "example.jp" at 16
  w.ptr(12).rr(5, 3600, 6).label("web").ptr(16);
  std::size_t web = 44; // offset of the "web" label
  REQUIRE(w.b[web] == 3);
  w.ptr(static_cast<unsigned>(web)).rr(1, 60, 4).u8(192).u8(0).u8(2).u8(1);
  dns::Message m = parse_message(w.b);
  CHECK(m.id == 0x0102);
  CHECK(m.qr);
  CHECK(m.aa);
  CHECK(m.rd);
  CHECK(m.ra);
  CHECK_FALSE(m.tc);
  CHECK(m.rcode == rcode::NOERROR);
  CHECK_FALSE(m.has_edns);
  CHECK(m.qname == "www.example.jp");
  REQUIRE(m.answer.size() == 2);
  CHECK(m.answer[0].name == "www.example.jp");
  CHECK(m.answer[0].type == rrtype::CNAME);
  CHECK(m.answer[0].klass == 1);
  CHECK(m.answer[0].ttl == 3600);
  CHECK(m.answer[0].data == "web.example.jp");
  CHECK(m.answer[0].rdata == Wire().name("web.example.jp").b);
  CHECK(m.answer[1].name == "web.example.jp");
  CHECK(m.answer[1].data == "192.0.2.1");
}

TEST_CASE("Message::parse_message sections and flags") {
  Wire w = response(1, 0, 1, 1, 0x8183 | 0x0200 | 0x0020 | 0x0010);
  // authority: SOA with compressed names
  Wire soa;
  soa.label("ns").ptr(12).label("hostmaster").ptr(12).u32(2024010101).u32(3600).u32(900).u32(604800).u32(300);
  w.ptr(12).rr(6, 900, static_cast<unsigned>(soa.size())).bytes(soa.b);
  // additional: A glue for "ns.example.jp" (at offset 40)
  w.ptr(40).rr(1, 900, 4).u8(198).u8(51).u8(100).u8(53);
  dns::Message m = parse_message(w.b);
  CHECK(m.rcode == rcode::NXDOMAIN);
  CHECK(m.tc);
  CHECK(m.ad);
  CHECK(m.cd);
  CHECK_FALSE(m.aa);
  CHECK(m.answer.empty());
  REQUIRE(m.authority.size() == 1);
  CHECK(m.authority[0].data == "ns.example.jp hostmaster.example.jp 2024010101 3600 900 604800 300");
  Wire soa_rdata;
  soa_rdata.name("ns.example.jp").name("hostmaster.example.jp").u32(2024010101).u32(3600).u32(900).u32(604800).u32(300);
  CHECK(m.authority[0].rdata == soa_rdata.b);
  REQUIRE(m.additional.size() == 1);
  CHECK(m.additional[0].name == "ns.example.jp");
  CHECK(m.additional[0].data == "198.51.100.53");
}

TEST_CASE("Message::parse_message RDATA types") {
  SUBCASE("A") { CHECK(one_answer(1, {203, 0, 113, 7}).data == "203.0.113.7"); }
  SUBCASE("AAAA") {
    CHECK(one_answer(28, from_hex("20010db8000000000000000000000001")).data == "2001:db8::1");
  }
  SUBCASE("NS, mixed case on the wire") {
    Record r = one_answer(2, Wire().name("NS1.Example.NET").b);
    CHECK(r.data == "ns1.example.net");
    CHECK(r.rdata == Wire().name("NS1.Example.NET").b);
  }
  SUBCASE("CNAME to the root and odd octets") {
    CHECK(one_answer(5, {0}).data == ".");
    CHECK(one_answer(5, Wire().label(std::string("a.b\\ \x01", 6)).u8(0).b).data == "a\\.b\\\\\\032\\001");
  }
  SUBCASE("PTR") { CHECK(one_answer(12, Wire().name("host.example.jp").b).data == "host.example.jp"); }
  SUBCASE("MX and null MX") {
    CHECK(one_answer(15, Wire().u16(10).name("mail.example.jp").b).data == "10 mail.example.jp");
    CHECK(one_answer(15, Wire().u16(0).u8(0).b).data == "0 .");
  }
  SUBCASE("TXT") {
    Record r = one_answer(16, Wire().label("v=spf1 -all").label("say \"hi\"\\").u8(2).u8(0xe3).u8(0x0a).u8(0).b);
    CHECK(r.data == "\"v=spf1 -all\" \"say \\\"hi\\\"\\\\\" \"\\227\\010\" \"\"");
  }
  SUBCASE("CAA") {
    Record r = one_answer(257, Wire().u8(0).label("issue").raw("letsencrypt.org").b);
    CHECK(r.data == "0 issue \"letsencrypt.org\"");
    auto caa = parse_caa(r);
    REQUIRE(caa.has_value());
    CHECK(caa->flags == 0);
    CHECK(caa->tag == "issue");
    CHECK(caa->value == "letsencrypt.org");

    Record crit = one_answer(257, Wire().u8(128).label("iodef").raw("mailto:a@example.jp").b);
    CHECK(crit.data == "128 iodef \"mailto:a@example.jp\"");
    Record empty = one_answer(257, Wire().u8(0).label("issue").b);
    CHECK(empty.data == "0 issue \"\"");
    REQUIRE(parse_caa(empty).has_value());
    CHECK(parse_caa(empty)->value.empty());
  }
  SUBCASE("parse_caa rejects other types and bad RDATA") {
    Record r;
    r.type = rrtype::TXT;
    r.rdata = {0, 5, 'i', 's', 's', 'u', 'e'};
    CHECK_FALSE(parse_caa(r).has_value());
    r.type = rrtype::CAA;
    CHECK(parse_caa(r).has_value());
    r.rdata = {0, 9, 'i', 's'};
    CHECK_FALSE(parse_caa(r).has_value());
    r.rdata = {0, 0};
    CHECK_FALSE(parse_caa(r).has_value());
    r.rdata = {0};
    CHECK_FALSE(parse_caa(r).has_value());
  }
  SUBCASE("DS") {
    Record r = one_answer(43, Wire().u16(20326).u8(8).u8(2).bytes(from_hex("e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d")).b);
    CHECK(r.data == "20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D");
  }
  SUBCASE("DNSKEY with key tag (root KSK-2017)") {
    std::vector<std::uint8_t> key = from_hex(
        "0101030803010001acffb409bcc939f831f7a1e5ec88f7a59255ec53040be432027390a4ce896d6f9086f3c5e1"
        "77fbfe118163aaec7af1462c47945944c4e2c026be5e98bbcded25978272e1e3e079c5094d573f0e83c92f02b3"
        "2d3513b1550b826929c80dd0f92cac966d17769fd5867b647c3f38029abdc48152eb8f207159ecc5d232c7c153"
        "7c79f4b7ac28ff11682f21681bf6d6aba555032bf6f9f036beb2aaa5b3778d6eebfba6bf9ea191be4ab0caea75"
        "9e2f773a1f9029c73ecb8d5735b9321db085f1b8e2d8038fe2941992548cee0d67dd4547e11dd63af9c9fc1c54"
        "66fb684cf009d7197c2cf79e792ab501e6a8a1ca519af2cb9b5f6367e94c0d47502451357be1b5");
    REQUIRE(key.size() == 264);
    Record r = one_answer(48, key);
    CHECK(r.data == "257 3 8 tag=20326");
    CHECK(r.rdata == key);
  }
  SUBCASE("RRSIG") {
    Wire rd;
    rd.u16(1).u8(13).u8(2).u32(300).u32(1700000000).u32(1690000000).u16(12345).ptr(12).u8(0xaa).u8(0xbb);
    Record r = one_answer(46, rd.b);
    CHECK(r.data == "A 13 2 300 20231114221320 20230722042640 12345 example.jp");
    Wire expanded;
    expanded.u16(1).u8(13).u8(2).u32(300).u32(1700000000).u32(1690000000).u16(12345).name("example.jp").u8(0xaa).u8(0xbb);
    CHECK(r.rdata == expanded.b);
  }
  SUBCASE("SRV") {
    CHECK(one_answer(33, Wire().u16(1).u16(5).u16(443).name("svc.example.jp").b).data == "1 5 443 svc.example.jp");
  }
  SUBCASE("unknown types in RFC 3597 form") {
    Record r = one_answer(65280, {0x01, 0xab, 0xff});
    CHECK(r.data == "\\# 3 01ABFF");
    CHECK(r.rdata == std::vector<std::uint8_t>{0x01, 0xab, 0xff});
    CHECK(one_answer(65280, {}).data == "\\# 0");
  }
}

TEST_CASE("Message::parse_message EDNS") {
  SUBCASE("OPT fields and Extended DNS Errors") {
    Wire w = response(1, 0, 0, 1, 0x8182);
    Wire opt;
    opt.u16(10).u16(8).raw("cookie!!");        // COOKIE, skipped
    opt.u16(15).u16(2 + 9).u16(18).raw("forbidden"); // EDE 18 Prohibited
    opt.u16(15).u16(2).u16(22);                 // EDE 22 No Reachable Authority, no text
    w.u8(0).u16(41).u16(1232).u32(0x00008000).u16(static_cast<unsigned>(opt.size())).bytes(opt.b);
    dns::Message m = parse_message(w.b);
    CHECK(m.has_edns);
    CHECK(m.edns_udp_size == 1232);
    CHECK(m.edns_do);
    CHECK(m.rcode == rcode::SERVFAIL);
    CHECK(m.additional.empty());
    REQUIRE(m.extended_errors.size() == 2);
    CHECK(m.extended_errors[0].code == 18);
    CHECK(m.extended_errors[0].text == "forbidden");
    CHECK(m.extended_errors[1].code == 22);
    CHECK(m.extended_errors[1].text.empty());
  }
  SUBCASE("extended RCODE") {
    Wire w = response(1, 0, 0, 1, 0x8180);
    w.u8(0).u16(41).u16(512).u32(0x01000000).u16(0);
    dns::Message m = parse_message(w.b);
    CHECK(m.rcode == 16);
    CHECK(rcode_name(m.rcode) == "BADVERS");
    CHECK(m.edns_version == 0);
    CHECK_FALSE(m.edns_do);
  }
  SUBCASE("errors") {
    Wire twice = response(1, 0, 0, 2);
    twice.u8(0).u16(41).u16(512).u32(0).u16(0).u8(0).u16(41).u16(512).u32(0).u16(0);
    CHECK(parse_error(twice.b) == "additional record 2 (OPT): more than one OPT record");

    Wire in_answer = response(1, 1);
    in_answer.u8(0).u16(41).u16(512).u32(0).u16(0);
    CHECK(parse_error(in_answer.b) == "answer record 1 (OPT): OPT record in the answer section");

    Wire owner = response(1, 0, 0, 1);
    owner.ptr(12).u16(41).u16(512).u32(0).u16(0);
    CHECK(parse_error(owner.b) ==
          "additional record 1 (OPT): OPT record owned by \"example.jp\" instead of the root");

    Wire short_ede = response(1, 0, 0, 1);
    short_ede.u8(0).u16(41).u16(512).u32(0).u16(5).u16(15).u16(1).u8(0);
    CHECK(parse_error(short_ede.b) ==
          "additional record 1 (OPT): Extended DNS Error option is 1 octet, shorter than 2");

    Wire overrun = response(1, 0, 0, 1);
    overrun.u8(0).u16(41).u16(512).u32(0).u16(6).u16(15).u16(9).u16(0);
    CHECK(parse_error(overrun.b) ==
          "additional record 1 (OPT): EDNS option 15 length 9 overruns the OPT record (2 octets left)");

    Wire half = response(1, 0, 0, 1);
    half.u8(0).u16(41).u16(512).u32(0).u16(3).u16(15).u8(0);
    CHECK(parse_error(half.b) ==
          "additional record 1 (OPT): EDNS option header at offset 39 runs past the end of the OPT record");
  }
}

TEST_CASE("Message::parse_message malformed") {
  SUBCASE("truncated header") {
    CHECK(parse_error({}) == "header: message is 0 octets, shorter than the 12-octet header");
    CHECK(parse_error({0, 1, 2}) == "header: message is 3 octets, shorter than the 12-octet header");
  }
  SUBCASE("counts larger than the message") {
    Wire w;
    w.header(1, 0x8180, 0, 65535, 0, 0);
    CHECK(parse_error(w.b) == "header: section counts (question 0, answer 65535, authority 0, "
                              "additional 0) need at least 720885 octets but the header is followed by 0 octets");
    Wire q;
    q.header(1, 0x8180, 2, 0, 0, 0).u8(0).u16(1).u16(1).u8(0);
    CHECK(parse_error(q.b) == "header: section counts (question 2, answer 0, authority 0, "
                              "additional 0) need at least 10 octets but the header is followed by 6 octets");
  }
  SUBCASE("truncated question") {
    Wire w;
    w.header(1, 0x8180, 1, 0, 0, 0).name("example.jp").u16(1);
    CHECK(parse_error(w.b) == "question 1: type and class run past the end of the message");
    Wire n;
    n.header(1, 0x8180, 1, 0, 0, 0).u8(10).raw("abcde");
    CHECK(parse_error(n.b) == "question 1: name at offset 12 runs past the end of the message");
  }
  SUBCASE("pointer cut off at the end of the message") {
    Wire w;
    w.header(1, 0x8180, 1, 0, 0, 0).label("bcd").u8(0xc0);
    CHECK(parse_error(w.b) == "question 1: name at offset 12 runs past the end of the message");
  }
  SUBCASE("forward and looping compression pointers") {
    Wire fwd;
    fwd.header(1, 0x8180, 1, 0, 0, 0).ptr(20).u16(1).u16(1).u16(0).u16(0).name("jp");
    CHECK(parse_error(fwd.b) ==
          "question 1: name at offset 12: compression pointer at offset 12 points forward to offset 20");

    Wire self = response(1, 1);
    self.ptr(28).rr(1, 0, 4).u32(0);
    CHECK(parse_error(self.b) ==
          "answer record 1: name at offset 28: compression pointer at offset 28 points forward to offset 28");

    Wire loop = response(1, 1);
    loop.label("a").ptr(28).rr(1, 0, 4).u32(0);
    CHECK(parse_error(loop.b) == "answer record 1: name at offset 28: compression pointer at "
                                 "offset 30 loops back into the same name (to offset 28)");

    // A pointer into a name that itself points back to the pointer's name.
    Wire loop2 = response(1, 2);
    loop2.label("a").ptr(12).rr(1, 0, 4).u32(0);          // record 1 at 28: "a.example.jp"
    loop2.label("b").ptr(28).rr(1, 0, 4).u32(0);          // record 2 at 46: fine, "b.a.example.jp"
    dns::Message ok = parse_message(loop2.b);
    CHECK(ok.answer[1].name == "b.a.example.jp");
    loop2.b[47 + 1 + 1] = 46;                               // now record 2 points at itself
    REQUIRE(loop2.b[46] == 1);
    REQUIRE(loop2.b[49] == 46);
    CHECK(parse_error(loop2.b) == "answer record 2: name at offset 46: compression pointer at "
                                  "offset 48 loops back into the same name (to offset 46)");
  }
  SUBCASE("too many compression pointers") {
    Wire w;
    w.header(1, 0x8180, 1, 2, 0, 0).u8(0).u16(1).u16(1); // question: root, ends at 17
    // record 1 at 17: owner root, TYPE65280, RDATA = 130 chained pointers starting at 28
    w.u8(0).rr(65280, 0, 260);
    REQUIRE(w.size() == 28);
    w.ptr(12);
    for (unsigned k = 1; k < 130; ++k)
      w.ptr(28 + 2 * (k - 1));
    REQUIRE(w.size() == 288);
    w.ptr(286).rr(1, 0, 4).u32(0);
    CHECK(parse_error(w.b) == "answer record 2: name at offset 288: more than 127 compression pointers");
  }
  SUBCASE("names longer than 255 octets") {
    std::string l63(63, 'a');
    Wire direct;
    direct.header(1, 0x8180, 1, 0, 0, 0).name(l63 + "." + l63 + "." + l63 + "." + l63 + ".b").u16(1).u16(1);
    CHECK(parse_error(direct.b) == "question 1: name at offset 12 is longer than 255 octets");

    Wire via_pointer;
    via_pointer.header(1, 0x8180, 1, 1, 0, 0).name(l63 + "." + l63 + "." + l63).u16(1).u16(1);
    std::size_t at = via_pointer.size();
    via_pointer.label(l63).ptr(12).rr(1, 0, 4).u32(0);
    CHECK(parse_error(via_pointer.b) ==
          "answer record 1: name at offset " + std::to_string(at) + " is longer than 255 octets");

    // Exactly 255 octets is allowed.
    Wire max;
    max.header(1, 0x8180, 1, 0, 0, 0).name(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'c')).u16(1).u16(1);
    CHECK(parse_message(max.b).qname.size() == 253);
  }
  SUBCASE("unsupported label type") {
    Wire w;
    w.header(1, 0x8180, 1, 0, 0, 0).u8(0x41).raw("abcdef");
    CHECK(parse_error(w.b) == "question 1: name at offset 12: label type 0x40 at offset 12 is not supported");
  }
  SUBCASE("record fields and RDATA overrun") {
    Wire fixed = response(1, 1);
    fixed.ptr(12).u16(1).u16(1).u32(0).u8(0);
    CHECK(parse_error(fixed.b) == "answer record 1: fixed fields run past the end of the message");

    Wire rd = response(1, 1);
    rd.ptr(12).rr(1, 0, 100).u32(0);
    CHECK(parse_error(rd.b) ==
          "answer record 1: RDATA length 100 at offset 38 overruns the message (4 octets left)");

    Wire auth = response(1, 0, 1);
    auth.ptr(12).rr(2, 0, 1);
    CHECK(parse_error(auth.b) ==
          "authority record 1: RDATA length 1 at offset 38 overruns the message (0 octets left)");
  }
  SUBCASE("RDATA that does not fit its type") {
    CHECK(parse_error(response(1, 1).ptr(12).rr(1, 0, 5).u32(0).u8(0).b) ==
          "answer record 1 (A): RDATA length 5, expected 4");
    CHECK(parse_error(response(28, 1).ptr(12).rr(28, 0, 4).u32(0).b) ==
          "answer record 1 (AAAA): RDATA length 4, expected 16");
    CHECK(parse_error(response(2, 1).ptr(12).rr(2, 0, 3).label("abcd").u8(0).b) ==
          "answer record 1 (NS): name at offset 40 runs past the end of its RDATA");
    CHECK(parse_error(response(5, 1).ptr(12).rr(5, 0, 3).ptr(12).u8(0).b) ==
          "answer record 1 (CNAME): 1 octet of RDATA left over");
    CHECK(parse_error(response(6, 1).ptr(12).rr(6, 0, 8).ptr(12).ptr(12).u32(1).b) ==
          "answer record 1 (SOA): SOA needs 20 octets after the names, found 4 octets");
    CHECK(parse_error(response(15, 1).ptr(12).rr(15, 0, 2).u16(10).b) ==
          "answer record 1 (MX): RDATA length 2, expected at least 3");
    CHECK(parse_error(response(16, 1).ptr(12).rr(16, 0, 4).u8(10).raw("abc").b) ==
          "answer record 1 (TXT): character-string of length 10 at offset 40 overruns the RDATA");
    CHECK(parse_error(response(257, 1).ptr(12).rr(257, 0, 3).u8(0).u8(0).u8('x').b) ==
          "answer record 1 (CAA): CAA tag length is 0");
    CHECK(parse_error(response(257, 1).ptr(12).rr(257, 0, 4).u8(0).u8(5).raw("is").b) ==
          "answer record 1 (CAA): CAA tag length 5 overruns the RDATA");
    CHECK(parse_error(response(43, 1).ptr(12).rr(43, 0, 3).u8(0).u8(0).u8(0).b) ==
          "answer record 1 (DS): RDATA length 3, expected at least 4");
    CHECK(parse_error(response(46, 1).ptr(12).rr(46, 0, 19).u16(1).u8(8).u8(2).u32(0).u32(0).u32(0).u16(0).u8(0).b) ==
          "answer record 1 (RRSIG): RRSIG has no signature");
  }
  SUBCASE("every truncation of a valid response fails cleanly") {
    Wire w;
    w.header(9, 0x8180, 1, 2, 1, 2).name("www.example.jp").u16(257).u16(1);
    w.ptr(12).rr(257, 300, 22).u8(0).label("issue").raw("letsencrypt.org");
    w.ptr(16).rr(2, 300, 6).label("ns1").ptr(16);
    w.ptr(16).rr(2, 300, 2).ptr(16);
    std::size_t glue = w.size();
    (void)glue;
    w.u8(0).u16(41).u16(1232).u32(0).u16(6).u16(15).u16(2).u16(3);
    w.ptr(16).rr(1, 300, 4).u32(0xc0000201);
    dns::Message full = parse_message(w.b);
    CHECK(full.answer.size() == 2);
    CHECK(full.extended_errors.size() == 1);
    CHECK(full.additional.size() == 1);
    for (std::size_t len = 0; len < w.size(); ++len) {
      std::vector<std::uint8_t> cut(w.b.begin(), w.b.begin() + static_cast<std::ptrdiff_t>(len));
      CHECK_THROWS_AS(parse_message(cut), ParseError);
    }
  }
}

#include "dns/message.hpp"

#include "dns/name.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

namespace certdoctor::dns {

namespace {

struct TypeEntry {
  std::uint16_t type;
  const char* name;
};

constexpr std::array<TypeEntry, 43> type_table{{
    {1, "A"},          {2, "NS"},          {5, "CNAME"},       {6, "SOA"},       {12, "PTR"},
    {13, "HINFO"},     {15, "MX"},         {16, "TXT"},        {17, "RP"},       {18, "AFSDB"},
    {24, "SIG"},       {25, "KEY"},        {28, "AAAA"},       {29, "LOC"},      {33, "SRV"},
    {35, "NAPTR"},     {36, "KX"},         {37, "CERT"},       {39, "DNAME"},    {41, "OPT"},
    {42, "APL"},       {43, "DS"},         {44, "SSHFP"},      {45, "IPSECKEY"}, {46, "RRSIG"},
    {47, "NSEC"},      {48, "DNSKEY"},     {49, "DHCID"},      {50, "NSEC3"},    {51, "NSEC3PARAM"},
    {52, "TLSA"},      {53, "SMIMEA"},     {59, "CDS"},        {60, "CDNSKEY"},  {61, "OPENPGPKEY"},
    {62, "CSYNC"},     {63, "ZONEMD"},     {64, "SVCB"},       {65, "HTTPS"},    {108, "EUI48"},
    {109, "EUI64"},    {255, "ANY"},       {257, "CAA"},
}};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string hex_upper(const std::uint8_t* p, std::size_t n) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 0x0f];
  }
  return out;
}

void append_ddd(std::string& out, std::uint8_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
  out += buf;
}

// One label octet in presentation format (RFC 1035 section 5.1), lower-cased.
void append_label_octet(std::string& out, std::uint8_t c) {
  switch (c) {
  case '.': case '\\': case '"': case '(': case ')': case ';': case '@': case '$':
    out += '\\';
    out += static_cast<char>(c);
    return;
  default:
    break;
  }
  if (c <= 0x20 || c >= 0x7f)
    append_ddd(out, c);
  else
    out += lower(static_cast<char>(c));
}

// A <character-string> as a quoted presentation string.
void append_quoted(std::string& out, const std::uint8_t* p, std::size_t n) {
  out += '"';
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      append_ddd(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string format_time(std::uint32_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// RFC 4034 Appendix B.
std::uint16_t key_tag(const std::vector<std::uint8_t>& rdata) {
  std::uint32_t ac = 0;
  for (std::size_t i = 0; i < rdata.size(); ++i)
    ac += (i & 1) ? rdata[i] : static_cast<std::uint32_t>(rdata[i]) << 8;
  ac += (ac >> 16) & 0xffff;
  return static_cast<std::uint16_t>(ac & 0xffff);
}

std::string octets(std::size_t n) { return std::to_string(n) + (n == 1 ? " octet" : " octets"); }

struct DecodedName {
  std::string text;               // presentation, lower-case, "" for the root
  std::vector<std::uint8_t> wire; // uncompressed, original case
};

class Parser {
public:
  explicit Parser(std::span<const std::uint8_t> msg) : msg_(msg) {}

  Message parse() {
    Message m;
    if (msg_.size() < 12)
      fail("header: message is " + octets(msg_.size()) + ", shorter than the 12-octet header");
    m.id = u16(0);
    std::uint16_t flags = u16(2);
    m.qr = flags & 0x8000;
    m.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0f);
    m.aa = flags & 0x0400;
    m.tc = flags & 0x0200;
    m.rd = flags & 0x0100;
    m.ra = flags & 0x0080;
    m.ad = flags & 0x0020;
    m.cd = flags & 0x0010;
    m.rcode = flags & 0x000f;
    std::size_t qd = u16(4), an = u16(6), ns = u16(8), ar = u16(10);

    // Every question needs at least 5 octets and every record 11; checking this first keeps
    // absurd counts from costing anything.
    std::size_t need = qd * 5 + (an + ns + ar) * 11;
    if (need > msg_.size() - 12)
      fail("header: section counts (question " + std::to_string(qd) + ", answer " +
           std::to_string(an) + ", authority " + std::to_string(ns) + ", additional " +
           std::to_string(ar) + ") need at least " + octets(need) + " but the header is followed by " +
           octets(msg_.size() - 12));

    pos_ = 12;
    for (std::size_t i = 0; i < qd; ++i) {
      where_ = "question " + std::to_string(i + 1) + ": ";
      DecodedName qn = read_name(pos_, msg_.size());
      if (msg_.size() - pos_ < 4)
        fail(where_ + "type and class run past the end of the message");
      std::uint16_t qtype = u16(pos_);
      pos_ += 4;
      if (i == 0) {
        m.qname = std::move(qn.text);
        m.qtype = qtype;
      }
    }
    read_section(m, m.answer, "answer", an);
    read_section(m, m.authority, "authority", ns);
    read_section(m, m.additional, "additional", ar);
    return m;
  }

private:
  [[noreturn]] static void fail(const std::string& why) { throw ParseError(why); }

  std::uint16_t u16(std::size_t at) const {
    return static_cast<std::uint16_t>((msg_[at] << 8) | msg_[at + 1]);
  }
  std::uint32_t u32(std::size_t at) const {
    return (static_cast<std::uint32_t>(u16(at)) << 16) | u16(at + 2);
  }

  // Reads the name starting at `at`, advancing `at` past it. Octets of the name itself must lie
  // before `limit`; pointers may reach anywhere earlier in the message.
  DecodedName read_name(std::size_t& at, std::size_t limit) {
    const std::size_t start = at;
    const std::string here = where_ + "name at offset " + std::to_string(start);
    DecodedName out;
    std::size_t p = at;
    std::size_t segment_start = at; // first octet of the labels being read now
    bool jumped = false;
    int jumps = 0;
    while (true) {
      std::size_t end = jumped ? msg_.size() : limit;
      if (p >= end)
        fail(here + (end < msg_.size() ? " runs past the end of its RDATA"
                                       : " runs past the end of the message"));
      std::uint8_t len = msg_[p];
      if ((len & 0xc0) == 0xc0) {
        if (p + 1 >= end)
          fail(here + (end < msg_.size() ? " runs past the end of its RDATA"
                                         : " runs past the end of the message"));
        std::size_t target = static_cast<std::size_t>(((len & 0x3f) << 8) | msg_[p + 1]);
        // RFC 1035 section 4.1.4: a pointer refers to a *prior* occurrence. Requiring it to land
        // before the labels already read makes every jump strictly backwards, so no loops.
        if (target >= p)
          fail(here + ": compression pointer at offset " + std::to_string(p) +
               " points forward to offset " + std::to_string(target));
        if (target >= segment_start)
          fail(here + ": compression pointer at offset " + std::to_string(p) +
               " loops back into the same name (to offset " + std::to_string(target) + ")");
        if (++jumps > 127)
          fail(here + ": more than 127 compression pointers");
        if (!jumped)
          at = p + 2;
        jumped = true;
        segment_start = target;
        p = target;
        continue;
      }
      if (len & 0xc0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", len & 0xc0);
        fail(here + ": label type " + buf + " at offset " + std::to_string(p) +
             " is not supported");
      }
      if (out.wire.size() + 1 + len > 255)
        fail(here + " is longer than 255 octets");
      if (len == 0) {
        out.wire.push_back(0);
        if (!jumped)
          at = p + 1;
        return out;
      }
      if (p + 1 + len > end)
        fail(here + (end < msg_.size() ? " runs past the end of its RDATA"
                                       : " runs past the end of the message"));
      if (!out.text.empty())
        out.text += '.';
      out.wire.push_back(len);
      for (std::size_t i = 0; i < len; ++i) {
        out.wire.push_back(msg_[p + 1 + i]);
        append_label_octet(out.text, msg_[p + 1 + i]);
      }
      p += 1 + len;
    }
  }

  static std::string in_rdata(const DecodedName& n) { return n.text.empty() ? "." : n.text; }

  void read_section(Message& m, std::vector<Record>& out, const char* section, std::size_t count) {
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      where_ = std::string(section) + " record " + std::to_string(i + 1) + ": ";
      Record r;
      r.name = read_name(pos_, msg_.size()).text;
      if (msg_.size() - pos_ < 10)
        fail(where_ + "fixed fields run past the end of the message");
      r.type = u16(pos_);
      r.klass = u16(pos_ + 2);
      r.ttl = u32(pos_ + 4);
      std::size_t rdlen = u16(pos_ + 8);
      pos_ += 10;
      if (rdlen > msg_.size() - pos_)
        fail(where_ + "RDATA length " + std::to_string(rdlen) + " at offset " +
             std::to_string(pos_ - 2) + " overruns the message (" +
             octets(msg_.size() - pos_) + " left)");
      std::size_t rd = pos_;
      pos_ += rdlen;
      where_ = std::string(section) + " record " + std::to_string(i + 1) + " (" +
               type_name(r.type) + "): ";
      if (r.type == rrtype::OPT) {
        read_opt(m, r, section, rd, rdlen);
        continue;
      }
      decode_rdata(r, rd, rdlen);
      out.push_back(std::move(r));
    }
  }

  void read_opt(Message& m, const Record& r, const std::string& section, std::size_t rd,
                std::size_t rdlen) {
    // RFC 6891 section 6.1.1: one OPT record, in the additional section, owned by the root.
    if (section != "additional")
      fail(where_ + "OPT record in the " + section + " section");
    if (m.has_edns)
      fail(where_ + "more than one OPT record");
    if (!r.name.empty())
      fail(where_ + "OPT record owned by \"" + r.name + "\" instead of the root");
    m.has_edns = true;
    m.edns_udp_size = r.klass;
    m.rcode |= static_cast<int>((r.ttl >> 24) & 0xff) << 4;
    m.edns_version = static_cast<std::uint8_t>((r.ttl >> 16) & 0xff);
    m.edns_do = r.ttl & 0x8000;
    std::size_t p = rd, end = rd + rdlen;
    while (p < end) {
      if (end - p < 4)
        fail(where_ + "EDNS option header at offset " + std::to_string(p) +
             " runs past the end of the OPT record");
      std::uint16_t code = u16(p);
      std::size_t len = u16(p + 2);
      p += 4;
      if (len > end - p)
        fail(where_ + "EDNS option " + std::to_string(code) + " length " + std::to_string(len) +
             " overruns the OPT record (" + octets(end - p) + " left)");
      if (code == 15) {
        // RFC 8914 section 2: INFO-CODE (2 octets) then optional UTF-8 EXTRA-TEXT.
        if (len < 2)
          fail(where_ + "Extended DNS Error option is " + octets(len) + ", shorter than 2");
        ExtendedError e;
        e.code = u16(p);
        e.text.assign(reinterpret_cast<const char*>(msg_.data() + p + 2), len - 2);
        m.extended_errors.push_back(std::move(e));
      }
      p += len;
    }
  }

  void expect_length(std::size_t rdlen, std::size_t want) {
    if (rdlen != want)
      fail(where_ + "RDATA length " + std::to_string(rdlen) + ", expected " +
           std::to_string(want));
  }
  void expect_at_least(std::size_t rdlen, std::size_t want) {
    if (rdlen < want)
      fail(where_ + "RDATA length " + std::to_string(rdlen) + ", expected at least " +
           std::to_string(want));
  }
  void expect_consumed(std::size_t p, std::size_t end) {
    if (p != end)
      fail(where_ + octets(end - p) + " of RDATA left over");
  }

  void append_bytes(std::vector<std::uint8_t>& v, std::size_t at, std::size_t n) {
    v.insert(v.end(), msg_.begin() + static_cast<std::ptrdiff_t>(at),
             msg_.begin() + static_cast<std::ptrdiff_t>(at + n));
  }

  void decode_rdata(Record& r, std::size_t rd, std::size_t rdlen) {
    const std::size_t end = rd + rdlen;
    const std::uint8_t* p = msg_.data() + rd;
    std::size_t at = rd;
    switch (r.type) {
    case rrtype::A: {
      expect_length(rdlen, 4);
      r.data = std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) +
               "." + std::to_string(p[3]);
      break;
    }
    case rrtype::AAAA: {
      expect_length(rdlen, 16);
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, p, buf, sizeof buf);
      r.data = buf;
      break;
    }
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR:
    case rrtype::DNAME: {
      DecodedName n = read_name(at, end);
      expect_consumed(at, end);
      r.data = in_rdata(n);
      r.rdata = std::move(n.wire);
      return;
    }
    case rrtype::SOA: {
      DecodedName mname = read_name(at, end);
      DecodedName rname = read_name(at, end);
      if (end - at != 20)
        fail(where_ + "SOA needs 20 octets after the names, found " + octets(end - at));
      r.data = in_rdata(mname) + " " + in_rdata(rname);
      for (int i = 0; i < 5; ++i)
        r.data += " " + std::to_string(u32(at + static_cast<std::size_t>(i) * 4));
      r.rdata = std::move(mname.wire);
      r.rdata.insert(r.rdata.end(), rname.wire.begin(), rname.wire.end());
      append_bytes(r.rdata, at, 20);
      return;
    }
    case rrtype::MX: {
      expect_at_least(rdlen, 3);
      at += 2;
      DecodedName n = read_name(at, end);
      expect_consumed(at, end);
      r.data = std::to_string(u16(rd)) + " " + in_rdata(n);
      append_bytes(r.rdata, rd, 2);
      r.rdata.insert(r.rdata.end(), n.wire.begin(), n.wire.end());
      return;
    }
    case rrtype::SRV: {
      expect_at_least(rdlen, 7);
      at += 6;
      DecodedName n = read_name(at, end);
      expect_consumed(at, end);
      r.data = std::to_string(u16(rd)) + " " + std::to_string(u16(rd + 2)) + " " +
               std::to_string(u16(rd + 4)) + " " + in_rdata(n);
      append_bytes(r.rdata, rd, 6);
      r.rdata.insert(r.rdata.end(), n.wire.begin(), n.wire.end());
      return;
    }
    case rrtype::TXT: {
      std::size_t q = rd;
      while (q < end) {
        std::size_t len = msg_[q];
        if (len > end - q - 1)
          fail(where_ + "character-string of length " + std::to_string(len) + " at offset " +
               std::to_string(q) + " overruns the RDATA");
        if (!r.data.empty())
          r.data += ' ';
        append_quoted(r.data, msg_.data() + q + 1, len);
        q += 1 + len;
      }
      break;
    }
    case rrtype::CAA: {
      // RFC 8659 section 4.1: flags, tag length (1..15 per the RFC; 0 cannot be parsed), tag, value.
      expect_at_least(rdlen, 2);
      std::size_t taglen = p[1];
      if (taglen == 0)
        fail(where_ + "CAA tag length is 0");
      if (taglen > rdlen - 2)
        fail(where_ + "CAA tag length " + std::to_string(taglen) + " overruns the RDATA");
      r.data = std::to_string(p[0]) + " ";
      for (std::size_t i = 0; i < taglen; ++i) {
        std::uint8_t c = p[2 + i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
          r.data += static_cast<char>(c);
        else
          append_ddd(r.data, c);
      }
      r.data += ' ';
      append_quoted(r.data, p + 2 + taglen, rdlen - 2 - taglen);
      break;
    }
    case rrtype::DS: {
      expect_at_least(rdlen, 4);
      r.data = std::to_string(u16(rd)) + " " + std::to_string(p[2]) + " " + std::to_string(p[3]);
      if (rdlen > 4)
        r.data += " " + hex_upper(p + 4, rdlen - 4);
      break;
    }
    case rrtype::DNSKEY: {
      expect_at_least(rdlen, 4);
      append_bytes(r.rdata, rd, rdlen);
      r.data = std::to_string(u16(rd)) + " " + std::to_string(p[2]) + " " + std::to_string(p[3]) +
               " tag=" + std::to_string(key_tag(r.rdata));
      return;
    }
    case rrtype::RRSIG: {
      expect_at_least(rdlen, 19);
      at += 18;
      DecodedName signer = read_name(at, end);
      if (at == end)
        fail(where_ + "RRSIG has no signature");
      r.data = type_name(u16(rd)) + " " + std::to_string(p[2]) + " " + std::to_string(p[3]) + " " +
               std::to_string(u32(rd + 4)) + " " + format_time(u32(rd + 8)) + " " +
               format_time(u32(rd + 12)) + " " + std::to_string(u16(rd + 16)) + " " +
               in_rdata(signer);
      append_bytes(r.rdata, rd, 18);
      r.rdata.insert(r.rdata.end(), signer.wire.begin(), signer.wire.end());
      append_bytes(r.rdata, at, end - at);
      return;
    }
    default: {
      // RFC 3597 section 5.
      r.data = "\\# " + std::to_string(rdlen);
      if (rdlen > 0)
        r.data += " " + hex_upper(p, rdlen);
      break;
    }
    }
    append_bytes(r.rdata, rd, rdlen);
  }

  std::span<const std::uint8_t> msg_;
  std::size_t pos_ = 0;
  std::string where_;
};

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x & 0xff));
}

} // namespace

std::string type_name(std::uint16_t type) {
  for (const auto& e : type_table)
    if (e.type == type)
      return e.name;
  return "TYPE" + std::to_string(type);
}

std::optional<std::uint16_t> type_from_name(std::string_view name) {
  std::string up;
  for (char c : name)
    up += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  for (const auto& e : type_table)
    if (up == e.name)
      return e.type;
  if (up.size() > 4 && up.size() <= 9 && up.compare(0, 4, "TYPE") == 0) {
    unsigned long v = 0;
    for (std::size_t i = 4; i < up.size(); ++i) {
      if (up[i] < '0' || up[i] > '9')
        return std::nullopt;
      v = v * 10 + static_cast<unsigned long>(up[i] - '0');
    }
    if (v <= 0xffff)
      return static_cast<std::uint16_t>(v);
  }
  return std::nullopt;
}

std::string rcode_name(int rcode) {
  static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                      "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                      "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI"};
  if (rcode >= 0 && rcode < 12)
    return names[rcode];
  switch (rcode) {
  case 16: return "BADVERS";
  case 17: return "BADKEY";
  case 18: return "BADTIME";
  case 19: return "BADMODE";
  case 20: return "BADNAME";
  case 21: return "BADALG";
  case 22: return "BADTRUNC";
  case 23: return "BADCOOKIE";
  default: return "RCODE" + std::to_string(rcode);
  }
}

std::vector<std::uint8_t> build_query(std::uint16_t id, std::string_view qname, std::uint16_t qtype,
                                      const QueryFlags& flags) {
  std::vector<std::uint8_t> name = encode_name(qname);
  std::vector<std::uint8_t> q;
  q.reserve(12 + name.size() + 4 + 11);
  put16(q, id);
  std::uint16_t bits = 0;
  if (flags.recursion_desired)
    bits |= 0x0100;
  if (flags.checking_disabled)
    bits |= 0x0010;
  put16(q, bits);
  put16(q, 1); // QDCOUNT
  put16(q, 0);
  put16(q, 0);
  put16(q, 1); // ARCOUNT: the OPT record
  q.insert(q.end(), name.begin(), name.end());
  put16(q, qtype);
  put16(q, class_in);
  // RFC 6891 section 6.1.2: root owner, CLASS = UDP payload size, TTL = ext-rcode/version/DO.
  q.push_back(0);
  put16(q, rrtype::OPT);
  put16(q, flags.edns_udp_size);
  put16(q, 0);
  put16(q, flags.dnssec_ok ? 0x8000 : 0);
  put16(q, 0); // RDLENGTH
  return q;
}

std::optional<CaaData> parse_caa(const Record& record) {
  if (record.type != rrtype::CAA || record.rdata.size() < 2)
    return std::nullopt;
  std::size_t taglen = record.rdata[1];
  if (taglen == 0 || taglen > record.rdata.size() - 2)
    return std::nullopt;
  CaaData c;
  c.flags = record.rdata[0];
  c.tag.assign(record.rdata.begin() + 2, record.rdata.begin() + 2 + static_cast<std::ptrdiff_t>(taglen));
  c.value.assign(record.rdata.begin() + 2 + static_cast<std::ptrdiff_t>(taglen), record.rdata.end());
  return c;
}

Message parse_message(std::span<const std::uint8_t> wire) { return Parser(wire).parse(); }

} // namespace certdoctor::dns

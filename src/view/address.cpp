#include "view/address.hpp"

#include "util/ip.hpp"
#include "util/text.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <initializer_list>

#include "util/error.hpp"

namespace certdoctor::view::address {

namespace {

using Bytes = IpBytes;

constexpr std::array<std::string_view, 16> kKinds = {
    "this-network",        "unspecified", "private",   "shared",        "loopback",     "link-local",
    "protocol-assignment", "transition",  "anycast",   "documentation", "benchmarking", "discard",
    "deprecated",          "reserved",    "broadcast", "multicast"};

enum class CidrStatus { ok, invalid, host_bits };

CidrStatus parse_cidr(std::string_view text, int& family, Bytes& bytes, int& length) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return CidrStatus::invalid;
  if (!parse_ip(text.substr(0, slash), family, bytes)) return CidrStatus::invalid;
  const auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return CidrStatus::invalid;
  length = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return CidrStatus::invalid;
    length = length * 10 + (c - '0');
  }
  if (length > (family == 4 ? 32 : 128)) return CidrStatus::invalid;
  for (int bit = length; bit < 128; ++bit)
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1) return CidrStatus::host_bits;
  return CidrStatus::ok;
}

bool prefix_contains(int prefix_family, const Bytes& prefix, int length, int family, const Bytes& address) {
  if (prefix_family != family) return false;
  const int whole = length / 8;
  if (std::memcmp(prefix.data(), address.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (prefix[whole] & mask) == (address[whole] & mask);
}

std::string format_network(int family, const Bytes& bytes, int length) {
  Bytes network{};
  for (int bit = 0; bit < length; ++bit)
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1) network[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 4 ? AF_INET : AF_INET6, network.data(), buffer, sizeof buffer);
  return std::string(buffer) + "/" + std::to_string(length);
}

bool is_v4_mapped(const Bytes& b) {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) && b[10] == 0xff &&
         b[11] == 0xff;
}

// " (did you mean "x"?)" for a near name, else " (expected one of a, b, c)".
template <class Names>
std::string suggestion(std::string_view got, const Names& names) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const auto name : names) {
    const auto d = edit_distance(got, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  if (!best.empty()) return " (did you mean \"" + std::string(best) + "\"?)";
  std::string out = " (expected one of ";
  bool first = true;
  for (const auto name : names) {
    if (!first) out += ", ";
    out += name;
    first = false;
  }
  return out + ")";
}

// Reads one data file and reports problems as "file:line: message".
class DataFile {
 public:
  explicit DataFile(std::filesystem::path path) : path_(std::move(path)) {}

  YAML::Node load() const {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec)) throw ConfigError(path_.string() + ": not a regular file");
    std::ifstream in(path_, std::ios::binary);
    std::string text;
    char chunk[4096];
    while (in && (in.read(chunk, sizeof chunk) || in.gcount() > 0))
      text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (!in.is_open() || in.bad()) throw ConfigError(path_.string() + ": cannot read the file");
    try {
      return YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(e.mark, e.msg);
    }
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    const int line = mark.line >= 0 ? mark.line + 1 : 1;
    throw ConfigError(path_.string() + ":" + std::to_string(line) + ": " + message);
  }

  // The single top-level key's sequence, or an empty node for an empty file.
  YAML::Node top_sequence(const YAML::Node& doc, const std::string& key) const {
    if (doc.IsNull()) return YAML::Node();
    if (!doc.IsMap() || !doc[key]) fail(doc.Mark(), "expected a mapping with the key \"" + key + "\"");
    for (const auto& item : doc) {
      const auto name = item.first.Scalar();
      if (name != key) fail(item.first.Mark(), "unknown key \"" + name + "\" (expected \"" + key + "\")");
    }
    const auto seq = doc[key];
    if (!seq.IsSequence()) fail(seq.Mark(), "\"" + key + "\" must be a sequence");
    return seq;
  }

  // Checks that `entry` is a mapping with only known, non-repeated keys and all required ones.
  void check_entry(const YAML::Node& entry, std::initializer_list<std::string_view> keys) const {
    if (!entry.IsMap()) fail(entry.Mark(), "an entry must be a mapping");
    std::vector<std::string> seen;
    for (const auto& item : entry) {
      const auto name = item.first.Scalar();
      if (std::find(keys.begin(), keys.end(), name) == keys.end())
        fail(item.first.Mark(), "unknown key \"" + name + "\"" + suggestion(name, keys));
      if (std::find(seen.begin(), seen.end(), name) != seen.end())
        fail(item.first.Mark(), "duplicate key \"" + name + "\"");
      seen.push_back(name);
    }
    for (const auto key : keys)
      if (std::find(seen.begin(), seen.end(), key) == seen.end())
        fail(entry.Mark(), "the entry has no \"" + std::string(key) + "\"");
  }

  std::string text(const YAML::Node& entry, const std::string& key) const {
    const auto node = entry[key];
    if (!node.IsScalar() || node.Scalar().empty()) fail(node.Mark(), "\"" + key + "\" must be a non-empty string");
    return node.Scalar();
  }

  void block(const YAML::Node& node, int& family, Bytes& bytes, int& length) const {
    if (!node.IsScalar()) fail(node.Mark(), "an address block must be a string like \"192.0.2.0/24\"");
    const auto& value = node.Scalar();
    switch (parse_cidr(value, family, bytes, length)) {
      case CidrStatus::ok:
        return;
      case CidrStatus::invalid:
        fail(node.Mark(), "invalid address block \"" + value + "\"");
      case CidrStatus::host_bits:
        fail(node.Mark(), "address block \"" + value + "\" has bits set after the prefix length (did you mean \"" +
                              format_network(family, bytes, length) + "\"?)");
    }
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

AddressClassifier AddressClassifier::load(const std::vector<std::filesystem::path>& data_dirs) {
  return load(AddressClassifier(), data_dirs);
}

AddressClassifier AddressClassifier::load(AddressClassifier base, const std::vector<std::filesystem::path>& data_dirs) {
  AddressClassifier classifier = std::move(base);
  for (const auto& dir : data_dirs) {
    std::error_code ec;
    if (const auto file = dir / "special-purpose.yaml"; std::filesystem::exists(file, ec))
      classifier.load_special(file);
    if (const auto file = dir / "cdn-ranges.yaml"; std::filesystem::exists(file, ec)) classifier.load_cdn(file);
  }
  return classifier;
}

nlohmann::json AddressClassifier::to_json() const {
  auto prefix = [](const Prefix& p) { return nlohmann::json{{"family", p.family}, {"bytes", p.bytes}, {"length", p.length}}; };
  nlohmann::json j = {{"special", nlohmann::json::array()}, {"cdn", nlohmann::json::array()}};
  for (const auto& b : special_)
    j["special"].push_back({{"prefix", prefix(b.prefix)}, {"text", b.text}, {"name", b.name}, {"kind", b.kind}, {"rfc", b.rfc},
                            {"global", b.global}});
  for (const auto& r : cdn_)
    j["cdn"].push_back({{"prefix", prefix(r.prefix)}, {"text", r.text}, {"cdn", r.cdn}, {"cdn_name", r.cdn_name}});
  return j;
}

AddressClassifier AddressClassifier::from_json(const nlohmann::json& j) {
  auto prefix = [](const nlohmann::json& p) {
    Prefix out;
    out.family = p.at("family").get<int>();
    p.at("bytes").get_to(out.bytes);
    out.length = p.at("length").get<int>();
    return out;
  };
  AddressClassifier c;
  try {
    for (const auto& b : j.at("special"))
      c.special_.push_back({prefix(b.at("prefix")), b.at("text").get<std::string>(), b.at("name").get<std::string>(),
                            b.at("kind").get<std::string>(), b.at("rfc").get<std::string>(), b.at("global").get<bool>()});
    for (const auto& r : j.at("cdn"))
      c.cdn_.push_back({prefix(r.at("prefix")), r.at("text").get<std::string>(), r.at("cdn").get<std::string>(),
                        r.at("cdn_name").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("built-in rules: malformed address data: ") + e.what());
  }
  return c;
}

void AddressClassifier::load_special(const std::filesystem::path& file) {
  const DataFile data(file);
  for (const auto& entry : data.top_sequence(data.load(), "special_purpose")) {
    data.check_entry(entry, {"block", "name", "kind", "rfc", "global"});
    SpecialBlock block;
    data.block(entry["block"], block.prefix.family, block.prefix.bytes, block.prefix.length);
    block.text = entry["block"].Scalar();
    block.name = data.text(entry, "name");
    block.rfc = data.text(entry, "rfc");
    block.kind = data.text(entry, "kind");
    if (std::find(kKinds.begin(), kKinds.end(), block.kind) == kKinds.end())
      data.fail(entry["kind"].Mark(), "unknown kind \"" + block.kind + "\"" + suggestion(block.kind, kKinds));
    const auto global = entry["global"];
    if (!global.IsScalar() || (global.Scalar() != "true" && global.Scalar() != "false"))
      data.fail(global.Mark(), "\"global\" must be true or false");
    block.global = global.Scalar() == "true";
    special_.push_back(std::move(block));
  }
}

void AddressClassifier::load_cdn(const std::filesystem::path& file) {
  const DataFile data(file);
  for (const auto& entry : data.top_sequence(data.load(), "cdn_ranges")) {
    data.check_entry(entry, {"cdn", "name", "ranges"});
    const auto id = data.text(entry, "cdn");
    if (!std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }))
      data.fail(entry["cdn"].Mark(), "\"cdn\" must be lower-case letters, digits and hyphens");
    const auto name = data.text(entry, "name");
    const auto ranges = entry["ranges"];
    if (!ranges.IsSequence() || ranges.size() == 0)
      data.fail(ranges.Mark(), "\"ranges\" must be a non-empty sequence of address blocks");
    for (const auto& node : ranges) {
      CdnRange range;
      data.block(node, range.prefix.family, range.prefix.bytes, range.prefix.length);
      range.text = node.Scalar();
      range.cdn = id;
      range.cdn_name = name;
      cdn_.push_back(std::move(range));
    }
  }
}

Classification AddressClassifier::classify(std::string_view address) const {
  Classification c;
  int family = 0;
  Bytes bytes{};
  if (!parse_ip(address, family, bytes)) return c;
  c.valid = true;
  c.family = family;

  int lookup_family = family;
  Bytes lookup = bytes;
  if (family == 6 && is_v4_mapped(bytes)) {
    c.v4_mapped = true;
    lookup_family = 4;
    lookup.fill(0);
    std::copy(bytes.begin() + 12, bytes.end(), lookup.begin());
  }

  // Longest prefix wins; on equal length (the same block) the later entry,
  // i.e. the overlay, wins.
  const auto best_special = [&](int fam, const Bytes& b) -> const SpecialBlock* {
    const SpecialBlock* best = nullptr;
    for (const auto& s : special_)
      if (prefix_contains(s.prefix.family, s.prefix.bytes, s.prefix.length, fam, b) &&
          (best == nullptr || s.prefix.length >= best->prefix.length))
        best = &s;
    return best;
  };
  const SpecialBlock* special = best_special(lookup_family, lookup);
  if (special == nullptr && c.v4_mapped) special = best_special(6, bytes);
  if (special != nullptr) {
    c.reserved = true;
    c.global = special->global;
    c.block = special->text;
    c.block_name = special->name;
    c.kind = special->kind;
    c.rfc = special->rfc;
  }
  // Boulder's resolver drops every AAAA inside ::ffff:0:0/96 (netip prefixes do
  // not unmap), whatever the embedded IPv4 address is.
  if (c.v4_mapped) c.reserved = true;

  const CdnRange* cdn = nullptr;
  for (const auto& r : cdn_)
    if (prefix_contains(r.prefix.family, r.prefix.bytes, r.prefix.length, lookup_family, lookup) &&
        (cdn == nullptr || r.prefix.length >= cdn->prefix.length))
      cdn = &r;
  if (cdn != nullptr) {
    c.cdn = cdn->cdn;
    c.cdn_name = cdn->cdn_name;
    c.cdn_range = cdn->text;
  }
  return c;
}

bool AddressClassifier::unreachable_for_ca(const Classification& c, bool allow_reserved) const {
  if (!c.valid || c.v4_mapped) return true;
  if (!c.reserved) return false;
  // Lab mode runs the CA on documentation or private addresses; loopback,
  // link-local, multicast and the like stay unusable even there.
  return !(allow_reserved && (c.kind == "documentation" || c.kind == "private"));
}

}  // namespace certdoctor::view::address

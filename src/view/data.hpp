#pragma once
// Rules data other than the rule catalogue: provider profiles (rules/providers/*.yaml) and CA
// models (rules/ca/*.yaml). Each is kept whole as JSON so that rules and report templates can
// use any field (panel labels, renewal schedule) without code.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certdoctor::view {

/// One kind of mail a provider sends about certificates (the `notices:` section of a profile).
/// A pattern is a list of fragments that must all appear; a kind matches when any of its subject
/// patterns matches a subject, or any of its body patterns matches the body.
struct NoticeKind {
  std::string id;
  std::vector<std::vector<std::string>> subjects;
  std::vector<std::vector<std::string>> body;
  /// Reworded notices: groups of alternative words, every group present somewhere in the
  /// subject or body; "@failure" stands for the profile's failure expressions.
  std::vector<std::vector<std::string>> words;
  nlohmann::json means;  // {en, ja}: what the notice says happened
  nlohmann::json next;   // {en, ja}: what the provider does next and what the customer does
  std::string source;    // a sources.yaml id
  /// Days on which the provider sent this notice by mistake (`known_faults:`): a list of
  /// {dates: ["MM-DD", ...], note: {en, ja}}, the dates in the mail's own time zone.
  nlohmann::json known_faults = nlohmann::json::array();
  int line = 0;

  bool operator==(const NoticeKind&) const = default;
};

/// How a provider's mails are recognised and read: sender globs, subject tags, the labels in
/// front of the fields worth extracting (domain, account, server, member), and the kinds.
struct ProviderNotices {
  std::vector<std::string> senders;        // globs over the From address
  std::vector<std::string> subject_tags;   // fragments that name the provider in a subject
  std::map<std::string, std::vector<std::string>> fields;
  std::vector<NoticeKind> kinds;
  /// Cues for recognising a notice in any wording (`recognition:`): the provider's names,
  /// certificate words, failure expressions, words of mails that are not about certificates
  /// (billing, maintenance, domain renewal), the weight of each cue and the score a notice needs.
  std::vector<std::string> names;
  std::vector<std::string> certificate_words;
  std::vector<std::string> failure_words;
  std::vector<std::string> unrelated_words;
  std::map<std::string, int> weights;
  int threshold = 0;
  /// How the account id comes from the fields: the first field of `account_fields` that has a
  /// value, with any of `account_strip` removed from its end ("acct.sakura.ne.jp" -> "acct").
  std::vector<std::string> account_fields;
  std::vector<std::string> account_strip;

  bool operator==(const ProviderNotices&) const = default;
};

/// A hosting provider: how to recognise it and how to ask it. The whole profile is in `data`.
struct ProviderProfile {
  std::string id;
  std::vector<std::string> nameservers;         // asked directly for the certified names
  std::vector<std::string> nameserver_patterns; // shell-style globs over NS host names
  std::vector<std::string> host_addresses;      // known hosting addresses, if the profile lists any
  std::vector<std::string> account_names;       // the account's own names, "{account}" replaced by the ID
  std::vector<std::string> server_name_patterns;// ECMAScript regexes over a shared server's host name (PTR)
  ProviderNotices notices;                      // from the top-level `notices:` map, if any
  std::string file;
  nlohmann::json data;

  bool operator==(const ProviderProfile&) const = default;
};

/// A certificate authority's validation behaviour (issue 4 adds more CAs as files).
struct CaModel {
  std::string id;
  std::vector<std::string> caa_issuer_domains;
  std::string validation_method = "http-01";
  std::string address_preference = "ipv6-first"; // or "ipv4-first"
  bool caa_bit1_critical = true;
  std::string file;
  nlohmann::json data;

  bool operator==(const CaModel&) const = default;
};

/// Provider profiles and CA models loaded from rule directories; later directories override
/// entries with the same id (an overlay such as the lab's).
class DataSet {
 public:
  /// Loads `<dir>/providers/*.yaml` and `<dir>/ca/*.yaml` from each dir. Throws ConfigError
  /// with "file:line: message" for malformed files.
  static DataSet load(const std::vector<std::filesystem::path>& dirs);
  /// `base` with the files of `dirs` laid over it, as if base's directories came first.
  static DataSet load(DataSet base, const std::vector<std::filesystem::path>& dirs);

  /// The loaded data as JSON, for the built-in data compiled into the binary; from_json() reads
  /// it back and throws ConfigError on anything malformed.
  nlohmann::json to_json() const;
  static DataSet from_json(const nlohmann::json& j);

  bool operator==(const DataSet&) const = default;

  const std::map<std::string, ProviderProfile>& providers() const { return providers_; }
  /// Returns the profile with this id; throws UsageError naming the known ids otherwise.
  const ProviderProfile& provider(const std::string& id) const;
  /// Returns the CA model with this id; throws UsageError naming the known ids otherwise.
  const CaModel& ca(const std::string& id) const;
  /// The web data (`<dir>/data/web.yaml`: block pages, certificate thresholds, revoked
  /// intermediates), top-level keys of later directories replacing earlier ones; {} when absent.
  const nlohmann::json& web() const { return web_; }

 private:
  std::map<std::string, ProviderProfile> providers_;
  std::map<std::string, CaModel> cas_;
  nlohmann::json web_ = nlohmann::json::object();
};

} // namespace certdoctor::view

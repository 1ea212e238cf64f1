#pragma once
// Triage: from a provider's notice mail, an ACME problem document or an ACME client's output to
// what it is about: the provider and kind of notice, the domains, the account and server ids,
// and the CA's cause as a finding id of `certdoctor check`. Pure: no network, no files.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "view/address.hpp"
#include "view/data.hpp"
#include "triage/acme.hpp"
#include "triage/mail.hpp"

namespace certdoctor::triage {

/// The data triage reads: provider profiles (with their `notices:`) and the ACME error map.
struct TriageData {
  const view::DataSet& data;
  const AcmeCatalogue& acme;
  /// CDN ranges (rules/data/cdn-ranges.yaml): an address of an error text inside one is the
  /// CDN's edge. Without it no cause is named cdn-proxy.
  const view::address::AddressClassifier* addresses = nullptr;
};

/// One cue that counted towards recognising a notice, for support staff to see why.
struct Cue {
  std::string cue;    // sender, tag, name, certificate, failure, field, unrelated, subject-pattern, ...
  std::string what;   // what matched: the address, the word, the field and its value
  int weight = 0;
};

/// How sure triage is that a mail is a provider's notice: the cues of the best provider and kind.
struct Recognition {
  std::string provider;    // the provider the cues are for ("" when no provider had any)
  std::string kind;        // the best kind by its words or patterns, even when below the threshold
  int score = 0;
  int threshold = 0;
  std::vector<Cue> cues;
};

/// A domain concerned, in both forms.
struct TriagedDomain {
  std::string ascii;    // A-label form
  std::string unicode;  // U-label form (same as ascii when not an IDN)
};

struct Triage {
  std::string input_type;          // "mail", "acme-problem", "client-log" or "unknown"
  std::string provider;            // a profile id, or ""
  std::string kind;                // a notice kind id, "acme-error" or "unrelated"
  const view::NoticeKind* notice = nullptr;  // the matched kind, when kind is a notice
  std::string matched_by;          // "subject", "body" or ""
  std::vector<TriagedDomain> domains;
  std::map<std::string, std::vector<std::string>> ids;  // account, server, member, cert_type -> values
  /// The hosting account the notice is about (Xserver's server ID, Sakura's account or initial
  /// domain without .sakura.ne.jp), from the profile's `account:` fields; "" when none.
  std::string account;
  Recognition recognition;         // for a mail: the score and the cues
  std::string client;              // ACME client id, if recognised
  std::vector<AcmeCause> causes;
  Mail mail;                       // when input_type is mail
  std::vector<std::string> notes;  // best-effort repairs and limits met
  /// {en, ja} notes of the notice kind's known faults that the mail's date falls on.
  std::vector<nlohmann::json> fault_notes;
};

/// Triages `bytes`. Throws Error with a message for a person when the input is empty or
/// is neither a mail nor ACME output in any readable form.
Triage triage(std::string_view bytes, const TriageData&);

/// "MM-DD" of an RFC 5322 date ("Mon, 23 Mar 2026 10:02:00 +0900"), in the date's own time
/// zone; "" when it cannot be read.
std::string month_day(std::string_view rfc5322_date);

/// Text normalised for matching: NFKC (full-width ASCII and half-width kana folded), case
/// folded, white space removed.
std::string normalise(std::string_view utf8);

/// The values after `labels` in `text` ("コモンネーム : example.jp", "サーバーID「xs123」"). With
/// `whole_line` the value is the rest of the line ("Let's Encrypt(無料SSL)"), not its first word.
std::vector<std::string> labelled_values(const std::string& text, const std::vector<std::string>& labels,
                                         bool whole_line = false);

} // namespace certdoctor::triage

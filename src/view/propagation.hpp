#pragma once
// Propagation: where the recursive resolver still serves a cached answer that the zone's
// authoritative servers no longer give, and when the cached answer runs out. Pure: the time is
// the facts' own collection time, so a replay of saved facts gives the same answer.
#include <nlohmann/json.hpp>

#include "facts/facts.hpp"

namespace certdoctor::view {

/// One entry per name and type (A, AAAA, CAA at a level inside the zone, NS of the zone) whose
/// resolver answer differs from the one every authoritative server that answered agrees on:
///   name, display, type; cached (what the resolver serves: record data, or the type and data of
///   a record of another type owned by the name, e.g. "CNAME x.example.jp."), cached_missing
///   (the resolver serves no record); zone, zone_missing (the same for the zone's servers);
///   basis: "ttl" (the remaining TTL of the cached records), "negative-ttl" (a cached negative
///   answer: the TTL of the SOA in its authority section, at most the SOA MINIMUM, RFC 2308),
///   "zone-negative-ttl" (a negative answer without SOA: the zone's SOA TTL or MINIMUM,
///   whichever is smaller, the longest it may be kept), "parent-ns-ttl" (a nameserver change:
///   the NS TTL of the parent's referral); remaining_seconds, remaining_minutes (rounded up),
///   visible_at (RFC 3339: collection time + remaining, "" when the collection time is unknown):
///   when our resolver sees the zone's answer; longest_seconds, wait_minutes, wait_hours (rounded
///   up), latest_at: the same for a resolver that asked just before the change, as the CA's may
///   have (the zone's TTL of the records, its negative-caching TTL for a missing record, the
///   parent's NS TTL; never less than remaining_seconds); servers (the authoritative servers that
///   agree).
/// Nothing is compared when the resolver was not usable, a lookup failed, or the authoritative
/// servers disagree among themselves. Never throws.
nlohmann::json derive_propagation(const facts::Facts& f, bool resolver_usable);

/// The entries that concern `name` (its A and AAAA, CAA at its levels, the zone's NS when the
/// name is inside it): {pending, longest_seconds, wait_minutes, wait_hours, latest_at, types}
/// with the latest of their times. derive() adds zone_on_host: the zone's servers already give
/// only the hosting server's addresses where the name's A or AAAA is still cached otherwise.
nlohmann::json propagation_of_name(const nlohmann::json& entries, const std::string& name, const std::string& zone);

/// How long a change made now takes to reach every resolver, where the facts tell:
/// {record_ttl: the largest TTL of `name`'s A and AAAA as the zone's servers give them,
/// record_minutes (rounded up); 0 when no server answered with authority}.
nlohmann::json change_time_of_name(const facts::Facts& f, const std::string& name);

/// The TTL of the zone's NS records in the parent's referral, from the delegation walk;
/// 0 when the walk did not record one.
std::uint32_t parent_ns_ttl_seconds(const facts::DelegationFacts& d);

} // namespace certdoctor::view

#pragma once
// The two backends behind store::open, visible to the unit tests for their options.
#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace certdoctor::store {

struct SqliteOptions {
  int busy_timeout_ms = 30000;   ///< how long a write waits for another process's lock
  long long max_page_count = 0;  ///< a size limit (pages) for tests of a full database; 0: none
  int target_version = 0;        ///< migrate only this far (tests of migrations); 0: the current one
};

std::unique_ptr<Store> open_sqlite(const std::string& path, Open how, const SqliteOptions& = {});
std::unique_ptr<Store> open_postgres(const std::string& url, int target_version = 0);

/// The shared column list of the `checks` table, in the order the backends read it.
inline constexpr const char* kColumns =
    "id, domain, registered_domain, started_at, finished_at, verdict, finding_ids, findings, tool_version, "
    "rules_version, asked_by, ticket, source, cert_not_after, provider";

/// finding_ids as stored (a JSON array) and back.
std::string ids_text(const std::vector<std::string>& ids);
std::vector<std::string> ids_of(const std::string& text);

} // namespace certdoctor::store

#pragma once
// Helpers shared by the facts' JSON conversions (internal to src/facts).
#include <optional>

#include <nlohmann/json.hpp>

namespace certdoctor::facts::detail {

/// Reads `key` into `out` when present and not null: missing keys keep their defaults, so a
/// facts file from an older writer still loads.
template <typename T>
void get_opt(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) it->get_to(out);
}

template <typename T>
void get_opt(const nlohmann::json& j, const char* key, std::optional<T>& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) out = it->get<T>();
  else out.reset();
}

} // namespace certdoctor::facts::detail

// Field-by-field conversion; `j` and `v` are the to_json/from_json parameters.
#define CD_PUT(field) j[#field] = v.field
#define CD_GET(field) ::certdoctor::facts::detail::get_opt(j, #field, v.field)

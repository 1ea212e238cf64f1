#pragma once
// Helpers shared by the facts' JSON conversions (internal to src/facts).
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace certdoctor::facts::detail {

/// A value of the wrong type somewhere in a facts document: `path` names the field
/// ("names[1].a.answer[0].ttl"), what() the problem.
class FieldError : public std::runtime_error {
public:
  FieldError(std::string path, const std::string& problem) : std::runtime_error(problem), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

private:
  std::string path_;
};

/// nlohmann's message without its "[json.exception.type_error.302] " prefix.
inline std::string problem_of(const nlohmann::json::exception& e) {
  std::string m = e.what();
  const auto close = m.find("] ");
  return m.rfind("[json.exception", 0) == 0 && close != std::string::npos ? m.substr(close + 2) : m;
}

/// `inner` with `outer` put in front ("names" + "[1].a" -> "names[1].a").
inline std::string join_path(const std::string& outer, const std::string& inner) {
  if (inner.empty()) return outer;
  return outer + (inner.front() == '[' ? "" : ".") + inner;
}

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

/// `j` converted to T; a failure anywhere below it is a FieldError with the path from `j` down.
template <typename T>
T convert(const nlohmann::json& j) {
  if constexpr (is_vector<T>::value) {
    if (!j.is_array()) throw FieldError("", std::string("must be a list, but is ") + j.type_name());
    T out;
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      try {
        out.push_back(convert<typename T::value_type>(j[i]));
      } catch (const FieldError& e) {
        throw FieldError(join_path("[" + std::to_string(i) + "]", e.path()), e.what());
      }
    }
    return out;
  } else {
    try {
      return j.get<T>();
    } catch (const FieldError&) {
      throw;
    } catch (const nlohmann::json::exception& e) {
      throw FieldError("", problem_of(e));
    }
  }
}

/// Reads `key` into `out` when present and not null: missing keys keep their defaults, so a
/// facts file from an older writer still loads. Throws FieldError naming the path of a value of
/// the wrong type.
template <typename T>
void get_opt(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = convert<T>(*it);
  } catch (const FieldError& e) {
    throw FieldError(join_path(key, e.path()), e.what());
  }
}

template <typename T>
void get_opt(const nlohmann::json& j, const char* key, std::optional<T>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    out.reset();
    return;
  }
  try {
    out = convert<T>(*it);
  } catch (const FieldError& e) {
    throw FieldError(join_path(key, e.path()), e.what());
  }
}

} // namespace certdoctor::facts::detail

// Field-by-field conversion; `j` and `v` are the to_json/from_json parameters.
#define CD_PUT(field) j[#field] = v.field
#define CD_GET(field) ::certdoctor::facts::detail::get_opt(j, #field, v.field)

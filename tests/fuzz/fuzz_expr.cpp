// libFuzzer target: any bytes as a rule expression (rules/*.yaml `when`, `each`, arguments):
// Expr::parse, then what the linter and the engine do with a parsed expression — the shape check
// and shape inference against the real view shape, the free paths, and evaluation over the view
// of facts::sample(). Parsing either succeeds or throws ExprError; evaluation is total apart
// from EvalError.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>
#include <string_view>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "view/address.hpp"
#include "view/data.hpp"
#include "rules/expr.hpp"
#include "view/derive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdoctor;
  static const std::vector<std::filesystem::path> dirs{CERTDOCTOR_SOURCE_RULES_DIR};
  static const view::DataSet set = view::DataSet::load(dirs);
  static const auto classifier = view::address::AddressClassifier::load({dirs[0] / "data"});
  static const nlohmann::json sample = view::derive(facts::sample(), view::DeriveContext{set, classifier});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rules::Expr e = [&]() -> rules::Expr {
    try {
      return rules::Expr::parse(text);
    } catch (const rules::ExprError& err) {
      (void)err.caret();
      return rules::Expr::parse("null");
    }
  }();
  (void)e.free_paths();
  (void)e.check_shape(sample);
  (void)e.check_shape(sample, {{"item", nlohmann::json::object()}, {"name", sample["names"][0]}});
  (void)e.infer_shape(sample);
  const nlohmann::json item = sample["names"][0];
  try {
    (void)rules::to_text(e.evaluate(sample, {{"item", &item}, {"name", &item}}));
  } catch (const rules::EvalError& err) {
    (void)err.caret();
  }
  return 0;
}

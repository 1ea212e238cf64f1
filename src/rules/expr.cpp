// The public face of the expression language: an Expr owns its source text and the tree parsed
// from it; each method hands the tree to one stage (expr_parse, expr_evaluate, expr_shape).
#include "rules/expr.hpp"

#include "rules/expr_tree.hpp"

#include <mutex>

namespace certdoctor::rules {

using nlohmann::json;

struct Expr::Impl {
  std::string text;
  // The tree, parsed at most once; an expression made by deferred() parses it on first use,
  // under `once`, so checks running at once may share it.
  mutable std::once_flag once;
  mutable detail::NodePtr root;

  const detail::Node& tree() const {
    std::call_once(once, [this] {
      if (!root) root = detail::parse_tree(text);
    });
    return *root;
  }
};

Expr Expr::parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->root = detail::parse_tree(impl->text);
  return Expr(std::move(impl));
}

Expr Expr::deferred(std::string text) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::move(text);
  return Expr(std::move(impl));
}

json Expr::evaluate(const json& view, const std::vector<Binding>& bound) const {
  return detail::evaluate_tree(impl_->tree(), impl_->text, view, bound);
}

const json& Expr::evaluate(const json& view, const std::vector<Binding>& bound, json& storage) const {
  return detail::evaluate_tree(impl_->tree(), impl_->text, view, bound, storage);
}

bool Expr::test(const json& view, const std::vector<Binding>& bound) const {
  return detail::test_tree(impl_->tree(), impl_->text, view, bound);
}

const std::string& Expr::text() const { return impl_->text; }

namespace {
bool yields(const detail::Node& n, const json& value) {
  if (n.kind == detail::Kind::literal) return n.value == value;
  if (n.kind == detail::Kind::call && n.fn == detail::Fn::if_ && n.kids.size() == 3)
    return yields(*n.kids[1], value) || yields(*n.kids[2], value);
  return false;
}
} // namespace

bool Expr::yields_literal(const json& value) const { return yields(impl_->tree(), value); }

std::vector<std::string> Expr::free_paths() const { return detail::free_paths(impl_->tree()); }

std::vector<ShapeIssue> Expr::check_shape(const json& shape, const std::map<std::string, json>& bound) const {
  std::vector<ShapeIssue> issues;
  detail::infer_shape(impl_->tree(), impl_->text, shape, bound, &issues);
  return issues;
}

std::optional<json> Expr::infer_shape(const json& shape, const std::map<std::string, json>& bound) const {
  json s = detail::infer_shape(impl_->tree(), impl_->text, shape, bound, nullptr);
  if (s.is_null()) return std::nullopt;
  return s;
}

} // namespace certdoctor::rules

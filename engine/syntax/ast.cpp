#include <ethos/syntax/ast.hpp>

namespace ethos::ast {

const char* op_text(Op op) {
  switch (op) {
    case Op::kNone:
      return "";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kIn:
      return "in";
    case Op::kHas:
      return "has";
    case Op::kHasAny:
      return "has_any";
    case Op::kHasAll:
      return "has_all";
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
  }
  return "";
}

}  // namespace ethos::ast

namespace ethos {

const char* effect_name(Effect e) {
  switch (e) {
    case Effect::kPermit:
      return "permit";
    case Effect::kForbid:
      return "forbid";
    case Effect::kEscalate:
      return "escalate";
    case Effect::kAdvise:
      return "advise";
    case Effect::kRequire:
      return "require";
  }
  return "";
}

}  // namespace ethos

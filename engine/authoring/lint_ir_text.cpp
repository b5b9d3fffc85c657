// ir_text(): an IR expression printed back as policy text.
#include <ethos/authoring/lint_solver.hpp>

#include <nlohmann/json.hpp>

#include <ethos/base/time.hpp>

namespace ethos {

namespace {

std::string duration_text(int64_t s) {
  auto unit = [](int64_t n, const char* one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
  };
  if (s != 0 && s % (7 * 86400) == 0) return unit(s / (7 * 86400), "week");
  if (s != 0 && s % 86400 == 0) return unit(s / 86400, "day");
  if (s != 0 && s % 3600 == 0) return unit(s / 3600, "hour");
  if (s != 0 && s % 60 == 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

std::string quote(const std::string& s) { return nlohmann::json(s).dump(); }

// Precedence: or 1, and 2, not 3, comparison 4, + - 5, * 6, atoms 7.
std::string text(const Policy& p, uint32_t id, int& prec) {
  const IrNode& n = p.nodes[id];
  prec = 7;
  auto sub = [&](uint32_t k, int min) {
    int kp;
    std::string s = text(p, k, kp);
    return kp < min ? "(" + s + ")" : s;
  };
  switch (n.op) {
    case IrOp::kConst:
      if (n.param >= 0) return p.params[static_cast<size_t>(n.param)].id;
      switch (n.type) {
        case ValueType::kBool:
          return n.imm ? "true" : "false";
        case ValueType::kInt:
          return std::to_string(n.imm);
        case ValueType::kTimestamp:
          return quote(format_timestamp(n.imm));
        case ValueType::kDuration:
          return duration_text(n.imm);
        case ValueType::kEnum:
          return p.schema.enums.at(n.a).at(static_cast<size_t>(n.imm));
        case ValueType::kString:
          return quote(p.symbol_text(n.imm));
        default:
          return "?";
      }
    case IrOp::kConstSet: {
      if (n.param >= 0) return p.params[static_cast<size_t>(n.param)].id;
      const ConstSet& cs = p.const_sets[n.a];
      std::string s = "[";
      for (size_t i = 0; i < cs.symbols.size(); ++i) {
        if (i) s += ", ";
        if (!cs.texts.empty())
          s += quote(cs.texts[i]);
        else if (n.operand_type == ValueType::kEnum)
          s += p.schema.enums.at(n.b).at(static_cast<size_t>(cs.symbols[i]));
        else
          s += std::to_string(cs.symbols[i]);
      }
      return s + "]";
    }
    case IrOp::kAttr:
      return p.schema.attributes[n.a].path;
    case IrOp::kDefine:
      return p.defines[n.a].id;
    case IrOp::kNow:
      return "now";
    case IrOp::kNot:
      prec = 3;
      return "not " + sub(n.a, 3);
    case IrOp::kAnd:
    case IrOp::kOr: {
      prec = n.op == IrOp::kAnd ? 2 : 1;
      std::string s;
      for (uint32_t k = 0; k < n.b; ++k) {
        if (k) s += n.op == IrOp::kAnd ? " and " : " or ";
        s += sub(p.kids[n.a + k], prec);
      }
      return s;
    }
    case IrOp::kIsPresent:
      prec = 4;
      return p.schema.attributes[n.a].path + " is present";
    case IrOp::kIsMissing:
      prec = 4;
      return p.schema.attributes[n.a].path + " is missing";
    case IrOp::kDaysSince: {
      int kp;
      return "days_since(" + text(p, n.a, kp) + ")";
    }
    case IrOp::kAdd:
    case IrOp::kSub:
      prec = 5;
      return sub(n.a, 5) + (n.op == IrOp::kAdd ? " + " : " - ") + sub(n.b, 6);
    case IrOp::kMul:
      prec = 6;
      return sub(n.a, 6) + " * " + sub(n.b, 7);
    default: {
      const char* op = "?";
      switch (n.op) {
        case IrOp::kEq:
          op = "==";
          break;
        case IrOp::kNe:
          op = "!=";
          break;
        case IrOp::kLt:
          op = "<";
          break;
        case IrOp::kLe:
          op = "<=";
          break;
        case IrOp::kGt:
          op = ">";
          break;
        case IrOp::kGe:
          op = ">=";
          break;
        case IrOp::kIn:
          op = "in";
          break;
        case IrOp::kHas:
          op = "has";
          break;
        case IrOp::kHasAny:
          op = "has_any";
          break;
        case IrOp::kHasAll:
          op = "has_all";
          break;
        default:
          break;
      }
      prec = 4;
      return sub(n.a, 5) + " " + op + " " + sub(n.b, 5);
    }
  }
}

}  // namespace

std::string ir_text(const Policy& policy, uint32_t node) {
  int prec;
  return text(policy, node, prec);
}

}  // namespace ethos

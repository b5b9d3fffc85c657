#include <ethos/compile/program.hpp>

namespace ethos {
namespace {

class Lowering {
 public:
  explicit Lowering(Policy& p) : p_(p), code_(p.program.code) {}

  // Appends the subtree for boolean IR node `id`; returns its first instruction.
  uint32_t lower(uint32_t id) {
    const auto at = static_cast<uint32_t>(code_.size());
    const IrNode& n = p_.nodes[id];
    if (!fused(n)) {
      switch (n.op) {
        case IrOp::kNot:
          emit({.op = PcOp::kNot});
          lower(n.a);
          break;
        case IrOp::kAnd:
        case IrOp::kOr:
          emit({.op = n.op == IrOp::kAnd ? PcOp::kAnd : PcOp::kOr, .a = n.b});
          for (uint32_t k = 0; k < n.b; ++k) lower(p_.kids[n.a + k]);
          break;
        case IrOp::kDefine:
          if (p_.defines[n.a].type.kind == ValueType::kBool) {
            emit({.op = PcOp::kDefine, .a = n.a});
            break;
          }
          [[fallthrough]];
        default:
          emit({.op = PcOp::kIr, .a = id});
      }
    }
    code_[at].size = static_cast<uint32_t>(code_.size()) - at;
    return at;
  }

 private:
  void emit(PcInst inst) { code_.push_back(inst); }

  bool attr(uint32_t id, uint32_t& slot) const {
    if (p_.nodes[id].op != IrOp::kAttr) return false;
    slot = p_.nodes[id].a;
    return true;
  }
  bool constant(uint32_t id, int64_t& v) const {
    if (p_.nodes[id].op != IrOp::kConst) return false;
    v = p_.nodes[id].imm;
    return true;
  }
  bool const_set(uint32_t id, uint32_t& set) const {
    if (p_.nodes[id].op != IrOp::kConstSet) return false;
    set = p_.nodes[id].a;
    return true;
  }

  static bool numeric(ValueType t) {
    return t == ValueType::kInt || t == ValueType::kTimestamp || t == ValueType::kDuration;
  }

  // One instruction for the shapes the pack is made of; false for the rest.
  bool fused(const IrNode& n) {
    uint32_t slot = 0, set = 0;
    int64_t v = 0;
    switch (n.op) {
      case IrOp::kConst:
        if (n.type != ValueType::kBool) return false;
        emit({.op = n.imm ? PcOp::kTrue : PcOp::kFalse});
        return true;
      case IrOp::kAttr:
        if (n.type != ValueType::kBool) return false;
        emit({.op = PcOp::kFlag, .a = n.a});
        return true;
      case IrOp::kIsPresent:
      case IrOp::kIsMissing:
        emit({.op = n.op == IrOp::kIsPresent ? PcOp::kPresent : PcOp::kMissing, .a = n.a});
        return true;
      case IrOp::kEq:
      case IrOp::kNe:
      case IrOp::kLt:
      case IrOp::kLe:
      case IrOp::kGt:
      case IrOp::kGe: {
        bool swapped = false;
        if (attr(n.a, slot) && constant(n.b, v)) {
        } else if (attr(n.b, slot) && constant(n.a, v)) {
          swapped = true;
        } else {
          return false;
        }
        const bool equality = n.op == IrOp::kEq || n.op == IrOp::kNe;
        const ValueType t = n.operand_type;
        // Strings compare by symbol id only when the constant is interned (it
        // always is); a request string the policy never names has id -1.
        const bool ok = equality ? (t == ValueType::kBool || t == ValueType::kEnum ||
                                    (t == ValueType::kString && v >= 0) || numeric(t))
                                 : numeric(t);
        if (!ok) return false;
        PcOp c = PcOp::kEq;
        switch (n.op) {
          case IrOp::kEq:
            c = PcOp::kEq;
            break;
          case IrOp::kNe:
            c = PcOp::kNe;
            break;
          case IrOp::kLt:
            c = swapped ? PcOp::kGt : PcOp::kLt;
            break;
          case IrOp::kLe:
            c = swapped ? PcOp::kGe : PcOp::kLe;
            break;
          case IrOp::kGt:
            c = swapped ? PcOp::kLt : PcOp::kGt;
            break;
          default:
            c = swapped ? PcOp::kLe : PcOp::kGe;
            break;
        }
        emit({.op = c, .a = slot, .imm = v});
        return true;
      }
      case IrOp::kIn:
        // Constant sets hold symbol ids (strings) or enum indexes.
        if (!attr(n.a, slot) || !const_set(n.b, set)) return false;
        if (n.operand_type != ValueType::kString && n.operand_type != ValueType::kEnum)
          return false;
        emit({.op = PcOp::kIn, .a = slot, .b = set});
        return true;
      case IrOp::kHas:
        if (!attr(n.a, slot) || !constant(n.b, v) || v < 0) return false;
        emit({.op = PcOp::kHas, .a = slot, .imm = v});
        return true;
      case IrOp::kHasAny:
      case IrOp::kHasAll:
        if (!attr(n.a, slot) || !const_set(n.b, set)) return false;
        emit({.op = n.op == IrOp::kHasAny ? PcOp::kHasAny : PcOp::kHasAll, .a = slot, .b = set});
        return true;
      default:
        return false;
    }
  }

  Policy& p_;
  std::vector<PcInst>& code_;
};

}  // namespace

void build_program(Policy& p) {
  Program& prog = p.program;
  prog = Program{};
  Lowering lowering(p);
  prog.define.assign(p.defines.size(), Program::kNone);
  for (size_t d = 0; d < p.defines.size(); ++d)
    if (p.defines[d].type.kind == ValueType::kBool)
      prog.define[d] = lowering.lower(p.defines[d].value);
  prog.module.assign(p.modules.size(), Program::kNone);
  for (size_t m = 0; m < p.modules.size(); ++m)
    if (p.modules[m].applies) prog.module[m] = lowering.lower(*p.modules[m].applies);
  prog.rule.reserve(p.rules.size());
  for (const Rule& r : p.rules) prog.rule.push_back(lowering.lower(r.condition));
}

}  // namespace ethos

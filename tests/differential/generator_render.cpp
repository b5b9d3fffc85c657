// A generated policy as text: its expressions and the bundle's files.
#include "generator.hpp"

#include <algorithm>
#include <map>

namespace ethos::differential {

std::string render(const Expr& e) {
  auto wrap = [](const Expr& k) {
    std::string s = render(k);
    return k.kind == Expr::Kind::kAtom || k.kind == Expr::Kind::kList || k.kind == Expr::Kind::kCall
               ? s
               : "(" + s + ")";
  };
  switch (e.kind) {
    case Expr::Kind::kAtom:
      return e.text;
    case Expr::Kind::kNot:
      return "not " + wrap(e.kids[0]);
    case Expr::Kind::kBinary:
      return wrap(e.kids[0]) + " " + e.text + " " + wrap(e.kids[1]);
    case Expr::Kind::kNary: {
      std::string s;
      for (size_t i = 0; i < e.kids.size(); ++i)
        s += (i ? " " + e.text + " " : "") + wrap(e.kids[i]);
      return s;
    }
    case Expr::Kind::kCall:
      return e.text + "(" + render(e.kids[0]) + ")";
    case Expr::Kind::kPostfix:
      return render(e.kids[0]) + e.text;
    case Expr::Kind::kList: {
      std::string s = "[";
      for (size_t i = 0; i < e.kids.size(); ++i) s += (i ? ", " : "") + render(e.kids[i]);
      return s + "]";
    }
  }
  return "";
}

namespace {
std::string render_type(const Model& m, const Field& f, int indent) {
  switch (f.type.t) {
    case T::kBool:
      return "bool";
    case T::kInt:
      return "int";
    case T::kStr:
      return "string";
    case T::kTime:
      return "timestamp";
    case T::kDur:
      return "duration";
    case T::kSet:
      return "set<string>";
    case T::kEnum: {
      std::string s = "enum { ";
      const auto& vals = m.enums[static_cast<size_t>(f.type.e)];
      for (size_t i = 0; i < vals.size(); ++i) s += (i ? ", " : "") + vals[i];
      return s + " }";
    }
    case T::kRecord: {
      std::string s = "{\n";
      for (const auto& k : f.fields) {
        s += std::string(static_cast<size_t>(indent + 2), ' ') + k.name + ": " +
             render_type(m, k, indent + 2) + (k.optional ? "?" : "");
        if (k.type.t == T::kStr && k.name.size() % 2) s += " @redact";
        s += "\n";
      }
      return s + std::string(static_cast<size_t>(indent), ' ') + "}";
    }
  }
  return "";
}
}  // namespace

std::vector<std::pair<std::string, std::string>> render_files(const Model& m) {
  std::map<std::string, std::string> files;
  std::string schema = "schema request {\n";
  for (const auto& f : m.schema)
    schema += "  " + f.name + ": " + render_type(m, f, 2) + (f.optional ? "?" : "") + "\n";
  schema += "}\n";
  files[m.schema_file] += schema;
  for (const auto& mod : m.modules) {
    std::string s = "\nmodule " + mod.name + " \"" + mod.name + "\"\n";
    if (mod.applies) s += "  applies when " + render(*mod.applies) + "\n";
    if (!mod.default_effect.empty()) s += "  default " + mod.default_effect + "\n";
    if (!mod.concern.empty()) s += "  concern " + mod.concern + "\n";
    for (const auto& [kind, index] : mod.order) {
      auto i = static_cast<size_t>(index);
      if (kind == 'o') {
        s += "obligation " + m.obligations[i].first + " \"do " + m.obligations[i].first + "\"\n";
      } else if (kind == 'p') {
        const Param& p = m.params[i];
        Field f{p.name, p.type, false, {}};
        s += "param " + p.name + ": " + render_type(m, f, 0) + " = " + p.literal + "\n";
      } else if (kind == 'd') {
        s += "define " + m.defines[i].name + " = " + render(m.defines[i].value) + "\n";
      } else {
        const Rule& r = m.rules[i];
        if (r.deleted) continue;
        std::vector<std::string> clauses;
        if (r.when) clauses.push_back("when " + render(*r.when));
        if (r.unless) clauses.push_back("unless " + render(*r.unless));
        std::string over;
        for (int t : r.overrides) {
          const Rule& target = m.rules[static_cast<size_t>(t)];
          if (target.deleted) continue;
          over += (over.empty() ? "overrides " : ", ") +
                  (target.module == r.module
                       ? target.name
                       : m.modules[static_cast<size_t>(target.module)].name + "." + target.name);
        }
        if (!over.empty()) clauses.push_back(over);
        clauses.push_back("because \"" + r.name + " says so\"");
        clauses.push_back("cite \"Source " + r.name + "\"");
        for (const auto& x : r.extra) clauses.push_back(x);
        // Clauses come in any order; rotate them by the rule's index for variety.
        std::rotate(clauses.begin(), clauses.begin() + static_cast<long>(i % clauses.size()),
                    clauses.end());
        s += "rule " + r.name + ": " + r.effect + (r.obligation.empty() ? "" : " " + r.obligation) +
             "\n";
        for (const auto& c : clauses) s += "  " + c + "\n";
      }
    }
    files[m.files[static_cast<size_t>(mod.file)]] += s;
  }
  return {files.begin(), files.end()};
}

}  // namespace ethos::differential

// A description of a compiled plan that does not depend on spans or file
// layout, for checking that formatting changes nothing the checker sees.
#pragma once

#include <sstream>
#include <string>

#include <ethos/authoring/lint_solver.hpp>
#include <ethos/check/policy.hpp>

namespace ethos::testing {

inline std::string plan(const Policy& p) {
  std::ostringstream o;
  for (const auto& m : p.modules)
    o << "module " << m.name << " '" << m.title << "' default_permit=" << m.default_permit
      << " concern=" << m.concern << " applies=" << (m.applies ? ir_text(p, *m.applies) : "-")
      << "\n";
  for (const auto& prm : p.params)
    o << "param " << prm.id << " = " << ir_text(p, prm.value) << "\n";
  for (const auto& d : p.defines) o << "define " << d.id << " = " << ir_text(p, d.value) << "\n";
  for (const auto& ob : p.obligations) o << "obligation " << ob.name << " '" << ob.text << "'\n";
  for (const auto& r : p.rules) {
    o << "rule " << r.id << " " << effect_name(r.effect) << " " << r.obligation << " when "
      << ir_text(p, r.condition) << " because '" << r.because << "' concern=" << r.concern
      << " severity=" << r.severity << " confidence=" << r.confidence << " cites=";
    for (const auto& c : r.cites) o << "'" << c << "' ";
    o << "tags=";
    for (const auto& t : r.tags) o << "'" << t << "' ";
    o << "overrides=";
    for (uint32_t x : r.overrides) o << p.rules[x].id << " ";
    o << "reads=";
    for (uint32_t s : r.reads) o << p.schema.attributes[s].path << " ";
    o << "\n";
  }
  o << "order:";
  for (uint32_t r : p.rule_order) o << " " << p.rules[r].id;
  o << "\nschema:";
  for (const auto& a : p.schema.attributes)
    o << " " << a.path << ":" << type_name(a.type, p.schema) << (a.optional ? "?" : "")
      << (a.fixed ? "@f" : "") << (a.pseudonymize ? "@p" : "") << (a.redact ? "@r" : "");
  o << "\ntests:";
  for (const auto& t : p.tests)
    o << " '" << t.name << "' " << t.sets.size() << "/" << t.unsets.size();
  return o.str();
}

}  // namespace ethos::testing

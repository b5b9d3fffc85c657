// Fuzz target `policy`: any bytes as a policy file. The parser and checker
// must answer with diagnostics or a plan, never crash or hang. When a plan
// comes out, its canonical text must rebuild the same bundle, and the
// compiled evaluator must agree with the reference interpreter on requests
// built from its schema (so the fuzzer also hunts wrong decisions).
#include <cstdint>
#include <string>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include "compare.hpp"
#include "fuzz_support.hpp"

using namespace ethos;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"policy.ethos", text}}, diags);
  diags.sort();
  (void)render_all(b.sources, diags);
  (void)diagnostics_json(b.sources, diags);
  if (!b.policy) {
    if (!diags.has_errors()) fuzz::property_failed("no plan, yet no error");
    return 0;
  }
  if (diags.has_errors()) fuzz::property_failed("a plan despite errors");

  Diagnostics again;
  Bundle rebuilt = load_bundle_canonical(b.canonical_text, again);
  if (rebuilt.hash != b.hash || !rebuilt.policy)
    fuzz::property_failed("the canonical text does not rebuild the bundle");

  const Policy& p = *b.policy;
  reference::Interpreter ref(b.sources, b.files, p.schema);
  RequestBinder binder(p);
  Evaluator evaluator(b.policy);
  for (bool absent : {false, true}) {
    std::string request = fuzz::plain_request(p.schema, absent);
    BoundRequest bound;
    BindError err;
    bool ok = binder.bind(request, bound, err);
    reference::RefResult r;
    try {
      r = ref.decide(request);
    } catch (const std::exception& e) {
      fuzz::property_failed(std::string("the reference gave up: ") + e.what());
    }
    if (ok != r.ok)
      fuzz::property_failed("the engine and the reference disagree on binding " + request);
    if (!ok) continue;
    Decision d = evaluator.evaluate(bound);
    (void)decision_json(p, d, {});
    (void)decision_text(p, d);
    std::string diff = reference::difference(reference::from_engine(p, d), r.decision);
    if (!diff.empty()) fuzz::property_failed("decisions differ for " + request + "\n" + diff);
  }
  return 0;
}

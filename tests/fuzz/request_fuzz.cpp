// Fuzz target `request`: any bytes as a request to the shipped policy pack.
// Binding must end in a bound request or an error that names a JSON path,
// never a crash; a bound request must evaluate and render; and the engine
// and the reference interpreter must agree on accepting it and, when both
// accept it, on the whole decision.
#include <cstdint>
#include <string>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include "compare.hpp"
#include "fuzz_support.hpp"
#include "reference.hpp"

using namespace ethos;

namespace {

struct Pack {
  Bundle bundle;
  std::unique_ptr<reference::Interpreter> ref;
  std::unique_ptr<RequestBinder> binder;
  std::unique_ptr<RequestBinder> full_binder;  // the simdjson path only
  std::unique_ptr<Evaluator> evaluator;
};

Pack& pack() {
  static Pack* p = [] {
    auto* out = new Pack;
    Diagnostics diags;
    out->bundle = load_bundle({(fuzz::source_dir() / "policies").string()}, diags);
    if (!out->bundle.policy)
      fuzz::property_failed("the shipped pack does not compile:\n" +
                            render_all(out->bundle.sources, diags));
    out->ref = std::make_unique<reference::Interpreter>(out->bundle.sources, out->bundle.files,
                                                        out->bundle.policy->schema);
    out->binder = std::make_unique<RequestBinder>(*out->bundle.policy);
    out->full_binder =
        std::make_unique<RequestBinder>(*out->bundle.policy, RequestBinder::Path::kFullOnly);
    out->evaluator = std::make_unique<Evaluator>(out->bundle.policy);
    return out;
  }();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Pack& p = pack();
  std::string json(reinterpret_cast<const char*>(data), size);
  BoundRequest bound;
  BindError err;
  bool ok = p.binder->bind(json, bound, err);
  if (!ok && (err.path.empty() || err.path[0] != '$' || err.message.empty()))
    fuzz::property_failed("a binding error without a JSON path or message: `" + err.path + "` " +
                          err.message);
  {
    // The binder's fast path binds exactly what the simdjson path binds.
    BoundRequest full;
    BindError full_err;
    bool full_ok = p.full_binder->bind(json, full, full_err);
    if (ok != full_ok || (!ok && (err.path != full_err.path || err.message != full_err.message)))
      fuzz::property_failed(
          "the binder's two paths disagree: " +
          (ok ? std::string("bound") : err.path + " " + err.message) + " vs " +
          (full_ok ? std::string("bound") : full_err.path + " " + full_err.message));
    if (ok) {
      std::string diff = reference::binding_difference(*p.bundle.policy, bound, full);
      if (!diff.empty()) fuzz::property_failed("the binder's two paths bind differently: " + diff);
    }
  }
  reference::RefResult r;
  try {
    r = p.ref->decide(json);
  } catch (const std::exception& e) {
    fuzz::property_failed(std::string("the reference gave up: ") + e.what());
  }
  if (ok != r.ok)
    fuzz::property_failed(ok ? "the engine accepted a request the reference rejects at " +
                                   r.error.path + ": " + r.error.message
                             : "the engine rejected at " + err.path + " (" + err.message +
                                   ") a request the reference accepts");
  if (!ok) return 0;
  Decision d = p.evaluator->evaluate(bound);
  (void)decision_json(*p.bundle.policy, d, {});
  (void)decision_text(*p.bundle.policy, d);
  std::string diff = reference::difference(reference::from_engine(*p.bundle.policy, d), r.decision);
  if (!diff.empty()) fuzz::property_failed("decisions differ\n" + diff);
  return 0;
}

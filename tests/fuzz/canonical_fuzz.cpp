// Fuzz target `canonical`: any bytes as the canonical text of a bundle, as
// the decision log stores it and replay reads it back. A corrupt text must
// give diagnostics, never a crash; a text that loads must be a fixed point
// (its own canonical text rebuilds it with the same hash).
#include <cstdint>
#include <string>

#include <ethos/compile/bundle.hpp>
#include "fuzz_support.hpp"

using namespace ethos;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Diagnostics diags;
  Bundle b = load_bundle_canonical(text, diags);
  (void)render_all(b.sources, diags);
  if (!b.policy) return 0;
  Diagnostics again;
  Bundle c = load_bundle_canonical(b.canonical_text, again);
  if (c.hash != b.hash || !c.policy)
    fuzz::property_failed("a loaded canonical text is not a fixed point");
  return 0;
}

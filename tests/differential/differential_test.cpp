// The compiled evaluator against the reference interpreter, on random
// well-typed policies and random requests generated from a seed, and on the
// shipped pack with perturbed example requests. Any difference in outcome,
// reasons, obligations, advice, overridden rules, missing facts or trace is
// a failure, printed with the seed and a minimised policy and request.
//
//   ETHOS_DIFF_CASES=1000000   how many generated (policy, request) cases (default 100000)
//   ETHOS_DIFF_SEED=7          the first seed (default 1); policy k uses seed + k
//   ETHOS_DIFF_PER_POLICY=50   requests per generated policy (default 50)
//   ETHOS_DIFF_PACK=20000      perturbed requests against the shipped pack (default 20000)
//   ETHOS_DIFF_DUMP=dir        also write each generated policy, as one file, into dir
//                              (tests/fuzz/corpus/policy/ holds a few, as fuzzing seeds)
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compare.hpp"
#include "generator.hpp"
#include "support.hpp"

using namespace ethos;
using namespace ethos::differential;
using reference::RefDecision;

namespace {

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

// One compiled bundle with both evaluators ready.
struct Pair {
  Bundle bundle;
  std::string diagnostics;
  std::unique_ptr<reference::Interpreter> ref;
  std::unique_ptr<RequestBinder> binder;
  std::unique_ptr<RequestBinder> full_binder;  // the simdjson path only
  std::unique_ptr<Evaluator> evaluator;

  bool ok() const { return bundle.policy != nullptr; }
};

std::unique_ptr<Pair> build(std::vector<std::pair<std::string, std::string>> files,
                            const std::map<std::string, std::string>& params) {
  auto p = std::make_unique<Pair>();
  Diagnostics diags;
  CheckOptions options;
  options.params = params;
  p->bundle = load_bundle_texts(std::move(files), diags, options);
  if (diags.has_errors()) p->diagnostics = render_all(p->bundle.sources, diags);
  if (!p->bundle.policy) return p;
  p->ref = std::make_unique<reference::Interpreter>(p->bundle.sources, p->bundle.files,
                                                    p->bundle.policy->schema, params);
  p->binder = std::make_unique<RequestBinder>(*p->bundle.policy);
  p->full_binder =
      std::make_unique<RequestBinder>(*p->bundle.policy, RequestBinder::Path::kFullOnly);
  p->evaluator = std::make_unique<Evaluator>(p->bundle.policy);
  return p;
}

// Runs both; empty when they agree, else a description of the difference.
std::string compare(Pair& p, const std::string& request,
                    const std::string& expected_error_path = "") {
  BoundRequest bound;
  BindError err;
  bool engine_ok = p.binder->bind(request, bound, err);
  // The binder's two paths must bind a request to the same thing.
  BoundRequest full;
  BindError full_err;
  const bool full_ok = p.full_binder->bind(request, full, full_err);
  if (engine_ok != full_ok ||
      (!engine_ok && (err.path != full_err.path || err.message != full_err.message)))
    return "the binder's fast path and simdjson path disagree: " +
           (engine_ok ? std::string("bound") : err.path + " " + err.message) + " vs " +
           (full_ok ? std::string("bound") : full_err.path + " " + full_err.message);
  if (engine_ok) {
    std::string diff = reference::binding_difference(*p.bundle.policy, bound, full);
    if (!diff.empty()) return "the binder's fast path and simdjson path bind differently: " + diff;
  }
  reference::RefResult ref;
  try {
    ref = p.ref->decide(request);
  } catch (const std::exception& e) {
    return std::string("the reference gave up: ") + e.what();
  }
  if (engine_ok != ref.ok) {
    return engine_ok ? "the engine accepted the request; the reference rejected it at " +
                           ref.error.path + ": " + ref.error.message
                     : "the engine rejected the request at " + err.path + ": " + err.message +
                           "; the reference accepted it";
  }
  if (!engine_ok) {
    if (err.path != ref.error.path)
      return "both rejected the request, the engine at " + err.path + " (" + err.message +
             "), the reference at " + ref.error.path + " (" + ref.error.message + ")";
    if (!expected_error_path.empty() && err.path != expected_error_path)
      return "both rejected the request at " + err.path + ", but the defect is at " +
             expected_error_path;
    return "";
  }
  if (!expected_error_path.empty())
    return "both accepted a request with a defect at " + expected_error_path;
  Decision d = p.evaluator->evaluate(bound);
  return reference::difference(reference::from_engine(*p.bundle.policy, d), ref.decision);
}

std::string files_text(const std::vector<std::pair<std::string, std::string>>& files,
                       const std::map<std::string, std::string>& params) {
  std::string s;
  for (const auto& [name, text] : files) s += "---- " + name + "\n" + text;
  for (const auto& [id, value] : params) s += "---- --param " + id + "=" + value + "\n";
  return s;
}

// ---- minimisation ----

void collect(Expr& e, std::vector<Expr*>& out) {
  out.push_back(&e);
  for (auto& k : e.kids) collect(k, out);
}

std::vector<Expr*> all_exprs(Model& m) {
  std::vector<Expr*> out;
  for (auto& r : m.rules) {
    if (r.when) collect(*r.when, out);
    if (r.unless) collect(*r.unless, out);
  }
  for (auto& d : m.defines) collect(d.value, out);
  for (auto& mod : m.modules)
    if (mod.applies) collect(*mod.applies, out);
  return out;
}

// Smaller variants of a model, one edit each, simplest first.
std::vector<Model> shrink_candidates(const Model& m) {
  std::vector<Model> out;
  for (size_t i = 0; i < m.rules.size(); ++i) {
    if (m.rules[i].deleted) continue;
    Model c = m;
    c.rules[i].deleted = true;
    out.push_back(std::move(c));
  }
  for (size_t mi = 0; mi < m.modules.size(); ++mi) {
    for (size_t k = 0; k < m.modules[mi].order.size(); ++k) {
      if (m.modules[mi].order[k].first == 'r') continue;
      Model c = m;
      c.modules[mi].order.erase(c.modules[mi].order.begin() + static_cast<long>(k));
      out.push_back(std::move(c));
    }
    if (m.modules[mi].applies) {
      Model c = m;
      c.modules[mi].applies.reset();
      out.push_back(std::move(c));
    }
  }
  for (const auto& [id, value] : m.param_values) {
    Model c = m;
    c.param_values.erase(id);
    out.push_back(std::move(c));
  }
  for (size_t i = 0; i < m.rules.size(); ++i) {
    if (m.rules[i].deleted) continue;
    if (m.rules[i].when) {
      Model c = m;
      c.rules[i].when.reset();
      out.push_back(std::move(c));
    }
    if (m.rules[i].unless) {
      Model c = m;
      c.rules[i].unless.reset();
      out.push_back(std::move(c));
    }
    if (!m.rules[i].overrides.empty()) {
      Model c = m;
      c.rules[i].overrides.clear();
      out.push_back(std::move(c));
    }
    if (!m.rules[i].extra.empty()) {
      Model c = m;
      c.rules[i].extra.clear();
      out.push_back(std::move(c));
    }
  }
  Model probe = m;
  size_t n = all_exprs(probe).size();
  for (size_t k = 0; k < n; ++k) {
    const Expr& e = *all_exprs(probe)[k];
    std::vector<Expr> replacements;
    if (e.type.t == T::kBool &&
        !(e.kind == Expr::Kind::kAtom && (e.text == "true" || e.text == "false"))) {
      Expr t;
      t.type = e.type;
      t.text = "true";
      replacements.push_back(t);
      t.text = "false";
      replacements.push_back(t);
    }
    for (const auto& kid : e.kids)
      if (kid.type == e.type && !kid.word) replacements.push_back(kid);
    for (const auto& r : replacements) {
      Model c = m;
      *all_exprs(c)[k] = r;
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<nlohmann::ordered_json> shrink_request(const nlohmann::ordered_json& j) {
  std::vector<nlohmann::ordered_json> out;
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items()) {
    auto c = j;
    c.erase(key);
    out.push_back(std::move(c));
    if (value.is_object())
      for (auto& smaller : shrink_request(value)) {
        auto d = j;
        d[key] = std::move(smaller);
        out.push_back(std::move(d));
      }
    if (value.is_array() && !value.empty()) {
      auto d = j;
      d[key] = nlohmann::ordered_json::array();
      out.push_back(std::move(d));
    }
  }
  return out;
}

bool still_fails(const Model& m, const std::string& request, const std::string& expected_path) {
  auto p = build(render_files(m), m.param_values);
  if (!p->ok()) return false;
  return !compare(*p, request, expected_path).empty();
}

std::string minimise(Model m, std::string request, const std::string& expected_path) {
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& c : shrink_candidates(m))
      if (still_fails(c, request, expected_path)) {
        m = std::move(c);
        progress = true;
        break;
      }
    if (progress || !expected_path.empty()) continue;
    nlohmann::ordered_json j;
    try {
      j = nlohmann::ordered_json::parse(request);
    } catch (const std::exception&) {
      break;
    }
    for (auto& c : shrink_request(j))
      if (still_fails(m, c.dump(), expected_path)) {
        request = c.dump();
        progress = true;
        break;
      }
  }
  auto files = render_files(m);
  auto p = build(files, m.param_values);
  return "minimised policy:\n" + files_text(files, m.param_values) + "minimised request:\n" +
         request + "\n" + compare(*p, request, expected_path);
}

}  // namespace

TEST_CASE("the engine and the reference interpreter agree on generated policies and requests") {
  const uint64_t cases = env_number("ETHOS_DIFF_CASES", 100000);
  const uint64_t seed = env_number("ETHOS_DIFF_SEED", 1);
  const uint64_t per_policy = std::max<uint64_t>(1, env_number("ETHOS_DIFF_PER_POLICY", 50));
  auto start = std::chrono::steady_clock::now();
  uint64_t done = 0, rejected = 0, policies = 0, failures = 0;
  for (uint64_t k = 0; done < cases && failures < 3; ++k) {
    const uint64_t policy_seed = seed + k;
    Model m = generate_policy(policy_seed);
    auto files = render_files(m);
    auto p = build(files, m.param_values);
    if (!p->ok()) {
      FAIL_CHECK("policy seed " << policy_seed
                                << " does not compile (a generator or checker bug):\n"
                                << p->diagnostics << files_text(files, m.param_values));
      ++failures;
      continue;
    }
    ++policies;
    if (const char* dump = std::getenv("ETHOS_DIFF_DUMP"); dump && *dump) {
      std::ofstream out(std::filesystem::path(dump) /
                        ("generated-" + std::to_string(policy_seed) + ".ethos"));
      for (const auto& [name, text] : files) out << text;
    }
    Rng rng(policy_seed ^ 0xA5A5A5A5ull);
    for (uint64_t i = 0; i < per_policy && done < cases; ++i, ++done) {
      std::string request, bad_path;
      if (rng.chance(0.1)) {
        request = generate_bad_request(m, rng, bad_path);
        ++rejected;
      } else {
        request = generate_request(m, rng).dump();
      }
      std::string diff = compare(*p, request, bad_path);
      if (diff.empty()) continue;
      ++failures;
      FAIL_CHECK("mismatch: ETHOS_DIFF_SEED=" << policy_seed << " request #" << i << "\n"
                                              << diff << "\npolicy:\n"
                                              << files_text(files, m.param_values) << "request:\n"
                                              << request << "\n"
                                              << minimise(m, request, bad_path));
      break;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "differential: %llu cases (%llu malformed requests) on %llu policies from seed %llu "
               "in %.1f s\n",
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(rejected),
               static_cast<unsigned long long>(policies), static_cast<unsigned long long>(seed),
               seconds);
  CHECK(done >= std::min<uint64_t>(cases, 1));
}

namespace {

// A random change to one fact of an example request, within the schema.
void perturb(const Policy& p, nlohmann::ordered_json& doc, Rng& rng,
             const std::vector<std::string>& strings) {
  const Attribute& a = p.schema.attributes[rng.below(p.schema.attributes.size())];
  if (a.path == "request_id") return;
  // Walk (creating records) to the parent object.
  nlohmann::ordered_json* cur = &doc;
  std::string rest = a.path;
  while (rest.find('.') != std::string::npos) {
    std::string head = rest.substr(0, rest.find('.'));
    rest = rest.substr(rest.find('.') + 1);
    if (!cur->contains(head) || !(*cur)[head].is_object())
      return;  // the record is absent: leave it
    cur = &(*cur)[head];
  }
  nlohmann::ordered_json& v = (*cur)[rest];
  if (a.optional && rng.chance(0.3)) {
    if (rng.chance(0.5))
      cur->erase(rest);
    else
      v = nullptr;
    return;
  }
  switch (a.type.kind) {
    case ValueType::kBool:
      v = rng.chance(0.5);
      break;
    case ValueType::kInt:
      v = rng.pick(std::vector<int64_t>{0, 1, 12, 13, 17, 18, 25, 30, 64, 65, 90, 365, -1});
      break;
    case ValueType::kString:
      v = rng.pick(strings);
      break;
    case ValueType::kEnum:
      v = rng.pick(p.schema.enums[a.type.enum_id]);
      break;
    case ValueType::kTimestamp: {
      static const std::vector<std::string> times = {
          "2020-01-01",           "2025-06-30", "2025-11-26T10:00:00Z",
          "2026-05-26T10:00:00Z", "2026-11-20", "2026-11-26T09:00:00+01:00"};
      v = rng.pick(times);
      break;
    }
    case ValueType::kDuration:
      v = rng.pick(std::vector<std::string>{"1d", "30d", "90d", "365d", "2w"});
      break;
    case ValueType::kSet: {
      v = nlohmann::ordered_json::array();
      size_t n = rng.below(4);
      for (size_t i = 0; i < n; ++i) v.push_back(rng.pick(strings));
      break;
    }
    default:
      break;
  }
}

}  // namespace

TEST_CASE("the engine and the reference interpreter agree on the shipped pack") {
  namespace fs = std::filesystem;
  const uint64_t cases = env_number("ETHOS_DIFF_PACK", 20000);
  const uint64_t seed = env_number("ETHOS_DIFF_SEED", 1);
  fs::path root = fs::path(testing::source_dir()) / "policies";
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".ethos") {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      files.emplace_back(fs::relative(e.path(), root).generic_string(), ss.str());
    }
  auto p = build(files, {});
  INFO(p->diagnostics);
  REQUIRE(p->ok());
  std::vector<nlohmann::ordered_json> examples;
  for (const auto& e : fs::directory_iterator(root / "examples"))
    if (e.path().extension() == ".json") {
      std::ifstream in(e.path());
      examples.push_back(nlohmann::ordered_json::parse(in));
    }
  std::sort(examples.begin(), examples.end());
  REQUIRE(!examples.empty());
  std::vector<std::string> strings;
  for (const auto& [text, id] : p->bundle.policy->symbols) strings.push_back(text);
  std::sort(strings.begin(), strings.end());
  strings.push_back("not-in-the-pack");

  for (const auto& ex : examples) {
    std::string diff = compare(*p, ex.dump());
    INFO(ex.dump());
    CHECK(diff.empty());
  }
  Rng rng(seed);
  uint64_t failures = 0;
  for (uint64_t i = 0; i < cases && failures < 3; ++i) {
    auto doc = rng.pick(examples);
    size_t edits = 1 + rng.below(4);
    for (size_t k = 0; k < edits; ++k) perturb(*p->bundle.policy, doc, rng, strings);
    std::string diff = compare(*p, doc.dump());
    if (diff.empty()) continue;
    ++failures;
    FAIL_CHECK("mismatch on the shipped pack, ETHOS_DIFF_SEED=" << seed << " case #" << i
                                                                << "\nrequest:\n"
                                                                << doc.dump() << "\n"
                                                                << diff);
  }
}

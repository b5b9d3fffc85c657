// Fuzz target `decision_log`: any bytes as a decision-log file (SQLite).
// Opening it, reading it (count, scan, find, the stored bundles), decoding
// its decisions, verifying its chain and replaying it must end in results
// or an error (sql::StoreError; std::runtime_error where the API documents
// one), never a crash, a hang or another exception.
//
// With ETHOS_FUZZ_WRITE_SEEDS=<dir>, the first input instead writes seed
// logs into <dir> (tests/fuzz/corpus/decision_log/ is made that way).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/decision_log.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/sqlite.hpp>
#include "fuzz_support.hpp"

using namespace ethos;
namespace fs = std::filesystem;

namespace {

// A small bundle, so that a seed log is a few pages.
const char* kSchema = R"ethos(schema request {
  request_id: string
  time: timestamp
  patient: { id: string @pseudonymize, age: int, opted_out: bool, note: string? @redact }
  data: { categories: set<string>, identifiability: enum { identified, deidentified } }
  audit: { last: timestamp? }?
}
)ethos";
const char* kPolicy = R"ethos(module care "Care"
obligation review "a clinician reviews the output"
rule opted_out: forbid when patient.opted_out because "opted out" cite "APA 3.10"
rule minors: escalate when patient.age < 18 because "a minor" cite "HIPAA 164.502(g)"
rule stale: forbid when days_since(audit.last) > 365 because "stale audit" cite "45 CFR 92.210"
rule reviewed: require review when data.identifiability == identified because "reviewed" cite "APA 9.02"
rule deidentified: permit when data.identifiability == deidentified overrides opted_out because "ok" cite "HIPAA 164.514"
)ethos";

void write_seeds(const fs::path& dir) {
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"schema.ethos", kSchema}, {"policy.ethos", kPolicy}}, diags);
  if (!b.policy)
    fuzz::property_failed("the seed policy does not compile:\n" + render_all(b.sources, diags));
  fs::create_directories(dir);
  for (int n : {1, 6}) {
    fs::path db =
        fs::temp_directory_path() / ("ethos-seed-" + std::to_string(getpid()) + ".sqlite");
    fs::remove(db);
    {
      LogOptions o;
      o.key = log_key_from_secret("a fuzzing key of at least sixteen bytes");
      DecisionLog log(db.string(), o);
      RequestBinder binder(*b.policy);
      Evaluator ev(b.policy);
      for (int i = 0; i < n; ++i) {
        std::string json =
            R"({"request_id":"r-)" + std::to_string(i) + R"(","time":"2026-11-26T10:00:00Z",)" +
            R"("patient":{"id":"p-1","age":)" + std::to_string(12 + i * 3) + R"(,"opted_out":)" +
            (i % 2 ? "true" : "false") + R"(,"note":"text"},"data":{"categories":["phi"],)" +
            R"("identifiability":")" + (i % 3 ? "identified" : "deidentified") + R"("},)" +
            (i % 4 ? R"("audit":{"last":"2025-01-01"})" : R"("audit":null)") + "}";
        BoundRequest bound;
        BindError err;
        if (!binder.bind(json, bound, err))
          fuzz::property_failed("seed request: " + err.path + ": " + err.message);
        log.record(b, bound, ev.evaluate(bound));
      }
    }  // closing the last connection checkpoints the WAL into the file
    fs::copy_file(db, dir / ("seed-" + std::to_string(n) + "-decisions"),
                  fs::copy_options::overwrite_existing);
    fs::remove(db);
  }
}

void read_everything(const std::string& path, bool writable) {
  LogOptions o;
  o.read_only = !writable;
  if (writable) o.key = log_key_from_secret("a fuzzing key of at least sixteen bytes");
  DecisionLog log(path, o);
  (void)log.schema_version();
  (void)log.count();
  std::vector<LogEntry> entries;
  log.scan({}, [&](const LogEntry& e) {
    entries.push_back(e);
    return entries.size() < 32;
  });
  LogFilter f;
  f.outcome = "deny";
  f.rule = "care.opted_out";
  (void)log.count(f);
  std::set<std::string> bundles;
  for (const auto& e : entries) {
    (void)log.find(e.id);
    bundles.insert(e.bundle);
  }
  for (const auto& hash : bundles) {
    auto text = log.bundle_text(hash);
    if (!text) continue;
    Diagnostics diags;
    Bundle b = load_bundle_canonical(*text, diags);
    if (!b.policy) continue;
    for (const auto& e : entries) {
      if (e.bundle != hash) continue;
      try {
        Decision d = decode_decision(*b.policy, e);
        (void)decision_json(*b.policy, d, {});
      } catch (const std::runtime_error&) {
        // documented: the entry names a rule, obligation or attribute the bundle lacks
      }
    }
  }
  (void)log.verify();
  ReplayOptions ro;
  ro.filter.limit = 16;
  (void)replay(log, ro);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool seeded = false;
  if (const char* dir = std::getenv("ETHOS_FUZZ_WRITE_SEEDS"); dir && !seeded) {
    seeded = true;
    write_seeds(dir);
  }
  static const std::string path =
      (fs::temp_directory_path() / ("ethos-fuzz-log-" + std::to_string(getpid()) + ".sqlite"))
          .string();
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // Mostly read-only (an auditor's view); now and then as a writer, which migrates.
  bool writable = size > 0 && data[size - 1] % 8 == 0;
  try {
    read_everything(path, writable);
  } catch (const sql::StoreError&) {
    // a corrupt or foreign file: an error, as it should be
  }
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
  return 0;
}

#include "support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace ethos::testing {

const char* kTestSchema = R"(schema request {
  request_id: string
  time: timestamp
  jurisdiction: { country: string @fixed, state: string? @fixed, eu: bool @fixed }
  patient: {
    id: string @pseudonymize
    age: int @fixed
    opted_out: bool
    guardian_permission: bool?
    note: string? @redact
  }
  data: {
    categories: set<string>
    identifiability: enum { identified, limited, deidentified }
  }
  vendor: { baa_signed: bool, retention_days: int, trains_on_inputs: bool? }
  consent: { date: timestamp?, form: enum { written, verbal, none } }
  audit: { last: timestamp? }?
  risk: { self_harm: bool }
}
)";

std::string diagnose(const std::vector<std::pair<std::string, std::string>>& files) {
  Diagnostics diags;
  Bundle b = load_bundle_texts(files, diags);
  diags.sort();
  return render_all(b.sources, diags);
}

std::string diagnose_policy(const std::string& policy) {
  return diagnose({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}});
}

std::shared_ptr<const Policy> compile(const std::string& policy) {
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags);
  INFO(render_all(b.sources, diags));
  REQUIRE(b.policy != nullptr);
  return b.policy;
}

std::string request(const std::string& patch) {
  nlohmann::json base = nlohmann::json::parse(R"({
    "request_id": "r-1", "time": "2026-11-26T10:00:00Z",
    "jurisdiction": {"country": "US", "state": "IL", "eu": false},
    "patient": {"id": "p-1", "age": 40, "opted_out": false, "guardian_permission": true},
    "data": {"categories": ["phi"], "identifiability": "identified"},
    "vendor": {"baa_signed": true, "retention_days": 0, "trains_on_inputs": false},
    "consent": {"date": "2026-10-01", "form": "written"},
    "audit": {"last": "2026-06-01"},
    "risk": {"self_harm": false}
  })");
  base.merge_patch(nlohmann::json::parse(patch));
  return base.dump();
}

Decision decide(const std::shared_ptr<const Policy>& policy, const std::string& request_json) {
  RequestBinder binder(*policy);
  BoundRequest bound;
  BindError err;
  bool ok = binder.bind(request_json, bound, err);
  INFO(err.path << ": " << err.message);
  REQUIRE(ok);
  Evaluator ev(policy);
  return ev.evaluate(bound);
}

std::vector<std::string> reason_ids(const Policy& p, const Decision& d) {
  std::vector<std::string> out;
  for (uint32_t r : d.reasons) out.push_back(p.rules[r].id);
  return out;
}

std::vector<std::string> missing_paths(const Policy& p, const Decision& d) {
  std::vector<std::string> out;
  for (uint32_t s : d.missing) out.push_back(p.schema.attributes[s].path);
  return out;
}

std::string source_dir() {
  // Absolute, so that a symlink or a child process started elsewhere still finds it.
  // ctest runs every test from the source directory.
  const char* s = std::getenv("ETHOS_SOURCE_DIR");
  return std::filesystem::absolute(s ? s : ".").lexically_normal().string();
}

namespace {
// The directories temp_dir() made, removed when the test process exits
// (each test case runs in its own process under ctest). A child that a test
// forks leaves them alone. ETHOS_KEEP_TEST_DIRS=1 keeps them for a look.
struct TempDirs {
  pid_t owner = getpid();
  std::vector<std::string> dirs;
  ~TempDirs() {
    if (getpid() != owner || std::getenv("ETHOS_KEEP_TEST_DIRS")) return;
    for (const auto& d : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
};
TempDirs& temp_dirs() {
  static TempDirs t;
  return t;
}
}  // namespace

std::string temp_dir() {
  char tmpl[] = "/tmp/ethos-test-XXXXXX";
  const char* d = mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  temp_dirs().dirs.emplace_back(d);
  return d;
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

nlohmann::ordered_json compact_trace_of(const nlohmann::ordered_json& full_trace) {
  nlohmann::ordered_json out = {{"fired", nlohmann::ordered_json::array()},
                                {"unknown", nlohmann::ordered_json::array()},
                                {"overridden", nlohmann::ordered_json::array()},
                                {"not_fired", 0},
                                {"not_applicable", 0}};
  for (const auto& [rule, status] : full_trace.items()) {
    const std::string s = status.get<std::string>();
    if (s == "not_fired" || s == "not_applicable")
      out[s] = out[s].get<int>() + 1;
    else
      out.at(s).push_back(rule);
  }
  return out;
}

RunResult run_ethos(const std::vector<std::string>& args, const std::string& stdin_text) {
  const char* bin = std::getenv("ETHOS_BIN");
  REQUIRE(bin != nullptr);
  std::string dir = temp_dir();
  std::string in = dir + "/stdin", out = dir + "/stdout", err = dir + "/stderr";
  std::ofstream(in) << stdin_text;
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!freopen(in.c_str(), "r", stdin) || !freopen(out.c_str(), "w", stdout) ||
        !freopen(err.c_str(), "w", stderr))
      _exit(127);
    execv(bin, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace ethos::testing

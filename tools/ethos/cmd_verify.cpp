// `ethos verify`: walks the decision log's hash chain.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

void add_verify(CLI::App& app) {
  struct Opts {
    std::string db;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "verify", "Prove that no recorded decision was altered, removed or reordered");
  cmd->add_option("db", opts->db, kLogLocationHelp)->required();
  cmd->add_flag("--json", opts->json, "One JSON object");
  cmd->footer(
      "Example:\n  ethos verify decisions.db\n"
      "Exit: 0 the chain is intact, 1 a decision was altered, removed or reordered, a bundle\n"
      "altered, or the request-id lookup table altered (the first such row is named), 70 the\n"
      "log cannot be read.\n"
      "Keep the printed head elsewhere: a later verify must show it at the same row or the log was "
      "rewritten.");
  cmd->callback([opts] {
    auto log = open_log_for_reading(opts->db);
    VerifyReport r;
    try {
      ProgressBar bar("verifying");
      r = log->verify([&](uint64_t done, uint64_t total) { bar.update(done, total); });
    } catch (const sql::StoreError& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kInternal;
    }
    if (opts->json) {
      nlohmann::json j = {
          {"ok", r.ok()}, {"decisions", r.decisions}, {"bundles", r.bundles}, {"head", r.head}};
      // Every chain's head: one per node in a PostgreSQL log.
      j["chains"] = nlohmann::json::array();
      for (const auto& c : r.chains)
        j["chains"].push_back({{"chain", c.chain}, {"decisions", c.decisions}, {"head", c.head}});
      // The same document as GET /v1/log/verify: `first_break` is null when the chain holds.
      j["first_break"] = nullptr;
      if (r.first_break)
        j["first_break"] = {{"kind", chain_break_name(r.first_break->kind)},
                            {"seq", r.first_break->seq},
                            {"decision_id", r.first_break->decision_id},
                            {"message", r.first_break->message}};
      std::cout << j.dump(2) << "\n";
    } else if (r.ok() &&
               (r.chains.size() > 1 || (r.chains.size() == 1 && !r.chains[0].chain.empty()))) {
      std::cout << "ok: " << r.decisions << " decision" << (r.decisions == 1 ? "" : "s") << " in "
                << r.chains.size() << " unbroken chain" << (r.chains.size() == 1 ? "" : "s") << ", "
                << r.bundles << " bundle" << (r.bundles == 1 ? "" : "s") << "\n";
      for (const auto& c : r.chains)
        std::cout << "  chain " << c.chain << ": " << c.decisions << " decision"
                  << (c.decisions == 1 ? "" : "s") << "; head " << c.head << "\n";
    } else if (r.ok()) {
      std::cout << "ok: " << r.decisions << " decision" << (r.decisions == 1 ? "" : "s")
                << " in an unbroken chain, " << r.bundles << " bundle"
                << (r.bundles == 1 ? "" : "s") << "; head " << r.head << "\n";
    } else {
      std::cout << "broken chain (" << chain_break_name(r.first_break->kind)
                << "): " << r.first_break->message << "\n";
    }
    if (!r.ok()) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_verify, 60);

}  // namespace ethos::cli

// `ethos verify`: walks the decision log's hash chain, and checks it against
// signed checkpoints and heads recorded elsewhere (docs/decision-log.md).
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

namespace {

// "SEQ:HASH" -> seq and hash.
bool parse_expected_head(const std::string& text, int64_t& seq, std::string& hash) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + colon, seq);
  hash = text.substr(colon + 1);
  return ec == std::errc() && p == text.data() + colon && seq >= 0 && hash.size() == 64 &&
         hash.find_first_not_of("0123456789abcdef") == std::string::npos;
}

struct AnchorChecks {
  size_t checkpoints = 0;  // checked against the log
  size_t heads = 0;
  std::optional<ChainBreak> first_break;  // the one at the lowest row
};

void keep_first(AnchorChecks& a, std::optional<ChainBreak> b) {
  if (b && (!a.first_break || b->seq < a.first_break->seq)) a.first_break = std::move(b);
}

}  // namespace

void add_verify(CLI::App& app) {
  struct Opts {
    std::string db;
    bool json = false;
    std::string public_key, checkpoints;
    std::vector<std::string> heads;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "verify", "Prove that no recorded decision was altered, removed or reordered");
  cmd->add_option("db", opts->db, kLogLocationHelp)->required();
  cmd->add_flag("--json", opts->json, "One JSON object");
  cmd->add_option("--public-key", opts->public_key,
                  "Check signed checkpoints with this public key (FILE.pub of `ethos key new`): "
                  "the log's own, and those of --checkpoints");
  cmd->add_option("--checkpoints", opts->checkpoints,
                  "An anchor file (one checkpoint per line, from `ethos serve --anchor-file`): "
                  "each must verify and the log must hold its row with its hash");
  cmd->add_option("--expect-head", opts->heads,
                  "SEQ:HASH, a head recorded elsewhere: the log must hold row SEQ with HASH "
                  "(repeatable)");
  cmd->footer(
      "Examples:\n  ethos verify decisions.db\n"
      "  ethos verify decisions.db --public-key checkpoint.key.pub --checkpoints anchors.jsonl\n"
      "  ethos verify decisions.db --expect-head 1200:5f0c...\n"
      "Exit: 0 the chain is intact, 1 a decision was altered, removed or reordered, a bundle\n"
      "altered, the request-id lookup table altered, or the log does not hold what a checkpoint\n"
      "or expected head says (the first such row is named), 4 a checkpoint line is malformed,\n"
      "64 bad options or key, 70 the log or a file cannot be read.\n"
      "Without checkpoints, the chain alone cannot show rows cut from its tail or a rewrite with\n"
      "recomputed hashes: keep the printed head (or the anchor file) elsewhere.");
  cmd->callback([opts] {
    std::optional<VerifyingKey> key;
    if (!opts->public_key.empty()) {
      try {
        key.emplace(VerifyingKey::load(opts->public_key));
      } catch (const std::exception& e) {
        std::cerr << "ethos: --public-key: " << e.what() << "\n";
        throw kUsage;
      }
    } else if (!opts->checkpoints.empty()) {
      std::cerr << "ethos: --checkpoints needs --public-key (the key that signed them)\n";
      throw kUsage;
    }
    std::vector<std::pair<int64_t, std::string>> heads;
    for (const auto& h : opts->heads) {
      int64_t seq = 0;
      std::string hash;
      if (!parse_expected_head(h, seq, hash)) {
        std::cerr << "ethos: --expect-head: `" << h
                  << "` is not SEQ:HASH (a row number, `:`, 64 lowercase hex digits)\n";
        throw kUsage;
      }
      heads.emplace_back(seq, hash);
    }
    std::vector<SourcedCheckpoint> anchored;
    if (!opts->checkpoints.empty()) {
      try {
        anchored = read_anchor_file(opts->checkpoints);
      } catch (const std::exception& e) {
        std::cerr << "ethos: " << e.what() << "\n";
        bool unreadable = std::string(e.what()).rfind("cannot read", 0) == 0;
        throw unreadable ? kInternal : kBadRequest;
      }
    }
    auto log = open_log_for_reading(opts->db);
    VerifyReport r;
    AnchorChecks anchors;
    try {
      ProgressBar bar("verifying");
      r = log->verify([&](uint64_t done, uint64_t total) { bar.update(done, total); });
      if (key) {
        size_t n = 0;
        for (const auto& c : log->checkpoints()) {
          ++anchors.checkpoints;
          keep_first(anchors,
                     log->check(c, &*key, "the log's checkpoints table, #" + std::to_string(++n)));
        }
      }
      for (const auto& c : anchored) {
        ++anchors.checkpoints;
        keep_first(anchors, log->check(c.checkpoint, &*key, c.where));
      }
      for (const auto& [seq, hash] : heads) {
        ++anchors.heads;
        keep_first(anchors, log->check_head(seq, hash));
      }
    } catch (const sql::StoreError& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kInternal;
    }
    // The chain's own break comes first: a checkpoint past it fails because of it.
    if (!r.first_break) r.first_break = anchors.first_break;
    if (opts->json) {
      nlohmann::json j = {
          {"ok", r.ok()}, {"decisions", r.decisions}, {"bundles", r.bundles}, {"head", r.head}};
      // Every chain's head: one per node in a PostgreSQL log.
      j["checkpoints_checked"] = anchors.checkpoints;
      j["heads_checked"] = anchors.heads;
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
    if (!opts->json && r.ok() && (anchors.checkpoints || anchors.heads))
      std::cout << "ok: the log holds what " << anchors.checkpoints << " signed checkpoint"
                << (anchors.checkpoints == 1 ? "" : "s") << " and " << anchors.heads
                << " expected head" << (anchors.heads == 1 ? "" : "s") << " say\n";
    if (!opts->json && key && anchors.checkpoints == 0)
      std::cout << "warning: no checkpoints to check: the chain alone does not show rows cut "
                   "from its tail\n";
    if (!r.ok()) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_verify, 60);

}  // namespace ethos::cli

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/service/tokens.hpp>
#include "cli.hpp"

namespace ethos::cli {

namespace {

TokenStore load_tokens(const std::string& path, bool missing_ok) {
  try {
    return TokenStore::load(path, missing_ok);
  } catch (const std::exception& e) {
    std::cerr << "ethos: " << e.what() << "\n";
    throw kUsage;
  }
}

void save_tokens(const TokenStore& store, const std::string& path) {
  try {
    store.save(path);
  } catch (const std::exception& e) {
    std::cerr << "ethos: " << e.what() << "\n";
    throw kInternal;
  }
}

}  // namespace

void add_token(CLI::App& app) {
  struct Opts {
    std::string tokens;
    std::string role;
    std::string name;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("token", "Make, revoke and list the bearer tokens of `ethos serve`");
  cmd->require_subcommand(1);
  cmd->footer(
      "Example:\n"
      "  ethos token new --role decider --name notes-app --tokens tokens.json\n"
      "  ethos token list --tokens tokens.json\n"
      "  ethos token revoke notes-app --tokens tokens.json\n"
      "The file keeps only each token's SHA-256; a running `ethos serve` re-reads it when it "
      "changes.");

  auto* make =
      cmd->add_subcommand("new", "Make a token and print it (once: only its hash is kept)");
  make->add_option("--tokens", opts->tokens, "Tokens file (created if absent)")->required();
  make->add_option("--role", opts->role,
                   "decider (may decide), auditor (may read the log, verify, replay) "
                   "or admin (may reload the policy)")
      ->required();
  make->add_option("--name", opts->name, "A name for the token (default: <role>-<n>)");
  make->add_flag("--json", opts->json, "Print {\"name\", \"role\", \"token\"} as JSON");
  make->callback([opts] {
    auto role = parse_role(opts->role);
    if (!role) {
      std::cerr << "ethos: --role is decider, auditor or admin, got `" << opts->role << "`\n";
      throw kUsage;
    }
    TokenStore store = load_tokens(opts->tokens, true);
    std::string name = opts->name.empty() ? store.unused_name(*role) : opts->name;
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    std::string secret;
    try {
      secret = store.add(name, *role, now);
    } catch (const std::invalid_argument& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kUsage;
    }
    save_tokens(store, opts->tokens);
    if (opts->json) {
      std::cout
          << nlohmann::json{{"name", name}, {"role", role_name(*role)}, {"token", secret}}.dump()
          << "\n";
    } else {
      std::cout << secret << "\n";
      std::cerr << "ethos: made " << role_name(*role) << " token `" << name << "` in "
                << opts->tokens << "; this is the only time it is shown\n";
    }
  });

  auto* revoke = cmd->add_subcommand("revoke", "Revoke a token by name");
  revoke->add_option("name", opts->name, "The token's name")->required();
  revoke->add_option("--tokens", opts->tokens, "Tokens file")->required();
  revoke->callback([opts] {
    TokenStore store = load_tokens(opts->tokens, false);
    if (!store.revoke(opts->name)) {
      std::cerr << "ethos: no token named `" << opts->name << "` in " << opts->tokens << "\n";
      throw kUsage;
    }
    save_tokens(store, opts->tokens);
    std::cerr << "ethos: revoked `" << opts->name << "`\n";
  });

  auto* list =
      cmd->add_subcommand("list", "List tokens: name, role, creation time (never the secret)");
  list->add_option("--tokens", opts->tokens, "Tokens file")->required();
  list->add_flag("--json", opts->json, "One JSON array");
  list->callback([opts] {
    TokenStore store = load_tokens(opts->tokens, false);
    if (opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : store.tokens())
        out.push_back({{"name", t.name},
                       {"role", role_name(t.role)},
                       {"created", format_timestamp(t.created)}});
      std::cout << out.dump() << "\n";
      return;
    }
    size_t width = 4;
    for (const auto& t : store.tokens()) width = std::max(width, t.name.size());
    std::cout << "NAME" << std::string(width - 4 + 2, ' ') << "ROLE     CREATED\n";
    for (const auto& t : store.tokens())
      std::cout << t.name << std::string(width - t.name.size() + 2, ' ') << role_name(t.role)
                << std::string(9 - std::string(role_name(t.role)).size(), ' ')
                << format_timestamp(t.created) << "\n";
  });
}

ETHOS_COMMAND(add_token, 82);

}  // namespace ethos::cli

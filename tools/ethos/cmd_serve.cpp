#include <spdlog/spdlog.h>

#include <iostream>

#include <ethos/log/log_store.hpp>
#include <ethos/log/privacy.hpp>
#include <ethos/service/http_service.hpp>
#include <ethos/service/service.hpp>
#include <ethos/service/tokens.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

namespace {

// "127.0.0.1:8181", "localhost:8181", "[::1]:8181" -> host and port.
bool parse_listen(const std::string& text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false;  // IPv6 needs brackets
  }
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    return used == text.size() - colon - 1 && port >= 0 && port <= 65535;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void add_serve(CLI::App& app) {
  struct Opts {
    std::string policies = "policies";
    std::vector<std::string> params;
    uint32_t max_depth = kDefaultMaxDepth;
    std::string log;
    std::string node_id;
    std::string key_file;
    bool insecure_dev_key = false;
    std::string listen = "127.0.0.1:8181";
    std::string trace = "compact";
    int commit_delay_us = 0;
    CheckpointCliOptions checkpoints;
    server::HttpOptions http;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("serve", "Serve decisions over HTTP to apps and auditors (docs/api.md)");
  cmd->add_option("--policies", opts->policies, "Policy directory (default: policies)");
  cmd->add_option("--param", opts->params, "Override a param: module.name=value");
  add_max_depth_option(cmd, opts->max_depth);
  cmd->add_option("--log", opts->log,
                  "The decision log: an SQLite file (or sqlite:FILE; created if absent) or a "
                  "postgresql:// URL shared with other nodes")
      ->required();
  cmd->add_option("--node-id", opts->node_id,
                  "With a PostgreSQL log: this node's chain, unique among the nodes (default: "
                  "the host name)");
  cmd->add_option("--log-key-file", opts->key_file,
                  "The key that pseudonymises the log (default: $ETHOS_LOG_KEY)");
  cmd->add_flag("--insecure-dev-key", opts->insecure_dev_key,
                "Without a key, use a well-known development key (pseudonymises nothing)");
  add_checkpoint_options(cmd, opts->checkpoints);
  cmd->add_option("--tokens", opts->http.tokens_path, "Tokens file (made by `ethos token new`)")
      ->required();
  cmd->add_option("--listen", opts->listen,
                  "Address and port (default 127.0.0.1:8181; port 0: any free port)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--tls-cert", opts->http.tls_cert, "TLS certificate chain (PEM); serve HTTPS");
  cmd->add_option("--tls-key", opts->http.tls_key, "TLS private key (PEM)");
  cmd->add_flag("--insecure", opts->http.insecure, "Allow a non-loopback address without TLS");
  cmd->add_option("--io-threads", opts->http.io_threads,
                  "Event-loop threads: read requests, decide, write answers (default 2)");
  cmd->add_option("--threads", opts->http.threads,
                  "Worker threads for the log, policy and replay endpoints (default 4)");
  cmd->add_option("--max-connections", opts->http.max_connections,
                  "Connections served at once; more wait in the listen backlog (default 1024)");
  cmd->add_option("--max-body", opts->http.max_body,
                  "Largest request body in bytes (default 65536)");
  cmd->add_option("--max-policy-body", opts->http.max_policy_body,
                  "Largest body of POST /v1/replay, which carries a policy (default 1048576)");
  cmd->add_option("--read-timeout", opts->http.read_timeout_ms,
                  "Read timeout in ms (default 5000)");
  cmd->add_option("--write-timeout", opts->http.write_timeout_ms,
                  "Write timeout in ms (default 5000)");
  cmd->add_option("--keep-alive-timeout", opts->http.keep_alive_timeout_s,
                  "Seconds an idle keep-alive connection stays open (default 5)");
  cmd->add_option("--commit-delay", opts->commit_delay_us,
                  "Microseconds the log writer waits to gather decisions into one commit "
                  "(default 0)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--trace", opts->trace,
                  "Trace in decisions unless asked: compact, full or none (default compact)");
  cmd->add_option("--port-file", opts->http.port_file,
                  "Write the port here once listening (for --listen :0)");
  cmd->footer(
      "Example:\n"
      "  ethos token new --role decider --tokens tokens.json\n"
      "  ethos serve --policies policies --log decisions.db --tokens tokens.json --listen "
      "127.0.0.1:8181\n"
      "Signals: SIGTERM/SIGINT finish the requests in flight, flush the log and exit 0;\n"
      "SIGHUP reloads the policy and the tokens.\n"
      "Exit: 0 stopped cleanly, 1 the policy has errors, 64 bad options, 70 the log or the port "
      "failed.");
  cmd->callback([opts] {
    server::HttpOptions& http = opts->http;
    http.console = console_assets();
    if (!parse_listen(opts->listen, http.host, http.port)) {
      std::cerr << "ethos: --listen takes `host:port` (IPv6 as `[::1]:8181`), got `" << opts->listen
                << "`\n";
      throw kUsage;
    }
    if (http.tls_cert.empty() != http.tls_key.empty()) {
      std::cerr << "ethos: --tls-cert and --tls-key go together\n";
      throw kUsage;
    }
    if (!server::is_loopback(http.host) && http.tls_cert.empty() && !http.insecure) {
      std::cerr << "ethos: refusing to serve on `" << http.host
                << "` without TLS: tokens and health data would cross the network in the clear.\n"
                   "help: give --tls-cert and --tls-key, listen on 127.0.0.1, or pass --insecure\n";
      throw kUsage;
    }
    try {
      TokenStore::load(http.tokens_path);
    } catch (const std::exception& e) {
      std::cerr << "ethos: " << e.what()
                << "\nhelp: make one with `ethos token new --role decider --tokens "
                << http.tokens_path << "`\n";
      throw kUsage;
    }
    ServiceOptions so;
    so.policy_paths = {opts->policies};
    so.check.max_depth = opts->max_depth;
    if (!parse_params(opts->params, so.check)) throw kUsage;
    if (!parse_trace_mode(opts->trace, so.trace)) {
      std::cerr << "ethos: --trace is full, compact or none, got `" << opts->trace << "`\n";
      throw kUsage;
    }
    so.log_path = opts->log;
    so.log.commit_delay_us = opts->commit_delay_us;
    so.log.node_id = opts->node_id;
    so.log.checkpoints = load_checkpoint_options(opts->checkpoints);
    try {
      so.log.key = load_log_key({opts->key_file, opts->insecure_dev_key});
    } catch (const std::exception& e) {
      std::cerr << "ethos: " << e.what() << "\n";
      throw kUsage;
    }
    if (so.log.key->insecure_dev)
      spdlog::warn(
          "recording with the insecure development key: pseudonyms in `{}` can be reversed by "
          "anyone",
          display_location(opts->log));
    // Before any thread starts (the log's writer is one), so that every
    // thread leaves the signals to run_http_service().
    server::block_service_signals();
    std::unique_ptr<Service> service;
    try {
      service = std::make_unique<Service>(std::move(so));
    } catch (const ServiceStartError& e) {
      std::cerr << e.what();
      throw kPolicyError;
    } catch (const std::exception& e) {
      std::cerr << "ethos: cannot open the decision log: " << e.what() << "\n";
      throw kInternal;
    }
    int code = server::run_http_service(*service, http);
    service.reset();
    if (code != kOk) throw static_cast<Exit>(code);
  });
}

ETHOS_COMMAND(add_serve, 81);

}  // namespace ethos::cli

#include <ethos/lsp/server.hpp>

#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>

#include <ethos/base/limits.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/lsp/features.hpp>
#include <ethos/lsp/protocol_internal.hpp>
#include <ethos/lsp/workspace.hpp>

namespace ethos::lsp {

using nlohmann::json;

namespace {

// JSON-RPC 2.0 and LSP 3.17 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;

// How deeply a message may nest; LSP's own messages nest a few levels.
constexpr size_t kMaxJsonDepth = kMaxMaxDepth;

std::string error_body(const json& id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string result_body(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string notification_body(const std::string& method, json params) {
  return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// A params error: the message names the JSON path.
struct ParamsError {
  std::string message;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)), workspace(options.check) {}

  ServerOptions options;
  Workspace workspace;
  Protocol protocol;
  bool initialized = false;
  bool shut_down = false;
  bool exited = false;
  int exit_code = 1;
  std::map<std::string, std::string> published;  // uri -> the diagnostics last sent

  std::vector<std::string> handle(std::string_view body);
  json dispatch(const std::string& method, const json& params, std::vector<std::string>& out);
  void notify(const std::string& method, const json& params, std::vector<std::string>& out);
  void publish(Pack& pack, const std::string& trigger, std::vector<std::string>& out);
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;
std::vector<std::string> Server::handle(std::string_view body) { return impl_->handle(body); }
bool Server::exited() const { return impl_->exited; }
int Server::exit_code() const { return impl_->exit_code; }
Workspace& Server::workspace() { return impl_->workspace; }

std::string Server::framing_error(const ReadResult& r) const {
  return error_body(nullptr, r.kind == ReadResult::Kind::kTooLarge ? kInvalidRequest : kParseError,
                    r.error);
}

void Server::Impl::publish(Pack& pack, const std::string& trigger, std::vector<std::string>& out) {
  std::vector<json> by_file(pack.sources.files.size(), json::array());
  auto trigger_file = pack.file_of(trigger);
  for (const Diagnostic& d : pack.diagnostics.items()) {
    // A diagnostic with no place (an unreadable file) goes to the document that changed.
    uint32_t file = d.span.line == 0 ? trigger_file.value_or(0) : d.span.file;
    if (file >= by_file.size()) continue;
    by_file[file].push_back(protocol.diagnostic(pack, file, d));
  }
  for (const Finding& f : pack.findings)
    if (f.span.file < by_file.size() && f.span.line > 0)
      by_file[f.span.file].push_back(protocol.finding(pack, f));
  for (uint32_t i = 0; i < by_file.size(); ++i) {
    std::string uri = pack.uri(i);
    std::string text = by_file[i].dump();
    auto& last = published[uri];
    if (last == text && uri != trigger) continue;
    last = text;
    out.push_back(notification_body("textDocument/publishDiagnostics",
                                    {{"uri", uri}, {"diagnostics", std::move(by_file[i])}}));
  }
}

void Server::Impl::notify(const std::string& method, const json& params,
                          std::vector<std::string>& out) {
  if (method == "exit") {
    exited = true;
    exit_code = shut_down ? 0 : 1;
    return;
  }
  if (!initialized || shut_down) return;  // the spec: notifications before initialize are dropped
  if (method == "textDocument/didOpen") {
    const json& doc = params.at("textDocument");
    std::string uri = doc.at("uri").get<std::string>();
    if (uri_to_path(uri).empty()) return;
    Pack& pack = workspace.set_text(uri, doc.at("text").get<std::string>());
    workspace.lint(pack);  // on open and save, not on each edit
    publish(pack, uri, out);
  } else if (method == "textDocument/didChange") {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    const std::string* current = workspace.text_of(uri);
    if (!current) return;
    std::string text = *current;
    for (const auto& c : params.at("contentChanges")) text = protocol.apply_change(text, c);
    publish(workspace.set_text(uri, std::move(text)), uri, out);
  } else if (method == "textDocument/didClose") {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    workspace.close(uri);
    if (Pack* p = workspace.pack_of(uri)) publish(*p, uri, out);
  } else if (method == "textDocument/didSave") {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    workspace.reload(uri);
    if (Pack* p = workspace.pack_of(uri)) {
      workspace.lint(*p);
      publish(*p, uri, out);
    }
  } else if (method == "workspace/didChangeWatchedFiles") {
    for (const auto& change : params.at("changes")) {
      std::string uri = change.at("uri").get<std::string>();
      workspace.reload(uri);
      if (Pack* p = workspace.pack_of(uri)) publish(*p, uri, out);
    }
  }
  // Any other notification ($/cancelRequest, $/setTrace, ...) needs nothing.
}

json Server::Impl::dispatch(const std::string& method, const json& params,
                            std::vector<std::string>& out) {
  (void)out;
  if (method == "initialize") {
    if (initialized) throw ParamsError{"`initialize` was already sent"};
    initialized = true;
    return protocol.initialize(params);
  }
  if (method == "shutdown") {
    shut_down = true;
    return nullptr;
  }
  if (method == "workspace/symbol") {
    std::string query = params.value("query", "");
    json list = json::array();
    for (Pack* p : workspace.packs()) {
      json part = protocol.workspace_symbols(*p, query);
      for (auto& s : part) list.push_back(std::move(s));
    }
    return list;
  }
  if (method.rfind("textDocument/", 0) != 0) return protocol.unknown();
  std::string uri = params.at("textDocument").at("uri").get<std::string>();
  Pack* pack = workspace.pack_of(uri);
  std::optional<uint32_t> file = pack ? pack->file_of(uri) : std::nullopt;
  if (!file) {
    // A document the server was not told about: nothing to say, in the shape each method wants.
    if (method == "textDocument/completion" || method == "textDocument/documentSymbol" ||
        method == "textDocument/codeAction" || method == "textDocument/references")
      return json::array();
    if (method == "textDocument/semanticTokens/full") return json{{"data", json::array()}};
    return protocol.is_document_method(method) ? json(nullptr) : protocol.unknown();
  }
  return protocol.document_request(method, *pack, *file, params);
}

std::vector<std::string> Server::Impl::handle(std::string_view body) {
  std::vector<std::string> out;
  if (auto deep = json_too_deep(body, kMaxJsonDepth)) {
    out.push_back(error_body(
        nullptr, kInvalidRequest,
        "the message nests deeper than " + std::to_string(kMaxJsonDepth) + " levels at " + *deep));
    return out;
  }
  json msg = json::parse(body, nullptr, false);
  if (msg.is_discarded()) {
    out.push_back(error_body(nullptr, kParseError, "the message is not valid JSON"));
    return out;
  }
  if (!msg.is_object()) {
    out.push_back(error_body(nullptr, kInvalidRequest,
                             msg.is_array() ? "batches are not part of LSP: send one message"
                                            : "a message is a JSON object"));
    return out;
  }
  json id = msg.contains("id") ? msg["id"] : json(nullptr);
  const bool has_id = msg.contains("id");
  if (has_id && !id.is_number_integer() && !id.is_string()) {
    out.push_back(error_body(nullptr, kInvalidRequest, "`id` must be an integer or a string"));
    return out;
  }
  auto method_it = msg.find("method");
  if (method_it == msg.end()) {
    if (has_id && (msg.contains("result") || msg.contains("error"))) return out;  // a response
    out.push_back(error_body(id, kInvalidRequest, "the message has no `method`"));
    return out;
  }
  if (!method_it->is_string() || msg.value("jsonrpc", json()) != "2.0") {
    if (has_id)
      out.push_back(error_body(
          id, kInvalidRequest,
          !method_it->is_string() ? "`method` must be a string" : "`jsonrpc` must be \"2.0\""));
    return out;
  }
  std::string method = method_it->get<std::string>();
  json params = msg.contains("params") ? msg["params"] : json::object();
  if (!params.is_object() && !params.is_array()) {
    if (has_id) out.push_back(error_body(id, kInvalidParams, "`params` must be an object"));
    return out;
  }
  try {
    if (!has_id) {
      notify(method, params, out);
      return out;
    }
    if (exited) return out;
    if (!initialized && method != "initialize") {
      out.push_back(error_body(id, kServerNotInitialized,
                               "the server is not initialized: send `initialize` first"));
      return out;
    }
    if (shut_down && method != "shutdown") {
      out.push_back(error_body(id, kInvalidRequest, "the server is shut down: send `exit`"));
      return out;
    }
    json result = dispatch(method, params, out);
    if (Protocol::is_unknown(result)) {
      out.push_back(error_body(id, kMethodNotFound, "unknown method `" + method + "`"));
      return out;
    }
    out.push_back(result_body(id, std::move(result)));
  } catch (const ParamsError& e) {
    if (has_id) out.push_back(error_body(id, kInvalidRequest, e.message));
  } catch (const json::exception& e) {
    if (has_id)
      out.push_back(error_body(id, kInvalidParams, std::string("invalid params: ") + e.what()));
  } catch (const std::exception& e) {
    if (has_id) out.push_back(error_body(id, kInternalError, e.what()));
  }
  return out;
}

int serve(int in_fd, int out_fd, const ServerOptions& options) {
  Server server(options);
  MessageReader reader(
      [in_fd](char* buf, size_t n) -> size_t {
        for (;;) {
          ssize_t got = ::read(in_fd, buf, n);
          if (got >= 0) return static_cast<size_t>(got);
          if (errno != EINTR) return 0;
        }
      },
      options.max_message_bytes);
  auto send = [out_fd](const std::string& body) {
    std::string framed = frame(body);
    size_t done = 0;
    while (done < framed.size()) {
      ssize_t n = ::write(out_fd, framed.data() + done, framed.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  };
  for (;;) {
    ReadResult r = reader.next();
    if (r.kind == ReadResult::Kind::kEnd) return server.exit_code();
    if (r.kind != ReadResult::Kind::kMessage) {
      if (!send(server.framing_error(r))) return 1;
      continue;
    }
    for (const auto& body : server.handle(r.body))
      if (!send(body)) return 1;
    if (server.exited()) return server.exit_code();
  }
}

}  // namespace ethos::lsp

// Malformed input to `ethos lsp`: each gets the JSON-RPC error the spec
// names, or is ignored as the spec says, and the server keeps serving.
#include <catch2/catch.hpp>

#include "lsp_client.hpp"
#include "support.hpp"

using namespace ethos::testing;
using ethos::lsp::path_to_uri;

namespace {

// After a bad message the server still answers a good one.
void still_serves(LspProcess& lsp) {
  json r = lsp.call("workspace/symbol", {{"query", "x"}});
  CHECK(r.contains("result"));
}

}  // namespace

TEST_CASE("a broken Content-Length gets a parse error and the next message is read") {
  LspProcess lsp;
  REQUIRE(lsp.send_raw("Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\"}"));
  json e = lsp.read();
  CHECK(e["id"].is_null());
  CHECK(e["error"]["code"] == -32700);
  CHECK(e["error"]["message"] == "`Content-Length` is not a byte count: `twelve`");
  lsp.initialize();
  still_serves(lsp);
}

TEST_CASE("a header without Content-Length gets a parse error") {
  LspProcess lsp;
  REQUIRE(lsp.send_raw("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"));
  json e = lsp.read();
  CHECK(e["error"]["code"] == -32700);
  CHECK(e["error"]["message"] == "the header has no `Content-Length`");
  lsp.initialize();
  still_serves(lsp);
}

TEST_CASE("invalid JSON gets a parse error with a null id") {
  LspProcess lsp;
  lsp.initialize();
  REQUIRE(lsp.send_raw(ethos::lsp::frame("{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": ")));
  json e = lsp.read();
  CHECK(e["id"].is_null());
  CHECK(e["error"]["code"] == -32700);
  still_serves(lsp);
}

TEST_CASE("a message that is not a request gets invalid request") {
  LspProcess lsp;
  lsp.initialize();
  REQUIRE(lsp.send_raw(ethos::lsp::frame("[1, 2, 3]")));
  CHECK(lsp.read()["error"]["code"] == -32600);
  REQUIRE(lsp.send_raw(ethos::lsp::frame(R"({"jsonrpc": "2.0", "id": 3, "method": 42})")));
  json e = lsp.read();
  CHECK(e["id"] == 3);
  CHECK(e["error"]["code"] == -32600);
  still_serves(lsp);
}

TEST_CASE("an unknown method gets method not found, and an unknown notification is ignored") {
  LspProcess lsp;
  lsp.initialize();
  lsp.notify("ethos/noSuchNotification", {{"x", 1}});
  json r = lsp.call("ethos/noSuchMethod");
  CHECK(r["error"]["code"] == -32601);
  CHECK(r["error"]["message"] == "unknown method `ethos/noSuchMethod`");
}

TEST_CASE("a request before initialize gets server not initialized") {
  LspProcess lsp;
  json r = lsp.call("textDocument/hover", {{"textDocument", {{"uri", "file:///x.ethos"}}},
                                           {"position", {{"line", 0}, {"character", 0}}}});
  CHECK(r["error"]["code"] == -32002);
  lsp.initialize();
  still_serves(lsp);
}

TEST_CASE("params of the wrong shape get invalid params") {
  LspProcess lsp;
  lsp.initialize();
  json r = lsp.call("textDocument/hover", {{"textDocument", {{"uri", 5}}}});
  CHECK(r["error"]["code"] == -32602);
  still_serves(lsp);
}

TEST_CASE("a message over the size limit is skipped with an error") {
  LspProcess lsp;
  lsp.initialize();
  // 64 MiB is the limit: one byte more is refused, read past and not kept.
  const size_t size = (size_t{64} << 20) + 1;
  std::string huge = "Content-Length: " + std::to_string(size) + "\r\n\r\n";
  huge += std::string(size, ' ');
  REQUIRE(lsp.send_raw(huge));
  json e = lsp.read();
  CHECK(e["id"].is_null());
  CHECK(e["error"]["code"] == -32600);
  CHECK(e["error"]["message"].get<std::string>().find("over the limit of 67108864 bytes") !=
        std::string::npos);
  still_serves(lsp);
}

TEST_CASE("JSON nested deeper than the limit gets invalid request") {
  LspProcess lsp;
  lsp.initialize();
  std::string deep = R"({"jsonrpc": "2.0", "id": 9, "method": "x", "params": {"a": )" +
                     std::string(5000, '[') + std::string(5000, ']') + "}}";
  REQUIRE(lsp.send_raw(ethos::lsp::frame(deep)));
  json e = lsp.read();
  CHECK(e["error"]["code"] == -32600);
  // The root is level 1, params 2, `a` 3: the array past the limit is the 1022nd inside `a`.
  std::string expected = "the message nests deeper than 1024 levels at $.params.a";
  for (int i = 0; i < 1022; ++i) expected += "[0]";
  CHECK(e["error"]["message"].get<std::string>() == expected);
  still_serves(lsp);
}

TEST_CASE("a document nested deeper than the limit gets a diagnostic") {
  std::string dir = temp_dir();
  std::string uri = path_to_uri(copy_of_pack(dir) + "/deep.ethos");
  std::string text = "module deep \"Deep\"\nrule r: forbid when " + std::string(300, '(') +
                     "patient.age > 3" + std::string(300, ')') + " because \"x\" cite \"y\"\n";
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json diags = lsp.diagnostics_for(uri);
  REQUIRE(!diags.empty());
  CHECK(diags[0]["message"].get<std::string>().find("nests deeper than 256 levels") !=
        std::string::npos);
  still_serves(lsp);
}

TEST_CASE("input that ends inside a message ends the server without a crash") {
  LspProcess lsp;
  lsp.initialize();
  REQUIRE(lsp.send_raw("Content-Length: 100\r\n\r\n{\"jsonrpc\""));
  CHECK(lsp.wait_exit() == 1);
}

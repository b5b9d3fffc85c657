// Private to the lsp stage (not installed): LSP 3.17's JSON shapes for what
// features.hpp computes, and the one place positions are converted between
// byte offsets and the client's encoding.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include <ethos/base/source.hpp>
#include <ethos/lsp/workspace.hpp>

namespace ethos::lsp {

class Protocol {
 public:
  // The server's capabilities; reads the client's position encodings.
  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json diagnostic(const Pack& pack, uint32_t file, const Diagnostic& d) const;
  // A finding of `ethos lint`, as a diagnostic with source `ethos lint` and its kind as code.
  nlohmann::json finding(const Pack& pack, const Finding& f) const;
  // A `TextDocumentContentChangeEvent` applied to `text` (whole or a range).
  std::string apply_change(const std::string& text, const nlohmann::json& change) const;
  nlohmann::json workspace_symbols(const Pack& pack, const std::string& query) const;
  // A request about one document of a pack (hover, definition, ...).
  nlohmann::json document_request(const std::string& method, const Pack& pack, uint32_t file,
                                  const nlohmann::json& params) const;
  bool is_document_method(const std::string& method) const;

  // The result of a method the server does not have.
  static nlohmann::json unknown() { return nlohmann::json(nlohmann::json::value_t::discarded); }
  static bool is_unknown(const nlohmann::json& j) { return j.is_discarded(); }

  Encoding encoding() const { return encoding_; }

 private:
  nlohmann::json range(const Pack& pack, const Span& span) const;
  nlohmann::json location(const Pack& pack, const Span& span) const;
  uint32_t offset(const Pack& pack, uint32_t file, const nlohmann::json& position) const;

  Encoding encoding_ = Encoding::kUtf16;
};

}  // namespace ethos::lsp

// The language server, driven by a scripted client over pipes: the real
// `ethos lsp` binary, on a copy of the shipped pack.
#include <catch2/catch.hpp>

#include "lsp_client.hpp"
#include "support.hpp"

using namespace ethos::testing;
using ethos::lsp::path_to_uri;

namespace {

// A module with one mistake: `patient.agee` on line 5 (0-based line 4), columns 7 to 19.
const char* kTypo =
    "module typo \"A module with a typo\"\n"
    "\n"
    "rule minors_are_reviewed:\n"
    "  escalate\n"
    "  when patient.agee < 18\n"
    "  because \"a minor's care is reviewed by a clinician\"\n"
    "  cite \"APA Ethics Code 3.04\"\n";

// The 0-based position of the first `needle` in `text` (+ `shift` characters), for a request.
json position_of(const std::string& text, const std::string& needle, int shift = 0) {
  size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  at += static_cast<size_t>(shift);
  size_t line =
      static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  size_t bol = text.rfind('\n', at == 0 ? 0 : at - 1);
  size_t character = bol == std::string::npos ? at : at - bol - 1;
  return {{"line", line}, {"character", character}};
}

std::string apply_edit(const std::string& text, const json& edit) {
  // Edits are within the ASCII text of these tests: characters are bytes.
  auto offset = [&](const json& p) {
    size_t pos = 0;
    for (int l = 0; l < p["line"].get<int>(); ++l) pos = text.find('\n', pos) + 1;
    return pos + p["character"].get<size_t>();
  };
  size_t b = offset(edit["range"]["start"]), e = offset(edit["range"]["end"]);
  return text.substr(0, b) + edit["newText"].get<std::string>() + text.substr(e);
}

}  // namespace

TEST_CASE("initialize announces the features the server has") {
  LspProcess lsp;
  json r = lsp.call("initialize", {{"processId", nullptr}, {"capabilities", json::object()}});
  const json& caps = r["result"]["capabilities"];
  CHECK(caps["positionEncoding"] == "utf-16");
  CHECK(caps["textDocumentSync"]["openClose"] == true);
  CHECK(caps["hoverProvider"] == true);
  CHECK(caps["definitionProvider"] == true);
  CHECK(caps["referencesProvider"] == true);
  CHECK(caps["completionProvider"]["triggerCharacters"].size() >= 1);
  CHECK(caps["documentSymbolProvider"] == true);
  CHECK(caps["workspaceSymbolProvider"] == true);
  CHECK(caps["documentFormattingProvider"] == true);
  CHECK(caps["codeActionProvider"]["codeActionKinds"][0] == "quickfix");
  CHECK(caps["semanticTokensProvider"]["legend"]["tokenTypes"].size() > 5);
  CHECK(r["result"]["serverInfo"]["name"] == "ethos");
}

TEST_CASE("a client that offers utf-8 positions gets them") {
  LspProcess lsp;
  json r =
      lsp.call("initialize",
               {{"capabilities", {{"general", {{"positionEncodings", {"utf-8", "utf-16"}}}}}}});
  CHECK(r["result"]["capabilities"]["positionEncoding"] == "utf-8");
}

TEST_CASE("an error is published at its exact range, and its code action clears it") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/typo.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, kTypo);
  json diags = lsp.diagnostics_for(uri);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0]["range"] == json{{"start", {{"line", 4}, {"character", 7}}},
                                  {"end", {{"line", 4}, {"character", 19}}}});
  CHECK(diags[0]["severity"] == 1);
  // The same message and help as `ethos check`.
  CHECK(diags[0]["message"] == "unknown name `patient.agee`\nhelp: did you mean `patient.age`?");

  json actions =
      lsp.call("textDocument/codeAction", {{"textDocument", {{"uri", uri}}},
                                           {"range", diags[0]["range"]},
                                           {"context", {{"diagnostics", diags}}}})["result"];
  REQUIRE(actions.size() == 1);
  CHECK(actions[0]["kind"] == "quickfix");
  CHECK(actions[0]["title"] == "change `patient.agee` to `patient.age`");
  const json& edits = actions[0]["edit"]["changes"][uri];
  REQUIRE(edits.size() == 1);
  std::string fixed = apply_edit(kTypo, edits[0]);
  CHECK(fixed.find("when patient.age < 18") != std::string::npos);

  lsp.change(uri, fixed, 2);
  CHECK(lsp.diagnostics_for(uri).empty());
}

TEST_CASE("the server reports what ethos check reports for a file") {
  std::string dir = temp_dir();
  std::string pack = copy_of_pack(dir);
  std::ofstream(pack + "/typo.ethos") << kTypo;
  RunResult check = run_ethos({"check", pack});
  REQUIRE(check.exit_code == 1);
  CHECK(check.err.find("typo.ethos:5:8: error: unknown name `patient.agee`") != std::string::npos);
  CHECK(check.err.find("help: did you mean `patient.age`?") != std::string::npos);
}

TEST_CASE("a change in schema.ethos re-checks the modules that use it") {
  std::string pack = copy_of_pack(temp_dir());
  std::string schema_uri = path_to_uri(pack + "/schema.ethos");
  std::string privacy_uri = path_to_uri(pack + "/privacy.ethos");
  std::string schema = read_text(pack + "/schema.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(schema_uri, schema);
  CHECK(lsp.diagnostics_for(privacy_uri).empty());
  std::string renamed = schema;
  size_t at = renamed.find("baa_signed");
  REQUIRE(at != std::string::npos);
  renamed.replace(at, 10, "baa_signd");
  lsp.change(schema_uri, renamed, 2);
  json diags = lsp.diagnostics_for(privacy_uri);
  REQUIRE(!diags.empty());
  CHECK(diags[0]["message"].get<std::string>().find("vendor.baa_signed") != std::string::npos);
}

TEST_CASE("hover on an attribute shows its type, annotations and comment") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/schema.ethos");
  std::string text = read_text(pack + "/schema.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r =
      lsp.call("textDocument/hover", {{"textDocument", {{"uri", uri}}},
                                      {"position", position_of(text, "state: string? @fixed", 1)}});
  std::string md = r["result"]["contents"]["value"];
  CHECK(md.find("jurisdiction.state: string? @fixed") != std::string::npos);
  CHECK(md.find("US state code; absent outside the US") != std::string::npos);
}

TEST_CASE("hover on a rule shows its effect, because, citations and overrides") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  std::string text = read_text(pack + "/privacy.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call(
      "textDocument/hover",
      {{"textDocument", {{"uri", uri}}}, {"position", position_of(text, "rule baa_required", 6)}});
  std::string md = r["result"]["contents"]["value"];
  CHECK(md.find("rule privacy.baa_required: forbid") != std::string::npos);
  CHECK(md.find("> identifiable health information may reach an AI vendor") != std::string::npos);
  CHECK(
      md.find(
          "- `hipaa` \u00a7 164.502(e): **HIPAA Privacy and Security Rules, 45 CFR**, regulation, "
          "jurisdiction US") != std::string::npos);
  CHECK(r["result"]["range"]["start"] == position_of(text, "baa_required"));
}

TEST_CASE("hover on a rule citing a declared source shows its jurisdiction and dates") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/us_il.ethos");
  std::string text = read_text(pack + "/us_il.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call("textDocument/hover", {{"textDocument", {{"uri", uri}}},
                                           {"position", position_of(text, "rule ", 6)}});
  std::string md = r["result"]["contents"]["value"];
  CHECK(md.find("`il_wopr`") != std::string::npos);
  CHECK(md.find("jurisdiction US-IL, in force from 2025-08-01") != std::string::npos);
  CHECK(md.find("https://ilga.gov/legislation/PublicActs/View/104-0054") != std::string::npos);
}

TEST_CASE("definition of an attribute used in a module is in schema.ethos") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  std::string text = read_text(pack + "/privacy.ethos");
  std::string schema = read_text(pack + "/schema.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call(
      "textDocument/definition",
      {{"textDocument", {{"uri", uri}}}, {"position", position_of(text, "vendor.baa_signed", 8)}});
  REQUIRE(r["result"].size() == 1);
  CHECK(r["result"][0]["uri"] == path_to_uri(pack + "/schema.ethos"));
  CHECK(r["result"][0]["range"]["start"] == position_of(schema, "baa_signed"));
}

TEST_CASE("references of a definition include its uses in rules") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  std::string text = read_text(pack + "/privacy.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call("textDocument/references",
                    {{"textDocument", {{"uri", uri}}},
                     {"position", position_of(text, "define hipaa_applies", 8)},
                     {"context", {{"includeDeclaration", false}}}});
  size_t uses = 0;
  for (size_t at = text.find("hipaa_applies"); at != std::string::npos;
       at = text.find("hipaa_applies", at + 1))
    ++uses;
  CHECK(r["result"].size() == uses - 1);  // every use but the declaration
}

TEST_CASE("completion after `patient.` lists the patient's attributes") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/typo.ethos");
  std::string text = std::string(kTypo);
  text.replace(text.find("patient.agee < 18"), 17, "patient.");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call("textDocument/completion", {{"textDocument", {{"uri", uri}}},
                                                {"position", position_of(text, "patient.", 8)}});
  std::vector<std::string> labels;
  for (const auto& item : r["result"]["items"]) labels.push_back(item["label"]);
  CHECK(std::find(labels.begin(), labels.end(), "age") != labels.end());
  CHECK(std::find(labels.begin(), labels.end(), "opted_out_of_ai") != labels.end());
  CHECK(std::find(labels.begin(), labels.end(), "baa_signed") == labels.end());
}

TEST_CASE("completion after `==` lists the enum's values") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/typo.ethos");
  std::string text = std::string(kTypo);
  text.replace(text.find("patient.agee < 18"), 17, "actor.kind == ");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json r = lsp.call("textDocument/completion",
                    {{"textDocument", {{"uri", uri}}}, {"position", position_of(text, "== ", 3)}});
  std::vector<std::string> labels;
  for (const auto& item : r["result"]["items"]) labels.push_back(item["label"]);
  CHECK(labels == std::vector<std::string>{"clinician", "app", "admin_staff"});
}

TEST_CASE("formatting gives ethos fmt's layout, and formatted text needs no edit") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/typo.ethos");
  std::string messy =
      "module typo \"A module\"\n\n"
      "rule   minors_are_reviewed :  escalate when patient.age < 18   "
      "because \"reviewed\" cite \"APA Ethics Code 3.04\"  // kept\n";
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, messy);
  json edits = lsp.call("textDocument/formatting",
                        {{"textDocument", {{"uri", uri}}},
                         {"options", {{"tabSize", 2}, {"insertSpaces", true}}}})["result"];
  REQUIRE(edits.size() == 1);
  std::string formatted = apply_edit(messy, edits[0]);
  std::ofstream(pack + "/typo.ethos") << messy;
  RunResult fmt = run_ethos({"fmt", pack + "/typo.ethos"});
  REQUIRE(fmt.exit_code == 0);
  CHECK(formatted == fmt.out);
  CHECK(formatted.find("// kept") != std::string::npos);
  lsp.change(uri, formatted, 2);
  json again = lsp.call("textDocument/formatting",
                        {{"textDocument", {{"uri", uri}}},
                         {"options", {{"tabSize", 2}, {"insertSpaces", true}}}})["result"];
  CHECK(again.empty());
}

TEST_CASE("document symbols are the modules with their rules") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, read_text(pack + "/privacy.ethos"));
  json r = lsp.call("textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}})["result"];
  REQUIRE(r.size() == 1);
  CHECK(r[0]["name"] == "privacy");
  bool found = false;
  for (const auto& c : r[0]["children"]) found = found || c["name"] == "baa_required";
  CHECK(found);
  json ws = lsp.call("workspace/symbol", {{"query", "baa_req"}})["result"];
  REQUIRE(ws.size() == 1);
  CHECK(ws[0]["name"] == "privacy.baa_required");
}

TEST_CASE("semantic tokens come in order, one line each") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, read_text(pack + "/privacy.ethos"));
  json data = lsp.call("textDocument/semanticTokens/full",
                       {{"textDocument", {{"uri", uri}}}})["result"]["data"];
  REQUIRE(data.size() % 5 == 0);
  REQUIRE(data.size() > 100);
  // The first token is the comment on line 0.
  CHECK(data[0] == 0);
  CHECK(data[1] == 0);
  CHECK(data[3] == 10);  // comment
  for (size_t i = 5; i < data.size(); i += 5)
    CHECK((data[i].get<int>() > 0 || data[i + 1].get<int>() > 0));
}

TEST_CASE("shutdown then exit ends the server with code 0") {
  LspProcess lsp;
  lsp.initialize();
  json r = lsp.call("shutdown");
  CHECK(r.contains("result"));
  CHECK(r["result"].is_null());
  lsp.notify("exit");
  CHECK(lsp.wait_exit() == 0);
}

TEST_CASE("exit without shutdown ends the server with code 1") {
  LspProcess lsp;
  lsp.initialize();
  lsp.notify("exit");
  CHECK(lsp.wait_exit() == 1);
}

TEST_CASE("a lint finding with a fix gets a code action that removes the unused define") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/extra.ethos");
  const std::string text =
      "module extra \"Extra\"\n"
      "\n"
      "// never read by a rule\n"
      "define unused_flag = patient.age > 99\n"
      "\n"
      "rule minors_are_reviewed:\n"
      "  escalate\n"
      "  when patient.age < 18\n"
      "  because \"a minor's care is reviewed\"\n"
      "  cite \"APA Ethics Code 3.04\"\n";
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  json diags = lsp.diagnostics_for(uri);
  json unused;
  for (const auto& d : diags)
    if (d.value("code", "") == "unused-define") unused = d;
  REQUIRE(unused.is_object());
  CHECK(unused["source"] == "ethos lint");
  CHECK(unused["severity"] == 2);
  CHECK(unused["range"]["start"] == json{{"line", 3}, {"character", 7}});
  json actions =
      lsp.call("textDocument/codeAction", {{"textDocument", {{"uri", uri}}},
                                           {"range", unused["range"]},
                                           {"context", {{"diagnostics", {unused}}}}})["result"];
  REQUIRE(actions.size() == 1);
  CHECK(actions[0]["title"] == "remove the unused define `unused_flag`");
  std::string fixed = apply_edit(text, actions[0]["edit"]["changes"][uri][0]);
  CHECK(fixed ==
        "module extra \"Extra\"\n"
        "\n"
        "\n"
        "rule minors_are_reviewed:\n"
        "  escalate\n"
        "  when patient.age < 18\n"
        "  because \"a minor's care is reviewed\"\n"
        "  cite \"APA Ethics Code 3.04\"\n");
}

TEST_CASE("hover on a param shows its default, and on a source its title and URL") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/privacy.ethos");
  std::string text = read_text(pack + "/privacy.ethos");
  std::string sources_uri = path_to_uri(pack + "/sources.ethos");
  std::string sources = read_text(pack + "/sources.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  lsp.open(sources_uri, sources);
  json r = lsp.call(
      "textDocument/hover",
      {{"textDocument", {{"uri", uri}}}, {"position", position_of(text, "max_retention_days", 2)}});
  std::string md = r["result"]["contents"]["value"];
  CHECK(md.find("param privacy.max_retention_days: int = 30") != std::string::npos);
  CHECK(md.find("Default `30`") != std::string::npos);
  r = lsp.call("textDocument/hover", {{"textDocument", {{"uri", sources_uri}}},
                                      {"position", position_of(sources, "source il_wopr", 8)}});
  md = r["result"]["contents"]["value"];
  CHECK(md.find("Illinois Wellness and Oversight for Psychological Resources Act") !=
        std::string::npos);
  CHECK(md.find("https://ilga.gov/legislation/PublicActs/View/104-0054") != std::string::npos);
}

TEST_CASE("completion after `cite` lists sources and after `overrides` rules") {
  std::string pack = copy_of_pack(temp_dir());
  std::string uri = path_to_uri(pack + "/typo.ethos");
  std::string text = std::string(kTypo);
  text.replace(text.find("patient.agee"), 12, "patient.age");
  text.replace(text.find("  cite \"APA Ethics Code 3.04\"\n"), 29, "  overrides \n  cite \n");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, text);
  auto labels_at = [&](const json& pos) {
    std::vector<std::string> labels;
    json r =
        lsp.call("textDocument/completion", {{"textDocument", {{"uri", uri}}}, {"position", pos}});
    for (const auto& item : r["result"]["items"]) labels.push_back(item["label"]);
    return labels;
  };
  auto sources = labels_at(position_of(text, "cite ", 5));
  CHECK(std::find(sources.begin(), sources.end(), "il_wopr") != sources.end());
  CHECK(std::find(sources.begin(), sources.end(), "privacy.baa_required") == sources.end());
  auto rules = labels_at(position_of(text, "overrides ", 10));
  CHECK(std::find(rules.begin(), rules.end(), "privacy.baa_required") != rules.end());
  CHECK(std::find(rules.begin(), rules.end(), "il_wopr") == rules.end());
}

TEST_CASE("hover on a rule names the rules it overrides and those that override it") {
  std::string pack = copy_of_pack(temp_dir());
  std::string privacy_uri = path_to_uri(pack + "/privacy.ethos");
  std::string privacy = read_text(pack + "/privacy.ethos");
  std::string safety_uri = path_to_uri(pack + "/safety.ethos");
  std::string safety = read_text(pack + "/safety.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(privacy_uri, privacy);
  lsp.open(safety_uri, safety);
  json r =
      lsp.call("textDocument/hover",
               {{"textDocument", {{"uri", privacy_uri}}},
                {"position",
                 position_of(privacy, "rule no_disclosure_to_third_parties_without_consent", 6)}});
  std::string md = r["result"]["contents"]["value"];
  // Several rules override it (the treatment and payment disclosures of
  // 164.506 too): the line lists them all, the threat disclosure among them.
  size_t line = md.find("**Overridden by** ");
  REQUIRE(line != std::string::npos);
  std::string overriders = md.substr(line, md.find('\n', line) - line);
  CHECK(overriders.find("`safety.imminent_threat_disclosure_is_permitted`") != std::string::npos);
  CHECK(overriders.find("`privacy.") != std::string::npos);
  r = lsp.call(
      "textDocument/hover",
      {{"textDocument", {{"uri", safety_uri}}},
       {"position", position_of(safety, "rule imminent_threat_disclosure_is_permitted", 6)}});
  md = r["result"]["contents"]["value"];
  CHECK(md.find("**Overrides** `privacy.no_disclosure_to_third_parties_without_consent`, "
                "`safety.risk_signals_are_escalated_to_a_human`") != std::string::npos);
}

TEST_CASE("a file with no schema.ethos above it is checked with its own directory only") {
  namespace fs = std::filesystem;
  std::string dir = temp_dir();
  fs::create_directories(dir + "/sub");
  const char* module = "module loose \"Loose\"\n";
  std::ofstream(dir + "/sub/again.ethos") << module;  // would be `declared twice` if read
  std::string uri = path_to_uri(dir + "/loose.ethos");
  LspProcess lsp;
  lsp.initialize();
  lsp.open(uri, module);
  json diags = lsp.diagnostics_for(uri);
  REQUIRE(!diags.empty());
  for (const auto& d : diags)
    CHECK(d["message"].get<std::string>().find("declared twice") == std::string::npos);
  CHECK(diags[0]["message"].get<std::string>().find("schema") != std::string::npos);
}

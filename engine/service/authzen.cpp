// AuthZEN 1.0 endpoints: reading the AuthZEN body (strictly: one nesting
// limit, no key twice), the defaults of a batch, the mapping onto the
// request schema, and the decisions rendered as AuthZEN Decisions.
#include <ethos/service/authzen.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include <ethos/eval/request.hpp>
#include <ethos/service/authzen_mapping.hpp>
#include <ethos/service/authzen_response.hpp>

namespace ethos::server {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kMaxRequestIdBytes = 256;
constexpr const char* kSemanticExecuteAll = "execute_all";
constexpr const char* kSemanticDenyOnFirstDeny = "deny_on_first_deny";
constexpr const char* kSemanticPermitOnFirstPermit = "permit_on_first_permit";

std::string json_string(std::string_view s) { return json(std::string(s)).dump(); }

Reply invalid(std::string_view message, std::string_view path) {
  return error_reply(ErrorCode::kInvalidRequest, message, path);
}

// Parses the body, refusing a key that appears twice in one object (JSON
// readers disagree on which one counts: one could see a permit's facts
// where another sees a deny's). The caller has bounded the depth.
bool parse_strict(std::string_view body, json& out, Reply& err) {
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  std::string duplicate;
  auto path_here = [&] {
    std::string p = "$";
    for (size_t i = 1; i < stack.size(); ++i)
      p += stack[i - 1].array ? "[" + std::to_string(stack[i - 1].index) + "]"
                              : "." + stack[i - 1].key;
    return p;
  };
  auto element_done = [&] {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
  };
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        stack.push_back(Frame{});
        break;
      case json::parse_event_t::array_start:
        stack.push_back(Frame{true, 0, {}, {}});
        break;
      case json::parse_event_t::key: {
        Frame& f = stack.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate.empty())
          duplicate = path_here() + "." + f.key;
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        stack.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  };
  try {
    out = json::parse(body.begin(), body.end(), callback);
  } catch (const json::exception& e) {
    err = error_reply(ErrorCode::kMalformedJson, std::string("malformed JSON: ") + e.what(), "$");
    return false;
  }
  if (!duplicate.empty()) {
    err = invalid("duplicate field `" + duplicate.substr(duplicate.rfind('.') + 1) +
                      "`: a field may appear once (JSON readers disagree on which counts)",
                  duplicate);
    return false;
  }
  return true;
}

// One evaluation, once mapped: where its entities came from, the request
// it became, and the properties the schema does not know.
struct Evaluation {
  AuthzenOrigins origins;
  std::string request;
  std::vector<std::string> ignored;
  // Set attributes given as one string (wrapped into a one-member list):
  // an error at `path[0]` is told at the string's own path.
  std::vector<std::string> wrapped;
};

// The four entities of one evaluation, each from the evaluation or else from
// the batch's top level (the spec's "default values": a key replaces its
// default whole, it is not merged into it).
struct Entities {
  const json* subject = nullptr;
  const json* action = nullptr;
  const json* resource = nullptr;
  const json* context = nullptr;
  const json* of(std::string_view e) const {
    if (e == "subject") return subject;
    if (e == "action") return action;
    if (e == "resource") return resource;
    return context;
  }
};

bool check_string(const json& obj, const char* key, const std::string& path, Reply& err) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    err = invalid(std::string("missing `") + key + "` (string), which AuthZEN requires",
                  path + "." + key);
    return false;
  }
  if (!it->is_string()) {
    err = invalid("expected a string, found " + std::string(it->type_name()), path + "." + key);
    return false;
  }
  return true;
}

bool type_allowed(const std::vector<std::string>& types, const json& entity,
                  const std::string& path, const char* what, Reply& err) {
  if (types.empty()) return true;
  const std::string& type = entity.at("type").get_ref<const std::string&>();
  if (std::find(types.begin(), types.end(), type) != types.end()) return true;
  std::string list;
  for (const auto& t : types) list += (list.empty() ? "`" : ", `") + t + "`";
  err = invalid("the pack's AuthZEN mapping decides for " + std::string(what) + " of type " + list +
                    ", not `" + type + "`",
                path + ".type");
  return false;
}

// The shapes AuthZEN 1.0 requires (its "Information Model"): 400 with the
// path of the first property that breaks them.
bool check_entities(const Entities& e, const AuthzenOrigins& o, const AuthzenMapping& m,
                    Reply& err) {
  const std::pair<const char*, const json*> required[] = {
      {"subject", e.subject}, {"action", e.action}, {"resource", e.resource}};
  for (const auto& [name, value] : required) {
    const std::string& path = o.of(name);
    if (!value) {
      err = invalid(std::string("missing `") + name + "`, which every AuthZEN evaluation carries",
                    path);
      return false;
    }
    if (!value->is_object()) {
      err = invalid("expected an object, found " + std::string(value->type_name()), path);
      return false;
    }
    if (std::string_view(name) == "action") {
      if (!check_string(*value, "name", path, err)) return false;
    } else if (!check_string(*value, "type", path, err) || !check_string(*value, "id", path, err)) {
      return false;
    }
    auto props = value->find("properties");
    if (props != value->end() && !props->is_object()) {
      err = invalid("expected an object, found " + std::string(props->type_name()),
                    path + ".properties");
      return false;
    }
  }
  if (e.context && !e.context->is_object()) {
    err = invalid("expected an object, found " + std::string(e.context->type_name()), o.context);
    return false;
  }
  return type_allowed(m.subject_types, *e.subject, o.subject, "subjects", err) &&
         type_allowed(m.resource_types, *e.resource, o.resource, "resources", err);
}

// "2026-11-26T10:15-07:00" (RFC 3339 wants seconds; AuthZEN's own examples
// leave them out) becomes "2026-11-26T10:15:00-07:00"; anything else is left
// to the binder to accept or refuse.
void add_missing_seconds(json& v) {
  if (!v.is_string()) return;
  auto& s = v.get_ref<std::string&>();
  if (s.size() < 17 || (s[10] != 'T' && s[10] != 't') || s[13] != ':') return;
  char z = s[16];
  if (z == 'Z' || z == 'z' || z == '+' || z == '-') s.insert(16, ":00");
}

// Builds the request object from the mapping's entries, schema-directed: a
// record takes an object's known keys, unknown keys are noted as ignored,
// and two properties that give the same attribute are refused.
class RequestBuilder {
 public:
  RequestBuilder(const Schema& schema, Evaluation& ev) : schema_(schema), ev_(ev) {}

  bool put(uint32_t slot, const json& v, const std::string& src, Reply& err) {
    const Attribute& a = schema_.attributes[slot];
    json* target = locate(a.path, src, err);
    if (!target) return false;
    if (a.type.kind == ValueType::kRecord && v.is_object()) {
      if (target->is_null()) *target = json::object();
      for (const auto& [key, value] : v.items()) {
        auto child = schema_.by_path.find(a.path + "." + key);
        if (child == schema_.by_path.end() ||
            schema_.attributes[child->second].parent != static_cast<int32_t>(slot)) {
          ev_.ignored.push_back(src + "." + key);
          continue;
        }
        if (!put(child->second, value, src + "." + key, err)) return false;
      }
      return true;
    }
    // Given already: this very attribute, or (the target is an object) fields of it.
    auto given = set_by_.find(a.path);
    if (given == set_by_.end() && !target->is_null())
      given = std::find_if(set_by_.begin(), set_by_.end(),
                           [&](const auto& kv) { return kv.first.rfind(a.path + ".", 0) == 0; });
    if (given != set_by_.end()) {
      err = invalid("`" + src + "` and `" + given->second + "` both give the request's `" + a.path +
                        "`; the pack's AuthZEN mapping takes each attribute from one place",
                    src);
      return false;
    }
    // A set given one value (an action's name for the purposes) is that one
    // member: `"summarization"` becomes `["summarization"]`.
    bool wrap = a.type.kind == ValueType::kSet && v.is_string();
    *target = wrap ? json::array({v}) : v;
    if (wrap) ev_.wrapped.push_back(a.path);
    if (a.type.kind == ValueType::kTimestamp) add_missing_seconds(*target);
    set_by_.emplace(a.path, src);
    return true;
  }

  json& request() { return request_; }

 private:
  // The object member for `path`, creating the records on the way.
  json* locate(const std::string& path, const std::string& src, Reply& err) {
    json* at = &request_;
    size_t start = 0;
    for (;;) {
      size_t dot = path.find('.', start);
      std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
      if (at->is_null()) *at = json::object();
      if (!at->is_object()) {
        err = invalid("`" + src + "` gives a field of `" + path.substr(0, start - 1) +
                          "`, which another property gives as a whole value",
                      src);
        return nullptr;
      }
      at = &(*at)[key];
      if (dot == std::string::npos) return at;
      start = dot + 1;
    }
  }

  const Schema& schema_;
  Evaluation& ev_;
  json request_ = json::object();
  std::unordered_map<std::string, std::string> set_by_;  // request attribute -> AuthZEN path
};

bool map_evaluation(const AuthzenMapping& m, const Schema& schema, const Entities& entities,
                    const std::string& request_id, Evaluation& ev, Reply& err) {
  RequestBuilder b(schema, ev);
  for (const auto& e : m.entries) {
    const json* v = nullptr;
    json rid;
    std::string src;
    if (e.request_id) {
      rid = request_id;
      v = &rid;
      src = "header X-Request-ID";
    } else {
      v = entities.of(e.keys.front());
      src = ev.origins.of(e.keys.front());
      for (size_t i = 1; v && i < e.keys.size(); ++i) {
        auto it = v->is_object() ? v->find(e.keys[i]) : v->end();
        v = v->is_object() && it != v->end() ? &*it : nullptr;
        src += "." + e.keys[i];
      }
    }
    if (!v) continue;  // absent: the binder names it if the request needs it
    json translated;
    if (!e.values.empty()) {
      if (!v->is_string()) {
        err = invalid("expected a string, found " + std::string(v->type_name()), src);
        return false;
      }
      const std::string& s = v->get_ref<const std::string&>();
      auto it = std::find_if(e.values.begin(), e.values.end(),
                             [&](const auto& kv) { return kv.first == s; });
      if (it == e.values.end()) {
        std::string list;
        for (const auto& [from, to] : e.values) list += (list.empty() ? "`" : ", `") + from + "`";
        err = invalid(
            "`" + s + "` is not a value the pack's AuthZEN mapping knows; expected " + list, src);
        return false;
      }
      translated = it->second;
      v = &translated;
    }
    if (!b.put(e.slot, *v, src, err)) return false;
  }
  ev.request = b.request().dump();
  return true;
}

// A binder error on the mapped request, told in the AuthZEN body's terms:
// `$.patient.age` becomes `$.resource.properties.patient.age`.
Reply authzen_error(const Reply& r, const AuthzenMapping& m, const Evaluation& ev) {
  if (r.status != 400) return r;
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.contains("error") || !body["error"]["path"].is_string())
    return r;
  std::string path = body["error"]["path"].get<std::string>();
  std::string message = body["error"]["message"].get<std::string>();
  std::string attr = path.rfind("$.", 0) == 0 ? path.substr(2) : std::string();
  for (const std::string& w : ev.wrapped)
    if (attr == w + "[0]") attr = w;
  std::string src = attr.empty() ? std::string() : authzen_source_path(m, attr, ev.origins);
  if (src.empty()) return r;
  constexpr std::string_view kMissing = "missing required field";
  if (message.rfind(kMissing, 0) == 0) {
    size_t type = message.rfind(" (");
    message = "missing `" + src + "`: the pack's AuthZEN mapping (" +
              std::string(AuthzenMapping::kFileName) + ") gives the request's `" + attr +
              "` from it" + (type == std::string::npos ? "" : message.substr(type));
  } else {
    message += " (the request's `" + attr + "`)";
  }
  return error_reply(r.error, message, src);
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "authzen-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// A Host header that can stand in a URL: a name or address and a port.
bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

}  // namespace

struct AuthzenEndpoints::Impl {
  Service& service;
  bool tls = false;
  mutable std::mutex mu;
  std::shared_ptr<const ServiceBundle> seen;       // the bundle the mapping was checked against
  std::shared_ptr<const AuthzenMapping> mapping;   // null: the pack declares none
  std::string seen_stamp;                          // the file that `mapping` was read from
  std::chrono::steady_clock::time_point looked{};  // when the file was last looked at

  Impl(Service& s, bool t) : service(s), tls(t) {}

  // The pack's mapping file, if a policy directory holds one.
  std::string mapping_file() const {
    for (const auto& p : service.options().policy_paths) {
      std::error_code ec;
      fs::path f = fs::path(p) / AuthzenMapping::kFileName;
      if (fs::is_directory(p, ec) && fs::is_regular_file(f, ec)) return f.string();
    }
    return {};
  }

  std::shared_ptr<const AuthzenMapping> load(const ServiceBundle& sb) const {
    std::string file = mapping_file();
    if (file.empty()) return nullptr;
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error(file + ": cannot read the AuthZEN mapping");
    try {
      return std::make_shared<const AuthzenMapping>(
          load_authzen_mapping(text.str(), file, sb.bundle.policy->schema));
    } catch (const AuthzenMappingError& e) {
      throw std::runtime_error(file + ": " + e.path + ": " + e.what());
    }
  }

  // What the mapping file is now: it is read again when this changes.
  std::string stamp() const {
    std::string file = mapping_file();
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    auto time = fs::last_write_time(file, ec);
    if (file.empty() || ec) return "none";
    return file + ":" + std::to_string(size) + ":" +
           std::to_string(time.time_since_epoch().count());
  }

  // The mapping for the active bundle: read again after a policy reload, and
  // when the file changes (looked at once a second at most). A mapping that
  // does not fit keeps the previous one serving (the binder still checks
  // every mapped request against the schema).
  std::pair<std::shared_ptr<const ServiceBundle>, std::shared_ptr<const AuthzenMapping>> current() {
    auto active = service.active();
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lk(mu);
    bool look = now - looked >= std::chrono::seconds(1);
    if (look) looked = now;
    std::string st = look || active != seen ? stamp() : seen_stamp;
    if (active != seen || st != seen_stamp) {
      seen = active;
      seen_stamp = st;
      try {
        mapping = load(*active);
        spdlog::info("authzen: mapping {}", mapping ? mapping->file : std::string("none"));
      } catch (const std::exception& e) {
        spdlog::error("authzen: {}; the previous mapping stays in force", e.what());
      }
    }
    return {active, mapping};
  }
};

AuthzenEndpoints::AuthzenEndpoints(Service& service, bool tls)
    : impl_(std::make_unique<Impl>(service, tls)) {
  impl_->seen = service.active();
  impl_->seen_stamp = impl_->stamp();
  impl_->looked = std::chrono::steady_clock::now();
  impl_->mapping = impl_->load(*impl_->seen);
  if (impl_->mapping)
    spdlog::info("authzen: mapping {} ({} entries)", impl_->mapping->file,
                 impl_->mapping->entries.size());
}

AuthzenEndpoints::~AuthzenEndpoints() = default;

Reply AuthzenEndpoints::configuration(const Incoming& req) const {
  if (!impl_->current().second)
    return error_reply(ErrorCode::kNotFound,
                       "this pack declares no AuthZEN mapping (authzen.json); see docs/api.md");
  if (!plain_host(req.host))
    return invalid("the discovery document names this server by its Host header: send one",
                   "header Host");
  std::string base = (impl_->tls ? "https://" : "http://") + req.host;
  std::string body =
      R"({"policy_decision_point":)" + json_string(base) + R"(,"access_evaluation_endpoint":)" +
      json_string(base + "/access/v1/evaluation") + R"(,"access_evaluations_endpoint":)" +
      json_string(base + "/access/v1/evaluations") + "}";
  return Reply{200, std::move(body), ErrorCode::kNone};
}

bool AuthzenEndpoints::evaluate(const Incoming& req, bool batch, Session& session, Outgoing& out,
                                Reply& r, const Finish& finish) {
  auto [bundle, mapping] = impl_->current();
  if (!mapping) {
    r = error_reply(ErrorCode::kNotFound,
                    "this pack declares no AuthZEN mapping (authzen.json); see docs/api.md");
    return false;
  }
  std::string request_id = req.request_id;
  if (request_id.size() > kMaxRequestIdBytes) {
    r = invalid("X-Request-ID has " + std::to_string(request_id.size()) + " bytes; the limit is " +
                    std::to_string(kMaxRequestIdBytes),
                "header X-Request-ID");
    return false;
  }
  if (request_id.empty()) {
    request_id = new_request_id();
    out.headers.emplace_back("X-Request-ID", request_id);
  }
  const Policy& policy = *bundle->bundle.policy;
  if (auto deep = json_too_deep(req.body, policy.max_depth)) {
    r = invalid("nested deeper than " + std::to_string(policy.max_depth) + " levels", *deep);
    return false;
  }
  json doc;
  if (!parse_strict(req.body, doc, r)) return false;
  if (!doc.is_object()) {
    r = invalid("an AuthZEN request is a JSON object", "$");
    return false;
  }

  // The evaluations: one, or a batch with the top level as defaults.
  auto top = [&](const char* key) -> const json* {
    auto it = doc.find(key);
    return it == doc.end() ? nullptr : &*it;
  };
  Entities defaults{top("subject"), top("action"), top("resource"), top("context")};
  const json* list = batch ? top("evaluations") : nullptr;
  if (list && !list->is_array()) {
    r = invalid("expected an array, found " + std::string(list->type_name()), "$.evaluations");
    return false;
  }
  bool many = list && !list->empty();
  size_t n = many ? list->size() : 1;
  if (n > impl_->service.options().max_batch) {
    r = invalid("a batch holds at most " + std::to_string(impl_->service.options().max_batch) +
                    " evaluations, got " + std::to_string(n),
                "$.evaluations");
    return false;
  }
  const char* semantic = kSemanticExecuteAll;
  if (const json* options = batch ? top("options") : nullptr) {
    auto it = options->is_object() ? options->find("evaluations_semantic") : options->end();
    if (!options->is_object()) {
      r = invalid("expected an object, found " + std::string(options->type_name()), "$.options");
      return false;
    }
    if (it != options->end()) {
      std::string s = it->is_string() ? it->get<std::string>() : std::string();
      if (s == kSemanticDenyOnFirstDeny) {
        semantic = kSemanticDenyOnFirstDeny;
      } else if (s == kSemanticPermitOnFirstPermit) {
        semantic = kSemanticPermitOnFirstPermit;
      } else if (s != kSemanticExecuteAll) {
        r = invalid(
            "`evaluations_semantic` is execute_all, deny_on_first_deny or "
            "permit_on_first_permit, got " +
                it->dump(),
            "$.options.evaluations_semantic");
        return false;
      }
    }
  }

  auto evs = std::make_shared<std::vector<Evaluation>>(n);
  for (size_t k = 0; k < n; ++k) {
    Entities e = defaults;
    Evaluation& ev = (*evs)[k];
    if (many) {
      const json& item = (*list)[k];
      std::string at = "$.evaluations[" + std::to_string(k) + "]";
      if (!item.is_object()) {
        r = invalid("an evaluation is an object, found " + std::string(item.type_name()), at);
        return false;
      }
      for (const char* name : {"subject", "action", "resource", "context"}) {
        auto it = item.find(name);
        const json** slot = name == std::string_view("subject")    ? &e.subject
                            : name == std::string_view("action")   ? &e.action
                            : name == std::string_view("resource") ? &e.resource
                                                                   : &e.context;
        std::string& origin = name == std::string_view("subject")    ? ev.origins.subject
                              : name == std::string_view("action")   ? ev.origins.action
                              : name == std::string_view("resource") ? ev.origins.resource
                                                                     : ev.origins.context;
        if (it != item.end()) *slot = &*it;
        if (it != item.end() || !*slot) origin = at + "." + name;
      }
    }
    if (!check_entities(e, ev.origins, *mapping, r)) return false;
    if (!map_evaluation(*mapping, policy.schema, e, request_id, ev, r)) return false;
  }

  DecideOptions opts;
  opts.trace = TraceMode::kNone;
  // An answer that comes later is a new Outgoing: it names the request id too.
  auto reply_header = [rid = request_id](Outgoing& o) {
    o.headers.emplace_back("X-Request-ID", rid);
  };

  if (!many) {
    // One evaluation (the batch endpoint without `evaluations` answers as this one does).
    session.decide_async(
        (*evs)[0].request, opts, [evs, mapping = mapping, finish, reply_header](DecideResult res) {
          Outgoing o;
          reply_header(o);
          if (!res.ok()) {
            Reply e = authzen_error(res.reply, *mapping, (*evs)[0]);
            o.status = e.status;
            o.body = std::move(e.body);
          } else {
            append_authzen_decision(o.body, res.reply.body, res.decided[0].outcome, *mapping,
                                    (*evs)[0].origins, (*evs)[0].ignored, nullptr);
          }
          finish(std::move(o), ErrorCode::kNone);
        });
    return true;
  }

  // A batch binds every evaluation before any is decided: one that does not
  // fit the schema refuses the call, and nothing is recorded.
  {
    thread_local std::shared_ptr<const ServiceBundle> binder_bundle;
    thread_local std::unique_ptr<RequestBinder> binder;
    thread_local BoundRequest scratch;
    if (binder_bundle != bundle) {
      binder.reset();
      binder_bundle = bundle;
      binder = std::make_unique<RequestBinder>(policy);
    }
    BindError be;
    for (size_t k = 0; k < n; ++k)
      if (!binder->bind((*evs)[k].request, scratch, be)) {
        r = authzen_error(bind_error_reply(be, be.path), *mapping, (*evs)[k]);
        return false;
      }
  }

  if (semantic != kSemanticExecuteAll) {
    // Short-circuiting: in order, each recorded before the next is decided,
    // so the log holds exactly the evaluations answered.
    std::string body = R"({"evaluations":[)";
    for (size_t k = 0; k < n; ++k) {
      DecideResult res = session.decide((*evs)[k].request, opts);
      if (!res.ok()) {
        r = authzen_error(res.reply, *mapping, (*evs)[k]);
        return false;
      }
      Outcome o = res.decided[0].outcome;
      bool stop =
          semantic == kSemanticDenyOnFirstDeny ? o != Outcome::kPermit : o == Outcome::kPermit;
      if (k) body += ',';
      append_authzen_decision(body, res.reply.body, o, *mapping, (*evs)[k].origins,
                              (*evs)[k].ignored,
                              stop && semantic == kSemanticDenyOnFirstDeny ? semantic : nullptr);
      if (stop) break;
    }
    body += "]}";
    r = Reply{200, std::move(body), ErrorCode::kNone};
    return false;
  }

  // execute_all: every evaluation submitted at once; the answer goes once the
  // last is committed (or as a 503 if any could not be).
  struct Batch {
    std::vector<std::string> rendered;
    std::atomic<size_t> pending{1};
    std::mutex mu;
    std::optional<Reply> error;
  };
  auto state = std::make_shared<Batch>();
  state->rendered.resize(n);
  auto complete = [state, finish, reply_header] {
    Outgoing o;
    reply_header(o);
    if (state->error) {
      o.status = state->error->status;
      o.body = std::move(state->error->body);
    } else {
      o.body = R"({"evaluations":[)";
      for (size_t k = 0; k < state->rendered.size(); ++k) {
        if (k) o.body += ',';
        o.body += state->rendered[k];
      }
      o.body += "]}";
    }
    finish(std::move(o), ErrorCode::kNone);
  };
  for (size_t k = 0; k < n; ++k) {
    state->pending.fetch_add(1, std::memory_order_relaxed);
    session.decide_async(
        (*evs)[k].request, opts, [state, evs, mapping = mapping, k, complete](DecideResult res) {
          if (!res.ok()) {
            std::lock_guard lk(state->mu);
            if (!state->error) state->error = authzen_error(res.reply, *mapping, (*evs)[k]);
          } else {
            append_authzen_decision(state->rendered[k], res.reply.body, res.decided[0].outcome,
                                    *mapping, (*evs)[k].origins, (*evs)[k].ignored, nullptr);
          }
          if (state->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) complete();
        });
  }
  if (state->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) complete();
  return true;
}

}  // namespace ethos::server

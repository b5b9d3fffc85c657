// The console's files and who is asking (docs/console.md); the console's
// other endpoints are in console_api.cpp, routed by http_routes.cpp.
#include <string_view>

#include <ethos/service/http_routes.hpp>

namespace ethos::server {

namespace {

// No inline script or style, no other origin, no frames: the page runs only
// the modules it was served with and talks only to this service.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

}  // namespace

bool serve_console_asset(const ConsoleAssets& assets, const Incoming& req, Outgoing& out,
                         Reply& r) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  std::string_view path = req.path;
  if (path == "/index.html") path = "/";
  for (size_t i = 0; i < assets.count; ++i) {
    const ConsoleAsset& a = assets.items[i];
    if (path != a.path) continue;
    out.content_type = a.content_type;
    out.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    out.headers.emplace_back("X-Content-Type-Options", "nosniff");
    out.headers.emplace_back("Referrer-Policy", "no-referrer");
    out.headers.emplace_back("X-Frame-Options", "DENY");
    out.headers.emplace_back("Cache-Control", "no-cache");
    r = Reply{200, std::string(reinterpret_cast<const char*>(a.data), a.size), ErrorCode::kNone};
    return true;
  }
  return false;
}

Reply HttpService::whoami(const Incoming& req) const {
  // authorize() has accepted the token; look it up again for its name and role.
  std::string_view auth = req.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  auto store = tokens_.current();
  const TokenRecord* t =
      auth.size() > kBearer.size() ? store->authenticate(auth.substr(kBearer.size())) : nullptr;
  if (!t) return error_reply(ErrorCode::kUnauthorized, "the token is unknown or was revoked");
  std::string body = R"({"name":)";
  append_json_string(body, t->name);
  body += R"(,"role":)";
  append_json_string(body, role_name(t->role));
  body += R"(,"recording":)";
  body += service_.recording() ? "true" : "false";
  body += '}';
  return Reply{200, std::move(body), ErrorCode::kNone};
}

}  // namespace ethos::server

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"

namespace ethos::cli {

namespace {
std::vector<std::pair<int, CommandAdder>>& registry() {
  static std::vector<std::pair<int, CommandAdder>> r;
  return r;
}
}  // namespace

CommandRegistration::CommandRegistration(int order, CommandAdder add) {
  registry().emplace_back(order, add);
}

void add_registered_commands(CLI::App& app) {
  auto r = registry();
  std::stable_sort(r.begin(), r.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, add] : r) add(app);
}

Bundle load_and_report(const std::vector<std::string>& paths, const CheckOptions& options,
                       bool json_diagnostics) {
  Diagnostics diags;
  Bundle b = load_bundle(paths, diags, options);
  diags.sort();
  if (json_diagnostics) {
    std::cerr << diagnostics_json(b.sources, diags) << "\n";
  } else {
    std::cerr << render_all(b.sources, diags);
    if (diags.error_count() > 0)
      std::cerr << diags.error_count() << " error" << (diags.error_count() == 1 ? "" : "s") << ", "
                << diags.warning_count() << " warning" << (diags.warning_count() == 1 ? "" : "s")
                << "\n";
  }
  return b;
}

void add_max_depth_option(CLI::App* cmd, uint32_t& max_depth) {
  cmd->add_option("--max-depth", max_depth,
                  "How deeply policy text and requests may nest (default " +
                      std::to_string(kDefaultMaxDepth) + ")")
      ->check(CLI::Range(uint32_t{1}, kMaxMaxDepth));
}

bool parse_params(const std::vector<std::string>& in, CheckOptions& out) {
  for (const auto& s : in) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "ethos: --param takes `module.name=value`, got `" << s << "`\n";
      return false;
    }
    out.params[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return true;
}

bool read_input(const std::string& path, std::string& out) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    out = ss.str();
    return true;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

std::vector<std::string> split_requests(const std::string& text, std::string& error) {
  // Scan for top-level JSON values, respecting strings: handles one object,
  // an array of objects, JSON lines (NDJSON), or objects one after another.
  // Every value found is passed on, an object or not, so that the binder
  // says what is wrong with one that is not; nothing is dropped in silence.
  std::vector<std::string> out;
  size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // a UTF-8 byte order mark
  i = text.find_first_not_of(" \t\r\n", i);
  if (i == std::string::npos) {
    error = "no request found (empty input)";
    return out;
  }
  bool array = text[i] == '[';
  if (array) ++i;
  int depth = 0;
  bool in_string = false;
  size_t start = std::string::npos;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) {  // a string on its own: not a request, which the binder will say
          out.push_back(text.substr(start, i + 1 - start));
          start = std::string::npos;
        }
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      if (depth == 0 && start == std::string::npos) start = i;
    } else if (c == '{' || c == '[') {
      if (depth == 0) start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        if (array && c == ']') {
          array = false;
          if (out.empty()) {
            error = "the list holds no request";
            return {};
          }
          continue;
        }
        error = "unbalanced `" + std::string(1, c) + "` at byte " + std::to_string(i);
        return {};
      }
      if (--depth == 0) {
        out.push_back(text.substr(start, i + 1 - start));
        start = std::string::npos;
      }
    } else if (depth == 0 && !std::isspace(static_cast<unsigned char>(c)) && c != ',') {
      // A scalar at the top level: hand it to the binder, which will say what is wrong.
      size_t e = std::min(text.find_first_of(",[]{}\" \t\r\n", i), text.size());
      out.push_back(text.substr(i, e - i));
      i = e - 1;  // the loop reads what ended it
    }
  }
  if (depth != 0 || in_string) {
    // Unterminated: pass the rest through so the binder reports where.
    if (start != std::string::npos) out.push_back(text.substr(start));
  }
  return out;
}

bool stdout_is_tty() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace ethos::cli

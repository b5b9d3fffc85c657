#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

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
  // One read loop into one buffer, sized ahead for a file: a stream of
  // requests can be hundreds of megabytes, which a stringstream copies twice.
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return false;
  out.clear();
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
    out.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) out.append(chunk, n);
  const bool ok = std::ferror(f) == 0;
  if (f != stdin) std::fclose(f);
  return ok;
}

bool InputText::open(const std::string& path) {
  close();
  if (path != "-") {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                     MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        ::close(fd);
        mapped_ = p;
        mapped_size_ = static_cast<size_t>(st.st_size);
        text_ = std::string_view(static_cast<const char*>(p), mapped_size_);
        return true;
      }
    }
    ::close(fd);
  }
  if (!read_input(path, read_)) return false;
  text_ = read_;
  return true;
}

void InputText::close() {
  if (mapped_) munmap(mapped_, mapped_size_);
  mapped_ = nullptr;
  mapped_size_ = 0;
  read_.clear();
  text_ = {};
}

bool stdout_is_tty() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace ethos::cli

#include <ethos/graph/graphviz.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern char** environ;

namespace ethos {

namespace {

// A temporary file holding the DOT text, removed when it goes out of scope.
struct TempFile {
  std::string path;
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/ethos-graph-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    if (fd >= 0) {
      close(fd);
      path = buf.data();
    }
  }
  ~TempFile() {
    if (!path.empty()) std::remove(path.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

bool write_all(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

std::optional<std::string> graphviz_svg(const std::string& dot, std::string& error) {
  TempFile input;
  if (input.path.empty() || !write_all(input.path, dot)) {
    error = "cannot write a temporary file for graphviz: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    error = "cannot start graphviz: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string arg_dot = "dot", arg_format = "-Tsvg";
  char* argv[] = {arg_dot.data(), arg_format.data(), input.path.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    error = rc == ENOENT ? "Graphviz `dot` is not installed (apt-get install graphviz)"
                         : "cannot run Graphviz `dot`: " + std::string(std::strerror(rc));
    return std::nullopt;
  }
  std::string svg;
  char buf[16384];
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) {
      svg.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "Graphviz `dot` failed (exit status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
    return std::nullopt;
  }
  return svg;
}

}  // namespace ethos

// Renders DOT to SVG with Graphviz's `dot` program (Debian package
// graphviz), for `ethos graph --format svg` and the console's rule graph.
// Thread-safe: each call runs its own process.
#pragma once

#include <optional>
#include <string>

namespace ethos {

// The SVG, or std::nullopt with `error` saying why (`dot` is not installed,
// failed, ...): one line, lowercase.
std::optional<std::string> graphviz_svg(const std::string& dot, std::string& error);

}  // namespace ethos

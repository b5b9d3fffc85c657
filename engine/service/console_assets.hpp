// The web console's files (HTML, ES modules, CSS), as `ethos serve` serves
// them at `/` (docs/console.md). The library carries none: the `ethos`
// program embeds them at build time (tools/console) and passes them in
// HttpOptions, so the library alone needs no npm.
#pragma once

#include <cstddef>

namespace ethos {

struct ConsoleAsset {
  const char* path = nullptr;          // "/", "/assets/app.js", ...
  const char* content_type = nullptr;  // "text/javascript; charset=utf-8", ...
  const unsigned char* data = nullptr;
  size_t size = 0;
};

struct ConsoleAssets {
  const ConsoleAsset* items = nullptr;
  size_t count = 0;
};

}  // namespace ethos

# Sourced by tools/demo and tools/test: installs what is missing from tools/deps.txt
# and configures + builds into $ETHOS_BUILD_DIR (default build/).
set -euo pipefail
ETHOS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETHOS_BUILD_DIR="${ETHOS_BUILD_DIR:-$ETHOS_ROOT/build}"

ethos_install_deps() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done <"$ETHOS_ROOT/tools/deps.txt"
  if ((${#missing[@]})); then
    echo "ethos: installing ${missing[*]}" >&2
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian packages npm apart from nodejs; other builds of nodejs bring their own.
  if ! command -v npm >/dev/null 2>&1; then
    echo "ethos: installing npm" >&2
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends npm >/dev/null
  fi
}

# npm packages from their committed package-lock.json: the console's (embedded
# in the program) and, with `browser`, the browser tests'.
ethos_npm_ci() {
  (cd "$ETHOS_ROOT/tools/console" && npm ci --no-audit --no-fund --loglevel=error)
  if [[ "${1:-}" == browser ]]; then
    (cd "$ETHOS_ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ethos_build() {
  # Usage: ethos_build <CMAKE_BUILD_TYPE> [extra cmake args...]
  # $ETHOS_TARGETS (space-separated) builds only those targets; default: all.
  local type="${1:-Release}"; shift || true
  cmake -S "$ETHOS_ROOT" -B "$ETHOS_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  local targets=()
  [[ -n "${ETHOS_TARGETS:-}" ]] && targets=(--target ${ETHOS_TARGETS})
  cmake --build "$ETHOS_BUILD_DIR" --parallel "$(nproc)" "${targets[@]}"
}

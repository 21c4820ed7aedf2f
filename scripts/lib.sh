# Shared by scripts/demo, scripts/test and scripts/bench: install what is missing, build.
# shellcheck shell=bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}

# Debian 12 packages the project builds and tests with. Nothing is downloaded otherwise.
PACKAGES=(build-essential cmake ninja-build pkg-config
  librocksdb-dev libsodium-dev libssl-dev libprotobuf-dev protobuf-compiler
  libfmt-dev libcli11-dev doctest-dev
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev libjemalloc-dev openssl)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$BUILD" -j "$(nproc)"
}

#!/usr/bin/env bash
# Packaging test (ctest: install_consumer): installs a built timebank tree into a fresh
# prefix, then builds tests/consumer against that prefix only, once with CMake
# (find_package(ledger), ledger::ledger) and once with `pkg-config ledger`, and runs both.
#
#   run.sh <build dir> [cmake] [generator] [c++ compiler] [expected version]
set -euo pipefail

BUILD=$(cd "$1" && pwd)
CMAKE=${2:-cmake}
GENERATOR=${3:-}
CXX=${4:-c++}
VERSION=${5:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ledger-install-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix

fail() { echo "install_consumer: FAIL: $*" >&2; exit 1; }

echo "== cmake --install $BUILD --prefix $PREFIX"
"$CMAKE" --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" || { cat "$WORK/install.log"; fail "install"; }
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libledger.so*' -o -name 'libledger.a' | head -n 1)")
[ -d "$LIBDIR" ] || fail "no libledger in the prefix"
for f in "$LIBDIR"/cmake/ledger/{ledgerConfig,ledgerConfigVersion,ledgerTargets}.cmake "$LIBDIR/pkgconfig/ledger.pc" \
         "$PREFIX/include/ledger/ledger.h" "$PREFIX/share/ledger/entry.proto"; do
  [ -e "$f" ] || fail "${f#"$PREFIX"/} is not installed"
done
# Every public header of the source tree is installed.
for h in "$HERE"/../../libledger/include/ledger/*.h; do
  [ -f "$PREFIX/include/ledger/$(basename "$h")" ] || fail "include/ledger/$(basename "$h") is not installed"
done

echo "== find_package(ledger) with CMAKE_PREFIX_PATH=$PREFIX"
gen=()
[ -n "$GENERATOR" ] && gen=(-G "$GENERATOR")
"$CMAKE" -S "$HERE" -B "$WORK/cmake-build" "${gen[@]}" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  ${VERSION:+-DLEDGER_EXPECTED_VERSION=$VERSION} >"$WORK/configure.log" 2>&1 \
  || { cat "$WORK/configure.log"; fail "configuring the consumer"; }
found=$(sed -n 's/^ledger_DIR:PATH=//p' "$WORK/cmake-build/CMakeCache.txt")
if [ -z "$found" ] || ! [ "$found" -ef "$LIBDIR/cmake/ledger" ]; then
  fail "find_package found '$found', not the fresh install"
fi
"$CMAKE" --build "$WORK/cmake-build" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "building the consumer"; }
if command -v ldd >/dev/null && [ -e "$LIBDIR/libledger.so" ]; then
  # (ldd's output is taken whole first: `ldd | grep -q` under pipefail fails at random
  # when grep exits early and ldd gets SIGPIPE.)
  libs=$(ldd "$WORK/cmake-build/consumer")
  grep -q "$LIBDIR/libledger.so" <<<"$libs" \
    || { echo "$libs"; fail "the consumer does not use the installed libledger"; }
fi
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$WORK/cmake-build/consumer" >"$WORK/out.txt" \
  || fail "the CMake-built consumer failed"
cat "$WORK/out.txt"
grep -q '^— timebank.example/510104 ' "$WORK/out.txt" || fail "no signed checkpoint printed"

echo "== pkg-config ledger with PKG_CONFIG_PATH=$LIBDIR/pkgconfig"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
pc=$(pkg-config --variable=pcfiledir ledger)
[ "$pc" -ef "$LIBDIR/pkgconfig" ] || fail "pkg-config found ledger.pc in $pc, not in the fresh install"
[ -z "$VERSION" ] || [ "$(pkg-config --modversion ledger)" = "$VERSION" ] \
  || fail "ledger.pc says version $(pkg-config --modversion ledger), expected $VERSION"
inc=$(pkg-config --variable=includedir ledger)
[ -f "$inc/ledger/ledger.h" ] || fail "ledger.pc's includedir $inc has no ledger/ledger.h"
lib=$(pkg-config --variable=libdir ledger)
[ "$lib" -ef "$LIBDIR" ] || fail "ledger.pc's libdir $lib is not the installed $LIBDIR"
# shellcheck disable=SC2046  # pkg-config output is meant to be split into words
for h in "$inc"/ledger/*.h; do  # each public header stands on its own
  echo "#include <ledger/$(basename "$h")>" | "$CXX" -x c++ -fsyntax-only $(pkg-config --cflags ledger) - \
    || fail "ledger/$(basename "$h") does not compile on its own with pkg-config --cflags ledger"
done
static=()
[ -e "$LIBDIR/libledger.so" ] || static=(--static)  # a static libledger needs its Libs.private
# shellcheck disable=SC2046
"$CXX" -o "$WORK/consumer-pc" "$HERE/main.cc" $(pkg-config "${static[@]}" --cflags --libs ledger) \
  || fail "compiling with pkg-config --cflags --libs ledger"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$WORK/consumer-pc" >"$WORK/out-pc.txt" \
  || fail "the pkg-config-built consumer failed"
grep -q '^— timebank.example/510104 ' "$WORK/out-pc.txt" || fail "no signed checkpoint printed (pkg-config build)"

echo "install_consumer: OK"

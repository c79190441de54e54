#!/usr/bin/env bash
# The libxml2 upgrade path (daemon/xml_compat.h): builds feedwatch with
# -Werror against another libxml2 and runs the parser's unit tests on it.
# Not a CI stage: Debian 12's archive has only libxml2 2.9.14, so the other
# one is built from its sources by hand (docs/hacking.md, "libxml2
# versions").
#   bash tests/ci/libxml2-next.sh PREFIX   (libxml2 installed under PREFIX)
# Every fixture must give the same items and fields. Only warnings and
# errors that quote libxml2's own messages may differ (their wording and
# count change between releases); anything else fails.
set -euo pipefail
prefix=${1:?usage: libxml2-next.sh PREFIX}
src=$(cd "$(dirname "$0")/../.." && pwd)
pc=$(dirname "$(find "$prefix" -name libxml-2.0.pc | head -1)")
build=$(mktemp -d /tmp/feedwatch-libxml2-XXXXXX)
trap 'rm -rf "$build"' EXIT
PKG_CONFIG_PATH=$pc meson setup "$build" "$src" -Dsystemd=disabled >/dev/null
ninja -C "$build" tests/test_parse daemon/feedwatch >/dev/null
echo "built against libxml2 $(PKG_CONFIG_PATH=$pc pkg-config --modversion libxml-2.0)"
out=$(FW_TEST_DATA="$src/tests/data" "$build/tests/test_parse" 2>&1 || true)
echo "$out" | grep -E '^[0-9]+%: Checks'
other=$(echo "$out" | grep -E ':[FE]:' |
	grep -vE 'warnings? expected|warning [0-9]+: want|error "not a feed: unreadable XML: ' || true)
if [ -n "$other" ]; then
	echo "FAIL - differences beyond libxml2's messages:"
	echo "$other"
	exit 1
fi
echo "ok   - every fixture gives the same items; only libxml2's messages differ"

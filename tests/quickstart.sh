#!/usr/bin/env bash
# The README's two set-up commands: install what is missing (Debian 12),
# build with meson, then either run the demo or run every test.
#   bash tests/quickstart.sh demo    # feedwatch once -c config/demo.yaml
#   bash tests/quickstart.sh test    # meson test: unit and CLI suites
set -euo pipefail

mode=${1:-}
case "$mode" in
demo|test|deps) ;;
*) echo "usage: $0 demo|test|deps" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

packages=(
	gcc pkg-config meson ninja-build
	libcurl4-openssl-dev libxml2-dev libyaml-dev libsqlite3-dev libpq-dev
	libjansson-dev libssl-dev libutf8proc-dev libstemmer-dev libsystemd-dev libmicrohttpd-dev
	nettle-dev zlib1g-dev liblzma-dev libicu-dev
	check python3 python3-aiosmtpd msmtp sqlite3 ca-certificates openssl scdoc
	postgresql
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	as_root=()
	[ "$(id -u)" -eq 0 ] || as_root=(sudo)
	echo "quickstart: installing ${missing[*]}"
	"${as_root[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ "$mode" = deps ] && exit 0

builddir=${FW_BUILDDIR:-build}
if [ -f "$builddir/build.ninja" ]; then
	meson setup --reconfigure "$builddir" >/dev/null
else
	meson setup "$builddir"
fi
ninja -C "$builddir"

if [ "$mode" = demo ]; then
	exec bash tests/demo.sh "$builddir/daemon/feedwatch" config/demo.yaml
fi
exec meson test -C "$builddir" --print-errorlogs --num-processes 2

#!/usr/bin/env bash
# Installs what the CI stages after the README's test need on a fresh
# Debian 12 machine (the README's command installs the build dependencies
# itself): clang with its sanitizer and libFuzzer runtimes, valgrind,
# cppcheck and clang-tidy, and systemd-nspawn for the service check.
# Only what is missing is installed.
set -euo pipefail

packages=(
	clang libclang-rt-14-dev clang-tidy cppcheck valgrind
	gcc pkg-config meson ninja-build check python3 coreutils
	systemd-container jq bc curl
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	as_root=()
	[ "$(id -u)" -eq 0 ] || as_root=(sudo)
	echo "ci-deps: installing ${missing[*]}"
	"${as_root[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
fi
for tool in clang clang-tidy cppcheck valgrind; do
	printf '%s: %s\n' "$tool" "$("$tool" --version 2>&1 | grep -m1 -iE 'version|[0-9]+\.[0-9]+')"
done

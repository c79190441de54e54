#!/usr/bin/env bash
# A -Werror build with one compiler, then the whole test suite on it.
#   .ci/build.sh gcc|clang BUILDDIR
# gcc builds the way a distribution package does (-O2, _FORTIFY_SOURCE,
# stack protector, NDEBUG): fortify and the optimiser find warnings a debug
# build does not, and the tests then run without assert(). clang builds the
# default (debugoptimized) way, with clang's own warnings.
set -euo pipefail
compiler=$1 builddir=$2

case "$compiler" in
gcc)
	opts=(-Dbuildtype=plain -Db_ndebug=true
	      "-Dc_args=-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wformat -Werror=format-security")
	;;
clang)
	opts=()
	;;
*)
	echo "usage: $0 gcc|clang BUILDDIR" >&2
	exit 2
	;;
esac

rm -rf "$builddir"
CC=$compiler meson setup "$builddir" -Dwerror=true "${opts[@]}" >"$builddir.setup.log" 2>&1 || {
	cat "$builddir.setup.log"
	exit 1
}
rm -f "$builddir.setup.log"
ninja -C "$builddir"
meson test -C "$builddir" --num-processes 2 --print-errorlogs

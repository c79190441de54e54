#!/usr/bin/env bash
# A -Werror build with one compiler, then the test suite on it (all but
# the CLI tests' second run on PostgreSQL).
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
# The CLI tests on PostgreSQL (suite cli_pg) run the same C as on SQLite
# but for db_pg.c, which store_postgresql and cli_shared cover here; the
# readme-tests and asan stages run them. They would add minutes to each
# compiler's stage for no warning a compiler could find.
meson test -C "$builddir" --num-processes 2 --print-errorlogs --no-suite cli_pg

#!/usr/bin/env bash
# The whole test suite (unit and cli) built with AddressSanitizer and
# UndefinedBehaviorSanitizer. Any report fails: -fno-sanitize-recover=all
# makes UB fatal, and LeakSanitizer (on with ASan) makes every leak at exit
# a non-zero status, which fails the Check program or the CLI test that ran
# the binary.
#   .ci/asan.sh [BUILDDIR]
set -euo pipefail
builddir=${1:-build-asan-ci}

rm -rf "$builddir"
meson setup "$builddir" -Db_sanitize=address,undefined \
	-Dc_args=-fno-sanitize-recover=all >"$builddir.setup.log" 2>&1 || {
	cat "$builddir.setup.log"
	exit 1
}
rm -f "$builddir.setup.log"
ninja -C "$builddir"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=print_suppressions=0
# The sanitizers make a run 2-3 times slower (test_parse's fixture loops
# took 300 s on a loaded machine): the tests' own timeouts are for a plain
# build.
meson test -C "$builddir" --num-processes 2 --print-errorlogs --timeout-multiplier 3

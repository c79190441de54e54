#!/usr/bin/env bash
# clang-tidy with the checks chosen in .clang-tidy (every warning is an
# error there); any finding fails.
#   .ci/clang-tidy.sh [CLANG_BUILDDIR] [FUZZ_BUILDDIR]
# daemon/ and tests/ use the compile commands of a clang build, fuzz/ those
# of the fuzz build (the only one that compiles the fuzz targets).
set -uo pipefail
builddir=${1:-build-clang-ci}
fuzzdir=${2:-build-fuzz-ci}

[ -f "$builddir/compile_commands.json" ] || { echo "clang-tidy: no $builddir/compile_commands.json (build first)"; exit 1; }
log=$(mktemp)
status=0
files=(daemon/*.c tests/*.c)
printf '%s\n' "${files[@]}" |
	xargs -P 2 -n 2 clang-tidy -p "$builddir" --quiet >"$log" 2>&1 || status=1
fuzz_files=(fuzz/*.c)
if [ -e "${fuzz_files[0]}" ]; then
	if [ -f "$fuzzdir/compile_commands.json" ]; then
		clang-tidy -p "$fuzzdir" --quiet "${fuzz_files[@]}" >>"$log" 2>&1 || status=1
		files+=("${fuzz_files[@]}")
	else
		echo "clang-tidy: no $fuzzdir/compile_commands.json: fuzz/ not checked"
		status=1
	fi
fi
# clang-tidy also counts the warnings it hid in system headers; keep only
# the findings and their context.
grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' "$log"
rm -f "$log"
if [ $status -eq 0 ]; then
	echo "clang-tidy: no findings in ${#files[@]} files"
fi
exit $status

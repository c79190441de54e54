#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a
# bounded time over a copy of its seed corpus (fuzz/corpus/<name>/) with its
# dictionary (fuzz/<name>.dict). Any crash, sanitizer report, leak, timeout
# or out-of-memory fails, and the input that caused it is printed (base64 and
# hex) so it can be added to the fixtures.
#   .ci/fuzz.sh [SECONDS_PER_TARGET] [BUILDDIR]
# FW_FUZZ_TARGETS="conf rules" limits the run to some targets.
set -uo pipefail
secs=${1:-60}
builddir=${2:-build-fuzz-ci}
root=$(pwd)

rm -rf "$builddir"
if ! CC=clang meson setup "$builddir" -Dfuzz=true -Dtests=false \
	>"$builddir.setup.log" 2>&1; then
	cat "$builddir.setup.log"
	exit 1
fi
rm -f "$builddir.setup.log"
ninja -C "$builddir" || exit 1

work=$(mktemp -d /tmp/feedwatch-fuzz.XXXXXX)
status=0
ran=0
for exe in "$builddir"/fuzz/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=${exe##*/fuzz_}
	if [ -n "${FW_FUZZ_TARGETS:-}" ] && [[ " $FW_FUZZ_TARGETS " != *" $name "* ]]; then
		continue
	fi
	ran=$((ran + 1))
	dir=$work/$name
	mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/cwd"
	seeds=()
	[ -d "fuzz/corpus/$name" ] && seeds=("$root/fuzz/corpus/$name")
	[ ${#seeds[@]} -gt 0 ] || echo "fuzz $name: no seed corpus in fuzz/corpus/$name"
	dict=()
	[ -f "fuzz/$name.dict" ] && dict=("-dict=$root/fuzz/$name.dict")
	# New inputs go to the scratch corpus (first directory), never into the
	# repository. The target runs in an empty directory so file names an
	# input makes up (secret_file: ...) find nothing of ours.
	(cd "$dir/cwd" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$root/$exe" "${dict[@]}" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" \
		"$dir/corpus" "${seeds[@]}" </dev/null >"$dir/log" 2>&1)
	rc=$?
	stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$dir/log" |
		sed 's/^stat:://' | tr -s ' \n' '  ')
	cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$dir/log" | tail -1 |
		grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/]+[a-zA-Z]*')
	if [ $rc -eq 0 ] && [ -z "$(ls -A "$dir/artifacts")" ]; then
		echo "fuzz $name: OK, ${secs}s: $stats$cov"
		continue
	fi
	status=1
	echo "fuzz $name: FAILED (exit $rc). The fuzzer's report:"
	grep -vE '^#[0-9]+' "$dir/log" | tail -80
	for a in "$dir"/artifacts/*; do
		[ -f "$a" ] || continue
		echo "---- crashing input ${a##*/} ($(stat -c %s "$a") bytes)"
		echo "---- base64 (decode with: base64 -d > fuzz/corpus/$name/regress-N):"
		base64 "$a"
		echo "---- hex:"
		od -A x -t x1z -v "$a" | head -64
		echo "---- reproduce: $builddir/fuzz/fuzz_$name FILE"
	done
done
rm -rf "$work"
if [ $ran -eq 0 ]; then
	echo "fuzz: no target was built in $builddir/fuzz"
	exit 1
fi
exit $status

#!/usr/bin/env bash
# cppcheck over every C file of ours; any finding fails.
#   .ci/cppcheck.sh [BUILDDIR]   (BUILDDIR holds the generated config.h)
# The few checks turned off are in .ci/cppcheck.supp, each with its reason.
# Prefer fixing the code to adding a suppression.
set -euo pipefail
builddir=${1:-build-ci}

[ -f "$builddir/config.h" ] || { echo "cppcheck: no $builddir/config.h (build first)"; exit 1; }
dirs=(daemon tests)
[ -d fuzz ] && dirs+=(fuzz)
# One job: cppcheck skips unusedFunction (a function nothing calls) when
# it runs several.
cppcheck --quiet --std=c11 --library=posix -D_GNU_SOURCE \
	-I daemon -I "$builddir" \
	--enable=warning,performance,portability,unusedFunction \
	--suppressions-list=.ci/cppcheck.supp \
	--inline-suppr --error-exitcode=1 \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	"${dirs[@]}"
echo "cppcheck: no findings in ${dirs[*]}"

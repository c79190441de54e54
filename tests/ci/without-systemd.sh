#!/usr/bin/env bash
# CI stage: feedwatch built without libsystemd and libmicrohttpd (both are
# optional meson features). `run` must work the same: notify.c then sends
# the sd_notify datagrams itself, logging stays on stderr with priorities,
# and an http listen address is refused with a reason. Builds the binary and
# the service tests only, in its own build directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build-without-systemd}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { meson setup --wipe "$builddir" -Dsystemd=disabled -Dmetrics=disabled ||
	meson setup "$builddir" -Dsystemd=disabled -Dmetrics=disabled; } >"$log" 2>&1; then
	cat "$log"; exit 1
fi
grep -q '#define HAVE_LIBSYSTEMD 0' "$builddir/config.h"
grep -q '#define HAVE_LIBMICROHTTPD 0' "$builddir/config.h"
ninja -C "$builddir" daemon/feedwatch tests/test_notify tests/test_metrics >"$log" 2>&1 ||
	{ cat "$log"; exit 1; }
meson test -C "$builddir" --no-rebuild --print-errorlogs \
	notify metrics cli_notify cli_reload cli_journal cli_service

#!/usr/bin/env bash
# The README demo, run by `bash tests/quickstart.sh demo` once the build is
# done: one poll cycle over the bundled sample feeds, then one line on what
# to do next. Arguments (for the test that checks its output): the
# feedwatch executable and the demo configuration.
set -euo pipefail
fw=${1:-build/daemon/feedwatch}
conf=${2:-config/demo.yaml}

echo
echo "== feedwatch once -c $conf (alerts below; JSON Lines in demo-alerts.jsonl)"
echo "== state in demo-state.db: run this again and no alert repeats"
"$fw" once -c "$conf"
echo "== next: put your own topics in config/feedwatch.yaml (docs/rules.md), add feeds with 'feedwatch add URL', then run it as a service (README, \"Running as a service\")" >&2

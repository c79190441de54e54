#!/usr/bin/env bash
# CI stage: the installed service under a real systemd (PID 1 of a
# container booted from an overlay of this machine's root), with evidence
# printed for every check. How and why: docs/hacking.md, "The service under
# a real systemd".
#
#   bash tests/ci/systemd-check.sh          (as root; installs
#                                            systemd-container if missing)
#
# Outline: in a private mount namespace, a tmpfs holds an overlay of / and
# `meson install` goes into it; units the host root enables (nginx,
# postgresql, timers, getty) are masked; systemd-nspawn boots it with a
# private network. Two test servers run as units inside, on its loopback: a
# feed server and a server that accepts and never answers. Everything is
# unmounted and the container powered off at the end, pass or fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

if [ "$(id -u)" -ne 0 ]; then
	echo "systemd-check: needs root (unshare, mount, systemd-nspawn)" >&2
	exit 1
fi

# --- outside: packages and the build, then the rest in a new namespace -----
if [ "${1:-}" != --inside ]; then
	need=()
	command -v systemd-nspawn >/dev/null || need+=(systemd-container)
	command -v jq >/dev/null || need+=(jq)
	command -v bc >/dev/null || need+=(bc)
	command -v curl >/dev/null || need+=(curl)
	if [ ${#need[@]} -gt 0 ]; then
		# Without recommends: libnss-mymachines would edit nsswitch.conf.
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${need[@]}" >/dev/null || exit 1
	fi
	work=$(mktemp -d /tmp/feedwatch-systemd-XXXXXX)
	if ! { meson setup "$work/build" "$src" --prefix=/usr -Dtests=false -Ddocs=disabled &&
		ninja -C "$work/build"; } >"$work/build.log" 2>&1; then
		tail -30 "$work/build.log"
		echo "FAIL - build"
		rm -rf "$work"
		exit 1
	fi
	unshare -m --propagation private "$0" --inside "$work"
	rc=$?
	rm -rf "$work"
	exit $rc
fi

# --- inside the private mount namespace ------------------------------------
work=$2
fail=0
ok()   { echo "ok   - $*"; }
bad()  { echo "FAIL - $*"; fail=1; }
check() {	# check DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# /run is on disk here, and nspawn leaves /run/systemd/nspawn behind.
mount -t tmpfs tmpfs /run/systemd
mkdir -p "$work/t"
mount -t tmpfs -o size=2g tmpfs "$work/t"
mkdir -p "$work/t/upper" "$work/t/work" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/t/upper,workdir=$work/t/work" "$work/root"
root=$work/root
DESTDIR=$root meson install -C "$work/build" --no-rebuild >/dev/null || exit 1

for u in nginx.service postgresql.service postgresql@.service apt-daily.timer \
	apt-daily-upgrade.timer man-db.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer getty@.service serial-getty@.service console-getty.service \
	systemd-networkd-wait-online.service ssh.service cron.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
systemd-id128 new >"$root/etc/machine-id"

# The test servers, as units of the container.
mkdir -p "$root/srv/feeds"
now=$(date -u '+%a, %d %b %Y %H:%M:%S GMT')
cat >"$root/srv/feeds/wire.xml" <<EOF
<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title>
<item><guid>w1</guid><title>US and South Korea begin Freedom Shield drills</title>
<link>http://127.0.0.1:8080/w1</link><pubDate>$now</pubDate>
<description>The allies started their annual exercise.</description></item>
<item><guid>w2</guid><title>Seoul agrees to pay more under special measures agreement</title>
<link>http://127.0.0.1:8080/w2</link><pubDate>$now</pubDate>
<description>The cost-sharing deal for US troops was signed.</description></item>
</channel></rss>
EOF
cat >"$root/etc/systemd/system/fw-feeds.service" <<'EOF'
[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 127.0.0.1 --directory /srv/feeds
EOF
cat >"$root/etc/systemd/system/fw-hang.service" <<'EOF'
[Service]
ExecStart=/usr/bin/python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 8081)); s.listen(16); held=[]; exec('while True: held.append(s.accept())')"
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
for u in fw-feeds.service fw-hang.service; do
	ln -sf "/etc/systemd/system/$u" "$root/etc/systemd/system/multi-user.target.wants/$u"
done
# A short watchdog, so that a transfer hanging for its timeout (5 s) would
# have tripped it before the fix; a log sink as text on the journal, and a
# JSONL archive in the logs directory.
mkdir -p "$root/etc/systemd/system/feedwatch.service.d"
cat >"$root/etc/systemd/system/feedwatch.service.d/test.conf" <<'EOF'
[Service]
WatchdogSec=4s
EOF
cat >"$root/etc/feedwatch/feedwatch.yaml" <<'EOF'
state: /var/lib/feedwatch/state.db
http: {listen: "127.0.0.1:9117"}
defaults: {interval: 5m, timeout: 5s, backlog: 24h}
feeds:
  - {url: "http://127.0.0.1:8080/wire.xml", name: wire}
  - {url: "http://127.0.0.1:8081/hang.xml", name: hang}
  - {url: "http://127.0.0.1:1/down.xml", name: down}
topics:
  - {name: drills, terms: ["drills"], severity: high}
  - {name: sma, terms: ['"special measures agreement"']}
sinks:
  - {type: log, path: "-", format: text}
  - {type: log, path: /var/log/feedwatch/alerts.jsonl, format: jsonl}
EOF

# A cgroup of our own to hand to nspawn (--keep-unit), in both hierarchies
# systemd 252 looks at on this hybrid layout.
cg=feedwatch-ci-$$
for h in unified systemd; do
	mkdir -p "/sys/fs/cgroup/$h/$cg"
	echo $$ >"/sys/fs/cgroup/$h/$cg/cgroup.procs"
done

systemd-nspawn --register=no --keep-unit --private-network --console=read-only \
	-D "$root" --boot >"$work/console.log" 2>&1 &
nspawn=$!
cleanup() {
	kill -TERM "$nspawn" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$nspawn" 2>/dev/null
	wait "$nspawn" 2>/dev/null
	for h in unified systemd; do
		# Leave our cgroup, then remove it and what systemd made, deepest first.
		echo $$ >"/sys/fs/cgroup/$h/cgroup.procs" 2>/dev/null
		find "/sys/fs/cgroup/$h/$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	umount -R "$root" 2>/dev/null || umount -l "$root"
	umount "$work/t" 2>/dev/null || umount -l "$work/t"
	umount /run/systemd 2>/dev/null
}
trap cleanup EXIT

# PID 1 of the container: the child of nspawn that lives in a new PID
# namespace. nspawn first forks an outer child that clones the container's
# init and exits; on a loaded machine pgrep can see that one, whose
# namespaces vanish a moment later (CI once failed so).
own_pidns=$(readlink /proc/self/ns/pid)
find_leader() {
	local p
	for p in $(pgrep -P "$nspawn"); do
		[ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" != "$own_pidns" ] &&
			[ -e "/proc/$p/ns/cgroup" ] && { echo "$p"; return 0; }
	done
	return 1
}
leader=
for _ in $(seq 1 200); do
	leader=$(find_leader) && break
	sleep 0.1
done
if [ -z "$leader" ]; then
	cat "$work/console.log"
	echo "FAIL - the container did not start"
	exit 1
fi
in_ct() { nsenter -t "$leader" -m -u -i -n -p -C -- "$@"; }
for _ in $(seq 1 150); do
	state=$(in_ct systemctl is-system-running 2>/dev/null)
	case "$state" in running|degraded) break ;; esac
	sleep 0.2
done
echo "# container booted: $state"
# Still "starting" on a slow machine is fine; no answer at all is not.
case "$state" in
running|degraded|starting) ;;
*)	tail -40 "$work/console.log"
	echo "FAIL - the container did not boot (leader $leader)"
	exit 1 ;;
esac
[ "${FW_SYSTEMD_SHELL:-}" = 1 ] && { in_ct bash; exit 0; }


J() { in_ct journalctl --no-pager -u feedwatch "$@"; }
prop() { in_ct systemctl show -P "$1" feedwatch; }
wait_journal() {	# wait_journal SECONDS PATTERN [SINCE-CURSOR-FILE]: grep the unit's journal
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		J -o cat | grep -q -- "$2" && return 0
		sleep 0.3
	done
	return 1
}

# 1. start returns after READY=1: the unit is active (running) at once.
t0=$(date +%s.%N)
in_ct systemctl start feedwatch
start_rc=$?
t1=$(date +%s.%N)
echo "# systemctl start returned $start_rc after $(echo "$t1 - $t0" | bc) s"
echo "# $(in_ct systemctl show -p Type -p ActiveState -p SubState -p MainPID -p NRestarts feedwatch | tr '\n' ' ')"
check "systemctl start returns 0" [ "$start_rc" -eq 0 ]
check "Type=notify" [ "$(prop Type)" = notify ]
check "active (running) as soon as start returns" \
	[ "$(prop ActiveState)/$(prop SubState)" = active/running ]
pid=$(prop MainPID)
status=$(prop StatusText)
echo "# STATUS=: $status"
check "the STATUS= line is shown by systemctl" grep -q "feeds" <<<"$status"

# 2. The first cycle: alerts, the hanging feed (5 s timeout, WatchdogSec=4s).
wait_journal 20 "cycle: 3 feeds polled" || true
J -o cat | sed 's/^/#   journal: /' | head -40
check "the first cycle ran over all three feeds" wait_journal 1 "cycle: 3 feeds polled"
check "the hanging feed failed by its own 5 s timeout" \
	wait_journal 1 "feed 'hang': Operation timed out after 5"
check "no watchdog kill during the hanging transfer (NRestarts=$(prop NRestarts))" \
	[ "$(prop NRestarts)" = 0 -a "$(prop MainPID)" = "$pid" -a -n "$pid" ]

# 3. State and logs, owned by the dynamic user.
db=/var/lib/private/feedwatch/state.db
echo "# $(in_ct stat -c '%n %U uid=%u mode=%a' $db)"
uid=$(in_ct ps -o uid= -p "$pid" | tr -d ' ')
check "the state file belongs to the dynamic user (uid $uid)" \
	[ -n "$uid" -a "$(in_ct stat -c %u $db)" = "$uid" -a "$uid" != 0 ]
check "the state file is mode 0600" [ "$(in_ct stat -c %a $db)" = 600 ]
n_alerts=$(in_ct sh -c 'wc -l < /var/log/feedwatch/alerts.jsonl' 2>/dev/null)
echo "# /var/log/feedwatch/alerts.jsonl: ${n_alerts:-missing} lines"
check "both alerts are in the JSONL archive in the logs directory" [ "${n_alerts:-0}" = 2 ]

# 4. Journal fields.
J FEED_URL=http://127.0.0.1:1/down.xml -o json | head -1 |
	jq -c '{PRIORITY, FEED_URL, MESSAGE}' | sed 's/^/#   /'
n=$(J FEED_URL=http://127.0.0.1:1/down.xml -p 4 -o cat | grep -c down)
check "the failing feed's warning has FEED_URL= at PRIORITY=4 ($n entries)" [ "$n" -ge 1 ]
J TOPIC=drills -p warning -o json | jq -c '{PRIORITY, TOPIC, ALERT_ID, MESSAGE}' | sed 's/^/#   /'
n=$(J TOPIC=drills -p warning -o json |
	jq -c 'select(.ALERT_ID != null and (.MESSAGE | test("Freedom Shield")))' | wc -l)
check "the high alert is one entry found by TOPIC=drills -p warning, with ALERT_ID= ($n)" \
	[ "$n" = 1 ]
n=$(J TOPIC=sma -o json | jq -c 'select(.MESSAGE | test("special measures"))' | wc -l)
n_warn=$(J TOPIC=sma -p warning -o cat | grep -c "special measures")
check "the normal alert (sma) is one entry ($n), below warning ($n_warn)" [ "$n" = 1 -a "$n_warn" = 0 ]

# 5. /healthz.
health=$(in_ct curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9117/healthz)
echo "# /healthz: HTTP $health"
check "/healthz answers 200" [ "$health" = 200 ]

# 6. A broken file on reload: logged with file:line:col and refused.
cp "$root/etc/feedwatch/feedwatch.yaml" "$work/good.yaml"
printf 'feeds:\n  - {url: x, colour: red}\n' >>"$root/etc/feedwatch/feedwatch.yaml"
in_ct systemctl reload feedwatch
check "a broken file on reload is logged with file:line:col" \
	wait_journal 10 "^/etc/feedwatch/feedwatch.yaml:[0-9]*:[0-9]*: "
J -o cat | grep "^/etc/feedwatch/feedwatch.yaml:" | sed 's/^/#   /' | head -3
check "and refused: still active, same PID, no restart" \
	[ "$(prop ActiveState)" = active -a "$(prop MainPID)" = "$pid" -a "$(prop NRestarts)" = 0 -a -n "$pid" ]

# 7. A changed watchlist on reload: applied by the same process. On systemd
#    252 `systemctl reload` returns before the daemon applied the file
#    (Type=notify-reload needs 253): wait for its "reloaded" line.
sed 's|  - {url: "http://127.0.0.1:1/down.xml", name: down}|&\n  - {url: "http://127.0.0.1:8081/slow.xml", name: slow, timeout: 30s}|' \
	"$work/good.yaml" >"$root/etc/feedwatch/feedwatch.yaml"
in_ct systemctl reload feedwatch
check "a changed watchlist is applied on reload" wait_journal 10 "reloaded: 4 feeds"
check "by the same process (PID $pid)" [ -n "$pid" -a "$(prop MainPID)" = "$pid" ]

# 8. Stop with a transfer in flight (the new feed hangs for 30 s).
sleep 1
t0=$(date +%s.%N)
in_ct systemctl stop feedwatch
t1=$(date +%s.%N)
took=$(echo "$t1 - $t0" | bc)
echo "# systemctl stop took $took s; Result=$(prop Result) ExecMainStatus=$(prop ExecMainStatus)"
check "stop with a transfer in flight takes under 5 s" [ "$(echo "$took < 5" | bc)" = 1 ]
check "and ends with Result=success" [ "$(prop Result)" = success ]
check "the interrupted cycle was logged" wait_journal 1 "cycle interrupted"

# 9. Live exposure, and no sign of a denied syscall, path or watchdog.
exposure=$(in_ct systemd-analyze security feedwatch --no-pager 2>&1 | tail -1)
echo "# $exposure"
score=$(sed -n 's/.*feedwatch.service: \([0-9.]*\).*/\1/p' <<<"$exposure")
check "live systemd-analyze security is at most 1.5 (${score:-none})" \
	[ -n "$score" -a "$(echo "${score:-9} <= 1.5" | bc)" = 1 ]
bad_lines=$(in_ct journalctl --no-pager -o cat | grep -E \
	"SIGSYS|status=31/SYS|EROFS|Read-only file system|EACCES|Permission denied|Watchdog timeout" || true)
[ -n "$bad_lines" ] && sed 's/^/#   /' <<<"$bad_lines"
check "no SIGSYS, EROFS, EACCES or watchdog timeout in the journal" [ -z "$bad_lines" ]

echo "# systemd-check: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
exit $fail

#!/usr/bin/env bash
# CI stage: `meson install` into a DESTDIR, twice, and check what lands where.
#  1. --prefix=/usr (a distribution build): the binary, the unit in systemd's
#     unit directory, the default config in /etc/feedwatch, both man pages
#     and the docs, and nothing else; the unit names the installed paths and
#     its systemd-analyze exposure is at most 1.5.
#  2. Installing again over an edited config keeps the admin's file and puts
#     the shipped one beside it as feedwatch.yaml.default.
#  3. --prefix=/usr/local: everything follows the prefix, the unit too.
# Usage: bash tests/ci/install-check.sh   (from anywhere; builds in /tmp)
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
work=$(mktemp -d /tmp/feedwatch-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
ok()   { echo "ok   - $*"; }
bad()  { echo "FAIL - $*"; fail=1; }

# The man pages are required here: a CI without scdoc should fail loudly.
build() {	# build DIR PREFIX
	if ! { meson setup "$1" "$src" --prefix="$2" -Ddocs=enabled -Dtests=false &&
		ninja -C "$1"; } > "$work/build.log" 2>&1; then
		tail -30 "$work/build.log"
		echo "FAIL - build with --prefix=$2"
		exit 1
	fi
}

# --- 1. /usr -------------------------------------------------------------
build "$work/b-usr" /usr
DESTDIR="$work/root" meson install -C "$work/b-usr" --no-rebuild >/dev/null
# systemd.pc's root prefix is replaced by ours: /usr/lib/systemd/system.
unitdir=/usr/lib/systemd/system
libdir=$(meson introspect --buildoptions "$work/b-usr" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"][0])')
expected="etc/feedwatch/feedwatch.yaml
etc/logrotate.d/feedwatch
usr/bin/feedwatch
${unitdir#/}/feedwatch.service
usr/share/doc/feedwatch/README.md
usr/share/man/man1/feedwatch.1
usr/share/man/man5/feedwatch.yaml.5"
actual=$(cd "$work/root" && find . -type f | sed 's|^\./||' | sort)
# Extra docs under share/doc/feedwatch are welcome; anything else is not.
extra=$(comm -13 <(echo "$expected" | sort) <(echo "$actual") |
	grep -v '^usr/share/doc/feedwatch/[a-z-]*\.md$' || true)
missing=$(comm -23 <(echo "$expected" | sort) <(echo "$actual"))
[ -z "$missing" ] && ok "prefix /usr: every expected file installed" ||
	bad "prefix /usr: missing: $missing"
[ -z "$extra" ] && ok "prefix /usr: no unexpected files" || bad "prefix /usr: unexpected: $extra"
echo "$actual" | sed 's/^/       /'

unit="$work/root/${unitdir#/}/feedwatch.service"
grep -qx 'ExecStart=/usr/bin/feedwatch run -c /etc/feedwatch/feedwatch.yaml' "$unit" &&
	ok "unit runs /usr/bin/feedwatch with /etc/feedwatch/feedwatch.yaml" ||
	bad "unit ExecStart: $(grep ExecStart= "$unit")"
cmp -s "$src/config/feedwatch.yaml" "$work/root/etc/feedwatch/feedwatch.yaml" &&
	ok "the default config is the shipped one" || bad "installed config differs"
[ -x "$work/root/usr/bin/feedwatch" ] && "$work/root/usr/bin/feedwatch" --version >/dev/null &&
	ok "installed binary runs" || bad "installed binary does not run"
# check-config checks the state
# directory too (/var/lib/feedwatch, which systemd creates): a copy points
# the state into the DESTDIR.
mkdir -p "$work/root/var/lib/feedwatch"
sed "s|^state: /var/lib/feedwatch/|state: $work/root/var/lib/feedwatch/|" \
	"$work/root/etc/feedwatch/feedwatch.yaml" >"$work/state-check.yaml"
env -u LD_LIBRARY_PATH "$work/root/usr/bin/feedwatch" check-config -c "$work/state-check.yaml" >/dev/null &&
	ok "installed config passes check-config" ||
	bad "installed config fails check-config"
for page in man1/feedwatch.1 man5/feedwatch.yaml.5; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$work/root/usr/share/man/$page" 2>&1 >/dev/null)
	[ -z "$w" ] && ok "installed $page renders without warnings" || bad "$page: $w"
done
if command -v systemd-analyze >/dev/null; then
	level=$(systemd-analyze security --offline=true --no-pager "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for feedwatch.service: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk "BEGIN { exit !($level <= 1.5) }"; then
		ok "systemd-analyze security --offline=true: exposure $level <= 1.5"
	else
		bad "systemd-analyze security exposure '$level' > 1.5"
	fi
else
	bad "systemd-analyze is missing"
fi

# --- 2. reinstall over an edited config ----------------------------------
echo "# edited by the admin" >> "$work/root/etc/feedwatch/feedwatch.yaml"
before=$(sha256sum < "$work/root/etc/feedwatch/feedwatch.yaml")
DESTDIR="$work/root" meson install -C "$work/b-usr" --no-rebuild >/dev/null
after=$(sha256sum < "$work/root/etc/feedwatch/feedwatch.yaml")
[ "$before" = "$after" ] && ok "reinstall keeps the admin's feedwatch.yaml" ||
	bad "reinstall overwrote feedwatch.yaml"
cmp -s "$src/config/feedwatch.yaml" "$work/root/etc/feedwatch/feedwatch.yaml.default" &&
	ok "the shipped config lands beside it as feedwatch.yaml.default" ||
	bad "no feedwatch.yaml.default after reinstall"

# --- 3. /usr/local ---------------------------------------------------------
build "$work/b-local" /usr/local
DESTDIR="$work/local" meson install -C "$work/b-local" --no-rebuild >/dev/null
for f in usr/local/bin/feedwatch usr/local/lib/systemd/system/feedwatch.service \
	usr/local/etc/feedwatch/feedwatch.yaml usr/local/share/man/man1/feedwatch.1 \
	usr/local/share/man/man5/feedwatch.yaml.5; do
	[ -f "$work/local/$f" ] && ok "prefix /usr/local: $f" || bad "prefix /usr/local: no $f"
done
grep -qx 'ExecStart=/usr/local/bin/feedwatch run -c /usr/local/etc/feedwatch/feedwatch.yaml' \
	"$work/local/usr/local/lib/systemd/system/feedwatch.service" &&
	ok "prefix /usr/local: the unit follows the prefix" || bad "prefix /usr/local: unit paths"
stray=$(cd "$work/local" && find . -type f | grep -v '^\./usr/local/' || true)
[ -z "$stray" ] && ok "prefix /usr/local: nothing outside the prefix" || bad "outside the prefix: $stray"

exit $fail

"""The systemd unit meson generates: the directives the service relies on
are there with the install paths filled in, and `systemd-analyze security
--offline=true` rates its overall exposure at 1.5 or lower. Then the unit's
system-call filter is put to work without systemd: the allow-list systemd
would build from SystemCallFilter= (groups expanded by systemd-analyze),
with RestrictAddressFamilies=, MemoryDenyWriteExecute= and
SystemCallErrorNumber=EPERM, is loaded
with libseccomp in front of feedwatch, which must still fetch feeds over
HTTP (libcurl), parse them (libxml2), keep state (SQLite), deliver alerts,
serve /metrics (libmicrohttpd's thread), notify, reload and stop. Skipped
(77) without systemd-analyze, except under CI."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from fwtest import (FW_BIN, FeedServer, check, finish, read_jsonl, rss, tmpdir, write,
                    state_path, state_sql)

MAX_EXPOSURE = 1.5


def unit_path():
    # FW_BIN is BUILD/daemon/feedwatch; meson writes BUILD/systemd/feedwatch.service.
    build = os.path.dirname(os.path.dirname(os.path.abspath(FW_BIN)))
    return os.path.join(build, "systemd", "feedwatch.service")


def directives(text):
    out = {}
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k, []).append(v)
    return out


def main():
    path = unit_path()
    if not check(os.path.exists(path), "meson generated %s" % path):
        finish()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    d = directives(text)
    check("@" not in text.replace("@system-service", "").replace("@privileged", "")
          .replace("@resources", ""), "every @placeholder@ was substituted")
    start = d.get("ExecStart", [""])[0]
    check(re.match(r"^/\S*/bin/feedwatch run -c /\S+/feedwatch/feedwatch\.yaml$", start) is not None,
          "ExecStart runs the installed binary with the installed config: %s" % start)
    want = {
        "Type": "notify", "DynamicUser": "yes", "StateDirectory": "feedwatch",
        "ConfigurationDirectory": "feedwatch", "LogsDirectory": "feedwatch",
        "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
        "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "SystemCallArchitectures": "native",
    }
    for k, v in want.items():
        check(d.get(k, [None])[-1] == v, "%s=%s (found %s)" % (k, v, d.get(k)))
    check(d.get("WatchdogSec") is not None, "WatchdogSec is set (%s)" % d.get("WatchdogSec"))
    fams = " ".join(d.get("RestrictAddressFamilies", [])).split()
    check(sorted(fams) == ["AF_INET", "AF_INET6", "AF_UNIX"],
          "network limited to AF_INET, AF_INET6, AF_UNIX: %s" % fams)
    check(any("@system-service" in v for v in d.get("SystemCallFilter", [])),
          "a system-call filter (@system-service) is in place")

    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI"):
            check(False, "systemd-analyze is installed (CI checks the exposure)")
            finish()
        print("SKIP: no systemd-analyze")
        sys.exit(77)
    r = subprocess.run([exe, "security", "--offline=true", "--no-pager", path],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for feedwatch\.service: (\d+\.\d+)", r.stdout + r.stderr)
    check(m is not None, "systemd-analyze security rates the unit")
    if m:
        level = float(m.group(1))
        print("exposure: %.1f" % level)
        check(level <= MAX_EXPOSURE, "overall exposure %.1f <= %.1f" % (level, MAX_EXPOSURE))
        for line in (r.stdout).split("\n"):
            if line.startswith("\u2717"):
                print("  " + line.rstrip())
    # The filter groups must exist in this systemd, or the unit fails to start.
    for group in ("@system-service", "@privileged", "@resources"):
        g = subprocess.run([exe, "syscall-filter", group], capture_output=True, text=True)
        check(g.returncode == 0 and len(g.stdout.split("\n")) > 5,
              "systemd knows the syscall group %s" % group)
    run_under_filter(exe, d)
    finish()


def syscall_groups(exe):
    """Every group systemd-analyze knows: name -> members (names or @groups)."""
    out = subprocess.run([exe, "syscall-filter", "--no-pager"], capture_output=True,
                         text=True).stdout
    groups, cur = {}, None
    for line in out.split("\n"):
        if line.startswith("@"):
            cur = line.strip()
            groups[cur] = []
        elif cur and line.strip() and not line.strip().startswith("#"):
            groups[cur].append(line.strip())
    return groups


def expand(groups, names, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            out |= expand(groups, groups.get(n, []), seen)
        else:
            out.add(n)
    return out


def allow_list(exe, unit):
    """What systemd allows for SystemCallFilter= lines, in order."""
    groups = syscall_groups(exe)
    allowed = None
    for line in unit.get("SystemCallFilter", []):
        deny = line.startswith("~")
        names = expand(groups, line.lstrip("~").split())
        if allowed is None:
            allowed = set() if not deny else None
        if deny:
            allowed = (allowed or set()) - names
        else:
            allowed |= names
    return allowed or set()


SECCOMP_HELPER = r'''
import ctypes, os, sys
lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
class Arg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                       ctypes.c_uint, ctypes.POINTER(Arg)]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
ALLOW, EPERM = 0x7fff0000, 0x00050000 | 1
names = open(sys.argv[1]).read().split()
ctx = lib.seccomp_init(EPERM)
n = 0
for name in names:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0 or name in ("socket", "mmap", "mprotect", "pkey_mprotect", "shmat"):
        continue
    if lib.seccomp_rule_add_array(ctx, ALLOW, nr, 0, None) == 0:
        n += 1
# RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX.
sock = lib.seccomp_syscall_resolve_name(b"socket")
for fam in (1, 2, 10):
    arg = Arg(0, 4, fam, 0)   # SCMP_CMP_EQ
    lib.seccomp_rule_add_array(ctx, ALLOW, sock, 1, ctypes.byref(arg))
# MemoryDenyWriteExecute=yes, as systemd words it in seccomp: no mmap()
# both writable and executable, no mprotect()/pkey_mprotect() adding
# PROT_EXEC, no shmat() with SHM_EXEC.
W, X, SHM_EXEC = 2, 4, 0o100000
MASKED_EQ = 7
def allow_masked(name, argno, mask, values):
    nr = lib.seccomp_syscall_resolve_name(name)
    for v in values:
        arg = Arg(argno, MASKED_EQ, mask, v)
        lib.seccomp_rule_add_array(ctx, ALLOW, nr, 1, ctypes.byref(arg))
if "mmap" in names:
    allow_masked(b"mmap", 2, W | X, (0, W, X))
if "mprotect" in names:
    allow_masked(b"mprotect", 2, X, (0,))
if "pkey_mprotect" in names:
    allow_masked(b"pkey_mprotect", 2, X, (0,))
if "shmat" in names:
    allow_masked(b"shmat", 2, SHM_EXEC, (0,))
if lib.seccomp_load(ctx) != 0:
    sys.exit("seccomp_load failed")
os.execv(sys.argv[2], sys.argv[2:])
'''


def run_under_filter(exe, d_unit):
    try:
        import ctypes
        ctypes.CDLL("libseccomp.so.2")
    except OSError:
        print("SKIP: libseccomp.so.2 not available: the filter is not exercised")
        return
    allowed = allow_list(exe, d_unit)
    check(len(allowed) > 200 and "setuid" not in allowed and "setrlimit" not in allowed
          and "openat" in allowed and "sendto" in allowed,
          "the unit's filter expands to %d allowed calls, without @privileged/@resources"
          % len(allowed))
    d = tmpdir()
    names = write(os.path.join(d, "allowed.txt"), "\n".join(sorted(allowed)))
    helper = write(os.path.join(d, "seccomp_exec.py"), SECCOMP_HELPER)
    wrap = [sys.executable, helper, names]
    # LeakSanitizer needs ptrace, which the filter (rightly) refuses: under
    # an ASan build, leaks are checked by the other tests instead.
    fenv = dict(os.environ)
    fenv["ASAN_OPTIONS"] = (fenv.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")

    probe = subprocess.run(wrap + ["/bin/sh", "-c", "exec python3 -c \"import socket; "
                                   "socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\""],
                           capture_output=True, text=True)
    check(probe.returncode != 0 and ("PermissionError" in probe.stderr or
                                     "Operation not permitted" in probe.stderr),
          "the emulated filter bites: AF_PACKET sockets are refused")
    probe = subprocess.run(wrap + [sys.executable, "-c", "import mmap; mmap.mmap(-1, 4096, "
                                   "prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"],
                           capture_output=True, text=True)
    check(probe.returncode != 0 and "Operation not permitted" in probe.stderr,
          "MemoryDenyWriteExecute is emulated: a writable+executable mapping is refused (%r)"
          % probe.stderr[-120:])
    recent = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 600))
    with FeedServer() as srv:
        srv.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "1", "title": "Combined drills begin", "pubDate": recent,
             "description": "<p>An <b>exercise</b> &amp; more</p>"}]))
        srv.routes["/a.xml"] = (200, {"Content-Type": "application/atom+xml"},
                                """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>A</title><id>urn:a</id><updated>2025-01-01T00:00:00Z</updated>
<entry><id>urn:a1</id><title>Tariffs rise</title><updated>%s</updated></entry></feed>"""
                                % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)))
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        alerts = os.path.join(d, "alerts.jsonl")
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
http: {listen: "127.0.0.1:%d"}
defaults: {interval: 1h}
feeds:
  - {url: "%s", name: rss}
  - {url: "%s", name: atom}
topics:
  - {name: drills, terms: ["drills"]}
  - {name: tariffs, terms: ["tariffs"]}
sinks:
  - {type: log, path: "%s", format: jsonl}
""" % (state_path(d), port, srv.url("/f.xml"), srv.url("/a.xml"), alerts))
        r = subprocess.run(wrap + [os.path.abspath(FW_BIN), "once", "-c", conf],
                           capture_output=True, text=True, timeout=60, env=fenv)
        check(r.returncode == 0 and len(read_jsonl(alerts)) == 2,
              "under the unit's filter, `once` fetches, parses, stores and alerts (rc %s, %d "
              "alerts): %s" % (r.returncode, len(read_jsonl(alerts)), r.stderr[-300:]))
        check("not permitted" not in r.stderr, "no call was refused during `once`")

        nsock = os.path.join(d, "notify.sock")
        lis = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        lis.bind(nsock)
        lis.settimeout(10)
        env = dict(fenv, NOTIFY_SOCKET=nsock, WATCHDOG_USEC="2000000")
        env.pop("WATCHDOG_PID", None)
        proc = subprocess.Popen(wrap + [os.path.abspath(FW_BIN), "run", "-c", conf], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            ready = lis.recv(4096).decode()
        except socket.timeout:
            ready = ""
        check("READY=1" in ready, "under the filter, `run` notifies READY=1")
        body = ""
        for _ in range(50):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as u:
                    body = u.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        check("feedwatch_up 1" in body, "under the filter, /metrics is served")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
        lis.close()
        check(proc.returncode == 0 and "reloaded" in err,
              "under the filter, `run` reloads and stops cleanly (rc %s): %s"
              % (proc.returncode, err[-300:]))
        check("not permitted" not in err, "no call was refused during `run`")


if __name__ == "__main__":
    main()

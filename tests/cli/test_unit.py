"""The systemd unit meson generates: the directives the service relies on
are there with the install paths filled in, and `systemd-analyze security
--offline=true` rates its overall exposure at 1.5 or lower. Skipped (77)
without systemd-analyze, except under CI."""
import os
import re
import shutil
import subprocess
import sys

from fwtest import FW_BIN, check, finish

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
    finish()


if __name__ == "__main__":
    main()

"""Logging as journald sees it:
 - when JOURNAL_STREAM names stderr, every line carries its syslog
   priority ("<3>" errors, "<5>" notices, "<6>" info); when it names some
   other file (a child's inherited variable), lines stay plain;
 - --log-level drops what is below the level;
 - structured messages (file:line:col errors with CONFIG_FILE=, feed events
   with FEED_URL=) reach journald's native socket with their fields when
   feedwatch has libsystemd. That part runs in a private mount namespace
   with a socket of the test's own at /run/systemd/journal/socket (root
   and unshare(1) needed; skipped otherwise)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from fwtest import FW_BIN, FeedServer, check, finish, rss, tmpdir, write, state_path, state_sql

CLEAN_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")


def run_with_stream(args, matching=True, seconds=None):
    """Runs feedwatch with stderr to a file and JOURNAL_STREAM naming it
    (or naming another file). Returns (returncode, stderr text)."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as other:
        st = os.fstat(err.fileno() if matching else other.fileno())
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        proc = subprocess.Popen([FW_BIN] + args, stdout=subprocess.DEVNULL, stderr=err,
                                env=env)
        if seconds is not None:
            time.sleep(seconds)
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        err.seek(0)
        return proc.returncode, err.read().decode("utf-8", "replace")


JOURNAL_HELPER = r'''
import os, socket, subprocess, sys, json
os.makedirs("/run/systemd/journal", exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
s.settimeout(0.5)
err = open(sys.argv[1], "w+b")
st = os.fstat(err.fileno())
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err, env=env)
msgs = []
while True:
    try:
        msgs.append(s.recv(65536).decode("utf-8", "replace"))
    except socket.timeout:
        break
print(json.dumps({"rc": rc, "messages": msgs}))
'''


def run_journal_ns(helper, err_path, args):
    """Runs feedwatch ARGS in a private mount namespace whose
    /run/systemd/journal/socket is the helper's: {"rc", "messages"}."""
    script = ("mount -t tmpfs tmpfs /run && exec %s %s %s %s %s"
              % (sys.executable, helper, err_path, FW_BIN, " ".join(args)))
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(r.stdout.strip().split("\n")[-1])
    except (ValueError, IndexError):
        print("helper failed: %r %r" % (r.stdout, r.stderr))
        return {"rc": None, "messages": []}


def main():
    d = tmpdir()
    bad = write(os.path.join(d, "bad.yaml"), "state: %s\nfeeds:\n  - {url: x, colour: red}\n"
                % state_path(d, "s.db"))
    with FeedServer() as srv:
        srv.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                rss([{"guid": "1", "title": "t", "description": "d"}]))
        good = write(os.path.join(d, "good.yaml"), """state: %s
feeds:
  - {url: "%s", name: f}
  - {url: "http://127.0.0.1:1/down.xml", name: down, timeout: 2s}
""" % (state_path(d), srv.url("/f.xml")))

        rc, err = run_with_stream(["run", "-c", bad])
        lines = [l for l in err.split("\n") if l]
        check(rc == 1, "run with a broken config exits 1 (got %s)" % rc)
        check(lines and all(l.startswith("<") for l in lines),
              "under the journal every line has a priority prefix: %r" % lines[:3])
        check(any(l.startswith("<3>%s:3:" % bad) for l in lines),
              "the config error is priority 3 (err) with file:line:col: %r" % lines[:3])

        rc, err = run_with_stream(["run", "-c", good], seconds=2.5)
        lines = [l for l in err.split("\n") if l]
        check(rc == 0, "run stops with 0 on SIGTERM")
        check(any(l.startswith("<5>started") for l in lines), "'started' is a notice (<5>)")
        check(any(l.startswith("<6>") for l in lines), "per-feed lines are info (<6>)")
        check(any(l.startswith("<4>") and "down" in l for l in lines),
              "a failing feed is a warning (<4>): %r" % [l for l in lines if "down" in l][:1])
        check(any(l.startswith("<5>stopping") for l in lines), "'stopping' is a notice (<5>)")

        fresh = write(os.path.join(d, "fresh.yaml"), open(good).read().replace(
            state_path(d), state_path(d, "fresh.db")))
        rc, err = run_with_stream(["run", "--log-level", "warning", "-c", fresh], seconds=1.5)
        lines = [l for l in err.split("\n") if l]
        check(lines and all(l[:3] in ("<3>", "<4>") for l in lines),
              "--log-level warning keeps only warnings and errors: %r" % lines[:4])

        rc, err = run_with_stream(["run", "-c", bad], matching=False)
        lines = [l for l in err.split("\n") if l]
        check(lines and not any(l.startswith("<") for l in lines) and
              any(l.startswith("feedwatch: %s:3:" % bad) for l in lines),
              "JOURNAL_STREAM naming another file: plain lines: %r" % lines[:2])

        # The native protocol, in a private mount namespace.
        if os.geteuid() != 0 or shutil.which("unshare") is None or \
                subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            print("SKIP: journald fields need root and unshare -m")
            finish()
        helper = write(os.path.join(d, "journal_helper.py"), JOURNAL_HELPER)
        out = run_journal_ns(helper, os.path.join(d, "err.txt"), ["run", "-c", bad])
        msgs = out["messages"]
        with_fields = [m for m in msgs if "CONFIG_FILE=%s" % bad in m.split("\n")]
        has_sd = "HAVE_LIBSYSTEMD 1" in open(os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(FW_BIN))), "config.h")).read() \
            if os.path.exists(os.path.join(os.path.dirname(os.path.dirname(
                os.path.abspath(FW_BIN))), "config.h")) else True
        if not has_sd:
            check(msgs == [], "without libsystemd nothing is sent to the journal socket")
            finish()
        check(out["rc"] == 1, "run with the broken config exits 1 (in the namespace)")
        check(len(with_fields) >= 1,
              "the config error reaches journald with a CONFIG_FILE= field: %r" % msgs[:2])
        if with_fields:
            f = dict(l.split("=", 1) for l in with_fields[0].split("\n") if "=" in l)
            check(f.get("PRIORITY") == "3", "PRIORITY=3 (%s)" % f.get("PRIORITY"))
            check(f.get("SYSLOG_IDENTIFIER") == "feedwatch", "SYSLOG_IDENTIFIER=feedwatch")
            check(f.get("MESSAGE", "").startswith("%s:3:" % bad),
                  "MESSAGE= is the file:line:col error: %r" % f.get("MESSAGE"))

        # A failing feed: its warning carries FEED_URL=.
        fresh2 = write(os.path.join(d, "fresh2.yaml"), open(good).read().replace(
            state_path(d), state_path(d, "fresh2.db")))
        out = run_journal_ns(helper, os.path.join(d, "err2.txt"), ["once", "-c", fresh2])
        feed_msgs = [m for m in out["messages"]
                     if "FEED_URL=http://127.0.0.1:1/down.xml" in m.split("\n")]
        check(out["rc"] == 0 and len(feed_msgs) == 1 and "PRIORITY=4" in feed_msgs[0],
              "the failing feed's warning reaches journald with FEED_URL= (%r)"
              % (feed_msgs or out["messages"])[:1])
        with open(os.path.join(d, "err2.txt")) as f:
            plain = f.read()
        check(any(l.startswith("<6>") for l in plain.split("\n")),
              "other lines still go to stderr with priorities")

        # A queued alert: ALERT_ID=, FEED_URL= and one TOPIC= per topic.
        recent = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 60))
        srv.routes["/t.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "t1", "title": "Drills and tariffs", "pubDate": recent,
             "description": "d"}]))
        tconf = write(os.path.join(d, "topics.yaml"), """state: %s
feeds:
  - {url: "%s", name: t}
topics:
  - {name: drills, terms: ["drills"]}
  - {name: tariffs, terms: ["tariffs"]}
sinks:
  - {type: log, path: "%s", format: jsonl}
""" % (state_path(d, "topics.db"), srv.url("/t.xml"), os.path.join(d, "t.jsonl")))
        out = run_journal_ns(helper, os.path.join(d, "err3.txt"), ["once", "-c", tconf])
        queued = [m.split("\n") for m in out["messages"] if "ALERT_ID=" in m]
        topics = sorted(l[6:] for l in (queued[0] if queued else []) if l.startswith("TOPIC="))
        check(len(queued) == 1 and topics == ["drills", "tariffs"] and
              "FEED_URL=%s" % srv.url("/t.xml") in queued[0],
              "a queued alert reaches journald with ALERT_ID=, FEED_URL= and TOPIC= for each "
              "topic: %r" % (queued[:1],))
        check(not any("in a row" in l for l in plain.split("\n")),
              "the structured warning is not duplicated on stderr: %r" % plain[-300:])

        # The text sink on stderr: each alert is one journal entry at its
        # severity's priority, with its fields, not five info lines.
        srv.routes["/s.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "s1", "title": "Drills resume near the border", "pubDate": recent,
             "link": "https://example.org/s1", "description": "d"},
            {"guid": "s2", "title": "Tariffs talk resumes", "pubDate": recent,
             "link": "https://example.org/s2", "description": "d"}]))
        sconf = write(os.path.join(d, "sink.yaml"), """state: %s
feeds:
  - {url: "%s", name: s}
topics:
  - {name: drills, terms: ["drills"], severity: high}
  - {name: tariffs, terms: ["tariffs"]}
sinks:
  - {type: log, path: "-", format: text}
""" % (state_path(d, "sink.db"), srv.url("/s.xml")))
        out = run_journal_ns(helper, os.path.join(d, "err4.txt"), ["once", "-c", sconf])
        entries = [m for m in out["messages"] if "Drills resume near the border" in m or
                   "Tariffs talk resumes" in m]
        entries = [m for m in entries if "https://example.org/" in m]
        drills = [m.split("\n") for m in entries if "Drills resume" in m]
        tariffs = [m.split("\n") for m in entries if "Tariffs talk" in m]
        check(out["rc"] == 0 and len(drills) == 1 and len(tariffs) == 1,
              "each alert of a text sink on stderr is one journal entry (%d and %d): %r"
              % (len(drills), len(tariffs), out["messages"][-3:]))
        if drills and tariffs:
            check("PRIORITY=4" in drills[0] and "TOPIC=drills" in drills[0] and
                  any(l.startswith("ALERT_ID=") for l in drills[0]) and
                  "FEED_URL=%s" % srv.url("/s.xml") in drills[0],
                  "a high alert is PRIORITY=4 with TOPIC=, ALERT_ID=, FEED_URL=: %r" % drills[0])
            check("PRIORITY=5" in tariffs[0] and "TOPIC=tariffs" in tariffs[0],
                  "a normal alert is PRIORITY=5 (notice): %r" % tariffs[0])
        with open(os.path.join(d, "err4.txt")) as f:
            plain = f.read()
        check("https://example.org/s1" not in plain,
              "the alert text is not written to stderr as well: %r" % plain[-300:])

        # Without journald's socket, the same alert still reaches the journal
        # stream with the priority on every one of its lines.
        sconf2 = write(os.path.join(d, "sink2.yaml"), open(sconf).read().replace(
            state_path(d, "sink.db"), state_path(d, "sink2.db")))
        rc, err = run_with_stream(["once", "-c", sconf2])
        alert_lines = [l for l in err.split("\n") if "example.org/s1" in l or
                       "Drills resume" in l]
        check(rc == 0 and len(alert_lines) >= 2 and all(l.startswith("<4>")
                                                       for l in alert_lines),
              "on the plain journal stream every line of a high alert is <4>: %r"
              % alert_lines)
    finish()


if __name__ == "__main__":
    main()

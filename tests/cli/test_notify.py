"""`feedwatch run` speaks the service-manager notification protocol to a
socket this test owns, as systemd would set it up: READY=1 with a STATUS=
line once the config is loaded and the state file open, STATUS= after a
cycle, WATCHDOG=1 at least every WATCHDOG_USEC/2, RELOADING=1 (with
MONOTONIC_USEC=) then READY=1 around SIGHUP, STOPPING=1 on SIGTERM. Also:
abstract socket names, WATCHDOG_PID meant for another process, and no
NOTIFY_SOCKET at all."""
import os
import signal
import socket
import subprocess
import time

from fwtest import FW_BIN, FeedServer, check, finish, rss, tmpdir, write, state_path, state_sql


class Listener:
    """A datagram socket like systemd's notify socket; collects messages
    with their arrival time."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path.startswith("@"):
            self.sock.bind("\0" + path[1:])
        else:
            self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.messages.append((time.monotonic(), data.decode("utf-8")))

    def wait_for(self, pred, seconds, since=0):
        """The first message from index since on that pred accepts."""
        end = time.monotonic() + seconds
        while True:
            for t, m in self.messages[since:]:
                if pred(m):
                    return m
            if time.monotonic() >= end:
                return None
            self.pump(0.2)

    def close(self):
        self.sock.close()


def fields(msg):
    out = {}
    for line in msg.split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def start(conf, env_extra):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
        env.pop(k, None)
    env.update(env_extra)
    return subprocess.Popen([FW_BIN, "run", "-c", conf], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, err


def main():
    d = tmpdir()
    with FeedServer() as srv:
        srv.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                   rss([{"guid": "a", "title": "Drills resume",
                                         "description": "x"}]))
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
defaults: {interval: 1h}
feeds:
  - {url: "%s", name: wire}
topics:
  - {name: drills, terms: ["drills"]}
sinks:
  - {type: log, path: "%s", format: jsonl}
""" % (state_path(d), srv.url("/feed.xml"), os.path.join(d, "alerts.jsonl")))

        # The whole protocol, on a path socket, with the watchdog at 1 s.
        path = os.path.join(d, "notify.sock")
        lis = Listener(path)
        t0 = time.monotonic()
        proc = start(conf, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        ready = lis.wait_for(lambda m: "READY=1" in m, 10)
        check(ready is not None, "READY=1 is sent once the config is loaded")
        check(ready is not None and "STATUS=" in ready and "feeds" in fields(ready)["STATUS"],
              "READY=1 comes with a STATUS= summary: %r" % (ready,))
        polled = lis.wait_for(lambda m: m.startswith("STATUS=") and "1 polled" in m, 10)
        check(polled is not None, "STATUS= after the first cycle says a feed was polled: %r"
              % (polled,))
        check(polled is not None and "alerts pending" in polled,
              "the status line counts the alerts pending")
        lis.pump(3.0)
        pings = [t for t, m in lis.messages if m.strip() == "WATCHDOG=1"]
        check(len(pings) >= 4, "WATCHDOG=1 pings keep coming while idle (%d in ~4 s)" % len(pings))
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # Nominally every WATCHDOG_USEC/2 (0.5 s); a loaded CI machine gets
        # slack, but a gap must never reach the interval itself.
        check(gaps and max(gaps) < 0.9 and sorted(gaps)[len(gaps) // 2] < 0.6,
              "pings come about every WATCHDOG_USEC/2 (median gap %.2f s, largest %.2f s)"
              % (sorted(gaps)[len(gaps) // 2] if gaps else -1, max(gaps) if gaps else -1))

        n_before = len(lis.messages)
        proc.send_signal(signal.SIGHUP)
        reloading = lis.wait_for(lambda m: "RELOADING=1" in m, 5, since=n_before)
        check(reloading is not None, "SIGHUP sends RELOADING=1")
        f = fields(reloading or "")
        check(f.get("MONOTONIC_USEC", "").isdigit() and int(f["MONOTONIC_USEC"]) > 0,
              "RELOADING=1 carries MONOTONIC_USEC= for Type=notify-reload")
        idx = next((i for i, (_, m) in enumerate(lis.messages)
                    if i >= n_before and "RELOADING=1" in m), len(lis.messages))
        again = lis.wait_for(lambda m: "READY=1" in m, 5, since=idx + 1)
        check(again is not None and "STATUS=" in again, "READY=1 (and STATUS=) follows the reload")

        n_before = len(lis.messages)
        code, err = stop(proc)
        lis.pump(0.5)
        tail = [m for _, m in lis.messages[n_before:]]
        check(any("STOPPING=1" in m for m in tail), "SIGTERM sends STOPPING=1")
        check(code == 0, "run exits 0 after SIGTERM (got %s): %s" % (code, err[-300:]))
        check(time.monotonic() - t0 < 30, "the whole exchange took a sane time")
        lis.close()

        # An abstract socket name; the watchdog meant for another PID.
        name = "@feedwatch-test-%d" % os.getpid()
        lis = Listener(name)
        proc = start(conf, {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "1000000",
                            "WATCHDOG_PID": "1"})
        ready = lis.wait_for(lambda m: "READY=1" in m, 10)
        check(ready is not None, "READY=1 reaches an abstract socket (@name)")
        lis.pump(1.5)
        check(not any(m.strip() == "WATCHDOG=1" for _, m in lis.messages),
              "no WATCHDOG=1 when WATCHDOG_PID names another process")
        code, err = stop(proc)
        check(code == 0, "exit 0 (abstract socket run)")
        lis.close()

        # No watchdog asked for: no pings.
        lis = Listener(os.path.join(d, "notify2.sock"))
        proc = start(conf, {"NOTIFY_SOCKET": os.path.join(d, "notify2.sock")})
        check(lis.wait_for(lambda m: "READY=1" in m, 10) is not None, "READY=1 without watchdog")
        lis.pump(1.5)
        check(not any("WATCHDOG=1" in m for _, m in lis.messages),
              "no WATCHDOG=1 without WATCHDOG_USEC")
        stop(proc)
        lis.close()

        # A feed that hangs for its whole timeout (longer than the watchdog
        # interval): the loop keeps pinging while the transfer waits.
        def hang(handler):
            time.sleep(4.5)
            try:
                handler.send_response(200)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
            except OSError:
                pass
        srv.routes["/hang.xml"] = hang
        conf_hang = write(os.path.join(d, "hang.yaml"), """
state: %s
defaults: {interval: 1h, timeout: 4s}
feeds:
  - {url: "%s", name: stuck}
topics:
  - {name: drills, terms: ["drills"]}
sinks:
  - {type: log, path: "%s", format: jsonl}
  - {type: webhook, url: "%s", timeout: 5s}
""" % (state_path(d, "hang.db"), srv.url("/hang.xml"), os.path.join(d, "hang.jsonl"),
       srv.url("/hook")))
        path = os.path.join(d, "notify3.sock")
        lis = Listener(path)
        proc = start(conf_hang, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        check(lis.wait_for(lambda m: "READY=1" in m, 10) is not None, "READY=1 (hanging feed)")
        lis.pump(4.0)
        pings = [t for t, m in lis.messages if m.strip() == "WATCHDOG=1"]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        check(len(pings) >= 4 and max(gaps) < 1.8,
              "WATCHDOG=1 keeps coming while a transfer hangs past the watchdog interval "
              "(%d pings in 4 s, largest gap %.2f s)" % (len(pings), max(gaps) if gaps else -1))
        code, err = stop(proc)
        check(code == 0, "exit 0 after the hanging-feed run (got %s)" % code)
        check("sink '" in err and "timeout 5s" in err and "longer than half the watchdog interval" in err,
              "a sink timeout longer than half the watchdog interval is warned about: %r"
              % err[-600:])
        check("sink 'log" not in err, "a log sink's timeout is not warned about (it never blocks)")
        lis.close()

        # Outside systemd: nothing to notify, and run works the same.
        proc = start(conf, {})
        time.sleep(1.5)
        check(proc.poll() is None, "run keeps running without NOTIFY_SOCKET")
        code, err = stop(proc)
        check(code == 0, "and stops cleanly on SIGTERM (got %s)" % code)
        check("started" in err and "stopping" in err, "it logs start and stop: %r" % err[-300:])
    finish()


if __name__ == "__main__":
    main()

"""Crash test: `feedwatch run` is killed with SIGKILL at random moments (at
least 20 times) while two feeds keep producing items and the webhook
receiver is down now and then (503 or a reset connection). Each kill is
followed by a restart. At the end the receiver is up, the items stop, the
clock of the pending retries is fast-forwarded (their next_attempt set to
now in the state file: the schedule is tested in test_outbox) and one last
daemon runs until nothing is pending. Then every alert must have reached
the receiver at least once, every request must carry a valid signature,
and no delivery may be a dead letter. Duplicates (allowed: at least once)
are counted and printed."""
import base64
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

from fwtest import (PG, FW_BIN, FeedServer, check, finish, rss, run, tmpdir, write, state_path,
                    state_sql)

KILLS = 22
RATE = 6.0              # items per second per feed
KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(KEY).decode()


class Receiver:
    def __init__(self):
        self.got = []           # (webhook-id, item id, sig_ok) of 2xx answers
        self.refused = 0
        self.down = False
        self.lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mid = self.headers.get("webhook-id", "")
                ts = self.headers.get("webhook-timestamp", "")
                want = "v1," + base64.b64encode(hmac.new(
                    KEY, ("%s.%s." % (mid, ts)).encode() + body, hashlib.sha256).digest()).decode()
                ok = hmac.compare_digest(self.headers.get("webhook-signature", ""), want)
                with recv.lock:
                    down = recv.down
                    if down:
                        recv.refused += 1
                if down and random.random() < 0.5:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                time.sleep(0.01)        # a receiver takes a moment: kills land mid-POST
                status = 503 if down else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    return
                if not down:
                    item = json.loads(body)["item"]["id"]
                    with recv.lock:
                        recv.got.append((mid, item, ok))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Producer:
    """Feeds whose items appear over time: item k of a feed exists once
    k / RATE seconds have passed, until frozen."""

    def __init__(self):
        self.t0 = time.time()
        self.frozen = None

    def count(self):
        t = self.frozen if self.frozen is not None else time.time()
        return int((t - self.t0) * RATE) + 1

    def route(self, name):
        def serve(handler):
            n = self.count()
            items = [{"guid": "%s-%d" % (name, k),
                      "title": "Cost-sharing talks, update %s %d" % (name, k),
                      "link": "http://news.example/%s/%d" % (name, k),
                      "pubDate": email.utils.formatdate(self.t0 + k / RATE, usegmt=True),
                      "description": "Special measures agreement."} for k in range(n)]
            body = rss(items).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        return serve


def flapper(recv, stop):
    """The receiver is down about a quarter of the time."""
    while not stop.is_set():
        stop.wait(random.uniform(0.8, 2.0))
        with recv.lock:
            recv.down = True
        stop.wait(random.uniform(0.2, 0.7))
        with recv.lock:
            recv.down = False


def pending(state):
    return state_sql(state, "SELECT count(*) FROM deliveries WHERE state IN (0, 4)")[0][0]


def main():
    random.seed(os.getpid())
    d = tmpdir()
    state = state_path(d)
    write(os.path.join(d, "secret"), SECRET)
    os.chmod(os.path.join(d, "secret"), 0o600)
    recv = Receiver()
    prod = Producer()
    stop = threading.Event()
    t_start = time.time()
    with FeedServer() as feeds:
        feeds.routes["/a.xml"] = prod.route("a")
        feeds.routes["/b.xml"] = prod.route("b")
        # On PostgreSQL a killed instance's leases hold until they end
        # (the next one is another instance): short ones, so that the
        # last run takes them over within its 30 s.
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s%s
defaults: {interval: 1s, min_interval: 1s, max_interval: 1s}
feeds:
  - {url: "%s", name: a}
  - {url: "%s", name: b}
topics:
  - {name: sma, terms: ["cost-sharing"]}
# Every item alerts: the items are rewrites of one headline, which
# grouping would rightly make one development (test_developments.py
# crashes the grouping itself).
developments: {group: false}
sinks:
  - {type: webhook, name: hook, url: "%s", secret_file: "%s", timeout: 2s}
""" % (state, "\nlease: 5s" if PG else "", feeds.url("/a.xml"), feeds.url("/b.xml"), recv.url(),
            os.path.join(d, "secret")))
        flap = threading.Thread(target=flapper, args=(recv, stop), daemon=True)
        flap.start()
        log = open(os.path.join(d, "daemon.log"), "w")
        kills = 0
        for i in range(KILLS):
            p = subprocess.Popen([FW_BIN, "run", "-c", conf], stdout=log, stderr=log)
            time.sleep(random.uniform(0.15, 1.3))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            check(p.returncode == -signal.SIGKILL, "run %d was killed by SIGKILL (rc %s)"
                  % (i + 1, p.returncode))
        check(kills >= 20, "the daemon was killed %d times" % kills)

        # Calm: no new items, receiver up, retry timers elapsed.
        prod.frozen = time.time()
        stop.set()
        flap.join()
        recv.down = False
        time.sleep(0.2)
        state_sql(state, "UPDATE deliveries SET next_attempt = 0 WHERE state = 0")
        p = subprocess.Popen([FW_BIN, "run", "-c", conf], stdout=log, stderr=log)
        want = {"%s-%d" % (f, k) for f in ("a", "b") for k in range(prod.count())}
        deadline = time.time() + 30
        while time.time() < deadline:
            with recv.lock:
                have = {g[1] for g in recv.got}
            if want <= have and pending(state) == 0:
                break
            time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()

    with recv.lock:
        got = list(recv.got)
    recv.close()
    have = {g[1] for g in got}
    missing = sorted(want - have)
    check(not missing, "every one of %d alerts reached the receiver at least once "
          "(missing %d: %s)" % (len(want), len(missing), missing[:10]))
    check(all(g[2] for g in got), "every request carried a valid signature")
    by_id = {}
    for mid, item, _ in got:
        by_id.setdefault(mid, set()).add(item)
    check(all(len(v) == 1 for v in by_id.values()), "one webhook-id is always one alert")
    dups = len(got) - len(by_id)
    print("crash test: %d kills, %d alerts, %d deliveries received, %d duplicates "
          "(%.1f%%), %d requests refused while the receiver was down, %.0fs"
          % (kills, len(want), len(got), dups, 100.0 * dups / max(1, len(by_id)),
             recv.refused, time.time() - t_start))
    r = run("alerts", "-c", conf, "--failed", "--json")
    check(r.returncode == 0 and r.stdout.strip() == "", "no dead letters (%s)" % r.stdout[:200])
    check(pending(state) == 0, "nothing left pending")
    shutil.rmtree(d)
    finish()


main()

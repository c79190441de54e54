"""A webhook receiver that is down for 10 s, under `feedwatch run` with a 1 s
poll interval and the default retry schedule (issue 19's measurement):
alerts made early in the outage fail twice and would wait for their third
attempt at +5 min; the recovery flush delivers every alert within 10 s of
the receiver's recovery. Also `alerts --retry` on a pending delivery, and
a bad `retry` schedule as a file:line:col error from check-config.
About 25 s of wall time."""
import email.utils
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time

from fwtest import (FW_BIN, FeedServer, check, finish, rss, run, tmpdir, write, state_path,
                    state_sql)

OUTAGE = 10.0


class FlakyReceiver:
    """Answers 500 for outage seconds from its first request, then 200.
    Records (time, alert id, status) of every request."""

    def __init__(self, outage=OUTAGE):
        self.outage = outage
        self.requests = []
        self.down_since = None
        self.lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                with recv.lock:
                    if recv.down_since is None:
                        recv.down_since = now
                    status = 500 if now < recv.down_since + recv.outage else 200
                    recv.requests.append((now, self.headers.get("webhook-id", ""), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.requests), self.down_since


def items(prefix, n, now):
    return [{"guid": "%s%d" % (prefix, k), "title": "Cost-sharing talks %s%d" % (prefix, k),
             "link": "http://n.example/%s%d" % (prefix, k),
             "pubDate": email.utils.formatdate(now - 60, usegmt=True)} for k in range(n)]


def config(d, feed_url, hook_url, extra=""):
    return write(os.path.join(d, "feedwatch.yaml"), """
state: %s
defaults: {interval: 1s, min_interval: 1s, max_interval: 1s}
feeds: [{url: "%s", name: f}]
topics: [{name: sma, terms: ["cost-sharing"]}]
developments: {group: false}
sinks:
  - {type: webhook, name: hook, url: "%s"%s}
""" % (state_path(d), feed_url, hook_url, extra))


def outage():
    d = tmpdir()
    now = time.time()
    first, second = items("a", 3, now), items("b", 3, now)
    with FeedServer() as feeds, FlakyReceiver() as recv:
        feeds.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(first))
        conf = config(d, feeds.url("/f.xml"), recv.url("/hook"))
        p = subprocess.Popen([FW_BIN, "run", "-c", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            # More alerts in the second half of the outage, as on a news day.
            deadline = time.time() + 10
            while time.time() < deadline and recv.snapshot()[1] is None:
                time.sleep(0.1)
            down_since = recv.snapshot()[1]
            check(down_since is not None, "the daemon delivers to the receiver")
            if down_since is not None:
                time.sleep(max(0.0, down_since + OUTAGE / 2 - time.time()))
                feeds.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                          rss(first + second))
                recovered = down_since + OUTAGE
                deadline = recovered + 12
                while time.time() < deadline:
                    reqs = recv.snapshot()[0]
                    if len({i for t, i, s in reqs if s == 200}) >= 6:
                        break
                    time.sleep(0.2)
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                _, err = p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
        check(p.returncode == 0, "run stops cleanly on SIGTERM (%s)" % p.returncode)
        reqs, down_since = recv.snapshot()
        if down_since is None:
            shutil.rmtree(d)
            return
        recovered = down_since + OUTAGE
        failed = {}
        arrived = {}
        for t, i, s in reqs:
            if s == 500:
                failed[i] = failed.get(i, 0) + 1
            elif i not in arrived:
                arrived[i] = t
        check(any(n >= 2 for n in failed.values()),
              "some alert failed twice, its next retry due at +5 min (%s)"
              % sorted(failed.values()))
        check(len(arrived) == 6, "all 6 alerts arrive (%d)" % len(arrived))
        late = {i: round(t - recovered, 1) for i, t in arrived.items()}
        check(len(arrived) == 6 and all(v <= 10 for v in late.values()),
              "every alert arrives within 10 s of recovery (%s)" % sorted(late.values()))
        check("accepts again" in err, "the log says the backlog is due now")
        r = run("alerts", "-c", conf, "--json")
        rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        check(len(rows) == 6 and all(x["state"] == "delivered" for x in rows),
              "alerts --json: all delivered (%s)" % [x["state"] for x in rows])
    shutil.rmtree(d)


def retry_pending():
    """alerts --retry on a delivery that waits for a retry: due now, its
    attempts kept; the next `once` delivers it."""
    d = tmpdir()
    now = time.time()
    with FeedServer() as feeds, FlakyReceiver(outage=1.0) as recv:
        feeds.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                  rss(items("p", 1, now)))
        conf = config(d, feeds.url("/f.xml"), recv.url("/hook"), ", retry: [1h]")
        run("once", "-c", conf)
        r = run("alerts", "-c", conf, "--json")
        rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        check(len(rows) == 1 and rows[0]["state"] == "pending" and rows[0]["attempts"] == 1,
              "a failed delivery waits for its retry (%s)" % rows)
        if len(rows) != 1:
            shutil.rmtree(d)
            return
        alert = rows[0]["alert"]
        r = run("alerts", "-c", conf, "--retry", alert[:8])
        check(r.returncode == 0 and "made 1 pending delivery of alert %s due now"
              % alert in r.stdout, "--retry PREFIX makes a pending delivery due now (%s)"
              % r.stdout.strip())
        r = run("alerts", "-c", conf, "--json")
        rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        check(rows and rows[0]["attempts"] == 1 and rows[0]["state"] == "pending",
              "its attempts are kept")
        r = run("alerts", "-c", conf, "--retry", alert)
        check(r.returncode == 0 and "has no failed or pending delivery to requeue" in r.stdout,
              "a second --retry finds it already due (%s)" % r.stdout.strip())
        r = run("alerts", "-c", conf, "--retry", "zzzz")
        check(r.returncode == 1 and "no such alert 'zzzz'" in r.stderr,
              "--retry of an unknown id still says no such alert")
        # Past the receiver's outage: the retry goes through.
        time.sleep(max(0.0, recv.snapshot()[1] + recv.outage - time.time()))
        run("once", "-c", conf)
        reqs = recv.snapshot()[0]
        check([s for t, i, s in reqs] == [500, 200] and reqs[-1][1] == alert,
              "the next run delivers it, not an hour later (%s)" % [s for t, i, s in reqs])
    shutil.rmtree(d)


def bad_schedule():
    d = tmpdir()
    conf = config(d, "http://127.0.0.1:9/f.xml", "http://127.0.0.1:9/hook",
                  ", retry: [5s, 0s]")
    r = run("check-config", "-c", conf)
    check(r.returncode != 0 and "feedwatch.yaml:8:" in r.stderr and
          "at least 1s, found '0s'" in r.stderr,
          "check-config: a bad retry schedule is a file:line:col error (%s)"
          % r.stderr.strip())
    conf = config(d, "http://127.0.0.1:9/f.xml", "http://127.0.0.1:9/hook",
                  ", retry: [5s, 1m, 30m]")
    r = run("check-config", "-c", conf)
    check(r.returncode == 0, "check-config accepts a retry schedule (%s)" % r.stderr.strip())
    shutil.rmtree(d)


if __name__ == "__main__":
    bad_schedule()
    retry_pending()
    outage()
    finish()

"""What the outbox keeps beyond one process (issue 19, item 4): a
receiver's Retry-After pause outlives a restart; `retention:` decides when
settled alerts are forgotten, and check-config refuses a bad one; `alerts`
and `status` work without the sinks' *_env secrets set, while the verbs
that deliver still say which one is missing. A few seconds."""
import email.utils
import http.server
import json
import os
import threading
import time

from fwtest import FeedServer, check, finish, rss, run, tmpdir, write, state_path, state_sql


class Receiver:
    """A webhook receiver answering with a fixed status and headers;
    records the webhook-id of each request."""

    def __init__(self, status=200, headers=None):
        self.status, self.headers, self.ids = status, headers or {}, []
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                recv.ids.append(self.headers.get("webhook-id", ""))
                self.send_response(recv.status)
                for k, v in recv.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def items(prefix, n):
    now = time.time()
    return [{"guid": "%s%d" % (prefix, k), "title": "Cost-sharing talks %s%d" % (prefix, k),
             "link": "http://n.example/%s%d" % (prefix, k),
             "pubDate": email.utils.formatdate(now - 60, usegmt=True)} for k in range(n)]


def config(d, feed_url, sinks, top=""):
    return write(os.path.join(d, "feedwatch.yaml"), """
state: %s
%s
feeds: [{url: "%s", name: f}]
topics: [{name: sma, terms: ["cost-sharing"]}]
developments: {group: false}
sinks:
%s
""" % (state_path(d), top, feed_url, sinks))


def deliveries(d):
    return dict(((a, s), (st, n)) for a, s, st, n in state_sql(
        state_path(d), "SELECT alert_id, sink, state, attempts FROM deliveries"))


def pause_survives_restart():
    d = tmpdir()
    recv = Receiver(429, {"Retry-After": "600"})
    with FeedServer() as feeds:
        feeds.routes["/f.xml"] = (200, {}, rss(items("a", 1)))
        conf = config(d, feeds.url("/f.xml"),
                      '  - {type: webhook, name: hook, url: "%s"}' % recv.url())
        r = run("once", "-c", conf)
        check(r.returncode == 0 and len(recv.ids) == 1,
              "the receiver is asked once and answers 429 Retry-After: 600 (%d, %d)"
              % (r.returncode, len(recv.ids)))
        # A new process, a new alert: the receiver's pause still holds.
        recv.status, recv.headers = 200, {}
        feeds.routes["/f.xml"] = (200, {}, rss(items("a", 1) + items("b", 1)))
        r = run("once", "-c", conf)
        check(r.returncode == 0 and len(recv.ids) == 1,
              "after a restart, a new alert waits for the pause too (%d requests)"
              % len(recv.ids))
        states = deliveries(d)
        check(len(states) == 2 and all(st == 0 for st, _ in states.values()),
              "both alerts are still pending: %s" % sorted(states.values()))
        until = (state_sql(state_path(d), "SELECT blocked_until FROM sink_flood "
                           "WHERE sink = 'hook'") or [None])[0]
        check(until is not None and until[0] > time.time() + 500,
              "the pause is kept in the state file (%s)" % (until,))
    recv.close()


def retention():
    d = tmpdir()
    out = os.path.join(d, "alerts.jsonl")
    sink = "  - {type: log, name: file, path: %s, format: jsonl}" % out
    with FeedServer() as feeds:
        feeds.routes["/f.xml"] = (200, {}, rss(items("r", 2)))
        conf = config(d, feeds.url("/f.xml"), sink, "retention: 7d")
        r = run("check-config", "-c", conf)
        check(r.returncode == 0, "check-config takes retention: 7d (%s)" % r.stderr.strip())
        r = run("once", "-c", conf)
        check(r.returncode == 0 and len(open(out).readlines()) == 2, "two alerts delivered")
        # One of them was settled eight days ago.
        first = state_sql(state_path(d), "SELECT id FROM alerts ORDER BY rowid LIMIT 1")[0][0]
        state_sql(state_path(d), "UPDATE alerts SET created = created - 8 * 86400 WHERE id = ?",
                  (first,))
        # Under the default 90 days it stays...
        conf90 = config(d, feeds.url("/f.xml"), sink)
        run("once", "-c", conf90)
        r = run("alerts", "--json", "-c", conf90)
        ids = [json.loads(l)["alert"] for l in r.stdout.splitlines() if l.strip()]
        check(first in ids, "retention 90d (the default) keeps the 8-day-old alert")
        # ...under 7 days it goes, and the recent one stays.
        conf = config(d, feeds.url("/f.xml"), sink, "retention: 7d")
        r = run("once", "-c", conf)
        check("forgot 1 alerts settled more than 7 days ago" in r.stderr,
              "once says it forgot one alert (%s)" % r.stderr.strip()[-300:])
        r = run("alerts", "--json", "-c", conf)
        ids = [json.loads(l)["alert"] for l in r.stdout.splitlines() if l.strip()]
        check(first not in ids and len(ids) == 1, "retention: 7d forgets it, keeps the other")
    for bad, why in (("10m", "shorter than the minimum of 1h"),
                     ("soon", "invalid duration")):
        conf = config(d, "http://127.0.0.1:1/f.xml", sink, "retention: %s" % bad)
        r = run("check-config", "-c", conf)
        check(r.returncode != 0 and "feedwatch.yaml:3:" in r.stderr and why in r.stderr,
              "check-config refuses retention: %s with file:line:col (%s)"
              % (bad, r.stderr.strip()))


def without_secrets():
    d = tmpdir()
    out = os.path.join(d, "alerts.jsonl")
    sinks = ('  - {type: webhook, name: hook, url: "http://127.0.0.1:1/h",'
             ' secret_env: FW_TEST_UNSET_SECRET}\n'
             '  - {type: log, name: file, path: %s, format: jsonl}' % out)
    env = {"FW_TEST_UNSET_SECRET": "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"}
    with FeedServer() as feeds:
        feeds.routes["/f.xml"] = (200, {}, rss(items("s", 1)))
        conf = config(d, feeds.url("/f.xml"), sinks)
        r = run("once", "-c", conf, env=env)
        check(r.returncode == 0 and len(open(out).readlines()) == 1,
              "with the secret set, once delivers (%s)" % r.stderr.strip()[-200:])
    os.environ.pop("FW_TEST_UNSET_SECRET", None)
    r = run("alerts", "-c", conf)
    check(r.returncode == 0 and "Cost-sharing talks s0" in r.stdout,
          "alerts lists without the secret set (%d: %s)" % (r.returncode, r.stderr.strip()))
    r = run("alerts", "--json", "-c", conf)
    check(r.returncode == 0 and len(r.stdout.splitlines()) == 2,
          "alerts --json too: one line per delivery")
    r = run("status", "-c", conf)
    check(r.returncode == 0 and "f" in r.stdout,
          "status works without the secret set (%d: %s)" % (r.returncode, r.stderr.strip()))
    r = run("once", "-c", conf)
    check(r.returncode != 0 and "FW_TEST_UNSET_SECRET" in r.stderr
          and "is not set" in r.stderr,
          "once, which delivers, names the missing variable (%s)" % r.stderr.strip())
    r = run("check-config", "-c", conf)
    check(r.returncode != 0 and "FW_TEST_UNSET_SECRET" in r.stderr,
          "check-config names it too")


pause_survives_restart()
retention()
without_secrets()
finish()

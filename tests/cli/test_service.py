"""`feedwatch run` as a service: SIGTERM and SIGINT stop it within 5 seconds
even while a slow feed's transfer is in flight, and the state file is sound
afterwards (the next start works and nothing alerts twice); the optional
http endpoint serves /healthz (200 while the loop runs) and /metrics in the
Prometheus text format, which this test parses and checks against what it
served; a listen address that cannot be used stops `run` with exit 1."""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from fwtest import (PG, FW_BIN, FeedServer, check, finish, read_jsonl, rss, tmpdir, write,
                    state_path, state_sql)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(conf, extra=()):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
        env.pop(k, None)
    return subprocess.Popen([FW_BIN, "run", "-c", conf] + list(extra), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8")
    except OSError as e:
        return None, "", str(e)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format 0.0.4 -> ({(name, frozenset(labels)): value},
    {name: type}, [bad lines])."""
    samples, types, bad = {}, {}, []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types, bad


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def children(pid):
    """PIDs whose parent is pid (from /proc)."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(e))
    return out


def wait_until(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def built_with(macro):
    """Whether the feedwatch under test was built with a HAVE_ macro set."""
    h = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(FW_BIN))), "config.h")
    if not os.path.exists(h):
        return True
    with open(h) as f:
        return re.search(r"#define %s 1" % macro, f.read()) is not None


def main():
    d = tmpdir()
    if not built_with("HAVE_LIBMICROHTTPD"):
        conf = write(os.path.join(d, "feedwatch.yaml"), "state: %s\nhttp: {listen: "
                     "127.0.0.1:9}\nfeeds: [{url: 'file:///dev/null'}]\n"
                     % state_path(d, "s.db"))
        r = subprocess.run([FW_BIN, "run", "-c", conf], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 1 and "without libmicrohttpd" in r.stderr,
              "built without libmicrohttpd: run refuses an http listen address and says "
              "why (%s, %r)" % (r.returncode, r.stderr[-200:]))
        print("SKIP: the endpoint tests need libmicrohttpd")
        finish()
    recent = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 600))
    slow_started = threading.Event()

    def slow(handler):
        slow_started.set()
        time.sleep(25)      # longer than the stop deadline, shorter than the test
        try:
            handler.send_response(200)
            handler.end_headers()
        except OSError:
            pass

    with FeedServer() as srv:
        srv.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "w1", "title": "Allies start combined drills", "pubDate": recent,
             "description": "The exercise runs for ten days."},
            {"guid": "w2", "title": "Markets calm", "pubDate": recent, "description": "x"},
        ]))
        srv.routes["/gone.xml"] = (404, {}, "")
        srv.routes["/slow.xml"] = slow
        port = free_port()
        alerts = os.path.join(d, "alerts.jsonl")
        state = state_path(d)
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
http: {listen: "127.0.0.1:%d"}
defaults: {interval: 1h, timeout: 60s}
feeds:
  - {url: "%s", name: wire}
  - {url: "%s", name: missing}
  - {url: "%s", name: slow}
topics:
  - {name: drills, terms: ["drills"]}
sinks:
  - {type: log, name: archive, path: "%s", format: jsonl}
""" % (state, port, srv.url("/wire.xml"), srv.url("/gone.xml"), srv.url("/slow.xml"), alerts))
        base = "http://127.0.0.1:%d" % port

        proc = start(conf)
        check(wait_until(lambda: get(base + "/healthz")[0] is not None, 10),
              "the endpoint answers on 127.0.0.1:%d" % port)
        def queued():
            r = subprocess.run([FW_BIN, "alerts", "-c", conf, "--json"], capture_output=True,
                               text=True)
            return [l for l in r.stdout.split("\n") if '"pending"' in l]
        check(slow_started.wait(10), "the slow feed's transfer is in flight")
        check(wait_until(lambda: len(queued()) == 1, 10),
              "the fast feed's alert is queued while the slow transfer hangs")
        check(read_jsonl(alerts) == [], "and not delivered yet: the cycle is still running")

        def first_polls():
            st, _, b = get(base + "/metrics")
            smp = parse_metrics(b)[0] if st == 200 else {}
            return (value(smp, "feedwatch_polls_total", status="200"),
                    value(smp, "feedwatch_polls_total", status="404"),
                    value(smp, "feedwatch_alerts_queued_total", sink="archive"))
        check(wait_until(lambda: first_polls() == (1, 1, 1), 5),
              "mid-cycle, /metrics already counts one 200, one 404 and one alert queued "
              "for sink 'archive' (%s)" % (first_polls(),))
        status, ctype, body = get(base + "/healthz")
        check(status == 200 and body.strip() == "ok", "/healthz is 200 'ok' while the loop "
              "runs (got %s %r)" % (status, body))

        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        took = time.monotonic() - t0
        err = proc.stderr.read()
        check(took < 5.0, "SIGTERM with a slow transfer in flight: stopped in %.2f s (< 5)" % took)
        check(proc.returncode == 0, "exit status 0 after SIGTERM (got %s)" % proc.returncode)
        check(get(base + "/healthz")[0] is None, "the endpoint is gone after the stop")
        if PG:
            check(state_sql(state, "SELECT count(*) FROM feeds")[0][0] == 3,
                  "the state is sound after the stop")
        else:
            check(state_sql(state, "PRAGMA integrity_check")[0][0] == "ok",
                  "the state file is sound after the stop")
        check(len(queued()) == 1 and read_jsonl(alerts) == [],
              "the queued alert is still queued after the stop")

        # Second run: the slow feed now answers at once; nothing alerts twice;
        # the feeds' states are gauged.
        srv.routes["/slow.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "s1", "title": "Quiet day", "pubDate": recent, "description": "x"}]))
        proc = start(conf)

        def scraped():
            s, c, b = get(base + "/metrics")
            return parse_metrics(b) if s == 200 else ({}, {}, [])

        check(wait_until(lambda: get(base + "/healthz")[0] == 200, 10), "restarted: /healthz 200")
        status, ctype, body = get(base + "/metrics")
        check(status == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype,
              "/metrics is text/plain; version=0.0.4 (%s)" % ctype)
        samples, types, bad = parse_metrics(body)
        check(not bad, "every /metrics line parses as the text format: %r" % bad[:3])
        check(value(samples, "feedwatch_up") == 1, "feedwatch_up 1")
        for name, typ in (("feedwatch_feeds", "gauge"), ("feedwatch_polls_total", "counter"),
                          ("feedwatch_fetch_duration_seconds", "histogram"),
                          ("feedwatch_items_seen_total", "counter"),
                          ("feedwatch_alerts_queued_total", "counter"),
                          ("feedwatch_alerts_delivered_total", "counter"),
                          ("feedwatch_alerts_failed_total", "counter"),
                          ("feedwatch_alerts_pending", "gauge"),
                          ("feedwatch_last_cycle_timestamp_seconds", "gauge")):
            check(types.get(name) == typ, "%s is declared a %s" % (name, typ))

        def feeds_gauged():
            s = scraped()[0]
            return value(s, "feedwatch_feeds", state="ok") == 2 and \
                value(s, "feedwatch_feeds", state="failing") == 1
        check(wait_until(feeds_gauged, 15), "feeds by state: 2 ok, 1 failing (the 404)")
        samples, types, bad = scraped()
        check(value(samples, "feedwatch_polls_total", status="200") == 1,
              "the restarted daemon polled the abandoned slow feed (status 200 once)")
        check(value(samples, "feedwatch_items_seen_total") is not None and
              value(samples, "feedwatch_items_seen_total") >= 1, "items seen are counted")
        check(value(samples, "feedwatch_last_cycle_timestamp_seconds") > time.time() - 60,
              "the last cycle time is recent")
        check(value(samples, "feedwatch_cycles_total") >= 1, "cycles are counted")
        buckets = sorted((float(dict(l)["le"]) if dict(l)["le"] != "+Inf" else float("inf"), v)
                         for (n, l), v in samples.items()
                         if n == "feedwatch_fetch_duration_seconds_bucket")
        check(len(buckets) >= 5 and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
              "the latency histogram's buckets are cumulative")
        check(buckets and buckets[-1][1] == value(samples, "feedwatch_fetch_duration_seconds_count"),
              "the +Inf bucket equals the count")
        check(value(samples, "feedwatch_alerts_pending") == 0, "nothing left in the outbox")
        check(value(samples, "feedwatch_alerts_delivered_total", sink="archive") == 1,
              "alerts delivered per sink: archive 1")
        check(value(samples, "feedwatch_alerts_failed_total", sink="archive") in (None, 0),
              "alerts failed per sink: none")
        check(value(samples, "feedwatch_fetch_duration_seconds_count") == 1 and
              0 < value(samples, "feedwatch_fetch_duration_seconds_sum") < 10,
              "the slow feed's transfer is in the latency histogram")
        got = read_jsonl(alerts)
        check(len(got) == 1 and "drills" in str(got[0]),
              "the alert queued before the stop is delivered after the restart, once")
        status, _, body = get(base + "/nope")
        check(status == 404, "other paths are 404")
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        proc.wait(timeout=10)
        check(time.monotonic() - t0 < 5 and proc.returncode == 0,
              "SIGINT stops it too (exit %s)" % proc.returncode)

        # A delivery that does not end (an exec sink that sleeps): the stop
        # deadline ends the process anyway, and the alert stays queued.
        state3 = state_path(d, "state3.db")
        conf3 = write(os.path.join(d, "stuck.yaml"), """
state: %s
feeds:
  - {url: "%s", name: wire}
topics:
  - {name: drills, terms: ["drills"]}
sinks:
  - {type: exec, name: stuck, command: ["/bin/sh", "-c", "exec sleep 20"], timeout: 60s}
""" % (state3, srv.url("/wire.xml")))
        proc = start(conf3)
        check(wait_until(lambda: children(proc.pid), 10),
              "the exec sink's command is running (a delivery in flight)")
        kids = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        took = time.monotonic() - t0
        err = proc.stderr.read()
        check(took < 5.0 and proc.returncode == 0,
              "a delivery that hangs: stopped by the deadline in %.2f s (< 5), exit %s"
              % (took, proc.returncode))
        check("still busy" in err, "and says so: %r" % err[-200:])
        r = subprocess.run([FW_BIN, "alerts", "-c", conf3, "--json"], capture_output=True,
                           text=True)
        check(r.stdout.count('"pending"') == 1,
              "the alert whose delivery was cut short is still queued: %r" % r.stdout[-300:])
        for pid in kids:        # the orphaned sleep, by its own pid
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

        # A port that is taken: run refuses to start.
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        taken = blocker.getsockname()[1]
        conf2 = write(os.path.join(d, "taken.yaml"), open(conf).read().replace(
            "127.0.0.1:%d" % port, "127.0.0.1:%d" % taken))
        proc = start(conf2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
        blocker.close()
        check(proc.returncode == 1 and "cannot listen" in err,
              "a listen address in use: exit 1 and a reason (%s, %r)" % (proc.returncode, err[-200:]))
    finish()


if __name__ == "__main__":
    main()

"""Several instances, one PostgreSQL state (issue 18), against a throwaway
server (tests/pg/pgserver.py) and 300 feeds on 127.0.0.1:

- three `feedwatch run` share the feeds: every feed is polled about once
  per interval and never by two instances at once (no two requests for
  one feed overlap), and every instance does part of the work;
- one of them is killed with SIGKILL while it holds leases: the others
  take its feeds over once the lease ends, and in the end every story has
  exactly one alert (one alert id), delivered at least once (redeliveries
  counted and reported), none lost;
- the database is restarted under a running instance: it connects again
  and the items published meanwhile still alert, once each.

Skipped (77) when no PostgreSQL server is installed."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg"))
import pgserver  # noqa: E402
from fwtest import FW_BIN, FeedServer, check, finish, tmpdir, write  # noqa: E402

N_FEEDS = 300
STORIES = 150           # feed n and n + 150 carry the same stories
INTERVAL = 4
LEASE = 10          # longer than a batch of 128 feeds takes on a busy machine
ITEM_EVERY = 3.0        # a new story per feed pair every 3 s


class Feeds:
    """300 feeds whose stories appear as time passes (until frozen), each
    request's start and end recorded per feed."""

    def __init__(self):
        self.t0 = time.time()
        self.frozen = None
        self.lock = threading.Lock()
        self.spans = {}         # feed number -> [(start, end)]
        self.active = {}
        self.overlaps = 0

    def count(self):
        t = (self.frozen or time.time()) - self.t0
        return 1 + int(t / ITEM_EVERY)

    def stories(self):
        return {(s, k) for s in range(STORIES) for k in range(self.count())}

    def route(self, n):
        def handle(h):
            start = time.time()
            with self.lock:
                if self.active.get(n):
                    self.overlaps += 1
                self.active[n] = True
            time.sleep(0.02)    # a server that takes its time
            story = n % STORIES
            items = []
            for k in range(self.count()):
                items.append(
                    "<item><guid>%d-%d</guid><title>Cost-sharing talks, round %d of %d"
                    "</title><link>http://news.example/%d/%d</link><pubDate>%s</pubDate>"
                    "</item>" % (n, k, k, story, story, k,
                                 time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())))
            body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>f%d</title>'
                    "<link>http://news.example/</link><description>d</description>%s"
                    "</channel></rss>" % (n, "".join(items))).encode()
            try:
                h.send_response(200)
                h.send_header("Content-Type", "application/rss+xml")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
            except OSError:
                pass    # the instance was killed mid-transfer
            with self.lock:
                self.active[n] = False
                self.spans.setdefault(n, []).append((start, time.time()))
        return handle


def config(d, name, conninfo, feeds):
    lines = ["state: \"%s\"" % conninfo,
             "lease: %ds" % LEASE,
             "defaults: {interval: %ds, min_interval: %ds, max_interval: %ds, timeout: 2s,"
             " concurrency: 16}" % (INTERVAL, INTERVAL, INTERVAL),
             "developments: {group: false}",
             "topics:",
             "  - {name: sma, terms: [\"cost-sharing\"]}",
             "sinks:",
             "  - {type: log, name: out, path: \"%s\", format: jsonl}" % os.path.join(d, name + ".jsonl"),
             "feeds:"]
    for n in range(N_FEEDS):
        lines.append("  - {url: \"%s\", name: f%d}" % (feeds.url("/f/%d" % n), n))
    return write(os.path.join(d, name + ".yaml"), "\n".join(lines) + "\n")


class Instance:
    def __init__(self, conf, log):
        self.log = open(log, "w")
        self.path = log
        self.proc = subprocess.Popen([FW_BIN, "run", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def polled(self):
        with open(self.path) as f:
            return sum(int(m.group(1)) for m in
                       re.finditer(r"cycle: (\d+) feeds polled", f.read()))

    def text(self):
        with open(self.path) as f:
            return f.read()


def alerts(d, names):
    """story -> set of alert ids, and the number of deliveries of each id."""
    ids, times = {}, {}
    for name in names:
        path = os.path.join(d, name + ".jsonl")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                try:
                    a = json.loads(line)
                except ValueError:
                    continue    # a line cut short by SIGKILL
                m = re.search(r"news\.example/(\d+)/(\d+)",
                              (a.get("item") or {}).get("link") or "")
                if not m:
                    continue
                key = (int(m.group(1)), int(m.group(2)))
                ids.setdefault(key, set()).add(a["id"])
                times[a["id"]] = times.get(a["id"], 0) + 1
    return ids, times


def wait_for(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.5)
    return cond()


def three_instances(srv, d):
    conninfo = srv.create_db("shared")
    feeds = Feeds()
    with FeedServer() as fs:
        for n in range(N_FEEDS):
            fs.routes["/f/%d" % n] = feeds.route(n)
        names = ["a", "b", "c"]
        insts = [Instance(config(d, nm, conninfo, fs), os.path.join(d, nm + ".log"))
                 for nm in names]
        time.sleep(12)
        # Under a sanitizer on a loaded machine an instance's first cycle
        # can take longer than that: kill c only once it has taken part.
        check(wait_for(lambda: insts[2].polled() > 0, 60),
              "instance c finished a cycle before the kill")
        # SIGKILL c, which leases a batch of feeds and deliveries every
        # few hundred milliseconds: it dies holding some.
        killed_at = time.time()
        insts[2].proc.send_signal(signal.SIGKILL)
        insts[2].proc.wait()
        check(insts[2].proc.returncode == -signal.SIGKILL, "instance c was killed by SIGKILL")
        time.sleep(LEASE + 2 * INTERVAL + 2)
        feeds.frozen = time.time()
        want = feeds.stories()
        ok = wait_for(lambda: set(alerts(d, names)[0]) >= want, 30)
        time.sleep(2)
        for i in insts[:2]:
            check(i.stop() == 0, "an instance stopped cleanly")
        insts[2].log.close()
        ids, times = alerts(d, names)

        with feeds.lock:
            spans = dict(feeds.spans)
            overlaps = feeds.overlaps
        check(overlaps == 0, "no feed was polled by two instances at once (%d overlaps)"
              % overlaps)
        check(len(spans) == N_FEEDS, "every feed was polled (%d of %d)" % (len(spans), N_FEEDS))
        counts = sorted(len(v) for v in spans.values())
        elapsed = feeds.frozen - feeds.t0
        most = int(elapsed / (INTERVAL - 1)) + 2
        check(counts and counts[0] >= 3 and counts[-1] <= most,
              "each feed polled about once per %ds over %.0fs: %d to %d polls (at most %d)"
              % (INTERVAL, elapsed, counts[0], counts[-1], most))
        # The first poll of a new feed comes up to half an interval early
        # (new feeds are spread out); times are whole seconds.
        gaps = [b[0] - a[0] for v in spans.values()
                for a, b in list(zip(sorted(v), sorted(v)[1:]))[1:]]
        check(min(gaps) >= INTERVAL - 1.2,
              "no feed polled again before its interval (shortest gap %.2fs)" % min(gaps))
        late = [n for n, v in spans.items() if not any(s > killed_at + LEASE for s, _ in v)]
        check(not late, "after the kill every feed was polled again (%d were not)" % len(late))
        shares = [i.polled() for i in insts]
        print("polls by instance a, b, c: %s" % shares)
        check(all(x > 0 for x in shares), "every instance polled its share (%s)" % shares)
        check(ok, "every story alerted (%d of %d)" % (len(set(ids) & want), len(want)))
        twice = [k for k, v in ids.items() if len(v) > 1]
        check(not twice, "no story alerted twice across instances (%d were)" % len(twice))
        redelivered = sum(n - 1 for n in times.values() if n > 1)
        print("alerts: %d stories, %d deliveries, %d redeliveries (at least once)"
              % (len(ids), sum(times.values()), redelivered))
        # c records its outcomes every OUTBOX_RECORD_MAX (500) deliveries or
        # every second (daemon/outbox.c): what it delivered since, the
        # others deliver again. Any other redelivery is a fault.
        c_ids = set(alerts(d, ["c"])[1])
        stray = [i for i, n in times.items() if n > 1 and i not in c_ids]
        check(redelivered <= 500 and not stray,
              "redeliveries only from the killed instance's last batch (%d, %d elsewhere)"
              % (redelivered, len(stray)))
        rows = srv.psql("SELECT count(*) FROM deliveries WHERE state = 0", "shared")
        check(rows == "0", "nothing is left pending in the outbox (%s)" % rows)


def database_restart(srv, d):
    conninfo = srv.create_db("restart")
    feeds = Feeds()
    with FeedServer() as fs:
        for n in range(N_FEEDS):
            fs.routes["/f/%d" % n] = feeds.route(n)
        inst = Instance(config(d, "r", conninfo, fs), os.path.join(d, "r.log"))
        ok = wait_for(lambda: len(alerts(d, ["r"])[0]) >= STORIES, 30)
        check(ok, "the instance alerts before the restart")
        srv.restart()
        restarted = time.time()
        time.sleep(2 * ITEM_EVERY)
        feeds.frozen = time.time()
        want = feeds.stories()
        ok = wait_for(lambda: set(alerts(d, ["r"])[0]) >= want, 40)
        check(inst.proc.poll() is None, "the instance kept running through the restart")
        rc = inst.stop()
        check(rc == 0, "and stopped cleanly (rc %s)" % rc)
        ids, times = alerts(d, ["r"])
        after = {k for k in want if k[1] * ITEM_EVERY > restarted - feeds.t0}
        check(ok and after <= set(ids),
              "the stories published after the restart alerted (%d of %d; %d of %d in all)"
              % (len(after & set(ids)), len(after), len(set(ids) & want), len(want)))
        twice = [k for k, v in ids.items() if len(v) > 1]
        check(not twice, "none alerted twice (%d)" % len(twice))
        # A restart between two statements goes unnoticed (the next one
        # connects again); one inside a transaction costs that cycle.
        print("cycles that found the database away: %d"
              % inst.text().count("is unreachable"))


def config_differs(srv, d):
    """An instance whose configuration lists fewer feeds than the shared
    database's watchlist says so, with how many, at its start and at a
    reload; one whose list matches, or a SQLite state, says nothing."""
    conninfo = srv.create_db("differs")
    for n in range(4):
        write(os.path.join(d, "w%d.xml" % n), '<rss version="2.0"><channel><title>w</title>'
              '</channel></rss>')

    def conf(name, feeds, state=conninfo):
        return write(os.path.join(d, name + ".yaml"), 'state: "%s"\nfeeds:\n%s' % (
            state, "".join('  - {url: "file:w%d.xml", name: w%d}\n' % (n, n) for n in feeds)))

    notice = re.compile(r"holds (\d+) feeds? this configuration does not list")
    whole, part = conf("whole", [0, 1, 2]), conf("part", [0, 3])
    r = subprocess.run([FW_BIN, "once", "-c", whole], capture_output=True, text=True)
    check(r.returncode == 0 and not notice.search(r.stderr),
          "differs: the first instance's list is the watchlist, nothing said (%s)"
          % r.stderr.strip()[-200:])
    r = subprocess.run([FW_BIN, "once", "-c", part], capture_output=True, text=True)
    m = notice.search(r.stderr)
    check(r.returncode == 0 and m is not None and m.group(1) == "2" and "postgresql://" in
          r.stderr, "differs: an instance listing 2 of the 3 feeds says the database holds 2 "
          "it does not list (%s)" % (m.group(0) if m else r.stderr.strip()[-300:]))
    # w3, which only part lists, is in the watchlist now: whole lacks it.
    r = subprocess.run([FW_BIN, "once", "-c", whole], capture_output=True, text=True)
    m = notice.search(r.stderr)
    check(m is not None and m.group(0) == "holds 1 feed this configuration does not list",
          "differs: the first instance now lacks the feed the second added (%s)"
          % (m.group(0) if m else r.stderr.strip()[-300:]))
    # A running instance says it at its start and again when a reload
    # changes its list.
    every = conf("every", [0, 1, 2, 3])
    p = subprocess.Popen([FW_BIN, "run", "-c", every], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
    reader.start()
    wait_for(lambda: any("started" in l for l in lines), 10)
    conf("every", [0])
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: any("reloaded" in l for l in lines), 10)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=15)
    reader.join(timeout=5)
    said = [notice.search(l).group(1) for l in lines if notice.search(l)]
    check(said == ["3"], "differs: run says nothing while its list is the watchlist, and "
          "the count after a reload drops feeds (%s)" % said)
    # The same two lists on a SQLite file: one instance, nothing to say.
    state = os.path.join(d, "differs.db")
    conf("whole", [0, 1, 2], state)
    conf("part", [0, 3], state)
    subprocess.run([FW_BIN, "once", "-c", whole], capture_output=True, text=True)
    r = subprocess.run([FW_BIN, "once", "-c", part], capture_output=True, text=True)
    check(r.returncode == 0 and not notice.search(r.stderr),
          "differs: a SQLite state says nothing (%s)" % r.stderr.strip()[-200:])


def main():
    if not pgserver.available():
        print("no PostgreSQL server installed; skipped")
        sys.exit(77)
    d = tmpdir()
    os.chmod(d, 0o755)
    with pgserver.PgServer() as srv:
        config_differs(srv, d)
        three_instances(srv, d)
        database_restart(srv, d)
    finish()


if __name__ == "__main__":
    main()

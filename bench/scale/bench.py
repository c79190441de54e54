#!/usr/bin/python3
"""bench/scale — one poll cycle over 10,000 feeds on 127.0.0.1 with 1, 2
and 4 `feedwatch run` instances sharing a PostgreSQL state, beside one
instance on a SQLite file (issue 18).

10,000 feeds made by bench/poll's generator (RSS 2.0 and Atom, HTML,
Korean and Japanese text; 3 items each, a cycle over many feeds rather
than many items), served by nginx with ETag and Last-Modified, the real
watchlist's rules with --rules (without: no topics, so the cycle is the
poll and the store, not the grouping). For each state, two cycles: cold (an empty state, every
feed new: 200 and every item stored) and warm (every feed made due again,
next_poll = 0: every answer a 304, the steady state of a large
watchlist). A cycle starts the instances (`feedwatch run`, so their
start-up is in it) and ends when every feed's last_poll is past its
start. Reported: wall time, the instances' CPU (user + system, from
/proc), the database server's CPU (its processes, backends included once
reaped), and lock waits (pg_locks rows not granted, sampled every 0.5 s).

usage: bench.py [--feeds 10000] [--items 3] [--instances 1,2,4] [--fw PATH]
Needs nginx and a PostgreSQL server (tests/pg/pgserver.py starts one).
"""
import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "poll"))
sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
import bench as poll  # noqa: E402
import pgserver  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid, children=False):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    t = int(fields[11]) + int(fields[12])
    if children:
        t += int(fields[13]) + int(fields[14])
    return t / TICK


def server_cpu(srv):
    with open(os.path.join(srv.data, "postmaster.pid")) as f:
        pid = int(f.readline())
    return cpu_of(pid, children=True)


def watchlist_rules():
    """The lists and topics of the default config: real rules, real cost."""
    out, on = [], False
    with open(os.path.join(ROOT, "config", "feedwatch.yaml"), encoding="utf-8") as f:
        for line in f:
            if line[:1].isalpha():
                on = line.split(":")[0] in ("lists", "topics", "language")
            if on:
                out.append(line)
    return "".join(out)


def config(d, name, state, urls, topics):
    lines = ["state: \"%s\"" % state, "lease: 5m",
             "defaults: {interval: 6h, min_interval: 6h, max_interval: 6h,"
             " concurrency: 16, per_host: 16}",
             "feeds:"]
    lines += ['  - {url: "%s", name: f%05d}' % (u, i) for i, u in enumerate(urls)]
    path = os.path.join(d, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + topics +
                "sinks:\n  - {type: log, path: %s/%s.jsonl, format: jsonl}\n" % (d, name))
    return path


def cycle(fw, confs, polled, srv=None, feeds=10000):
    """Starts one `run` per config; returns wall, instances' CPU, server CPU,
    lock waits seen, once every feed was polled."""
    s0 = server_cpu(srv) if srv else 0.0
    start = int(time.time())
    t0 = time.monotonic()
    procs = [subprocess.Popen([fw, "run", "-c", c, "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for c in confs]
    waits = samples = 0
    cpu = {}
    try:
        return watch(procs, polled, srv, feeds, s0, start, t0, cpu)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def watch(procs, polled, srv, feeds, s0, start, t0, cpu):
    waits = samples = 0
    while True:
        n = polled(start)
        for p in procs:
            try:
                cpu[p.pid] = cpu_of(p.pid)
            except OSError:
                pass
        if srv:
            waits += int(srv.psql("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            samples += 1
        if n >= feeds or time.monotonic() - t0 > 1800:
            break
        time.sleep(0.5)
    wall = time.monotonic() - t0
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    time.sleep(0.5)
    s1 = server_cpu(srv) if srv else 0.0
    return wall, sum(cpu.values()), s1 - s0, waits, samples, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=10000)
    ap.add_argument("--items", type=int, default=3)
    ap.add_argument("--instances", default="1,2,4")
    ap.add_argument("--rules", action="store_true",
                    help="the real watchlist's rules (matching stories are grouped into"
                    " developments: hundreds of statements per story)")
    ap.add_argument("--fw", default=os.path.join(ROOT, "build", "daemon", "feedwatch"))
    a = ap.parse_args()
    # Stopped, it still stops its servers (the finally clauses).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    fw = os.path.abspath(a.fw)
    root = tempfile.mkdtemp(prefix="feedwatch-scale-")
    os.chmod(root, 0o755)
    www = os.path.join(root, "www", "f")
    os.makedirs(www)
    # bench/poll's feeds (RSS and Atom, HTML, Korean and Japanese text),
    # a few items each: a cycle over many feeds, not over many items.
    for k in range(a.feeds):
        rng = random.Random(k)
        items = poll.make_items(rng, k, a.items, poll.BASE_TIME - k * 60, "a")
        path = os.path.join(www, "feed-%05d.xml" % k)
        with open(path, "w", encoding="utf-8") as f:
            f.write(poll.render(k, items))
        os.utime(path, (poll.BASE_TIME, poll.BASE_TIME))
    nginx = poll.Nginx(root)
    rules = watchlist_rules() if a.rules else ""
    urls = ["http://127.0.0.1:%d/f/feed-%05d.xml" % (nginx.port, k) for k in range(a.feeds)]
    d = os.path.join(root, "run")
    os.makedirs(d)
    rows = []
    try:
        with pgserver.PgServer() as srv:
            f = os.path.join(d, "sqlite.db")

            def sqlite_polled(start):
                if not os.path.exists(f):
                    return 0
                try:
                    c = sqlite3.connect(f, timeout=30)
                    n = c.execute("SELECT count(*) FROM feeds WHERE last_poll >= ?",
                                  (start,)).fetchone()[0]
                    c.close()
                    return n
                except sqlite3.Error:
                    return 0
            confs = [config(d, "sqlite", f, urls, rules)]
            for kind in ("cold", "warm"):
                if kind == "warm":
                    c = sqlite3.connect(f)
                    c.execute("UPDATE feeds SET next_poll = 0")
                    c.commit()
                    c.close()
                    time.sleep(1)
                res = cycle(fw, confs, sqlite_polled, feeds=a.feeds)
                rows.append(("SQLite", 1, kind) + res)
                print("SQLite x1 %s: %s" % (kind, res), flush=True)
            for n in [int(x) for x in a.instances.split(",")]:
                name = "pg%d" % n
                ci = srv.create_db(name)
                confs = [config(d, "%s-%d" % (name, i), ci, urls, rules) for i in range(n)]

                def pg_polled(start, name=name):
                    try:
                        return int(srv.psql("SELECT count(*) FROM feeds WHERE last_poll >= %d"
                                            % start, name))
                    except RuntimeError:
                        return 0
                for kind in ("cold", "warm"):
                    if kind == "warm":
                        srv.psql("UPDATE feeds SET next_poll = 0, lease_until = 0", name)
                        time.sleep(1)
                    res = cycle(fw, confs, pg_polled, srv=srv, feeds=a.feeds)
                    rows.append(("PostgreSQL", n, kind) + res)
                    print("PostgreSQL x%d %s: %s" % (n, kind, res), flush=True)
                print(srv.psql("SELECT pg_size_pretty(pg_database_size('%s'))" % name))
        print()
        print("| state | instances | cycle | feeds polled | wall s | feeds/s |"
              " instances' CPU s | server CPU s | lock waits (samples) |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for kind, n, cyc, wall, cpu, scpu, waits, samples, polled in rows:
            print("| %s | %d | %s | %d | %.1f | %.0f | %.1f | %s | %s |"
                  % (kind, n, cyc, polled, wall, polled / wall, cpu,
                     "%.1f" % scpu if kind != "SQLite" else "-",
                     "%d (%d)" % (waits, samples) if kind != "SQLite" else "-"))
    finally:
        nginx.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""bench/poll — how fast and how politely one polling cycle runs.

Generates a corpus of realistic news feeds (RSS 2.0 and Atom, HTML
descriptions, Korean and Japanese text; deterministic), serves it with
nginx on 127.0.0.1 (ETag and Last-Modified, as nginx sends them for static
files), and measures three cycles per poller, each repeated --reps times:

  cold    empty state: every feed is new
  warm    nothing changed: a polite poller gets 304 for every feed
  update  10% of the feeds have 5 new items (new ETag and Last-Modified)

for `feedwatch once`, Debian's `sfeed_update` (its default parallel jobs),
`r2e run --no-send` (rss2email) and `feed2exec fetch`. It reports the
median wall time, CPU time (user + system, child processes included) and
peak RSS (the largest single process), and the number of requests nginx
answered 200 and 304 in each cycle and over how many connections (from its
access log). Then one cold
and one warm `feedwatch once` over --big feeds (the same files under
distinct URLs).

usage: bench.py [--feeds 500] [--reps 3] [--big 10000] [--fw PATH]
                [--tools feedwatch,sfeed,rss2email,feed2exec] [--keep DIR]
Standard library only; needs nginx (nginx-light), GNU time and the peers
installed.
"""
import argparse
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

WORDS_EN = ("alliance defense cost sharing talks tariff trade minister summit "
            "drill exercise troops forces peninsula security agreement budget "
            "negotiation official said on Tuesday the and of to in for with "
            "a new round Seoul Washington Tokyo Beijing export import steel "
            "semiconductor vehicles duty deal press conference spokesman "
            "market shares economy growth inflation rate bank policy weather "
            "rain storm election party vote parliament court ruling").split()
WORDS_KO = ("방위비 분담금 협상 한미 동맹 주한미군 연합 훈련 관세 무역 장관 "
            "정상회담 국방부 대통령 발표 미국 한국 일본 중국 수출 반도체 자동차").split()
WORDS_JA = "防衛 費 負担 交渉 関税 貿易 大臣 首脳 会談 演習 在日 米軍 発表".split()
BASE_TIME = 1763800000  # fixed, so the corpus is the same on every run


def sentence(rng, n):
    pool = rng.choice((WORDS_EN, WORDS_EN, WORDS_EN, WORDS_KO, WORDS_JA))
    sep = "" if pool is WORDS_JA else " "
    return sep.join(rng.choice(pool) for _ in range(n))


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rfc822(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_items(rng, k, n, newest, prefix):
    out = []
    for j in range(n):
        paras = "".join("<p>%s. <a href=\"http://news.example/r/%d\">%s</a> %s.</p>"
                        % (sentence(rng, rng.randint(15, 40)), rng.randint(1, 10 ** 6),
                           sentence(rng, 3), sentence(rng, rng.randint(10, 30)))
                        for _ in range(rng.randint(1, 3)))
        out.append({"id": "http://news%d.example/%s/%d" % (k, prefix, j),
                    "title": sentence(rng, rng.randint(6, 14)),
                    "link": "http://news%d.example/%s/%d.html" % (k, prefix, j),
                    "html": paras,
                    "t": newest - j * rng.randint(600, 7200)})
    return out


def render(k, items):
    if k % 10 < 7:
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<rss version="2.0"><channel><title>News %d</title>' % k,
               "<link>http://news%d.example/</link><description>Wire %d</description>"
               % (k, k)]
        for it in items:
            out.append("<item><title>%s</title><link>%s</link><guid>%s</guid>"
                       "<pubDate>%s</pubDate><description>%s</description></item>"
                       % (esc(it["title"]), it["link"], it["id"], rfc822(it["t"]),
                          esc(it["html"])))
        out.append("</channel></rss>\n")
    else:
        out = ['<?xml version="1.0" encoding="utf-8"?>',
               '<feed xmlns="http://www.w3.org/2005/Atom"><title>News %d</title>' % k,
               '<id>urn:news:%d</id><updated>%s</updated>' % (k, rfc3339(items[0]["t"])),
               '<link rel="alternate" href="http://news%d.example/"/>' % k]
        for it in items:
            out.append('<entry><id>%s</id><title>%s</title><link rel="alternate" href="%s"/>'
                       '<updated>%s</updated><content type="html">%s</content></entry>'
                       % (it["id"], esc(it["title"]), it["link"], rfc3339(it["t"]),
                          esc(it["html"])))
        out.append("</feed>\n")
    return "\n".join(out)


class Corpus:
    def __init__(self, root, n):
        self.dir = os.path.join(root, "www", "f")
        self.n = n
        self.items = {}
        os.makedirs(self.dir, exist_ok=True)
        for k in range(n):
            rng = random.Random(k)
            self.items[k] = make_items(rng, k, rng.randint(10, 80), BASE_TIME - k * 60, "a")
        self.reset()

    def path(self, k):
        return os.path.join(self.dir, "feed-%04d.xml" % k)

    def write(self, k, items, mtime):
        with open(self.path(k), "w", encoding="utf-8") as f:
            f.write(render(k, items))
        os.utime(self.path(k), (mtime, mtime))

    def reset(self):
        for k in range(self.n):
            self.write(k, self.items[k], BASE_TIME)

    def update(self, rep):
        """5 new items in every 10th feed, with a new mtime (ETag)."""
        for k in range(0, self.n, 10):
            rng = random.Random(10 ** 6 + k * 31 + rep)
            new = make_items(rng, k, 5, int(time.time()), "u%d" % rep)
            self.write(k, new + self.items[k], BASE_TIME + 3600 * (rep + 1))

    def stats(self):
        size = sum(os.path.getsize(self.path(k)) for k in range(self.n))
        return size, sum(len(v) for v in self.items.values())

    def url(self, port, k):
        return "http://127.0.0.1:%d/f/feed-%04d.xml" % (port, k)


class Nginx:
    def __init__(self, root):
        self.prefix = os.path.join(root, "nginx")
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = os.path.join(self.prefix, "logs", "access.log")
        conf = os.path.join(self.prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(p)s/nginx.pid;
error_log %(p)s/logs/error.log warn;
events { worker_connections 4096; }
http {
    log_format st '$status $connection $request_uri';
    access_log %(log)s st;
    client_body_temp_path %(p)s/tmp;
    proxy_temp_path %(p)s/tmp;
    fastcgi_temp_path %(p)s/tmp;
    uwsgi_temp_path %(p)s/tmp;
    scgi_temp_path %(p)s/tmp;
    types { application/rss+xml xml; }
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s/www;
        etag on;
    }
}
""" % {"p": self.prefix, "log": self.log, "port": self.port, "root": root})
        self.proc = subprocess.Popen(["nginx", "-p", self.prefix, "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not start (see %s/logs/error.log)" % self.prefix)

    def mark(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def counts(self, since):
        """Requests by status, and connections used, since a mark."""
        c = {"200": 0, "304": 0, "other": 0}
        conns = set()
        with open(self.log, "rb") as f:
            f.seek(since)
            for line in f:
                st, conn = line.split(b" ", 2)[:2]
                st = st.decode()
                c[st if st in c else "other"] += 1
                conns.add(conn)
        c["conns"] = len(conns)
        return c

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def measure(argv, env=None, cwd=None):
    """Runs argv under GNU time; returns (wall s, cpu s, peak RSS KiB, exit
    status). GNU time is a small process: a child forked from this Python
    would report the bench's own RSS as its peak."""
    out = tempfile.NamedTemporaryFile(prefix="time-", delete=False)
    out.close()
    t = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-q", "-f", "%U %S %M %x", "-o", out.name] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       cwd=cwd)
    wall = time.monotonic() - t
    with open(out.name) as f:
        u, s, m, x = f.read().split()[-4:]
    os.unlink(out.name)
    return wall, float(u) + float(s), int(m), int(x) if x.lstrip("-").isdigit() else p.returncode


def watchlist_topics():
    """The lists and topics sections of the default config: real rules,
    real cost (the topics name the lists, "@allies")."""
    out, on = [], False
    with open(os.path.join(ROOT, "config", "feedwatch.yaml"), encoding="utf-8") as f:
        for line in f:
            if line[:1].isalpha():
                on = line.startswith(("lists:", "topics:"))
            if on:
                out.append(line)
    return "".join(out)


class Feedwatch:
    name = "feedwatch"

    def __init__(self, binary):
        self.bin = binary

    def setup(self, d, urls):
        lines = ["state: %s/state.db" % d, "feeds:"]
        lines += ['  - {url: "%s", name: f%05d}' % (u, i) for i, u in enumerate(urls)]
        self.conf = os.path.join(d, "feedwatch.yaml")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n" + watchlist_topics() +
                    "sinks:\n  - {type: log, path: %s/alerts.jsonl, format: jsonl}\n" % d)

    def argv(self):
        return [self.bin, "once", "-c", self.conf]


class Sfeed:
    name = "sfeed_update"

    def setup(self, d, urls):
        self.conf = os.path.join(d, "sfeedrc")
        with open(self.conf, "w") as f:
            f.write('sfeedpath="%s/feeds"\nfeeds() {\n' % d)
            for i, u in enumerate(urls):
                f.write('\tfeed "f%05d" "%s"\n' % (i, u))
            f.write("}\n")

    def argv(self):
        return ["sfeed_update", self.conf]


class Rss2email:
    name = "rss2email"

    def setup(self, d, urls):
        self.cfg, self.data = os.path.join(d, "r2e.cfg"), os.path.join(d, "r2e.json")
        subprocess.run(["r2e", "-c", self.cfg, "-d", self.data, "new", "bench@example.org"],
                       check=True, capture_output=True)
        with open(self.cfg, "a") as f:
            for i, u in enumerate(urls):
                f.write("\n[feed.f%05d]\nurl = %s\n" % (i, u))

    def argv(self):
        return ["r2e", "-c", self.cfg, "-d", self.data, "run", "--no-send"]


class Feed2exec:
    name = "feed2exec"

    def setup(self, d, urls):
        self.conf, self.db = os.path.join(d, "feed2exec.ini"), os.path.join(d, "feed2exec.db")
        with open(self.conf, "w") as f:
            for i, u in enumerate(urls):
                f.write("[f%05d]\nurl = %s\n\n" % (i, u))

    def argv(self):
        return ["feed2exec", "--config", self.conf, "--database", self.db, "fetch",
                "--parallel"]


def run_tool(tool, corpus, nginx, root, reps):
    res = {c: [] for c in ("cold", "warm", "update")}
    for rep in range(reps):
        corpus.reset()
        d = tempfile.mkdtemp(prefix=tool.name + "-", dir=root)
        env = dict(os.environ, HOME=d, XDG_CACHE_HOME=d, XDG_CONFIG_HOME=d,
                   XDG_DATA_HOME=d)
        tool.setup(d, [corpus.url(nginx.port, k) for k in range(corpus.n)])
        for cycle in ("cold", "warm", "update"):
            if cycle == "update":
                corpus.update(rep)
            mark = nginx.mark()
            wall, cpu, rss, rc = measure(tool.argv(), env=env, cwd=d)
            time.sleep(0.05)  # let nginx flush its log line
            res[cycle].append((wall, cpu, rss, rc, nginx.counts(mark)))
            print("  %-12s rep %d %-6s wall %6.2fs cpu %6.2fs rss %7.1f MiB exit %d  %s"
                  % (tool.name, rep + 1, cycle, wall, cpu, rss / 1024, rc,
                     nginx.counts(mark)), file=sys.stderr)
        shutil.rmtree(d, ignore_errors=True)
    return res


def med(v):
    return statistics.median(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--big", type=int, default=10000)
    ap.add_argument("--fw", default=os.path.join(ROOT, "build", "daemon", "feedwatch"))
    ap.add_argument("--tools", default="feedwatch,sfeed,rss2email,feed2exec")
    ap.add_argument("--keep", help="work in this directory and keep it")
    a = ap.parse_args()
    need = {"nginx": "nginx-light", "/usr/bin/time": "time", "sfeed_update": "sfeed",
            "r2e": "rss2email", "feed2exec": "feed2exec", "curl": "curl"}
    missing = sorted({pkg for prog, pkg in need.items() if shutil.which(prog) is None})
    if missing:
        raise SystemExit("bench/poll needs: apt-get install " + " ".join(missing))
    if not os.access(a.fw, os.X_OK):
        raise SystemExit("no feedwatch binary at %s (build it, or give --fw)" % a.fw)

    root = a.keep or tempfile.mkdtemp(prefix="fw-bench-poll-")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    corpus = Corpus(root, a.feeds)
    size, n_items = corpus.stats()
    nginx = Nginx(root)
    tools = {"feedwatch": Feedwatch(os.path.abspath(a.fw)), "sfeed": Sfeed(),
             "rss2email": Rss2email(), "feed2exec": Feed2exec()}
    results = {}
    try:
        for name in a.tools.split(","):
            print("%s ..." % tools[name].name, file=sys.stderr)
            results[tools[name].name] = run_tool(tools[name], corpus, nginx, root, a.reps)
        big = None
        if a.big > 0 and "feedwatch" in a.tools:
            big = run_big(tools["feedwatch"], corpus, nginx, root, a.big)
    finally:
        nginx.stop()
    report(results, a, size, n_items, big)
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


def run_big(fw, corpus, nginx, root, n):
    """n URLs over the same files: /b/NNNNN/feed-KKKK.xml (hard links)."""
    corpus.reset()
    for i in range(n):
        dst = os.path.join(root, "www", "b", "%05d" % i)
        os.makedirs(dst, exist_ok=True)
        k = i % corpus.n
        os.link(corpus.path(k), os.path.join(dst, "feed-%04d.xml" % k))
    urls = ["http://127.0.0.1:%d/b/%05d/feed-%04d.xml" % (nginx.port, i, i % corpus.n)
            for i in range(n)]
    d = tempfile.mkdtemp(prefix="feedwatch-big-", dir=root)
    fw.setup(d, urls)
    out = {}
    for cycle in ("cold", "warm"):
        mark = nginx.mark()
        wall, cpu, rss, rc = measure(fw.argv(), cwd=d)
        time.sleep(0.05)
        out[cycle] = (wall, cpu, rss, rc, nginx.counts(mark))
        print("  feedwatch big %-5s wall %6.2fs cpu %6.2fs rss %7.1f MiB exit %d %s"
              % (cycle, wall, cpu, rss / 1024, rc, out[cycle][4]), file=sys.stderr)
    return out


def report(results, a, size, n_items, big):
    print("## bench/poll: %d feeds, %.1f MB, %d items; medians of %d runs"
          % (a.feeds, size / 1e6, n_items, a.reps))
    print()
    print("| poller | cycle | wall s | CPU s | peak RSS MiB | nginx 200 | nginx 304 | other "
          "| connections |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    med_of = {}
    for tool, res in results.items():
        for cycle, runs in res.items():
            wall = med([r[0] for r in runs])
            cpu = med([r[1] for r in runs])
            rss = med([r[2] for r in runs]) / 1024
            c200 = med([r[4]["200"] for r in runs])
            c304 = med([r[4]["304"] for r in runs])
            oth = med([r[4]["other"] for r in runs])
            conns = med([r[4]["conns"] for r in runs])
            bad = [r[3] for r in runs if r[3] != 0]
            med_of[(tool, cycle)] = (wall, cpu, rss, c200, c304)
            print("| %s | %s | %.2f | %.2f | %.1f | %d | %d | %d%s | %d |"
                  % (tool, cycle, wall, cpu, rss, c200, c304, oth,
                     " (exit %s)" % bad[0] if bad else "", conns))
    print()
    fw = "feedwatch"
    targets = [("cold", "sfeed_update", 0.25), ("warm", "rss2email", 0.2),
               ("update", "rss2email", 0.2)]
    for cycle, peer, want in targets:
        if (fw, cycle) in med_of and (peer, cycle) in med_of:
            ratio = med_of[(fw, cycle)][0] / med_of[(peer, cycle)][0]
            print("- %s wall: feedwatch %.3fs / %s %.3fs = %.3fx (target <= %.2fx): %s"
                  % (cycle, med_of[(fw, cycle)][0], peer, med_of[(peer, cycle)][0], ratio,
                     want, "met" if ratio <= want else "NOT met"))
            # On a shared machine CPU time moves less than wall time.
            cratio = med_of[(fw, cycle)][1] / med_of[(peer, cycle)][1]
            print("- %s CPU: feedwatch %.3fs / %s %.3fs = %.3fx (target <= %.2fx): %s"
                  % (cycle, med_of[(fw, cycle)][1], peer, med_of[(peer, cycle)][1], cratio,
                     want, "met" if cratio <= want else "NOT met"))
    for cycle in ("cold", "warm", "update"):
        if (fw, cycle) not in med_of:
            continue
        peers = [(t, v[1]) for (t, c), v in med_of.items() if c == cycle and t != fw]
        if peers:
            best = min(peers, key=lambda x: x[1])
            print("- %s CPU: feedwatch %.3fs, lowest peer %s %.3fs: %s"
                  % (cycle, med_of[(fw, cycle)][1], best[0], best[1],
                     "below every peer" if med_of[(fw, cycle)][1] < best[1] else "NOT below"))
    if (fw, "warm") in med_of:
        w = med_of[(fw, "warm")]
        print("- feedwatch warm cycle: %d x 304, %d x 200 (every feed 304: %s)"
              % (w[4], w[3], "yes" if w[4] == a.feeds and w[3] == 0 else "no"))
        print("- feedwatch peak RSS: %.1f MiB (target < 24 MiB)"
              % max(v[2] for (t, c), v in med_of.items() if t == fw))
    if big:
        for cycle, (wall, cpu, rss, rc, c) in big.items():
            print("- %d feeds, %s cycle: wall %.2fs, CPU %.2fs, peak RSS %.1f MiB, "
                  "nginx %d x 200, %d x 304, %d other over %d connections, exit %d"
                  % (a.big, cycle, wall, cpu, rss / 1024, c["200"], c["304"], c["other"],
                     c["conns"], rc))


if __name__ == "__main__":
    main()

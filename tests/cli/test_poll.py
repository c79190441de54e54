"""Polling over real HTTP on 127.0.0.1: conditional GET and 304, unchanged
bodies, the decompressed size cap (gzip bomb), redirect chains, loops and
scheme limits, a 301 that holds, 410, 429/503 with both Retry-After forms,
backoff growth and cap, a slow-drip body, per-host concurrency, secret
headers, progress on a terminal, feed-health alerts, adaptive intervals, and
the daemon resuming its schedule after a restart (and stopping promptly)."""
import calendar
import email.utils
import gzip
import json
import os
import pty
import re
import select
import signal
import subprocess
import threading
import time

from fwtest import (FW_BIN, FeedServer, check, finish, read_jsonl, rss, run,
                    state_path, state_sql, tmpdir, write)

NOW = time.time()


def rfc822(t):
    return email.utils.formatdate(t, usegmt=True)


def items(n, step=3600, start=None, prefix="i"):
    start = NOW - 600 if start is None else start
    return [{"guid": "%s-%d" % (prefix, k), "title": "Story %s %d" % (prefix, k),
             "link": "http://news.example/%s-%d" % (prefix, k),
             "description": "text", "pubDate": rfc822(start - k * step)}
            for k in range(n)]


FEED = rss(items(3))


def config(d, feeds, defaults="", extra=""):
    lines = ["state: %s" % state_path(d)]
    if defaults:
        lines.append("defaults: {%s}" % defaults)
    lines.append("feeds:")
    for f in feeds:
        lines.append("  - " + f)
    lines.append("topics:\n  - {name: any, terms: [story]}")
    lines.append("sinks:\n  - {type: log, path: \"%s\", format: jsonl}"
                 % os.path.join(d, "alerts.jsonl"))
    if extra:
        lines.append(extra)
    return write(os.path.join(d, "feedwatch.yaml"), "\n".join(lines) + "\n")


def status(conf):
    r = run("status", "-c", conf, "--json")
    return {j["name"]: j for j in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}


def iso(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def delay(st):
    return iso(st["next_poll"]) - iso(st["last_poll"])


def hits(srv, path):
    return sum(1 for p, _ in srv.requests if p.split("?")[0] == path)


def health_alerts(d):
    return [a for a in read_jsonl(os.path.join(d, "alerts.jsonl"))
            if a.get("topics") == ["feed_health"]]


def test_validators(srv):
    d = tmpdir()
    seen = []

    def feed(h):
        inm, ims = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        seen.append((inm, ims))
        if inm == '"v1"':
            # A 304 with a fresh validator: the next poll must send it.
            h.send_response(304)
            h.send_header("ETag", '"v2"')
            h.end_headers()
            return
        if inm == '"v2"':
            h.send_response(304)
            h.end_headers()
            return
        body = FEED.encode()
        h.send_response(200)
        h.send_header("ETag", '"v1"')
        h.send_header("Last-Modified", "Sat, 01 Nov 2025 10:00:00 GMT")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def lm_only(h):
        seen_lm.append((h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")))
        if h.headers.get("If-Modified-Since"):
            h.send_response(304)
            h.end_headers()
            return
        body = FEED.encode()
        h.send_response(200)
        h.send_header("Last-Modified", "Sun, 02 Nov 2025 10:00:00 GMT")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    seen_lm = []
    srv.routes["/etag.xml"] = feed
    srv.routes["/lm.xml"] = lm_only
    conf = config(d, ['{url: "%s", name: etag}' % srv.url("/etag.xml"),
                      '{url: "%s", name: lm}' % srv.url("/lm.xml")])
    r1 = run("once", "-c", conf)
    r2 = run("once", "-c", conf)
    r3 = run("once", "-c", conf)
    check(r1.returncode == 0 and r2.returncode == 0 and r3.returncode == 0,
          "validators: three cycles exit 0")
    check(seen[0] == (None, None), "validators: the first poll is unconditional")
    check(seen[1] == ('"v1"', "Sat, 01 Nov 2025 10:00:00 GMT"),
          "validators: the second poll sends If-None-Match and If-Modified-Since (%r)"
          % (seen[1],))
    check(seen[2][0] == '"v2"', "validators: the ETag of a 304 replaces the stored one")
    check(seen_lm[1] == (None, "Sun, 02 Nov 2025 10:00:00 GMT"),
          "validators: Last-Modified alone gives If-Modified-Since alone")
    st = status(conf)
    check(st["etag"]["http_status"] == 304 and st["etag"]["items_seen"] == 3,
          "validators: status shows HTTP 304 and the items seen")
    check("unchanged (HTTP 304 Not Modified)" in r2.stderr, "validators: a 304 is reported unchanged")
    check("etag': 3 items" in r1.stderr and "etag': 3 items" not in r2.stderr,
          "validators: a 304 is not parsed")


def test_unchanged_body(srv):
    d = tmpdir()
    srv.routes["/plain.xml"] = (200, {"Content-Type": "application/rss+xml"}, FEED)
    conf = config(d, ['{url: "%s", name: plain}' % srv.url("/plain.xml")])
    r1 = run("once", "-c", conf)
    r2 = run("once", "-c", conf)
    check("plain': 3 items" in r1.stderr, "unchanged body: the first poll parses")
    check("plain': unchanged (the same content as the last poll)" in r2.stderr,
          "unchanged body: the same body without validators is not parsed again")


def bomb(chunked):
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Encoding", "gzip")
        payload = gzip.compress(b"<rss>" + b" " * (64 * 1024 * 1024), 9)
        if not chunked:
            h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        try:
            h.wfile.write(payload)
        except OSError:
            pass
    return handler


def test_gzip_bomb(srv):
    d = tmpdir()
    srv.routes["/bomb.xml"] = bomb(False)
    srv.routes["/bomb-nolen.xml"] = bomb(True)
    conf = config(d, ['{url: "%s", name: bomb, max_bytes: 1MiB}' % srv.url("/bomb.xml"),
                      '{url: "%s", name: nolen, max_bytes: 1MiB}' % srv.url("/bomb-nolen.xml")])
    t = time.time()
    r = run("once", "-c", conf)
    st = status(conf)
    check(r.returncode == 0, "gzip bomb: the cycle ends normally")
    check(time.time() - t < 20, "gzip bomb: stopped quickly")
    for name in ("bomb", "nolen"):
        check("limit" in (st[name]["last_error"] or ""),
              "gzip bomb (%s): the decompressed size is capped (%s)"
              % (name, st[name]["last_error"]))


def redirect(to, code=302):
    return (code, {"Location": to}, "")


def test_redirects(srv, tmp_file):
    d = tmpdir()
    srv.routes["/target.xml"] = (200, {}, FEED)
    for k in range(1, 6):
        srv.routes["/chain%d" % k] = redirect(srv.url("/chain%d" % (k + 1)) if k < 5
                                              else srv.url("/target.xml"))
    for k in range(1, 7):
        srv.routes["/long%d" % k] = redirect(srv.url("/long%d" % (k + 1)) if k < 6
                                             else srv.url("/target.xml"))
    srv.routes["/loopa"] = redirect(srv.url("/loopb"))
    srv.routes["/loopb"] = redirect(srv.url("/loopa"))
    srv.routes["/tofile"] = redirect("file://" + tmp_file)
    srv.routes["/toftp"] = redirect("ftp://127.0.0.1/feed.xml")
    conf = config(d, ['{url: "%s", name: chain}' % srv.url("/chain1"),
                      '{url: "%s", name: long}' % srv.url("/long1"),
                      '{url: "%s", name: loop}' % srv.url("/loopa"),
                      '{url: "%s", name: tofile}' % srv.url("/tofile"),
                      '{url: "%s", name: toftp}' % srv.url("/toftp")])
    run("once", "-c", conf)
    st = status(conf)
    check(st["chain"]["state"] == "ok" and st["chain"]["items_seen"] == 3,
          "redirects: a chain of 5 is followed")
    check(st["long"]["state"] == "failing" and "redirect" in st["long"]["last_error"].lower(),
          "redirects: a chain of 6 is refused (%s)" % st["long"]["last_error"])
    check(st["loop"]["state"] == "failing" and "redirect" in st["loop"]["last_error"].lower(),
          "redirects: a loop ends with an error")
    check(hits(srv, "/loopa") + hits(srv, "/loopb") <= 6, "redirects: a loop is cut short")
    check(st["tofile"]["state"] == "failing" and st["tofile"]["items_seen"] == 0,
          "redirects: a redirect to file:// is refused (%s)" % st["tofile"]["last_error"])
    check(st["toftp"]["state"] == "failing", "redirects: a redirect to ftp:// is refused")
    check(st["chain"]["polled_url"] == srv.url("/chain1"),
          "redirects: temporary redirects never move the feed")


def test_moved(srv):
    d = tmpdir()
    srv.routes["/old.xml"] = redirect(srv.url("/new.xml"), 301)
    srv.routes["/new.xml"] = (200, {}, FEED)
    srv.routes["/old308.xml"] = redirect(srv.url("/new.xml"), 308)
    conf = config(d, ['{url: "%s", name: moved}' % srv.url("/old.xml"),
                      '{url: "%s", name: moved308}' % srv.url("/old308.xml")])
    logs = []
    for _ in range(3):
        r = run("once", "-c", conf)
        logs.append(r.stderr)
        check(status(conf)["moved"]["polled_url"] == srv.url("/old.xml") or _ == 2,
              "301: polls 1-2 keep the configured URL")
    check(hits(srv, "/old.xml") == 3, "301: the old URL is polled three times")
    check("moved permanently" in logs[2] and "moved permanently" not in logs[1],
          "301: the user is told in the log when the move sticks")
    st = status(conf)
    check(st["moved"]["polled_url"] == srv.url("/new.xml"),
          "301: after 3 polls in a row the stored URL is the new one")
    check(st["moved308"]["polled_url"] == srv.url("/new.xml"), "308: likewise")
    run("once", "-c", conf)
    check(hits(srv, "/old.xml") == 3, "301: the fourth poll goes straight to the new URL")
    check(status(conf)["moved"]["items_seen"] == 3, "301: the feed keeps its seen items")


def test_moved_not_held(srv):
    d = tmpdir()
    flip = [0]

    def sometimes(h):
        flip[0] += 1
        if flip[0] == 2:
            body = FEED.encode()
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(301)
        h.send_header("Location", srv.url("/new.xml"))
        h.send_header("Content-Length", "0")
        h.end_headers()

    srv.routes["/flaky-move.xml"] = sometimes
    srv.routes["/new.xml"] = (200, {}, FEED)
    conf = config(d, ['{url: "%s", name: flaky}' % srv.url("/flaky-move.xml")])
    for _ in range(4):
        run("once", "-c", conf)
    check(status(conf)["flaky"]["polled_url"] == srv.url("/flaky-move.xml"),
          "301: a move interrupted by a 200 does not stick after 3 polls in all")


def test_gone(srv):
    d = tmpdir()
    srv.routes["/gone.xml"] = (410, {}, "gone")
    conf = config(d, ['{url: "%s", name: gone}' % srv.url("/gone.xml")])
    r = run("once", "-c", conf)
    check("410" in r.stderr and "disabled" in r.stderr, "410: the user is told")
    check(status(conf)["gone"]["state"] == "disabled", "410: the feed is disabled")
    run("once", "-c", conf)
    check(hits(srv, "/gone.xml") == 1, "410: a disabled feed is not polled again")
    ha = health_alerts(d)
    check(len(ha) == 1 and ha[0]["feed_name"] == "gone",
          "410: one feed-health alert reaches the sinks")


def test_retry_after(srv):
    d = tmpdir()
    srv.routes["/429s.xml"] = (429, {"Retry-After": "120"}, "")
    srv.routes["/429d.xml"] = (429, {"Retry-After": rfc822(time.time() + 7200)}, "")
    srv.routes["/503s.xml"] = (503, {"Retry-After": "300"}, "")
    srv.routes["/503-none.xml"] = (503, {}, "")
    srv.routes["/sibling.xml"] = (200, {}, FEED)
    # Intervals below the waits asked for: a Retry-After shorter than the
    # interval does not count (test_hostile.py).
    conf = config(d, ['{url: "%s", name: s429, interval: 1m}' % srv.url("/429s.xml"),
                      '{url: "%s", name: d429, interval: 1m}' % srv.url("/429d.xml"),
                      '{url: "%s", name: s503, interval: 1m}' % srv.url("/503s.xml"),
                      '{url: "%s", name: n503, interval: 10m}' % srv.url("/503-none.xml"),
                      '{url: "%s", name: sibling, interval: 10m}' % srv.url("/sibling.xml")],
                  defaults="min_interval: 1m")
    run("once", "-c", conf)
    st = status(conf)
    check(delay(st["s429"]) == 120, "429: Retry-After in seconds is honoured (%d)"
          % delay(st["s429"]))
    check(7190 <= delay(st["d429"]) <= 7201,
          "429: Retry-After as an HTTP-date is honoured (%d)" % delay(st["d429"]))
    check(delay(st["s503"]) == 300, "503: Retry-After is honoured")
    check(480 <= delay(st["n503"]) <= 600, "503 without Retry-After: backoff (%d)"
          % delay(st["n503"]))
    check(st["sibling"]["state"] == "ok" and delay(st["sibling"]) not in (120, 300, 7200),
          "Retry-After is per feed: a feed on the same host is not delayed")
    check(st["s429"]["consecutive_errors"] == 1, "429: counted as an error")


def test_backoff(srv):
    d = tmpdir()
    state = {"fail": True}

    def flaky(h):
        if state["fail"]:
            h.send_response(500)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = FEED.encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    srv.routes["/500.xml"] = flaky
    conf = config(d, ['{url: "%s", name: five}' % srv.url("/500.xml")],
                  defaults="interval: 10s, min_interval: 10s, backoff_cap: 60s, "
                           "health_failures: 3")
    delays = []
    for _ in range(6):
        run("once", "-c", conf)
        st = status(conf)["five"]
        delays.append(delay(st))
    expect = [10, 20, 40, 60, 60, 60]
    ok = all(0.8 * e - 1 <= got <= e for got, e in zip(delays, expect))
    check(ok, "500: backoff doubles from the interval up to the cap (%r)" % delays)
    check(st["consecutive_errors"] == 6 and st["backoff_seconds"] == delays[-1],
          "500: status shows the error count and the backoff")
    check(st["last_error"] == "HTTP 500", "500: the reason is kept")
    ha = health_alerts(d)
    check(len(ha) == 1 and ha[0]["health"] == "failing" and ha[0]["severity"] == "high",
          "health: one alert after 3 failed polls, not one per failure")
    state["fail"] = False
    run("once", "-c", conf)
    run("once", "-c", conf)
    ha = health_alerts(d)
    check(len(ha) == 2 and ha[1]["health"] == "recovered",
          "health: one alert on recovery")
    check(status(conf)["five"]["consecutive_errors"] == 0, "500: recovery resets the count")


def test_slow_drip(srv):
    d = tmpdir()

    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    srv.routes["/drip.xml"] = drip
    srv.routes["/fast.xml"] = (200, {}, FEED)
    conf = config(d, ['{url: "%s", name: drip, timeout: 2s}' % srv.url("/drip.xml"),
                      '{url: "%s", name: fast}' % srv.url("/fast.xml")])
    t = time.time()
    run("once", "-c", conf)
    took = time.time() - t
    st = status(conf)
    check(took < 8, "slow drip: the cycle ends soon after the timeout (%.1fs)" % took)
    check("timed out" in (st["drip"]["last_error"] or "").lower(),
          "slow drip: reported as a timeout (%s)" % st["drip"]["last_error"])
    check(st["fast"]["state"] == "ok", "slow drip: other feeds are polled meanwhile")


def test_concurrency(srv):
    d = tmpdir()
    lock = threading.Lock()
    live = {"now": 0, "max": 0}
    spans = []

    def slow(h):
        start = time.time()
        with lock:
            live["now"] += 1
            live["max"] = max(live["max"], live["now"])
        time.sleep(0.4)
        with lock:
            live["now"] -= 1
            spans.append((start, time.time()))
        body = FEED.encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    for k in range(8):
        srv.routes["/slow%d.xml" % k] = slow
    feeds = ['{url: "%s", name: slow%d}' % (srv.url("/slow%d.xml" % k), k) for k in range(8)]
    conf = config(d, feeds, defaults="per_host: 3, concurrency: 8")
    run("once", "-c", conf)
    # From the first request to the last answer: opening the state (a new
    # PostgreSQL schema takes a while under ASan) is not the transfers'.
    took = max(e for _, e in spans) - min(s for s, _ in spans) if spans else 99
    check(live["max"] == 3, "concurrency: at most per_host requests to one host at once "
          "(%d)" % live["max"])
    check(took < 2.6, "concurrency: transfers overlap (%.2fs for 8 x 0.4s)" % took)
    live["max"] = 0
    d2 = tmpdir()
    conf = config(d2, feeds, defaults="per_host: 4, concurrency: 2")
    run("once", "-c", conf)
    check(live["max"] == 2, "concurrency: the global limit holds (%d)" % live["max"])


def test_headers_and_agent(srv):
    d = tmpdir()
    srv.routes["/private.xml"] = (200, {}, FEED)
    secret_file = write(os.path.join(d, "token"), "file-secret-42\n")
    os.chmod(secret_file, 0o600)
    conf = config(d, ['{url: "%s", name: private, headers: [{name: Authorization, '
                      'value_env: FW_TEST_TOKEN}, {name: X-Key, value_file: "%s"}]}'
                      % (srv.url("/private.xml"), secret_file)])
    r = run("once", "-c", conf, "--log-level", "debug",
            env={"FW_TEST_TOKEN": "Bearer env-secret-17"})
    reqs = [h for p, h in srv.requests if p == "/private.xml"]
    check(reqs and reqs[-1].get("Authorization") == "Bearer env-secret-17",
          "headers: a value from the environment is sent")
    check(reqs and reqs[-1].get("X-Key") == "file-secret-42",
          "headers: a value from a file is sent")
    check(reqs and reqs[-1].get("User-Agent", "").startswith("feedwatch/")
          and "(+http" in reqs[-1].get("User-Agent", ""),
          "User-Agent is feedwatch/VERSION (+URL) (%s)" % (reqs[-1].get("User-Agent")
                                                           if reqs else None))
    check("gzip" in (reqs[-1].get("Accept-Encoding", "") if reqs else ""),
          "Accept-Encoding offers gzip")
    st = run("status", "-c", conf, "--json")
    leaked = [s for s in (r.stdout, r.stderr, st.stdout, st.stderr)
              if "secret-17" in s or "secret-42" in s]
    check(not leaked, "headers: secrets never appear in logs or status")


def test_progress(srv):
    d = tmpdir()
    srv.routes["/p1.xml"] = (200, {}, FEED)
    conf = config(d, ['{url: "%s", name: p1}' % srv.url("/p1.xml")])
    r = run("once", "-c", conf)
    check("1/1 feeds" not in r.stderr, "progress: nothing extra when stderr is not a terminal")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(FW_BIN, [FW_BIN, "once", "-c", conf])
    out = b""
    end = time.time() + 20
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.waitpid(pid, 0)
    check(re.search(rb"1/1 feeds, \d+ new items, \d+ alerts, \d+ errors", out) is not None,
          "progress: a terminal sees feeds done/total, new items, alerts so far and errors "
          "(%r)" % out[-300:])


def test_adaptive(srv):
    d = tmpdir()
    hourly = rss(items(10, step=3600))
    srv.routes["/hourly.xml"] = (200, {}, hourly)
    srv.routes["/ttl.xml"] = (200, {}, hourly.replace(
        "<description>d</description>", "<description>d</description><ttl>180</ttl>", 1))
    srv.routes["/maxage.xml"] = (200, {"Cache-Control": "public, max-age=7200"}, hourly)
    srv.routes["/expires.xml"] = (200, {"Expires": rfc822(time.time() + 5400),
                                        "Date": rfc822(time.time())}, hourly)
    srv.routes["/daily.xml"] = (200, {}, rss(items(10, step=86400)))
    srv.routes["/minutely.xml"] = (200, {}, rss(items(10, step=60)))
    srv.routes["/silent.xml"] = (200, {}, rss(items(10, step=3600, start=NOW - 40 * 86400)))
    conf = config(d, ['{url: "%s", name: %s}' % (srv.url("/%s.xml" % n), n)
                      for n in ("hourly", "ttl", "maxage", "expires", "daily",
                                "minutely", "silent")],
                  defaults="interval: 15m, min_interval: 5m, max_interval: 6h")
    run("once", "-c", conf)
    st = status(conf)
    iv = {n: st[n]["interval_seconds"] for n in st}
    check(iv["hourly"] == 1800, "adaptive: hourly items give a 30 min interval (%d)"
          % iv["hourly"])
    check(iv["ttl"] == 3 * 3600, "adaptive: <ttl> lengthens it (%d)" % iv["ttl"])
    check(iv["maxage"] == 7200, "adaptive: Cache-Control max-age lengthens it (%d)"
          % iv["maxage"])
    check(5300 <= iv["expires"] <= 5400, "adaptive: Expires lengthens it (%d)" % iv["expires"])
    check(iv["daily"] == 6 * 3600, "adaptive: capped at max_interval (%d)" % iv["daily"])
    check(iv["minutely"] == 300, "adaptive: never below min_interval (%d)" % iv["minutely"])
    nxt = delay(st["hourly"])
    check(900 <= nxt <= 1800, "first poll: the next one is spread with jitter (%d)" % nxt)
    check(health_alerts(d) == [],
          "health: no alert on a first poll, even of a feed whose items are old")
    # Nothing new for 40 days while polling it: move the time feedwatch
    # last saw something new back, as 40 days of polls would have.
    state_sql(state_path(d), "UPDATE feeds SET newest_item = ? WHERE url LIKE '%/silent.xml'",
              (int(NOW - 40 * 86400),))
    r = run("once", "-c", conf)
    ha = health_alerts(d)
    check([a["feed_name"] for a in ha] == ["silent"] and ha[0]["health"] == "silent",
          "health: a feed silent far longer than usual raises one alert")
    check("alert %s queued for 1 sinks (topics: feed_health)" % ha[0]["id"] in r.stderr
          and ", 1 alerts; 1 delivered" in r.stderr,
          "health: the alert is logged as queued and counted in the cycle summary (%s)"
          % r.stderr.strip().splitlines()[-1])
    run("once", "-c", conf)
    check(len(health_alerts(d)) == 1, "health: the silence alert is not repeated")


def test_restart(srv):
    d = tmpdir()
    srv.routes["/a.xml"] = (200, {}, FEED)
    srv.routes["/b.xml"] = (200, {}, FEED)

    def hang(h):
        time.sleep(30)

    srv.routes["/hang.xml"] = hang
    feeds = ['{url: "%s", name: a, interval: 1h}' % srv.url("/a.xml")]
    conf = config(d, feeds)

    def start():
        return subprocess.Popen([FW_BIN, "run", "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def wait_for(cond, secs):
        end = time.time() + secs
        while time.time() < end:
            if cond():
                return True
            time.sleep(0.05)
        return False

    p = start()
    polled = wait_for(lambda: hits(srv, "/a.xml") == 1, 10)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    check(polled, "restart: the daemon polls a new feed at once")
    # A second feed is added; the first one is not due for an hour.
    conf = config(d, feeds + ['{url: "%s", name: b, interval: 1h}' % srv.url("/b.xml"),
                              '{url: "%s", name: hang, timeout: 60s}' % srv.url("/hang.xml")])
    p = start()
    polled_b = wait_for(lambda: hits(srv, "/b.xml") == 1 and hits(srv, "/hang.xml") == 1, 10)
    time.sleep(1.5)
    check(polled_b, "restart: a feed never polled is polled at once")
    check(hits(srv, "/a.xml") == 1, "restart: a feed polled before is not polled again "
          "before it is due")
    t = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    took = time.time() - t
    check(took < 5, "SIGTERM stops the daemon within 5 s with a transfer in flight (%.2fs)"
          % took)
    nxt = dict(state_sql(state_path(d), "SELECT url, next_poll FROM feeds"))
    check(nxt[srv.url("/a.xml")] > time.time() + 600,
          "restart: the next poll time is kept in the state file")
    check(nxt.get(srv.url("/hang.xml"), 0) == 0,
          "restart: an abandoned transfer leaves its feed due")
    # A shorter interval takes effect on the next start, not after the
    # poll already scheduled an hour away.
    conf = config(d, ['{url: "%s", name: a, interval: 10m, max_interval: 10m}'
                      % srv.url("/a.xml")])
    p = start()
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    st = status(conf)["a"]
    check(delay(st) <= 600 and st["interval_seconds"] == 600,
          "restart: a changed max_interval brings the next poll within it (%ds, %s)"
          % (delay(st), st["interval_seconds"]))
    check(hits(srv, "/a.xml") == 1, "restart: the feed is not polled before it is due")


def test_order(srv):
    d = tmpdir()
    same = rss(items(1, prefix="dup"))

    def slow(h):
        time.sleep(0.6)
        body = same.encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    srv.routes["/first-slow.xml"] = slow
    srv.routes["/second-fast.xml"] = (200, {}, same)
    conf = config(d, ['{url: "%s", name: first}' % srv.url("/first-slow.xml"),
                      '{url: "%s", name: second}' % srv.url("/second-fast.xml")])
    run("once", "-c", conf)
    alerts = [a for a in read_jsonl(os.path.join(d, "alerts.jsonl"))
              if a.get("topics") != ["feed_health"]]
    check([a["feed_name"] for a in alerts] == ["first"],
          "order: a story on two feeds is credited to the first in the config, "
          "even when the other answers first (%r)" % [a["feed_name"] for a in alerts])


def test_tls(srv):
    """TLS verification is on; ca_path (a bundle or a hashed directory)
    trusts a private CA. Skipped without the openssl command."""
    import shutil
    import ssl
    if shutil.which("openssl") is None:
        print("skip - TLS: no openssl command")
        return
    d = tmpdir()
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    cadir = os.path.join(d, "ca")
    os.mkdir(cadir)
    shutil.copy(cert, os.path.join(cadir, "test.pem"))
    subprocess.run(["openssl", "rehash", cadir], check=True, capture_output=True)
    tls = FeedServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls.httpd.socket = ctx.wrap_socket(tls.httpd.socket, server_side=True)
    with tls:
        tls.routes["/tls.xml"] = (200, {}, FEED)
        url = tls.url("/tls.xml").replace("http://", "https://")
        runs = {}
        for name, extra in (("untrusted", ""), ("bundle", "ca_path: %s" % cert),
                            ("directory", "ca_path: %s" % cadir)):
            dd = tmpdir()
            conf = config(dd, ['{url: "%s", name: tls}' % url], extra=extra)
            run("once", "-c", conf)
            runs[name] = status(conf)["tls"]
    check(runs["untrusted"]["state"] == "failing" and runs["untrusted"]["items_seen"] == 0,
          "TLS: an untrusted certificate is refused (%s)" % runs["untrusted"]["last_error"])
    check(runs["bundle"]["state"] == "ok" and runs["bundle"]["items_seen"] == 3,
          "TLS: ca_path as a bundle file is trusted (%s)" % runs["bundle"]["last_error"])
    check(runs["directory"]["state"] == "ok",
          "TLS: ca_path as a hashed directory is trusted (%s)" % runs["directory"]["last_error"])


def main():
    d = tmpdir()
    local = write(os.path.join(d, "local.xml"), FEED)
    with FeedServer() as srv:
        for t in (test_validators, test_unchanged_body, test_gzip_bomb, test_moved,
                  test_moved_not_held, test_gone, test_retry_after, test_backoff,
                  test_slow_drip, test_concurrency, test_headers_and_agent,
                  test_progress, test_adaptive, test_restart, test_order, test_tls):
            srv.requests.clear()
            t(srv)
        srv.requests.clear()
        test_redirects(srv, local)
    finish()


if __name__ == "__main__":
    main()

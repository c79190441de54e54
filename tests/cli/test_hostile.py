"""What a hostile feed, feed server or webhook receiver can try, one case per
item of issue 15, each showing the attack and that it is contained
(docs/security.md):

 1. control characters from a feed or a server (forged "<0>" journal lines,
    "ESC ] 0;" terminal title sets) in log lines, the text sink and the
    verbs' output; links that are not links (javascript:, a newline).
 2. chat mass mentions and masked links in Slack and Discord bodies.
 3. a feed's secret header following a redirect to another origin, and an
    https to http downgrade.
 6. secrets (a webhook token, user:password@, ?token=) in warnings,
    deliveries.last_error, alerts --json, status and the alert's "feed".
 8. one feed flooding the outbox: alerts past max_alerts_per_poll are
    summed up in one.
 9. "Retry-After: 0" or a date in the past: never sooner than the interval.
 10. validators that are no valid header value (a bare CR, an ESC) are
    not kept, so never sent back.
 11. the state file and its -wal/-shm are created 0600 under umask 022;
    a secret file readable by every user is refused.
 12. a duration of 2^63-1 seconds is refused (now + interval would overflow).
 4. an oversized item (80 KB title, 100 KB link) next to normal ones: capped
    at parse time, every chat body still built, every alert delivered
    (the digest case is test_outbox's digest_unbuildable_member).
"""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time

from fwtest import (PG, FW_BIN, FeedServer, check, finish, read_jsonl, run, tmpdir, write,
                    state_path, state_sql)

ESC = "\x1b"
# A newline followed by what journald reads as an emergency-priority line,
# and an OSC sequence that sets a terminal's title.
FORGED = "x\n<0>FORGED emergency"
TITLE_SET = ESC + "]0;owned" + "\x07"
NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
CLEAN_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")


def run_journal(args, timeout=60):
    """Runs feedwatch with stderr to a file that JOURNAL_STREAM names, so
    every log line carries its "<N>" priority as under systemd. Returns
    (returncode, stderr)."""
    with tempfile.TemporaryFile() as err:
        st = os.fstat(err.fileno())
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        rc = subprocess.call([FW_BIN] + args, stdout=subprocess.DEVNULL, stderr=err,
                             env=env, timeout=timeout)
        err.seek(0)
        return rc, err.read().decode("utf-8", "replace")


def no_controls(text):
    """True when text has no control character but newlines and tabs."""
    return not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F
                   or c in "\u202e\u2066\u2028" for c in text)


def hostile_jsonfeed():
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile " + TITLE_SET,
        "items": [
            {"id": "j1", "title": "tariffs " + TITLE_SET + " \u202ereversed",
             "url": "http://news.example/a" + FORGED,
             "date_published": "not a date" + FORGED},
            {"id": "j2", "title": "tariffs script link",
             "url": "javascript:alert(document.cookie)"},
            {"id": "j3", "title": "tariffs data link",
             "url": "data:text/html,<script>alert(1)</script>"},
            {"id": "j4", "title": "tariffs good link",
             "url": "https://news.example/ok"},
            {"id": "j5", "title": "tariffs five " + TITLE_SET + " \u202ereversed",
             "url": "https://news.example/five", "date_published": NOW},
        ]})


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps every body it gets and
    answers with status (and a body the test chooses)."""

    def __init__(self, status=200, reply=b"ok"):
        recv = self
        self.bodies = []
        self.status, self.reply = status, reply

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                recv.bodies.append((self.path, json.loads(body)))
                self.send_response(recv.status)
                self.send_header("Content-Length", str(len(recv.reply)))
                self.end_headers()
                self.wfile.write(recv.reply)

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


def base_config(d, feeds, sinks="", extra=""):
    # Many variations of one hostile headline, each checked as its own
    # alert: grouping them into developments is not what is tested here.
    lines = ["state: %s" % state_path(d), "developments: {group: false}",
             "feeds:"]
    lines += ["  - " + f for f in feeds]
    lines.append("topics:\n  - {name: trade, terms: [tariffs, story]}")
    lines.append("sinks:\n  - {type: log, name: jsonl, path: \"%s\", format: jsonl}"
                 % os.path.join(d, "alerts.jsonl"))
    lines.append("  - {type: log, name: text, path: \"%s\", format: text}"
                 % os.path.join(d, "alerts.txt"))
    if sinks:
        lines.append(sinks)
    if extra:
        lines.append(extra)
    return write(os.path.join(d, "feedwatch.yaml"), "\n".join(lines) + "\n")


def test_control_characters():
    d = tmpdir()
    feed = write(os.path.join(d, "hostile.json"), hostile_jsonfeed())
    # parse: the listing is for terminals, --json for programs.
    r = run("parse", feed)
    check(r.returncode == 0, "parse of the hostile feed exits 0 (%s)" % r.stderr.strip())
    check(no_controls(r.stdout) and no_controls(r.stderr),
          "parse listing: no ESC, BEL, bidi override or stray newline reaches the terminal")
    check(not any(l.startswith("<0>") or l.startswith("FORGED") for l in r.stdout.splitlines()),
          "parse listing: the feed cannot start a line of its own")
    check("\\u202Ereversed" in r.stdout and "\\x0A<0>FORGED" in r.stdout,
          "parse listing: a bidi override and a newline are shown escaped, not dropped")
    r = run("parse", "--json", feed)
    doc = json.loads(r.stdout)
    links = {it["id"]: it["link"] for it in doc["items"]}
    check(links == {"j1": None, "j2": None, "j3": None, "j4": "https://news.example/ok",
                       "j5": "https://news.example/five"},
          "parse --json: a link with a newline, javascript: or data: is no link (%r)" % links)
    check(any("link dropped" in w for w in doc["warnings"]),
          "parse --json: a dropped link is a warning")
    check("\u202e" in doc["items"][0]["title"],
          "parse --json keeps the title's text as data (JSON is for programs)")

    # The daemon: log lines under journald, and the text sink.
    with FeedServer() as srv:
        srv.routes["/h.json"] = (200, {"Content-Type": "application/feed+json; charset="
                                       "utf-8"}, hostile_jsonfeed())
        srv.routes["/cs.xml"] = (200, {"Content-Type": "text/xml; charset=x\x1b]0;cs\x07"},
                                 '<?xml version="1.0"?><rss version="2.0"><channel>'
                                 '<title>c</title><item><guid>c1</guid><title>tariffs'
                                 '</title></item></channel></rss>')
        conf = base_config(d, ['{url: "%s", name: hostile}' % srv.url("/h.json"),
                               '{url: "%s", name: charset}' % srv.url("/cs.xml")])
        rc, err = run_journal(["once", "-c", conf, "--log-level", "debug"])
        check(rc == 0, "once over hostile feeds exits 0 (%s)" % err[-300:])
        lines = err.splitlines()
        check(len(lines) > 0 and all(l[:1] == "<" and l[2:3] == ">" and l[1] in "34567"
                                     for l in lines),
              "journal: every line has feedwatch's own priority, none is forged (%r)"
              % [l for l in lines if not (l[:1] == "<" and l[2:3] == ">")][:3])
        check(not any(l.startswith("<0>") for l in lines), "journal: no <0> line")
        check(no_controls(err), "journal: no ESC or BEL from the feed or the server")
        check("not a date" in err and "\\x0A<0>FORGED" in err,
              "journal: the bad date is reported, its newline escaped")
        text = open(os.path.join(d, "alerts.txt"), encoding="utf-8").read()
        check(no_controls(text) and "\\u202Ereversed" in text,
              "text sink: the title's bidi override is escaped")
        check("javascript:" not in text and "data:text" not in text,
              "text sink: no javascript: or data: link")
        alerts = read_jsonl(os.path.join(d, "alerts.jsonl"))
        check(len(alerts) >= 1 and all(a["item"].get("link") in
                                       (None, "https://news.example/five", "")
                                       for a in alerts if a["feed"].endswith("/h.json")),
              "alert JSON: no bad link reaches a sink (%d alerts)" % len(alerts))
        r = run("status", "-c", conf)
        check(r.returncode == 0 and no_controls(r.stdout), "status: no control characters")
        r = run("alerts", "-c", conf)
        check(r.returncode == 0 and no_controls(r.stdout), "alerts: no control characters")
        r = run("classify", "-c", conf, srv.url("/h.json"))
        check(r.returncode == 0 and no_controls(r.stdout) and "\\u202E" in r.stdout,
              "classify: the title's bidi override is escaped (%s)" % r.stderr.strip())


def test_chat_mentions():
    d = tmpdir()
    title = "tariffs @everyone <!channel> <!here> [click](https://evil.example/x)"
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t",
                       "items": [{"id": "m1", "title": title,
                                  "url": "https://news.example/m1",
                                  "date_published": NOW}]})
    with FeedServer() as srv, Receiver() as recv:
        srv.routes["/m.json"] = (200, {"Content-Type": "application/feed+json"}, feed)
        conf = base_config(d, ['{url: "%s", name: m}' % srv.url("/m.json")],
                           sinks="  - {type: webhook, name: slack, format: slack, url: \"%s\"}\n"
                           "  - {type: webhook, name: discord, format: discord, url: \"%s\"}"
                           % (recv.url("/slack"), recv.url("/discord")))
        r = run("once", "-c", conf)
        check(r.returncode == 0, "once with chat sinks exits 0 (%s)" % r.stderr[-300:])
        got = dict(recv.bodies)
        slack = json.dumps(got.get("/slack"))
        check("/slack" in got and "<!channel>" not in slack and "<!here>" not in slack
              and "&lt;!channel&gt;" in slack,
              "slack: <!channel> and <!here> arrive as text, not as mentions")
        disc = got.get("/discord") or {}
        check(disc.get("allowed_mentions") == {"parse": []},
              "discord: allowed_mentions parses nothing (%r)" % disc.get("allowed_mentions"))
        check("\\[click\\]\\(https://evil.example/x\\)" in disc.get("content", "") and
              "\\@everyone" in disc.get("content", ""),
              "discord: the masked link and @everyone are escaped (%r)" % disc.get("content"))
        check(disc.get("embeds", [{}])[0].get("url") == "https://news.example/m1",
              "discord: the real link is the embed's link")


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
    return (cert, key) if r.returncode == 0 else (None, None)


def status(conf):
    r = run("status", "-c", conf, "--json")
    return {j["name"]: j for j in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}


def test_redirect_headers():
    import ssl
    d = tmpdir()
    cert, key = make_cert(d)
    if not check(cert is not None, "a test certificate for 127.0.0.1"):
        return
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>r</title>'
            '<item><guid>r1</guid><title>story</title></item></channel></rss>')
    secure = FeedServer()
    secure.httpd.socket = ctx.wrap_socket(secure.httpd.socket, server_side=True)
    with FeedServer() as a, FeedServer() as b, secure:
        surl = "https://127.0.0.1:%d" % secure.httpd.server_address[1]
        b.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, body)
        a.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, body)
        a.routes["/same"] = (302, {"Location": "/feed.xml"}, "")
        a.routes["/away"] = (302, {"Location": b.url("/feed.xml")}, "")
        secure.routes["/down"] = (301, {"Location": b.url("/feed.xml?down")}, "")
        secure.routes["/down-ok"] = (302, {"Location": b.url("/feed.xml?ok")}, "")
        hdr = "headers: [{name: X-Api-Key, value: s3cret-key}]"
        conf = base_config(d, [
            '{url: "%s", name: same, %s}' % (a.url("/same"), hdr),
            '{url: "%s", name: away, %s}' % (a.url("/away"), hdr),
            '{url: "%s/down", name: down, %s}' % (surl, hdr),
            '{url: "%s/down-ok", name: downok, allow_downgrade: true, %s}' % (surl, hdr),
        ], extra='ca_path: "%s"' % cert)
        r = run("check-config", "-c", conf)
        check(r.returncode == 0, "allow_downgrade is a feed key (%s)" % r.stderr.strip())
        r = run("once", "-c", conf)
        key_a = [h.get("X-Api-Key") for p, h in a.requests]
        key_b = [(p, h.get("X-Api-Key")) for p, h in b.requests]
        check(key_a.count("s3cret-key") == 3,
              "the configured origin gets the header, also after a same-origin redirect (%r)"
              % key_a)
        check(any(p == "/feed.xml" for p, _ in key_b) and
              all(k is None for _, k in key_b),
              "a redirect to another origin goes without the header (%r)" % key_b)
        check(not any(p == "/feed.xml?down" for p, _ in key_b),
              "an https to http redirect is not followed")
        st = status(conf)
        check("https to http refused" in (st.get("down", {}).get("last_error") or ""),
              "the refused downgrade is the feed's error (%r)" % st.get("down"))
        check(any(p == "/feed.xml?ok" for p, _ in key_b) and
              st.get("downok", {}).get("last_error") is None,
              "allow_downgrade: true follows it, without the header")
        check(all(h.get("X-Api-Key") == "s3cret-key" for p, h in secure.requests),
              "the https origin got its header")


def alerts_rows(conf):
    r = run("alerts", "-c", conf, "--json")
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def test_oversized_item():
    d = tmpdir()
    items = [{"id": "big", "title": "tariffs " + "T" * 80000,
              "url": "https://news.example/" + "l" * 100000, "date_published": NOW,
              "authors": [{"name": "A" * 5000}], "tags": ["c" * 5000]}]
    items += [{"id": "n%d" % k, "title": "tariffs story %d" % k,
               "url": "https://news.example/n%d" % k, "date_published": NOW}
              for k in range(3)]
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "big",
                       "items": items})
    path = write(os.path.join(d, "big.json"), feed)
    r = run("parse", "--json", path)
    doc = json.loads(r.stdout)
    big = doc["items"][0]
    check(len(big["title"].encode()) <= 2048 and big["title"].endswith("\u2026"),
          "parse: an 80 KB title is cut to 2 KiB with '…'")
    check(big["link"] is None and any("link dropped (longer than the cap)" in w
                                      for w in doc["warnings"]),
          "parse: a 100 KB link is no link")
    check(len(big["author"].encode()) <= 512 and len(big["categories"][0].encode()) <= 256,
          "parse: author and categories are capped")
    with FeedServer() as srv, Receiver() as recv:
        srv.routes["/big.json"] = (200, {"Content-Type": "application/feed+json"}, feed)
        conf = base_config(d, ['{url: "%s", name: big}' % srv.url("/big.json")],
                           sinks="".join(
                               "  - {type: webhook, name: %s, format: %s, url: \"%s\"}\n"
                               % (f, f, recv.url("/" + f)) for f in ("slack", "discord", "ntfy"))
                           .rstrip("\n").replace("url: \"http://127.0.0.1:%d/ntfy\""
                                                 % recv.httpd.server_address[1],
                                                 "url: \"%s\"" % recv.url("/ntfy/alerts")))
        r = run("once", "-c", conf)
        check(r.returncode == 0, "once with the oversized item exits 0 (%s)" % r.stderr[-300:])
        rows = alerts_rows(conf)
        states = sorted(set(x["state"] for x in rows))
        check(len(rows) == 4 * 5 and states == ["delivered"],
              "every alert reaches every sink, the oversized one too (%d, %r)"
              % (len(rows), states))
        sizes = [len(json.dumps(b)) for _, b in recv.bodies]
        check(len(sizes) == 12 and max(sizes) < 16000,
              "every chat body stays small (%r)" % sizes[:6])


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_secrets_redacted():
    d = tmpdir()
    dead = free_port()
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "s",
                       "items": [{"id": "s1", "title": "tariffs story",
                                  "url": "https://news.example/s1", "date_published": NOW}]})
    secrets = ("FEEDSECRET", "HOOKSECRET", "HOOKPASS", "DEADSECRET")
    with FeedServer() as srv:
        srv.routes["/s.json"] = (200, {"Content-Type": "application/feed+json"}, feed)
        conf = base_config(d, [
            '{url: "%s", name: s}' % srv.url("/s.json?token=FEEDSECRET"),
            '{url: "http://127.0.0.1:%d/x.xml?api_key=DEADSECRET", name: dead}' % dead],
            sinks='  - {type: webhook, name: hook, url: '
                  '"http://feedwatch:HOOKPASS@127.0.0.1:%d/hook?token=HOOKSECRET"}' % dead)
        r = run("once", "-c", conf, "--log-level", "debug")
        check(r.returncode == 0 and "POST http://" in r.stderr,
              "once: the failed POST is logged (%s)" % r.stderr[-300:])
        check(not any(x in r.stderr for x in secrets),
              "log lines carry no token or password (%r)"
              % [l for l in r.stderr.splitlines() if any(x in l for x in secrets)][:2])
        rows = alerts_rows(conf)
        text = run("alerts", "-c", conf).stdout
        check(len(rows) >= 1 and any("POST" in (x.get("last_error") or "") for x in rows),
              "alerts --json shows the delivery error")
        check(not any(x in json.dumps(rows) + text for x in secrets),
              "alerts and alerts --json carry no secret")
        errors = " ".join(e or "" for (e,) in state_sql(state_path(d),
                                                        "SELECT last_error FROM deliveries"))
        feed_errors = " ".join(e or "" for (e,) in state_sql(state_path(d),
                                                             "SELECT last_error FROM feeds"))
        check("POST" in errors and not any(x in errors + feed_errors for x in secrets),
              "deliveries.last_error in the state file carries no secret (%r)" % errors[:200])
        alerts = read_jsonl(os.path.join(d, "alerts.jsonl"))
        check(len(alerts) == 1 and "token=" in alerts[0]["feed"] and
              "FEEDSECRET" not in alerts[0]["feed"],
              "the alert's feed URL has its token cut (%r)" % [a["feed"] for a in alerts])
        st = run("status", "-c", conf, "--json").stdout + run("status", "-c", conf).stdout
        check("token=" in st and not any(x in st for x in secrets),
              "status and status --json carry no secret")


def test_flood_cap():
    d = tmpdir()
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "flood",
                       "items": [{"id": "f%d" % k, "title": "tariffs story %d" % k,
                                  "url": "https://news.example/f%d" % k,
                                  "date_published": NOW} for k in range(30)]})
    with FeedServer() as srv:
        srv.routes["/f.json"] = (200, {"Content-Type": "application/feed+json"}, feed)
        conf = base_config(d, ['{url: "%s", name: flood, max_alerts_per_poll: 10}'
                               % srv.url("/f.json")])
        r = run("once", "-c", conf)
        check(r.returncode == 0 and "20 more matching items" in r.stderr,
              "once: the flood is logged (%s)" % r.stderr[-300:])
        alerts = read_jsonl(os.path.join(d, "alerts.jsonl"))
        items = [a for a in alerts if a.get("topics") != ["feed_health"]]
        summary = [a for a in alerts if a.get("topics") == ["feed_health"]]
        check(len(items) == 10, "10 alerts for the first 10 items (%d)" % len(items))
        check(len(summary) == 1 and "20 more matching items" in summary[0]["item"]["title"],
              "one alert sums up the other 20 (%r)" % [a["item"]["title"] for a in summary])
        r = run("once", "-c", conf)
        check(len(read_jsonl(os.path.join(d, "alerts.jsonl"))) == 11,
              "the summed-up items are seen: no alert for them on the next poll")
    conf = base_config(d, ['{url: "http://news.example/x.xml", name: x}'])
    r = run("check-config", "-c", conf)
    check(r.returncode == 0, "max_alerts_per_poll has a default")


def iso(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def test_retry_after_floor():
    import email.utils
    d = tmpdir()
    with FeedServer() as srv:
        srv.routes["/zero.xml"] = (429, {"Retry-After": "0"}, "")
        srv.routes["/past.xml"] = (503, {"Retry-After": email.utils.formatdate(
            time.time() - 86400, usegmt=True)}, "")
        srv.routes["/long.xml"] = (503, {"Retry-After": "7200"}, "")
        conf = base_config(d, ['{url: "%s", name: zero, interval: 10m}' % srv.url("/zero.xml"),
                               '{url: "%s", name: past, interval: 10m}' % srv.url("/past.xml"),
                               '{url: "%s", name: long, interval: 10m}' % srv.url("/long.xml")])
        run("once", "-c", conf)
        st = status(conf)
        waits = {n: iso(st[n]["next_poll"]) - iso(st[n]["last_poll"]) for n in st}
        check(waits.get("zero") == 600 and waits.get("past") == 600,
              "Retry-After 0 or in the past waits the feed's interval, not 1 s (%r)" % waits)
        check(waits.get("long") == 7200, "a longer Retry-After is still honoured")


def test_validators():
    d = tmpdir()
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>v</title>'
            '<item><guid>v1</guid><title>story</title></item></channel></rss>')
    with FeedServer() as srv:
        srv.routes["/cr.xml"] = (200, {"ETag": '"a\rX-Injected: 1"',
                                       "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"}, body)
        srv.routes["/esc.xml"] = (200, {"ETag": '"b\x1b]0;x"',
                                        "Last-Modified": "Tue\x1b[2J, 01 Dec 2026"}, body)
        srv.routes["/ok.xml"] = (200, {"ETag": '"good"'}, body)
        conf = base_config(d, ['{url: "%s", name: cr, interval: 1s}' % srv.url("/cr.xml"),
                               '{url: "%s", name: esc, interval: 1s}' % srv.url("/esc.xml"),
                               '{url: "%s", name: ok, interval: 1s}' % srv.url("/ok.xml")])
        run("once", "-c", conf)
        time.sleep(1.2)
        run("once", "-c", conf)
        rows = dict((u.split("/")[-1], (e, m)) for u, e, m in
                    state_sql(state_path(d), "SELECT url, etag, last_modified FROM feeds"))
        sent = [(p, h.get("If-None-Match"), h.get("If-Modified-Since")) for p, h in srv.requests]
        check(rows.get("ok.xml", (None,))[0] == '"good"', "a valid ETag is kept (%r)" % rows)
        check(rows.get("cr.xml", (1,))[0] is None and rows.get("esc.xml", (1, 1)) == (None, None),
              "an ETag or Last-Modified with CR or ESC is not stored (%r)" % rows)
        check(any(p == "/ok.xml" and e == '"good"' for p, e, _ in sent) and
              not any(p in ("/cr.xml", "/esc.xml") and e is not None for p, e, _ in sent),
              "only the valid ETag is sent back (%r)" % sent)


def test_file_modes():
    d = tmpdir()
    old = os.umask(0o022)
    try:
        secret = write(os.path.join(d, "hook.secret"), "whsec_c2VjcmV0\n")
        os.chmod(secret, 0o644)
        sinks = '  - {type: webhook, name: hook, url: "http://127.0.0.1:9/h", secret_file: "%s"}' \
            % secret
        conf = base_config(d, ['{url: "http://127.0.0.1:9/x.xml", name: x}'], sinks=sinks)
        r = run("check-config", "-c", conf)
        check(r.returncode != 0 and "readable by every user" in r.stderr and secret in r.stderr,
              "a world-readable secret file is refused, naming it (%s)" % r.stderr.strip())
        os.chmod(secret, 0o640)
        r = run("check-config", "-c", conf)
        check(r.returncode == 0, "mode 0640 is accepted (%s)" % r.stderr.strip())
        # The rest is about the SQLite file (a PostgreSQL state has no file).
        if PG:
            return
        with FeedServer() as srv:
            srv.routes["/m.xml"] = (200, {}, '<rss version="2.0"><channel><title>m</title>'
                                    '</channel></rss>')
            conf = base_config(d, ['{url: "%s", name: m}' % srv.url("/m.xml")])
            import sqlite3
            run("once", "-c", conf)
            # A reader keeps the -wal and -shm files there to be looked at.
            db = sqlite3.connect(state_path(d))
            db.execute("SELECT count(*) FROM feeds").fetchall()
            modes = {}
            for suffix in ("", "-wal", "-shm"):
                p = os.path.join(d, "state.db" + suffix)
                if os.path.exists(p):
                    modes[suffix or "db"] = oct(os.stat(p).st_mode & 0o777)
            db.close()
            check(modes.get("db") == "0o600" and all(m == "0o600" for m in modes.values())
                  and len(modes) >= 2,
                  "state.db and its -wal/-shm are 0600 under umask 022 (%r)" % modes)
    finally:
        os.umask(old)


def test_duration_cap():
    d = tmpdir()
    conf = base_config(d, ['{url: "http://127.0.0.1:9/x.xml", name: x, '
                           'interval: 9223372036854775807}'])
    r = run("check-config", "-c", conf)
    check(r.returncode != 0 and "longer than the maximum of 36500d" in r.stderr,
          "an interval of 2^63-1 s is refused (%s)" % r.stderr.strip())
    conf = base_config(d, ['{url: "http://127.0.0.1:9/x.xml", name: x, interval: 36500d}'])
    check(run("check-config", "-c", conf).returncode == 0, "36500d is the most, and accepted")


def main():
    test_control_characters()
    test_chat_mentions()
    test_redirect_headers()
    test_oversized_item()
    test_secrets_redacted()
    test_flood_cap()
    test_retry_after_floor()
    test_validators()
    test_file_modes()
    test_duration_cap()
    finish()


if __name__ == "__main__":
    main()

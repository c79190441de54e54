"""Delivery end to end with real receivers on 127.0.0.1, driven by
`feedwatch once`:
- a webhook receiver that verifies every Standard Webhooks signature with
  the secret and fails on demand (500, a reply slower than the sink's
  timeout, a connection reset, 429 with Retry-After, 410, 404);
- a real SMTP server (aiosmtpd) that records messages and refuses one
  recipient with 550;
- an exec sink whose script records its stdin, and one that fails;
- digest mode collecting alerts into one signed message; a rate limit,
  an hourly budget, quiet hours and the bypass severity under `run`;
- TLS: STARTTLS with AUTH, smtps://, an https webhook, trusting ca_path;
- `feedwatch alerts` (--json, --failed, --retry all)."""
import base64
import calendar
import warnings
import email
import email.header
import email.policy
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import shutil
import socket
import struct
import sys
import threading
import time

from fwtest import (FeedServer, check, finish, read_jsonl, rss, run, tmpdir, write, state_path,
                    state_sql)

SECRET_KEY = os.urandom(24)
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


class Receiver:
    """A webhook receiver. plan maps a path to the behaviours of its
    successive requests (500, 429, 410, 404, slow, reset; then ok)."""

    def __init__(self):
        self.requests = []      # dicts: path, id, ts, sig_ok, body, behaviour
        self.plan = {}
        self.lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                msg_id = self.headers.get("webhook-id", "")
                ts = self.headers.get("webhook-timestamp", "")
                sig = self.headers.get("webhook-signature", "")
                signed = ("%s.%s." % (msg_id, ts)).encode() + body
                want = "v1," + base64.b64encode(
                    hmac.new(SECRET_KEY, signed, hashlib.sha256).digest()).decode()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                behaviour = "ok"
                with recv.lock:
                    steps = recv.plan.get(self.path)
                    if steps:
                        behaviour = steps.pop(0)
                    recv.requests.append({
                        "t": time.time(), "path": self.path, "id": msg_id, "ts": ts,
                        "sig_ok": hmac.compare_digest(sig, want), "body": doc,
                        "behaviour": behaviour, "custom": self.headers.get("X-Team"),
                        "ctype": self.headers.get("Content-Type")})
                if behaviour == "reset":
                    # SO_LINGER 0: close with a TCP RST.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if behaviour == "slow":
                    time.sleep(2.5)
                status, headers = {
                    "ok": (200, {}), "500": (500, {}), "410": (410, {}),
                    "404": (404, {}), "429": (429, {"Retry-After": "7"}),
                    "slow": (200, {}),
                }[behaviour]
                out = b"thanks" if status == 200 else b"no"
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass

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

    def on(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


class MailHandler:
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alerts_json(conf, *extra, env=None):
    r = run("alerts", "-c", conf, "--json", *extra, env=env)
    return r, [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def main():
    # aiosmtpd itself touches its own deprecated Session.login_data.
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("aiosmtpd is missing: install python3-aiosmtpd")
        sys.exit(1)

    d = tmpdir()
    now = email.utils.formatdate(time.time() - 600, usegmt=True)
    words = ["one", "two", "three", "four", "five", "six", "seven"]
    items = [{"guid": "g-" + w, "title": "Cost-sharing talks %s" % w,
              "link": "http://news.example/%s" % w, "pubDate": now,
              "description": "Seoul and Washington on the special measures agreement."}
             for w in words]
    write(os.path.join(d, "secret"), SECRET + "\n")
    os.chmod(os.path.join(d, "secret"), 0o600)
    rec_dir = os.path.join(d, "exec")
    os.mkdir(rec_dir)
    rec = write(os.path.join(d, "rec.sh"),
                "#!/bin/sh\ncat > \"$1/$FEEDWATCH_ALERT_ID.json\"\n")
    fail = write(os.path.join(d, "fail.sh"),
                 "#!/bin/sh\ncat > /dev/null\necho 'pager service unreachable' >&2\nexit 1\n")
    os.chmod(rec, 0o755)
    os.chmod(fail, 0o755)
    handler = MailHandler()
    smtp_port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    # One webhook sink per way of failing: the receiver fails the first
    # request on that path, then answers 200.
    modes = ["500", "429", "410", "404", "slow", "reset"]
    try:
        with FeedServer() as feeds, Receiver() as recv:
            recv.plan = {"/h" + m: [m] for m in modes}
            feeds.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(items))
            jsonl = os.path.join(d, "alerts.jsonl")
            conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %(state)s
feeds:
  - {url: "%(feed)s", name: wire}
topics:
  - name: sma
    terms: ["cost-sharing"]
# One alert per item: the items are variations of one headline, which
# grouping would rightly make one development; delivery is tested here.
developments: {group: false}
sinks:
  - {type: log, name: log, path: "%(jsonl)s", format: jsonl}
  - type: webhook
    name: hook
    url: "%(hook)s"
    secret_file: "%(secret)s"
    timeout: 1s
    headers: [{name: X-Team, value: alliance-desk}]
""" % {"state": state_path(d), "feed": feeds.url("/wire.xml"),
                "jsonl": jsonl, "hook": recv.url("/hook"), "secret": os.path.join(d, "secret")}
                + "".join("""  - {type: webhook, name: h%s, url: "%s", secret_file: "%s", timeout: 1s}
""" % (m, recv.url("/h" + m), os.path.join(d, "secret")) for m in modes) + """
  - type: webhook
    name: slack
    format: slack
    url: "%(slack)s"
  - type: webhook
    name: digest
    url: "%(digest)s"
    secret_file: "%(secret)s"
    digest: 3s
  - type: mail
    name: mail
    url: "smtp://127.0.0.1:%(smtp)d"
    from: "feedwatch <alerts@watch.example>"
    to: ["desk@example.org", "당직 Officer <duty@example.org>"]
  - type: mail
    name: badmail
    url: "smtp://127.0.0.1:%(smtp)d"
    from: "alerts@watch.example"
    to: ["reject@example.org"]
  - {type: exec, name: rec, command: ["%(rec)s", "%(rec_dir)s"]}
  - {type: exec, name: pager, command: ["%(fail)s"], timeout: 5s}
""" % {"secret": os.path.join(d, "secret"),
                "slack": recv.url("/slack"), "digest": recv.url("/digest"),
                "smtp": smtp_port, "rec": rec, "rec_dir": rec_dir, "fail": fail})

            r = run("check-config", "-c", conf)
            check(r.returncode == 0, "check-config accepts every sink type (%s)" % r.stderr.strip())

            t_first = time.time()
            r = run("once", "-c", conf)
            check(r.returncode == 0, "once exits 0 although some deliveries fail")
            logged = read_jsonl(jsonl)
            ids = {a["item"]["id"]: a["id"] for a in logged}
            check(len(logged) == 7 and set(ids) == {"g-" + w for w in words},
                  "the log sink has every alert once (%d)" % len(logged))

            # --- webhook: signatures, ids, headers
            hook = recv.on("/hook")
            check(len(hook) == 7 and len({h["id"] for h in hook}) == 7,
                  "one POST per alert (%d)" % len(hook))
            check(all(h["sig_ok"] for h in hook), "every webhook signature verifies with the secret")
            check(all(h["id"] == h["body"]["id"] for h in hook),
                  "webhook-id is the alert id")
            check(all(abs(int(h["ts"]) - t_first) < 30 for h in hook),
                  "webhook-timestamp is the time of the attempt")
            check(all(h["custom"] == "alliance-desk" for h in hook), "custom headers are sent")
            check(all(h["ctype"] == "application/json" for h in hook), "bodies are JSON")
            check(hook[0]["body"] is not None and set(hook[0]["body"]) >= {
                "id", "created", "severity", "topics", "matches", "hits", "feed",
                "feed_name", "item"}, "the generic body is the alert object")
            check("no longer wants" in r.stderr and "410" in r.stderr,
                  "a 410 is told to the user")

            r, rows = alerts_json(conf)
            state = {(x["alert"], x["sink"]): x for x in rows}

            def st(word, sink):
                return state.get((ids.get("g-" + word), sink), {}).get("state")

            def row(sink, alert):
                return state.get((alert, sink)) or {}

            # The first request on each failing path, and what became of it.
            first = {m: (recv.on("/h" + m) or [{"id": None}])[0]["id"] for m in modes}
            check(all(row("hook", ids["g-" + w]).get("state") == "delivered" for w in words),
                  "2xx is delivered")
            for m in ("500", "429", "slow", "reset"):
                check(row("h" + m, first[m]).get("state") == "pending" and
                      row("h" + m, first[m]).get("attempts") == 1, "%s is retried" % m)
                others = [x for x in rows if x["sink"] == "h" + m and x["alert"] != first[m]]
                check(len(recv.on("/h" + m)) == 1 and len(others) == 6 and
                      all(x["state"] == "pending" and x["attempts"] == 0 for x in others),
                      "after a %s the sink is left alone for the rest of the round" % m)
            check(row("h410", first["410"]).get("state") == "gone", "410 is gone for that alert")
            check(row("h404", first["404"]).get("state") == "failed",
                  "other 4xx is a permanent failure")
            check(len([x for x in rows if x["sink"] in ("h410", "h404") and
                       x["state"] == "delivered"]) == 12,
                  "a refused alert does not stop the others")
            nxt = row("h429", first["429"]).get("next_attempt")
            check(nxt is not None and calendar.timegm(time.strptime(nxt, "%Y-%m-%dT%H:%M:%SZ"))
                  >= int(t_first) + 7, "429 Retry-After: 7 is honoured (next %s)" % nxt)
            err = {m: row("h" + m, first[m]).get("last_error") or "" for m in modes}
            check("HTTP 500" in err["500"], "the 500 is recorded (%s)" % err["500"])
            check("imed out" in err["slow"], "the timeout is recorded (%s)" % err["slow"])
            check(err["reset"] != "", "the reset is recorded (%s)" % err["reset"])
            check("HTTP 410" in err["410"] and "HTTP 404" in err["404"],
                  "refusals are recorded")

            # --- slack format
            slack = recv.on("/slack")
            check(len(slack) == 7 and all("blocks" in s["body"] and "text" in s["body"]
                                          for s in slack), "slack bodies have text and blocks")
            check(all(s["sig_ok"] is False for s in slack), "no signature without a secret")

            # --- digest mode: nothing yet
            check(recv.on("/digest") == [] or all(d_["body"].get("digest") for d_ in recv.on("/digest")),
                  "digest mode sends no single alerts")
            check(st("one", "digest") == "held", "digest mode holds alerts (%s)" % st("one", "digest"))
            r = run("alerts", "-c", conf)
            check(r.returncode == 0 and "held for a digest" in r.stdout and
                  "HTTP 500" in r.stdout and "; next attempt " in r.stdout,
                  "alerts shows held ones, and why and when pending ones are retried")

            # --- mail
            msgs = handler.messages
            check(len(msgs) == 7, "one mail per alert (%d)" % len(msgs))
            if msgs:
                mail_from, rcpts, raw = msgs[0]
                m = email.message_from_bytes(raw, policy=email.policy.default)
                check(mail_from == "alerts@watch.example", "envelope sender is the bare address")
                check(sorted(rcpts) == ["desk@example.org", "duty@example.org"],
                      "every recipient gets it (%s)" % rcpts)
                check(m["From"] == "feedwatch <alerts@watch.example>", "From header")
                check("desk@example.org" in m["To"] and
                      "당직 Officer <duty@example.org>" in str(m["To"]),
                      "To header, a UTF-8 name encoded (%s)" % m["To"])
                check(email.utils.parsedate_to_datetime(m["Date"]) is not None, "Date header")
                body = m.get_content()
                title = None
                for a in logged:
                    if m["Message-ID"] == "<feedwatch.%s@watch.example>" % a["id"]:
                        title = a["item"]["title"]
                        link = a["item"]["link"]
                check(title is not None, "Message-ID is made of the alert id (%s)" % m["Message-ID"])
                check(title is not None and str(m["Subject"]) == "[sma] " + title,
                      "Subject: %s" % m["Subject"])
                check(title is not None and title in body and link in body and
                      "feed: wire" in body and "[sma]" in body and "cost-sharing" in body,
                      "body has title, link, feed, topics and matched terms")
                check(m.get_content_type() == "text/plain" and
                      m.get_content_charset() == "utf-8", "text/plain UTF-8 body")
            check(all(x["state"] == "failed" and "550" in (x.get("last_error") or "")
                      for x in rows if x["sink"] == "badmail") and
                  len([x for x in rows if x["sink"] == "badmail"]) == 7,
                  "an SMTP 550 is a permanent failure (and stops nothing else)")

            # --- exec
            files = sorted(os.listdir(rec_dir))
            check(len(files) == 7, "the exec sink ran once per alert (%d)" % len(files))
            if files:
                with open(os.path.join(rec_dir, files[0])) as f:
                    got = json.loads(f.read())
                check(got["id"] + ".json" == files[0], "the command got the alert JSON on stdin")
            tried = [x for x in rows if x["sink"] == "pager" and x["attempts"] == 1]
            perr = tried[0].get("last_error", "") if tried else ""
            check(len(tried) == 1 and tried[0]["state"] == "pending" and
                  "exited with status 1" in perr and "pager service unreachable" in perr,
                  "a failing command is retried, once per round (%s)" % perr)

            # --- second run after the retry delays: the retries arrive
            time.sleep(max(0, t_first + 8.5 - time.time()))
            r = run("once", "-c", conf)
            check(r.returncode == 0, "second once exits 0")
            retried = {}
            for m in modes:
                posts = recv.on("/h" + m)
                retried[m] = [h for h in posts[1:] if h["id"] == first[m]]
                if m in ("410", "404"):
                    check(len(posts) == 7, "no retry after a %s (%d posts)" % (m, len(posts)))
                    continue
                check(len(posts) == 8 and len({h["id"] for h in posts}) == 7,
                      "after the %s: the retry and the 6 left alone arrive (%d posts)"
                      % (m, len(posts)))
                check(len(retried[m]) == 1 and retried[m][0]["sig_ok"] and
                      int(retried[m][0]["ts"]) >= int(t_first) + 5,
                      "the %s retry carries the same webhook-id, signed anew" % m)
            check(len(recv.on("/hook")) == 7, "nothing is sent twice to a sink that worked")
            r, rows = alerts_json(conf)
            state = {(x["alert"], x["sink"]): x for x in rows}
            for m in ("500", "429", "slow", "reset"):
                check(all(x["state"] == "delivered" for x in rows if x["sink"] == "h" + m),
                      "h%s: everything delivered in the end" % m)

            # --- the digest came as one signed message
            dig = recv.on("/digest")
            check(len(dig) == 1, "digest mode sends one message (%d)" % len(dig))
            if dig:
                body = dig[0]["body"]
                check(body.get("digest") is True and body.get("count") == 7 and
                      len(body.get("alerts", [])) == 7, "the digest carries all 7 alerts")
                check(dig[0]["sig_ok"] and dig[0]["id"] == body.get("id"),
                      "the digest is signed under its own id")
            check(st("one", "digest") == "digested", "held alerts are digested")
            check(dig and all(x["digest"] == dig[0]["id"] for x in rows if x["sink"] == "digest"),
                  "alerts --json names the digest each alert went out in")
            check(st("one", "log") == "delivered", "the log sink is not retried")
            check(len(read_jsonl(jsonl)) == 7, "no alert is logged twice")

            # --- dead letters and --retry
            r = run("alerts", "-c", conf, "--failed")
            check(r.returncode == 0 and "gone" in r.stdout and "HTTP 410" in r.stdout and
                  "HTTP 404" in r.stdout and "550" in r.stdout,
                  "alerts --failed lists the dead letters")
            r, failed_rows = alerts_json(conf, "--failed")
            check(all(x["state"] in ("failed", "gone") for x in failed_rows) and
                  len(failed_rows) == 2 + 7, "--failed --json has only dead letters (%d)"
                  % len(failed_rows))
            mine = len([x for x in failed_rows if x["alert"] == first["410"]])
            r = run("alerts", "-c", conf, "--retry", first["410"][:8])
            # That alert's dead letters: the 410, the refused mail, maybe the 404.
            check(r.returncode == 0 and mine >= 2 and "requeued %d " % mine in r.stdout
                  and first["410"] in r.stdout,
                  "--retry PREFIX requeues that alert (%s)" % r.stdout.strip())
            r = run("alerts", "-c", conf, "--retry", "all")
            check(r.returncode == 0 and "requeued %d " % (9 - mine) in r.stdout,
                  "--retry all requeues the rest (%s)" % r.stdout.strip())
            r = run("once", "-c", conf)
            check([h["id"] for h in recv.on("/h410")[7:]] == [first["410"]] and
                  [h["id"] for h in recv.on("/h404")[7:]] == [first["404"]],
                  "requeued alerts are delivered on the next run")
            r, rows = alerts_json(conf, "--failed")
            check([x["sink"] for x in rows] == ["badmail"] * 7,
                  "only the refused recipient is left failed (%s)" % [x["sink"] for x in rows])
            r = run("alerts", "-c", conf, "--retry", "nonexistent")
            check(r.returncode == 1 and "no such alert 'nonexistent'" in r.stderr and
                  r.stdout == "", "--retry of an unknown id exits 1: no such alert")
            r = run("alerts", "-c", conf, "--retry", "")
            check(r.returncode == 1 and "no such alert" in r.stderr,
                  "--retry of an empty id exits 1")

    finally:
        smtp.stop()
    shutil.rmtree(d)
    tls_and_auth()
    flood_control()
    finish()


def flood_control():
    """`feedwatch run` with a rate limit, an hourly budget, quiet hours and
    the bypass severity, against one receiver."""
    import signal
    import subprocess
    from fwtest import FW_BIN

    d = tmpdir()
    now = time.time()
    items = [{"guid": "f%d" % k, "title": "Cost-sharing round %d" % k,
              "link": "http://n.example/f%d" % k,
              "pubDate": email.utils.formatdate(now - 60, usegmt=True)} for k in range(6)]
    start = time.strftime("%H:%M", time.gmtime(now - 3600))
    end_t = now + 3600
    end = time.strftime("%H:%M", time.gmtime(end_t))
    with FeedServer() as feeds, Receiver() as recv:
        feeds.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(items))
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %(state)s
feeds: [{url: "%(feed)s", name: f}]
topics: [{name: sma, terms: ["cost-sharing"]}]
developments: {group: false}
sinks:
  - {type: webhook, name: rated, url: "%(u)s/rated", rate_per_second: 2}
  - {type: webhook, name: budget, url: "%(u)s/budget", hourly_budget: 2}
  - {type: webhook, name: quiet, url: "%(u)s/quiet", quiet_hours: "%(start)s-%(end)s"}
  - {type: webhook, name: urgent, url: "%(u)s/urgent", quiet_hours: "%(start)s-%(end)s",
     bypass_severity: normal}
""" % {"state": state_path(d), "feed": feeds.url("/f.xml"),
            "u": recv.url(""),
            "start": start, "end": end})
        env = dict(os.environ, TZ="UTC")
        p = subprocess.Popen([FW_BIN, "run", "-c", conf], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline and len(recv.on("/rated")) < 6:
            time.sleep(0.1)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
        rated = recv.on("/rated")
        check(len(rated) == 6, "the rate-limited sink gets every alert (%d)" % len(rated))
        r, rows = alerts_json(conf, env={"TZ": "UTC"})
        by = {}
        for x in rows:
            by.setdefault(x["sink"], []).append(x)
        check(len(recv.on("/budget")) == 2 and
              len([x for x in by.get("budget", []) if x["state"] == "held"]) == 4,
              "an hourly budget of 2 sends 2 and holds the rest for a digest")
        check(recv.on("/quiet") == [] and
              all(x["state"] == "held" for x in by.get("quiet", [])) and
              all(x["next_attempt"] == time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(end_t))
                  for x in by.get("quiet", [])),
              "quiet hours hold everything until they end (%s)"
              % [x["next_attempt"] for x in by.get("quiet", [])][:1])
        check(len(recv.on("/urgent")) == 6, "the bypass severity goes through quiet hours")
    # Timing last, from the receiver's log: 6 alerts at 2/s take 2 s at least.
    ts = sorted(float(r["t"]) for r in rated)
    check(len(ts) == 6 and ts[-1] - ts[0] >= 1.5,
          "the rate limit spreads them out (%.1fs)" % (ts[-1] - ts[0] if ts else 0))
    shutil.rmtree(d)


def tls_and_auth():
    """STARTTLS with AUTH (good and bad password), implicit TLS (smtps://)
    and an https webhook, all trusting a private CA through ca_path."""
    import ssl
    import subprocess
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    d = tmpdir()
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
    if not check(r.returncode == 0, "a test certificate for 127.0.0.1"):
        return
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers 535 itself on failure.
        return AuthResult(success=auth_data.login == b"feedwatch" and
                          auth_data.password == b"s3cret pw", handled=False)

    starttls, smtps = MailHandler(), MailHandler()
    p1, p2 = free_port(), free_port()
    c1 = Controller(starttls, hostname="127.0.0.1", port=p1, tls_context=ctx,
                    require_starttls=True, authenticator=authenticator, auth_required=True)
    c2 = Controller(smtps, hostname="127.0.0.1", port=p2, ssl_context=ctx)
    c1.start()
    c2.start()
    recv = Receiver()
    recv.httpd.socket = ctx.wrap_socket(recv.httpd.socket, server_side=True)
    write(os.path.join(d, "secret"), SECRET)
    os.chmod(os.path.join(d, "secret"), 0o600)
    try:
        with FeedServer() as feeds, recv:
            feeds.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
                {"guid": "t1", "title": "Cost-sharing: 방위비 talks", "link": "http://n.example/t1",
                 "pubDate": email.utils.formatdate(time.time() - 60, usegmt=True)}]))
            conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %(state)s
ca_path: "%(cert)s"
feeds: [{url: "%(feed)s", name: f}]
topics: [{name: sma, terms: ["cost-sharing"]}]
sinks:
  - {type: mail, name: tls, url: "smtp://127.0.0.1:%(p1)d", starttls: true,
     username: feedwatch, password_env: FW_TEST_SMTP_PW, from: a@watch.example, to: [b@example.org]}
  - {type: mail, name: badpw, url: "smtp://127.0.0.1:%(p1)d", starttls: true,
     username: feedwatch, password_env: FW_TEST_SMTP_BAD, from: a@watch.example, to: [b@example.org]}
  - {type: mail, name: smtps, url: "smtps://127.0.0.1:%(p2)d", from: a@watch.example,
     to: [c@example.org]}
  - {type: webhook, name: https, url: "https://127.0.0.1:%(hp)d/hook", secret_env: FW_TEST_HOOK}
""" % {"state": state_path(d), "cert": cert, "feed": feeds.url("/f.xml"),
                "p1": p1, "p2": p2, "hp": recv.httpd.server_address[1]})
            env = {"FW_TEST_SMTP_PW": "s3cret pw", "FW_TEST_SMTP_BAD": "wrong",
                   "FW_TEST_HOOK": SECRET}
            r = run("once", "-c", conf, env=env)
            check(r.returncode == 0, "once with TLS sinks exits 0" +
                  ("" if r.returncode == 0 else ": " + r.stderr[-600:]))
            r, rows = alerts_json(conf, env=env)
            state = {x["sink"]: x for x in rows}
            check(state.get("tls", {}).get("state") == "delivered" and len(starttls.messages) == 1,
                  "STARTTLS with AUTH delivers (%s)" % state.get("tls"))
            check(any(l[1] == b"feedwatch" and l[2] == b"s3cret pw" for l in logins),
                  "the password comes from the environment")
            bad = state.get("badpw", {})
            check(bad.get("state") == "failed" and "535" in (bad.get("last_error") or ""),
                  "a refused password is a permanent failure (%s)" % bad.get("last_error"))
            check(state.get("smtps", {}).get("state") == "delivered" and len(smtps.messages) == 1,
                  "smtps:// delivers (%s)" % state.get("smtps"))
            if starttls.messages:
                m = email.message_from_bytes(starttls.messages[0][2], policy=email.policy.default)
                check(str(m["Subject"]) == "[sma] Cost-sharing: 방위비 talks",
                      "a UTF-8 subject survives the trip (%s)" % m["Subject"])
            hook = recv.on("/hook")
            check(len(hook) == 1 and hook[0]["sig_ok"] and
                  state.get("https", {}).get("state") == "delivered",
                  "an https webhook trusts ca_path and is signed (secret from the environment)")
    finally:
        c1.stop()
        c2.stop()
    shutil.rmtree(d)


main()

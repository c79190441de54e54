"""Delivery end to end with real receivers on 127.0.0.1, driven by
`feedwatch once`:
- a webhook receiver that verifies every Standard Webhooks signature with
  the secret and fails on demand (500, a reply slower than the sink's
  timeout, a connection reset, 429 with Retry-After, 410, 404);
- a real SMTP server (aiosmtpd) that records messages and refuses one
  recipient with 550;
- an exec sink whose script records its stdin, and one that fails;
- digest mode collecting alerts into one signed message;
- `feedwatch alerts` (--json, --failed, --retry all)."""
import base64
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

from fwtest import FeedServer, check, finish, read_jsonl, rss, run, tmpdir, write

SECRET_KEY = os.urandom(24)
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


class Receiver:
    """A webhook receiver. plan maps a word of the alert title (x500,
    x429, ...) to the list of behaviours of its successive attempts."""

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
                title = ""
                if isinstance(doc, dict):
                    title = (doc.get("item") or {}).get("title") or ""
                behaviour = "ok"
                with recv.lock:
                    for word, steps in recv.plan.items():
                        if word in title and steps:
                            behaviour = steps.pop(0)
                    recv.requests.append({
                        "path": self.path, "id": msg_id, "ts": ts,
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
    words = ["ok", "x500", "x429", "x410", "x404", "xslow", "xreset"]
    items = [{"guid": "g-" + w, "title": "Cost-sharing talks %s" % w,
              "link": "http://news.example/%s" % w, "pubDate": now,
              "description": "Seoul and Washington on the special measures agreement."}
             for w in words]
    write(os.path.join(d, "secret"), SECRET + "\n")
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
    try:
        with FeedServer() as feeds, Receiver() as recv:
            recv.plan = {"x500": ["500"], "x429": ["429"], "x410": ["410"],
                         "x404": ["404"], "xslow": ["slow"],
                         # libcurl retries a reused connection once by itself
                         "xreset": ["reset", "reset"]}
            feeds.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(items))
            jsonl = os.path.join(d, "alerts.jsonl")
            conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %(state)s
feeds:
  - {url: "%(feed)s", name: wire}
topics:
  - name: sma
    terms: ["cost-sharing"]
sinks:
  - {type: log, name: log, path: "%(jsonl)s", format: jsonl}
  - type: webhook
    name: hook
    url: "%(hook)s"
    secret_file: "%(secret)s"
    timeout: 1s
    headers: [{name: X-Team, value: alliance-desk}]
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
    to: ["desk@example.org", "Duty Officer <duty@example.org>"]
  - type: mail
    name: badmail
    url: "smtp://127.0.0.1:%(smtp)d"
    from: "alerts@watch.example"
    to: ["reject@example.org"]
  - {type: exec, name: rec, command: ["%(rec)s", "%(rec_dir)s"]}
  - {type: exec, name: pager, command: ["%(fail)s"], timeout: 5s}
""" % {"state": os.path.join(d, "state.db"), "feed": feeds.url("/wire.xml"),
                "jsonl": jsonl, "hook": recv.url("/hook"), "secret": os.path.join(d, "secret"),
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

            # --- webhook: signatures, ids, outcomes
            hook = recv.on("/hook")
            n_run1 = len(hook)
            check(len({h["id"] for h in hook}) == 7 and
                  len([h for h in hook if h["behaviour"] == "reset"]) == 2,
                  "one POST per alert on the first run, and the resets (%d)" % len(hook))
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

            check(st("ok", "hook") == "delivered", "2xx is delivered")
            for w in ("x500", "x429", "xslow", "xreset"):
                check(st(w, "hook") == "pending", "%s is retried (%s)" % (w, st(w, "hook")))
            check(st("x410", "hook") == "gone", "410 is gone for that alert")
            check(st("x404", "hook") == "failed", "other 4xx is a permanent failure")
            row429 = state.get((ids.get("g-x429"), "hook"), {})
            nxt = row429.get("next_attempt")
            check(nxt is not None and
                  email.utils.parsedate_to_datetime(
                      time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                    time.strptime(nxt, "%Y-%m-%dT%H:%M:%SZ"))).timestamp()
                  >= t_first + 6, "429 Retry-After: 7 is honoured (next %s)" % nxt)
            err = {w: (state.get((ids.get("g-" + w), "hook")) or {}).get("last_error") or ""
                   for w in words}
            check("HTTP 500" in err["x500"], "the 500 is recorded (%s)" % err["x500"])
            check("imed out" in err["xslow"], "the timeout is recorded (%s)" % err["xslow"])
            check(err["xreset"] != "", "the reset is recorded (%s)" % err["xreset"])

            # --- slack format
            slack = recv.on("/slack")
            check(len(slack) == 7 and all("blocks" in s["body"] and "text" in s["body"]
                                          for s in slack), "slack bodies have text and blocks")
            check(all(s["sig_ok"] is False for s in slack), "no signature without a secret")

            # --- digest mode: nothing yet
            check(recv.on("/digest") == [] or all(d_["body"].get("digest") for d_ in recv.on("/digest")),
                  "digest mode sends no single alerts")
            check(st("ok", "digest") == "held", "digest mode holds alerts (%s)" % st("ok", "digest"))
            r = run("alerts", "-c", conf)
            check(r.returncode == 0 and "held for a digest" in r.stdout and
                  "; next attempt " in r.stdout and "HTTP 500" in r.stdout,
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
                check("desk@example.org" in m["To"] and "duty@example.org" in m["To"], "To header")
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
            check(st("ok", "badmail") == "failed" and
                  "550" in (state.get((ids["g-ok"], "badmail")) or {}).get("last_error", ""),
                  "an SMTP 550 is a permanent failure")

            # --- exec
            files = sorted(os.listdir(rec_dir))
            check(len(files) == 7, "the exec sink ran once per alert (%d)" % len(files))
            if files:
                with open(os.path.join(rec_dir, files[0])) as f:
                    got = json.loads(f.read())
                check(got["id"] + ".json" == files[0], "the command got the alert JSON on stdin")
            perr = (state.get((ids["g-ok"], "pager")) or {}).get("last_error", "")
            check(st("ok", "pager") == "pending" and "exited with status 1" in perr and
                  "pager service unreachable" in perr, "a failing command is retried (%s)" % perr)

            # --- second run after the retry delays: the retries arrive
            time.sleep(max(0, t_first + 8.5 - time.time()))
            r = run("once", "-c", conf)
            check(r.returncode == 0, "second once exits 0")
            hook = recv.on("/hook")
            again = hook[n_run1:]
            check(sorted(h["body"]["item"]["id"] for h in again) ==
                  sorted("g-" + w for w in ("x500", "x429", "xslow", "xreset")),
                  "exactly the retried alerts are posted again (%s)" %
                  [h["body"]["item"]["id"] for h in again])
            first_ids = {h["body"]["item"]["id"]: h["id"] for h in hook[:n_run1]}
            check(all(h["id"] == first_ids[h["body"]["item"]["id"]] for h in again),
                  "a retry carries the same webhook-id")
            check(all(h["sig_ok"] and int(h["ts"]) >= int(t_first) + 5 for h in again),
                  "retries are signed with their own timestamp")
            r, rows = alerts_json(conf)
            state = {(x["alert"], x["sink"]): x for x in rows}
            for w in ("x500", "x429", "xslow", "xreset"):
                check(st(w, "hook") == "delivered", "%s delivered on retry" % w)

            # --- the digest came as one signed message
            dig = recv.on("/digest")
            check(len(dig) == 1, "digest mode sends one message (%d)" % len(dig))
            if dig:
                body = dig[0]["body"]
                check(body.get("digest") is True and body.get("count") == 7 and
                      len(body.get("alerts", [])) == 7, "the digest carries all 7 alerts")
                check(dig[0]["sig_ok"] and dig[0]["id"] == body.get("id"),
                      "the digest is signed under its own id")
            check(st("ok", "digest") == "digested", "held alerts are digested")
            check(dig and all(x["digest"] == dig[0]["id"] for x in rows if x["sink"] == "digest"),
                  "alerts --json names the digest each alert went out in")
            check(st("ok", "log") == "delivered", "the log sink is not retried")
            check(len(read_jsonl(jsonl)) == 7, "no alert is logged twice")

            # --- dead letters and --retry
            r = run("alerts", "-c", conf, "--failed")
            check(r.returncode == 0 and "gone" in r.stdout and "HTTP 410" in r.stdout and
                  "HTTP 404" in r.stdout, "alerts --failed lists the dead letters")
            r, failed_rows = alerts_json(conf, "--failed")
            check(all(x["state"] in ("failed", "gone") for x in failed_rows) and
                  len(failed_rows) == 2 + 7, "--failed --json has only dead letters (%d)"
                  % len(failed_rows))
            r = run("alerts", "-c", conf, "--retry", ids["g-x410"])
            # That alert's dead letters: the 410 and the refused mail.
            check(r.returncode == 0 and "requeued 2" in r.stdout,
                  "--retry ID requeues that alert (%s)" % r.stdout.strip())
            r = run("alerts", "-c", conf, "--retry", "all")
            check(r.returncode == 0 and "requeued 7" in r.stdout,
                  "--retry all requeues the rest (%s)" % r.stdout.strip())
            n_before = len(recv.on("/hook"))
            r = run("once", "-c", conf)
            hook = recv.on("/hook")
            check(sorted(h["body"]["item"]["id"] for h in hook[n_before:]) == ["g-x404", "g-x410"],
                  "requeued alerts are delivered on the next run")
            r, rows = alerts_json(conf, "--failed")
            check([x["sink"] for x in rows] == ["badmail"] * 7,
                  "only the refused recipient is left failed (%s)" % [x["sink"] for x in rows])
            r = run("alerts", "-c", conf, "--retry", "nonexistent")
            check(r.returncode == 0 and "requeued 0" in r.stdout, "--retry of an unknown id requeues 0")
    finally:
        smtp.stop()
    shutil.rmtree(d)
    tls_and_auth()
    finish()


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
""" % {"state": os.path.join(d, "state.db"), "cert": cert, "feed": feeds.url("/f.xml"),
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

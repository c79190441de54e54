"""Mail through the local mail system (`transport: sendmail`), driven by
`feedwatch once` over two rounds, one alert and then an update of its
development:
- a fake sendmail that records its argv, environment and input: the RFC
  5322 message (From, To, Subject, Message-ID, the update's In-Reply-To and
  References, the body) with \\n line ends, and only PATH, LANG and what
  `env` names from feedwatch's environment;
- one that exits 75 (EX_TEMPFAIL) while the mail system is "down": retried,
  and delivered, nothing lost, once it is back;
- one that hangs, with a child: killed at the timeout, the child too;
- one that prints Postfix's postdrop failure under NoNewPrivileges=yes and
  then retries forever, as postdrop does: the log says what is wrong and
  what to do, with the output's control characters escaped;
- one that exits 67 (EX_NOUSER): a dead letter;
- Debian's msmtp as the sendmail, against an SMTP server on 127.0.0.1
  (skipped, saying so, when msmtp is not installed);
- under no_new_privs, as the hardened unit runs it, `run` warns at start
  about a Postfix-like sendmail (a setgid postdrop beside it), and the
  delivery's error says no_new_privs is why;
- check-config's file:line:col errors for the new keys."""
import email
import email.policy
import email.utils
import json
import os
import shutil
import ctypes
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

from fwtest import (FW_BIN, Daemon, FeedServer, check, finish, rss, run, tmpdir, write,
                    state_path, state_sql)


def ago(seconds):
    return email.utils.formatdate(time.time() - seconds, usegmt=True)


def item(guid, title, desc, link, age):
    return {"guid": guid, "title": title, "description": desc, "link": link,
            "pubDate": ago(age)}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its reaper is dead too.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def script(path, body):
    write(path, "#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


# Records one run in the directory given as $1: argv (the rest), the
# environment and the message.
RECORD = """rec=$1; shift
n=$(date +%s%N).$$
printf '%s\\n' "$@" > "$rec/$n.argv"
env > "$rec/$n.env"
cat > "$rec/$n.eml"
"""


def recorded(rec):
    """[(argv, env, raw message)] in the order they were sent."""
    out = []
    for name in sorted(f for f in os.listdir(rec) if f.endswith(".eml")):
        base = os.path.join(rec, name[:-4])
        with open(base + ".argv") as f:
            argv = f.read().splitlines()
        with open(base + ".env") as f:
            env = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
        with open(base + ".eml", "rb") as f:
            raw = f.read()
        out.append((argv, env, raw))
    return out


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def alerts_json(conf, *extra):
    r = run("alerts", "-c", conf, "--json", *extra)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


class MailHandler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def start_smtp():
    """An aiosmtpd server on 127.0.0.1, or None when msmtp (the client it
    is for) or aiosmtpd is missing."""
    if shutil.which("msmtp") is None:
        if os.environ.get("CI"):
            check(False, "msmtp is installed (tests/quickstart.sh installs it)")
            return None, None, None
        print("SKIP - msmtp is not installed (apt-get install msmtp): the delivery "
              "through msmtp to an SMTP server is not tested")
        return None, None, None
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("aiosmtpd is missing: install python3-aiosmtpd")
        sys.exit(1)
    handler = MailHandler()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    return smtp, handler, port


def config_errors():
    """check-config names the line and column of each mistake."""
    d = tmpdir()
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: x.db
feeds: []
sinks:
  - type: mail
    transport: sendmail
    sendmail: "/usr/sbin/sendmail -t -oi"
    from: a@watch.example
    to: [b@example.org]
  - type: mail
    transport: sendmail
    url: smtp://localhost:25
    from: a@watch.example
    to: [b@example.org, "c@example.org\\nBcc: x@example.net"]
  - {type: mail, transport: pigeon, from: a@watch.example, to: [b@example.org]}
  - {type: mail, url: "smtp://localhost", sendmail: [/usr/sbin/sendmail], from: a@watch.example, to: [b@example.org]}
""")
    r = run("check-config", "-c", conf)
    want = [
        "%s:6:15: 'sendmail' is a list, the program and its arguments (no shell): "
        "[/usr/sbin/sendmail, -t, -oi]; found '/usr/sbin/sendmail -t -oi'" % conf,
        "%s:11:10: 'url' is for the smtp transport; with 'transport: sendmail' the local "
        "mail system delivers" % conf,
        "%s:13:25: 'to' has a control character (a line break would add a header)" % conf,
        "%s:14:29: 'transport' must be smtp or sendmail; found 'pigeon'" % conf,
        "%s:15:53: 'sendmail' is for 'transport: sendmail' (this mail sink sends over "
        "SMTP to its 'url')" % conf,
    ]
    got = r.stderr.splitlines()
    check(r.returncode == 1 and r.stdout == "", "check-config exits 1 on the sendmail mistakes")
    for line in want:
        check(line in got, "check-config: %s" % line.split(": ", 1)[1])
    check(len(got) == len(want), "and says nothing else (%s)" % got)
    shutil.rmtree(d)


PR_SET_NO_NEW_PRIVS = 38


def set_no_new_privs():
    """In the child before exec: what NoNewPrivileges=yes does."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(99)


def hardened_unit():
    """A Postfix-like sendmail (a setgid postdrop beside it) under
    no_new_privs: `run` says at start that its deliveries will fail, and
    the failed delivery says no_new_privs is why."""
    d = tmpdir()
    sbin = os.path.join(d, "sbin")
    os.mkdir(sbin)
    sendmail = script(os.path.join(sbin, "sendmail"), """cat > /dev/null
echo 'postdrop: warning: mail_queue_enter: create file maildrop/1.2: Permission denied' >&2
sleep 30
""")
    postdrop = script(os.path.join(sbin, "postdrop"), "exit 1\n")
    os.chmod(postdrop, 0o2755)
    with FeedServer() as srv:
        srv.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([item(
            "n-1", "Freedom Shield drills begin", "The exercise starts.",
            "https://news.example/fs", 600)]))
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
feeds: [{url: "%s", name: wire}]
topics: [{name: drills, terms: [drills]}]
sinks:
  - {type: mail, name: postfix, transport: sendmail, sendmail: ["%s", -t, -oi],
     timeout: 1s, retry: [1h], from: alerts@watch.example, to: [desk@example.org]}
""" % (state_path(d), srv.url("/f.xml"), sendmail))
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
            env.pop(k, None)
        proc = subprocess.Popen([FW_BIN, "run", "-c", conf], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=set_no_new_privs)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(l.rstrip("\n") for l in proc.stderr),
                                  daemon=True)
        reader.start()
        end = time.monotonic() + 20
        while time.monotonic() < end and not any("to sink 'postfix'" in l for l in lines):
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        warn = [l for l in lines if "needs a setgid or setuid helper" in l]
        check(len(warn) == 1 and "needs a setgid or setuid helper (Postfix's postdrop)" in warn[0]
              and "under no_new_privs (NoNewPrivileges=yes): its deliveries will fail" in warn[0]
              and "smtp://localhost:25" in warn[0],
              "under no_new_privs, run warns at start about a setgid sendmail (%s)" % warn)
        failed = [l for l in lines if "to sink 'postfix'" in l]
        check(len(failed) == 1 and "under no_new_privs (NoNewPrivileges=yes, as the "
              "feedwatch unit sets)" in failed[0] and "mail_queue_enter" in failed[0],
              "and the delivery's error says no_new_privs is why (%s)" % failed)
        # Without no_new_privs the same sendmail would work: no warning.
        daemon = Daemon(conf)
        started = daemon.wait_log(r"started: ", 10)
        daemon.stop()
        check(started is not None and "sendmail '" not in daemon.log(),
              "without no_new_privs there is no such warning")
    shutil.rmtree(d)


def main():
    config_errors()
    hardened_unit()

    d = tmpdir()
    rec = {name: os.path.join(d, name) for name in ("local", "flaky")}
    for path in rec.values():
        os.mkdir(path)
    fake = script(os.path.join(d, "fake-sendmail"), RECORD)
    flaky = script(os.path.join(d, "flaky-sendmail"), """
if [ -e "$1/down" ]; then
	cat > /dev/null
	echo '451 4.3.0 queue busy, try later' >&2
	exit 75
fi
""" + RECORD)
    write(os.path.join(rec["flaky"], "down"), "")
    hang_pid = os.path.join(d, "hang.pid")
    hang = script(os.path.join(d, "hang-sendmail"),
                  "sleep 30 &\necho $! > \"$1\"\ncat > /dev/null\nsleep 30\n")
    # What Postfix's sendmail prints under NoNewPrivileges=yes, and an
    # escape sequence for the terminal; postdrop then tries again every 10 s.
    postdrop = script(os.path.join(d, "postdrop-sendmail"), """cat > /dev/null
printf 'postdrop: warning: mail_queue_enter: create file maildrop/70341.2119: Permission denied\\033[2J\\n' >&2
sleep 30
""")
    nouser = script(os.path.join(d, "nouser-sendmail"),
                    "cat > /dev/null\necho 'b@example.org... User unknown' >&2\nexit 67\n")
    smtp, handler, smtp_port = start_smtp()
    msmtp_sink = "" if smtp is None else """
  - type: mail
    name: msmtp
    transport: sendmail
    sendmail: [msmtp, --host=127.0.0.1, --port=%d, --from=alerts@watch.example, -t]
    from: "feedwatch <alerts@watch.example>"
    to: ["Desk <desk@example.org>", duty@example.org]
""" % smtp_port
    feeds = {
        "yonhap": [item("y-1", "S. Korea, US begin Freedom Shield exercise with field training",
                        "The 11-day exercise includes large-scale combined field training.",
                        "https://en.yna.example/view/AEN1", 3 * 3600)],
        "reuters": [item("r-1", "US, South Korea launch Freedom Shield, biggest drills in years",
                         "North Korea fired missiles ahead of the exercise.",
                         "https://www.reuters.example/world/fs-begins", 2 * 3600)],
        "ap": [item("a-1", "US and South Korean militaries start Freedom Shield drills",
                    "The drills simulate a North Korean attack.",
                    "https://apnews.example/article/fs", 1 * 3600)],
        "stripes": [],
    }
    env = {"FW_TEST_SENDMAIL_SECRET": "do-not-pass", "FW_TEST_PASSED": "passed on"}
    try:
        with FeedServer() as srv:
            def publish():
                for name, items in feeds.items():
                    srv.routes["/%s.xml" % name] = (
                        200, {"Content-Type": "application/rss+xml"}, rss(items, title=name))
            publish()
            conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %(state)s
feeds:
%(feeds)s
topics:
  - name: drills
    terms: ["freedom shield", "drills", "exercise"]
    updates: {sources: 4}
sinks:
  - type: mail
    name: local
    transport: sendmail
    sendmail: ["%(fake)s", "%(rec_local)s", -t, -oi]
    env: [FW_TEST_PASSED]
    from: "feedwatch <alerts@watch.example>"
    to: ["Desk <desk@example.org>", duty@example.org]
  - type: mail
    name: flaky
    transport: sendmail
    sendmail: ["%(flaky)s", "%(rec_flaky)s", -t, -oi]
    from: alerts@watch.example
    to: [desk@example.org]
    retry: [1s]
  - type: mail
    name: hang
    transport: sendmail
    sendmail: ["%(hang)s", "%(hang_pid)s"]
    timeout: 1s
    retry: [1h]
    from: alerts@watch.example
    to: [desk@example.org]
  - {type: mail, name: postdrop, transport: sendmail, sendmail: ["%(postdrop)s"],
     timeout: 1s, retry: [1h], from: alerts@watch.example, to: [desk@example.org]}
  - {type: mail, name: nouser, transport: sendmail, sendmail: ["%(nouser)s"],
     from: alerts@watch.example, to: [desk@example.org]}
""" % {"state": state_path(d),
                "feeds": "\n".join('  - {url: "%s", name: %s}' % (srv.url("/%s.xml" % n), n)
                                   for n in feeds),
                "fake": fake, "rec_local": rec["local"], "flaky": flaky,
                "rec_flaky": rec["flaky"], "hang": hang, "hang_pid": hang_pid,
                "postdrop": postdrop, "nouser": nouser} + msmtp_sink)

            r = run("check-config", "-c", conf)
            check(r.returncode == 0, "check-config accepts transport: sendmail (%s)"
                  % r.stderr.strip())

            # --- round 1: the first alert of the development
            t0 = time.monotonic()
            r = run("once", "-c", conf, env=env)
            took = time.monotonic() - t0
            check(r.returncode == 0, "once exits 0 although some deliveries fail (%s)"
                  % r.stderr.strip()[-300:])
            rows = alerts_json(conf)
            by_sink = {}
            for x in rows:
                by_sink.setdefault(x["sink"], []).append(x)
            first_id = rows[0]["alert"] if rows else None
            check(len({x["alert"] for x in rows}) == 1,
                  "three outlets, one event: one alert (%d)" % len({x["alert"] for x in rows}))

            # The message itself.
            sent = recorded(rec["local"])
            check(len(sent) == 1, "the fake sendmail ran once (%d)" % len(sent))
            first_msgid = None
            if sent:
                argv, child_env, raw = sent[0]
                check(argv == ["-t", "-oi"], "it got its arguments as listed (%s)" % argv)
                check(b"\r" not in raw, "the message has the \\n line ends sendmail reads")
                m = parse(raw)
                check(m["From"] == "feedwatch <alerts@watch.example>", "From: %s" % m["From"])
                check(str(m["To"]) == "Desk <desk@example.org>, duty@example.org",
                      "To: has every recipient, for -t (%s)" % m["To"])
                check(email.utils.parsedate_to_datetime(m["Date"]) is not None, "Date: is RFC 5322")
                first_msgid = m["Message-ID"]
                check(first_msgid == "<feedwatch.%s@watch.example>" % first_id,
                      "Message-ID: is made of the alert id (%s)" % first_msgid)
                check(m["In-Reply-To"] is None and m["References"] is None,
                      "the first alert of a development answers nothing")
                check(str(m["Subject"]).startswith("[drills] ") and "Freedom Shield" in
                      str(m["Subject"]), "Subject: %s" % m["Subject"])
                body = m.get_content()
                check("Freedom Shield" in body and "https://" in body and "matched:" in body,
                      "the body has the title, link and matched terms")
                check(m.get_content_type() == "text/plain" and
                      m.get_content_charset() == "utf-8" and
                      m["Auto-Submitted"] == "auto-generated", "a UTF-8 text/plain auto-generated mail")
                check(child_env.get("FW_TEST_PASSED") == "passed on" and "PATH" in child_env,
                      "sendmail gets PATH and what env names")
                check("FW_TEST_SENDMAIL_SECRET" not in child_env,
                      "and nothing else of feedwatch's environment")

            # EX_TEMPFAIL: retried, with the reason.
            fl = (by_sink.get("flaky") or [{}])[0]
            check(fl.get("state") == "pending" and fl.get("attempts") == 1 and
                  "exited with status 75 (EX_TEMPFAIL): 451 4.3.0 queue busy, try later"
                  in (fl.get("last_error") or ""), "exit 75 is retried, the reason kept (%s)" % fl)
            check(recorded(rec["flaky"]) == [], "nothing was sent by the failing sendmail")
            check("sink 'flaky'" in r.stderr and "EX_TEMPFAIL" in r.stderr and
                  "retry 1 in" in r.stderr, "the log says it will retry")

            # The timeout kills the whole process group.
            hg = (by_sink.get("hang") or [{}])[0]
            check(hg.get("state") == "pending" and
                  "took longer than 1s, killed" in (hg.get("last_error") or ""),
                  "a hanging sendmail is killed at the timeout and retried (%s)" % hg)
            check(took < 20, "once was not held by it (%.1fs)" % took)
            try:
                with open(hang_pid) as f:
                    child = int(f.read())
            except (OSError, ValueError):
                child = 0
            end = time.monotonic() + 2
            while child and alive(child) and time.monotonic() < end:
                time.sleep(0.05)
            check(child > 0 and not alive(child), "its child went with it")

            # Postfix's postdrop under NoNewPrivileges=yes.
            pd = (by_sink.get("postdrop") or [{}])[0]
            err = pd.get("last_error") or ""
            check(pd.get("state") == "pending" and "setgid helper (Postfix's postdrop)" in err
                  and "NoNewPrivileges=yes" in err and "smtp://localhost:25" in err and
                  "msmtp" in err, "the postdrop failure is named, with the way out (%s)" % err)
            check("mail_queue_enter" in err and "\x1b" not in err and "\\x1B[2J" in err,
                  "with postdrop's own words, its control characters escaped")
            log = [l for l in r.stderr.splitlines() if "sink 'postdrop'" in l]
            check(len(log) == 1 and "Postfix's postdrop" in log[0] and "\x1b" not in log[0],
                  "the log line says so (%s)" % log)

            # EX_NOUSER: a dead letter.
            nu = (by_sink.get("nouser") or [{}])[0]
            check(nu.get("state") == "failed" and
                  "exited with status 67: b@example.org... User unknown" in
                  (nu.get("last_error") or ""), "exit 67 is a permanent failure (%s)" % nu)
            r2 = run("alerts", "-c", conf, "--failed")
            check("nouser" in r2.stdout and "User unknown" in r2.stdout,
                  "alerts --failed lists it")

            if smtp is not None:
                msgs = handler.messages
                check(len(msgs) == 1, "msmtp delivered the alert to the SMTP server (%d)"
                      % len(msgs))
                if msgs:
                    mail_from, rcpts, raw = msgs[0]
                    m = parse(raw)
                    check(mail_from == "alerts@watch.example" and
                          sorted(rcpts) == ["desk@example.org", "duty@example.org"],
                          "msmtp -t: the envelope has every recipient (%s, %s)"
                          % (mail_from, rcpts))
                    check(m["Message-ID"] == first_msgid and
                          str(m["Subject"]).startswith("[drills] "),
                          "the same message as the fake sendmail got (%s)" % m["Message-ID"])
                    check("Freedom Shield" in m.get_content(), "body intact through msmtp")

            # --- round 2: the mail system is back; an update alert.
            os.unlink(os.path.join(rec["flaky"], "down"))
            feeds["stripes"].append(item(
                "s-1", "Freedom Shield drills draw 13,000 troops to the field",
                "Freedom Shield involves 13,000 troops, the exercise command said.",
                "https://stripes.example/fs-troops", 1800))
            publish()
            time.sleep(1.5)     # flaky's retry: [1s], and up to a tenth more
            r = run("once", "-c", conf, env=env)
            check(r.returncode == 0, "second once exits 0")
            rows = alerts_json(conf)
            ids = {x["alert"] for x in rows}
            check(len(ids) == 2, "a fourth source with a figure: one update alert (%d)" % len(ids))

            sent = recorded(rec["local"])
            check(len(sent) == 2, "the update went through sendmail too (%d)" % len(sent))
            if len(sent) == 2:
                m = parse(sent[1][2])
                check(m["In-Reply-To"] == first_msgid and m["References"] == first_msgid,
                      "the update threads under the first alert's Message-ID (%s, %s)"
                      % (m["In-Reply-To"], m["References"]))
                check(m["Message-ID"] != first_msgid and "13,000 troops" in str(m["Subject"]),
                      "with its own Message-ID and subject (%s)" % m["Subject"])

            fl_sent = recorded(rec["flaky"])
            msgids = sorted(parse(raw)["Message-ID"] for _, _, raw in fl_sent)
            check(len(fl_sent) == 2 and first_msgid in msgids,
                  "after EX_TEMPFAIL the alert arrives once the mail system is back, "
                  "and the update too (%s)" % msgids)
            check(all(x["state"] == "delivered" for x in rows if x["sink"] == "flaky"),
                  "nothing is lost: every flaky delivery is delivered")
            check("delivered after 2 attempts" in r.stderr, "the log tells the end of the story")
            if smtp is not None:
                msgs = handler.messages
                check(len(msgs) == 2 and parse(msgs[-1][2])["In-Reply-To"] == first_msgid,
                      "msmtp delivered the update, threaded (%d)" % len(msgs))
    finally:
        if smtp is not None:
            smtp.stop()
    shutil.rmtree(d)
    finish()


if __name__ == "__main__":
    main()

"""SIGHUP reloads the configuration of a running `feedwatch run`:
 - a good new config takes effect without a restart: an added feed is
   polled, a removed one no longer is, a new topic alerts, and what was
   seen before is not alerted again (state survives the reload);
 - a broken config is refused: every error is logged as file:line:col, the
   running configuration keeps working (its feeds keep being polled), and
   the log sink's file is reopened (logrotate);
 - fixing the file and sending SIGHUP again applies it."""
import os
import re
import signal
import time

from fwtest import (Daemon, FW_BIN, FeedServer, check, finish, read_jsonl, rss, tmpdir, write,
                    state_path, state_sql)


def hits(srv, path):
    return sum(1 for p, _ in srv.requests if p == path)


def wait_until(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def main():
    d = tmpdir()
    recent = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 600))
    with FeedServer() as srv:
        srv.routes["/a.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "a1", "title": "Allies hold combined drills", "pubDate": recent,
             "description": "x"},
            {"guid": "a2", "title": "New tariffs on steel", "pubDate": recent,
             "description": "y"}]))
        srv.routes["/b.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss([
            {"guid": "b1", "title": "Tariffs talks resume", "pubDate": recent,
             "description": "z"}]))
        alerts = os.path.join(d, "alerts.jsonl")
        path = os.path.join(d, "feedwatch.yaml")
        common = """state: %s
sinks:
  - {type: log, name: archive, path: "%s", format: jsonl}
""" % (state_path(d), alerts)
        # interval 1s: a feed that stays configured is polled again and again.
        v1 = common + """defaults: {interval: 1s, min_interval: 1s, max_interval: 1s}
feeds:
  - {url: "%s", name: a}
topics:
  - {name: drills, terms: ["drills"]}
""" % srv.url("/a.xml")
        write(path, v1)
        dm = Daemon(path)
        check(wait_until(lambda: len(read_jsonl(alerts)) == 1, 10),
              "v1: feed a is polled and its drills item alerts")

        # A good reload: add feed b and topic tariffs, drop nothing.
        v2 = common + """defaults: {interval: 1s, min_interval: 1s, max_interval: 1s}
feeds:
  - {url: "%s", name: a}
  - {url: "%s", name: b}
topics:
  - {name: drills, terms: ["drills"]}
  - {name: tariffs, terms: ["tariffs"]}
""" % (srv.url("/a.xml"), srv.url("/b.xml"))
        write(path, v2)
        n = len(dm.lines)
        dm.proc.send_signal(signal.SIGHUP)
        check(dm.wait_log(r"reloaded: 2 feeds, 2 topics, 1 sink$", 5, n) is not None,
              "SIGHUP with a good config: 'reloaded: 2 feeds, 2 topics, 1 sink'")
        check(wait_until(lambda: hits(srv, "/b.xml") >= 1, 10),
              "the added feed b is polled without a restart")
        check(wait_until(lambda: len(read_jsonl(alerts)) == 2, 10),
              "the new topic alerts on the new feed's item")
        time.sleep(2.5)
        got = read_jsonl(alerts)
        titles = sorted(a["item"]["title"] for a in got if "item" in a)
        check(len(got) == 2, "nothing seen before the reload alerts again (%s)" % titles)
        check(all(a["item"]["id"] != "a2" for a in got if "item" in a),
              "feed a's old tariffs item stays silent: it was seen under v1 "
              "(state survives the reload)")

        # A broken config: a YAML error at a known place, and a bad key.
        broken = v2 + "  - {name: oops, terms: [\"x\"], colour: red}\nsinks: [\n"
        write(path, broken)
        lines = broken.split("\n")
        n = len(dm.lines)
        b_hits = hits(srv, "/b.xml")
        os.rename(alerts, alerts + ".1")   # logrotate moved the file away
        dm.proc.send_signal(signal.SIGHUP)
        err = dm.wait_log(re.escape(path) + r":\d+:\d+: ", 5, n)
        check(err is not None, "a broken config is logged as file:line:col: %r" % (err,))
        m = re.search(re.escape(path) + r":(\d+):(\d+): ", err or "")
        check(m is not None and int(m.group(1)) >= len(lines) - 2,
              "the position points at the broken end of the file (%s)" % (m.groups() if m else None,))
        check(dm.wait_log(r"reload failed: keeping the running configuration", 5, n) is not None,
              "the reload is refused and the running configuration kept")
        check(wait_until(lambda: hits(srv, "/b.xml") >= b_hits + 2, 10),
              "the running configuration keeps polling (feed b still polled)")
        check(dm.proc.poll() is None, "the daemon is still running")
        check(os.path.exists(alerts), "the log sink's file was reopened after SIGHUP")

        # A config with only a semantic mistake also names its position.
        bad_key = v2.replace("{url: \"%s\", name: b}" % srv.url("/b.xml"),
                             "{url: \"%s\", name: b, colour: red}" % srv.url("/b.xml"))
        write(path, bad_key)
        n = len(dm.lines)
        dm.proc.send_signal(signal.SIGHUP)
        err = dm.wait_log(re.escape(path) + r":\d+:\d+: .*colour", 5, n)
        want_line = next(i for i, l in enumerate(bad_key.split("\n"), 1) if "colour" in l)
        check(err is not None and (":%d:" % want_line) in err,
              "an unknown key is logged at its line %d: %r" % (want_line, err))

        # Fixed: drop feed a; it is no longer polled.
        v3 = common + """defaults: {interval: 1s, min_interval: 1s, max_interval: 1s}
feeds:
  - {url: "%s", name: b}
topics:
  - {name: tariffs, terms: ["tariffs"]}
""" % srv.url("/b.xml")
        write(path, v3)
        n = len(dm.lines)
        dm.proc.send_signal(signal.SIGHUP)
        check(dm.wait_log(r"reloaded: 1 feed, 1 topic, 1 sink$", 5, n) is not None,
              "the fixed file is applied on the next SIGHUP")
        time.sleep(1.5)
        a_hits = hits(srv, "/a.xml")
        time.sleep(3)
        check(hits(srv, "/a.xml") == a_hits, "the removed feed a is no longer polled")
        check(hits(srv, "/b.xml") > b_hits + 2, "feed b still is")
        code = dm.stop()
        check(code == 0, "exit 0 after SIGTERM (got %s)" % code)
        total = read_jsonl(alerts + ".1") + read_jsonl(alerts)
        check(len(total) == 2, "two alerts in all, none repeated across four reloads (%d)"
              % len(total))
    finish()


if __name__ == "__main__":
    main()

"""What a new user tripped on (issue 20), one check each: the demo's first
run without feed-health noise and with a next step, relative paths against
the config's directory, alerts --retry by id prefix, check-config reporting
every error at once, classify naming the exclude that removed an item, the
state directory checked, and the smaller items."""
import json
import os
import re
import shutil
import subprocess

from fwtest import (PG, FW_BIN, SOURCE_ROOT, check, finish, read_jsonl, rss, run,
                    state_path, state_sql, tmpdir, write)


def copy_config(d):
    """A copy of config/ (the demo's paths are relative to its directory)."""
    shutil.copytree(os.path.join(SOURCE_ROOT, "config"), os.path.join(d, "config"))
    return os.path.join(d, "config", "demo.yaml")


def test_demo():
    d = tmpdir()
    demo = copy_config(d)
    r = subprocess.run(["bash", os.path.join(SOURCE_ROOT, "tests", "demo.sh"), FW_BIN, demo],
                       cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120)
    out = r.stdout
    lines = [l for l in out.splitlines() if l.strip()]
    check(r.returncode == 0, "demo: runs (%d)" % r.returncode)
    check("[feed_health]" not in out and "silent" not in out,
          "demo: the first run shows no feed-health alert")
    check(out.count("\n[") >= 10, "demo: the topic alerts are shown (%d)" % out.count("\n["))
    check(lines and lines[-1].startswith("== next:") and "config/feedwatch.yaml" in lines[-1]
          and "feedwatch add" in lines[-1] and "service" in lines[-1],
          "demo: the output ends with one line on what to do next (%r)"
          % (lines[-1] if lines else ""))
    check(os.path.exists(os.path.join(d, "demo-state.db")) and
          os.path.exists(os.path.join(d, "demo-alerts.jsonl")),
          "demo: state and JSON Lines land beside config/, whatever the working directory")
    alerts = read_jsonl(os.path.join(d, "demo-alerts.jsonl"))
    check(alerts and all(a["topics"] != ["feed_health"] for a in alerts),
          "demo: no feed_health alert in the JSON Lines either")


def test_relative_paths():
    d = tmpdir()
    os.chmod(write(os.path.join(d, "hook.secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"), 0o600)
    write(os.path.join(d, "feed.xml"), rss([{"guid": "a", "title": "A story",
                                             "link": "http://x.example/a",
                                             "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"}]))
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: state.db
feeds:
  - {url: "file:feed.xml", name: f}
topics:
  - {name: any, terms: [story]}
sinks:
  - {type: log, path: alerts.jsonl, format: jsonl}
  - {type: webhook, url: "http://127.0.0.1:1/hook", secret_file: hook.secret, format: slack}
""")
    r = subprocess.run([FW_BIN, "check-config", "-c", conf], cwd="/",
                       capture_output=True, text=True)
    check(r.returncode == 0, "relative secret_file is read beside the config, not in the "
          "working directory (%s)" % r.stderr.strip())
    r = subprocess.run([FW_BIN, "once", "-c", conf], cwd="/", capture_output=True, text=True)
    check(r.returncode == 0 and os.path.exists(os.path.join(d, "state.db")) and
          os.path.exists(os.path.join(d, "alerts.jsonl")),
          "relative state and log paths are beside the config (%s)" % r.stderr.strip())


def state_in(d):
    """The state: line's value: relative to the config's folder, or a
    PostgreSQL database (FW_TEST_STATE)."""
    return state_path(d) if PG else "state.db"


def test_health_routing():
    d = tmpdir()
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: %s
defaults: {health_failures: 1}
feeds:
  - {url: "file:missing.xml", name: gone}
topics:
  - {name: any, terms: [story]}
sinks:
  - {type: log, name: all, path: all.jsonl, format: jsonl}
  - {type: log, name: topical, path: topical.jsonl, format: jsonl, topics: [any]}
  - {type: log, name: health, path: health.jsonl, format: jsonl, topics: [any, feed_health]}
""" % state_in(d))
    r = run("check-config", "-c", conf)
    check(r.returncode == 0, "a sink's topics may name feed_health (%s)" % r.stderr.strip())
    r = run("once", "-c", conf)
    got = {n: read_jsonl(os.path.join(d, n + ".jsonl")) for n in ("all", "topical", "health")}
    check(len(got["all"]) == 1 and got["all"][0]["topics"] == ["feed_health"] and
          got["all"][0]["health"] == "failing",
          "feed health: a sink without topics gets the failing alert")
    check(got["topical"] == [], "feed health: a sink with topics: [any] does not")
    check(len(got["health"]) == 1, "feed health: a sink naming feed_health does")
    check(", 1 alerts; 2 delivered" in r.stderr and
          "alert %s queued for 2 sinks (topics: feed_health)" % got["all"][0]["id"] in r.stderr,
          "feed health: counted and logged as queued like a topic alert")
    bad = write(os.path.join(d, "bad.yaml"), """state: state.db
feeds:
  - {url: "file:missing.xml", name: gone, topics: [feed_health]}
topics:
  - {name: any, terms: [story]}
""")
    r = run("check-config", "-c", bad)
    check(r.returncode == 1 and "unknown topic 'feed_health'" in r.stderr,
          "a feed's topics cannot name feed_health (%s)" % r.stderr.strip())


def test_check_config_all_errors():
    d = tmpdir()
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: state.db
feeds:
  - {url: "http://127.0.0.1:1/f.xml", name: f, colour: red}
topics:
  - {name: drills, terms: ['"freedom shield" NEAR/ drills']}
sinks:
  - {type: webhook, url: "http://127.0.0.1:1/h", format: jsonl}
  - {type: log, path: "-", format: slack}
  - {type: mail, url: "smtp://127.0.0.1:1", from: a@b.example, to: [c@d.example], format: text}
""")
    r = run("check-config", "-c", conf)
    errs = r.stderr.splitlines()
    check(r.returncode == 1 and any(":3:" in l and "colour" in l for l in errs) and
          any(":5:" in l and "NEAR" in l for l in errs),
          "check-config reports a key error and a rule error in one run (%s)" % errs)
    check(any(":7:" in l and "generic, slack, discord, ntfy; found 'jsonl'" in l and
              "text" not in l.split("found")[0] for l in errs),
          "a bad webhook format lists the webhook's formats only")
    check(any(":8:" in l and "text, jsonl; found 'slack'" in l for l in errs),
          "a bad log format lists the log sink's formats only")
    check(any(":9:" in l and "mail sink has no 'format'" in l for l in errs),
          "a format on a mail sink is refused")
    check(all(re.match(r"^[^:]+:\d+:\d+: ", l) for l in errs),
          "every error is file:line:col: message")


def test_state_directory():
    d = tmpdir()
    conf = write(os.path.join(d, "feedwatch.yaml"), """feeds:
  - {url: "http://127.0.0.1:1/f.xml", name: f}
state: %s/missing/state.db
""" % d)
    r = run("check-config", "-c", conf)
    check(r.returncode == 1 and ":3:8: state file '%s/missing/state.db': directory "
          "'%s/missing' does not exist" % (d, d) in r.stderr,
          "check-config names a missing state directory (%s)" % r.stderr.strip())
    if os.geteuid() != 0:
        ro = os.path.join(d, "ro")
        os.mkdir(ro, 0o500)
        write(conf, "state: %s/state.db\nfeeds: [{url: 'http://127.0.0.1:1/f', name: f}]\n"
              % ro)
        r = run("check-config", "-c", conf)
        check(r.returncode == 1 and "permission denied" in r.stderr,
              "check-config names a state directory it cannot write (%s)" % r.stderr.strip())
        os.chmod(ro, 0o700)


def test_delivered_after_retries():
    d = tmpdir()
    write(os.path.join(d, "feed.xml"), rss([{"guid": "a", "title": "A story",
                                             "link": "http://x.example/a",
                                             "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"}]))
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: %s
defaults: {backlog: 36500d}
feeds:
  - {url: "file:feed.xml", name: f}
topics:
  - {name: any, terms: [story]}
sinks:
  - type: exec
    name: flaky
    command: [sh, -c, 'test -e %s/ok || { touch %s/ok; echo busy; exit 3; }']
""" % (state_in(d), d, d))
    r = run("once", "-c", conf)
    check("to sink 'flaky': 'sh' exited with status 3: busy; retry 1" in r.stderr,
          "delivery: the first attempt fails (%s)" % r.stderr.strip())
    state = state_path(d)
    alert_id = state_sql(state, "SELECT alert_id FROM deliveries")[0][0]
    state_sql(state, "UPDATE deliveries SET next_attempt = 0")
    r = run("once", "-c", conf)
    check("alert %s to sink 'flaky': delivered after 2 attempts" % alert_id in r.stderr,
          "delivery: success after a failure is logged with the alert id (%s)"
          % r.stderr.strip())


def test_classify_excluded():
    d = tmpdir()
    feed = write(os.path.join(d, "feed.xml"), rss([
        {"guid": "oil", "title": "Oil major to drill new wells in the Yellow Sea",
         "link": "http://x.example/oil", "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"},
        {"guid": "drill", "title": "Allies drill off Korea", "link": "http://x.example/d",
         "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"},
        {"guid": "none", "title": "Stocks rise", "link": "http://x.example/n",
         "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"}]))
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: state.db
feeds:
  - {url: "file:feed.xml", name: f}
topics:
  - {name: drills, terms: [drill], exclude: [oil, "gas field"]}
""")
    r = run("classify", "-c", conf, "--json", feed)
    lines = {l["id"]: l for l in (json.loads(x) for x in r.stdout.splitlines() if x.strip())}
    check(r.returncode == 0 and lines["oil"]["topics"] == [] and
          lines["oil"]["excluded"] == {"drills": ["oil"]},
          "classify --json: excluded names the exclude that removed the item (%s)"
          % lines.get("oil"))
    check(lines["drill"]["topics"] == ["drills"] and lines["drill"]["excluded"] == {} and
          lines["none"]["excluded"] == {},
          "classify --json: excluded is empty when no exclude removed a match")
    check(all(set(l) == {"id", "title", "topics", "matches", "excluded"}
              for l in lines.values()), "classify --json only adds the excluded field")
    r = run("classify", "-c", conf, feed)
    check("drills: its terms matched, but exclude 'oil' removed it" in r.stdout,
          "classify says which exclude removed an item (%s)" % r.stdout)


def test_small_items():
    d = tmpdir()
    r = subprocess.run([FW_BIN, "parse", "nonexist.xml"], cwd=d, capture_output=True, text=True)
    check(r.returncode == 1 and r.stderr.count("nonexist.xml") == 1,
          "parse of a missing file names it once (%s)" % r.stderr.strip())
    write(os.path.join(d, "feed.xml"), rss([{"guid": "a", "title": "A story",
                                             "link": "http://x.example/a",
                                             "pubDate": "Mon, 07 Dec 2026 10:00:00 GMT"}]))
    conf = write(os.path.join(d, "feedwatch.yaml"), """state: %s
feeds:
  - {url: "file:feed.xml", name: f}
topics:
  - {name: any, terms: [story]}
""" % state_in(d))
    r = run("classify", "-c", conf, os.path.join(d, "nonexist.xml"))
    check(r.returncode == 1 and r.stderr.count("nonexist.xml") == 1,
          "classify of a missing file names it once (%s)" % r.stderr.strip())
    r = run("classify", "-c", conf, "f")
    check(r.returncode == 0 and "any" in r.stdout, "classify NAME runs the rules over that feed")
    r = run("check-config", "-c", conf)
    check(r.stdout.strip().endswith("OK: 1 feed, 1 topic, 0 sinks"),
          "check-config counts in the singular for one (%s)" % r.stdout.strip())
    run("once", "-c", conf)
    r = run("once", "-c", conf)
    check("feed 'f': unchanged (the same content as the last poll)" in r.stderr and
          "HTTP 200" not in r.stderr,
          "an unchanged file: feed is not reported as HTTP 200 (%s)" % r.stderr.strip())
    lr = open(os.path.join(SOURCE_ROOT, "config", "feedwatch.logrotate")).read()
    shipped = open(os.path.join(SOURCE_ROOT, "config", "feedwatch.yaml")).read()
    logs = re.findall(r"^\s+path: (/\S+)", shipped, re.M)
    check(logs and all(p in lr or os.path.dirname(p) + "/*." + p.rsplit(".", 1)[1] in lr
                       for p in logs) and "systemctl reload feedwatch" in lr,
          "the shipped logrotate file rotates the shipped config's log files and reloads (%s)"
          % logs)
    readme = open(os.path.join(SOURCE_ROOT, "README.md")).read()
    check("classify --stored" in readme and "sudo feedwatch status" in readme and
          "sudo feedwatch alerts" in readme, "README: classify --stored, sudo for status/alerts")
    check("/run/credentials/feedwatch.service/" in shipped and
          "secret_file: /etc/feedwatch" not in shipped,
          "the shipped config points secret_file at the service's credentials")


def main():
    test_small_items()
    test_delivered_after_retries()
    test_health_routing()
    if PG:
        # The rest keeps no state (classify, check-config) or is about the
        # SQLite file: the demo's, relative paths, the state directory.
        finish()
    test_classify_excluded()
    test_check_config_all_errors()
    test_state_directory()
    test_demo()
    test_relative_paths()
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""CLI test: one alert per development (issue 13).

Three outlets report one event in their own words: one alert, naming the
development and its sources. A fourth report adds a key figure: one update
alert that names the first alert. A fifth repeats the figures: nothing. The
same article through another feed with tracking parameters, and a feed
that changes its guids, raise nothing. A failure between grouping and
queueing the alert (the state file refuses the alert) keeps nothing, and
the next poll alerts once. `developments --json` lists every matching item
exactly once, backlog items too; --explain and --topic work. Standard
library only; env: FW_BIN."""
import email.utils
import json
import os
import time

from fwtest import (PG, FeedServer, check, finish, read_jsonl, rss, run, tmpdir, write, state_path,
                    state_sql)


def ago(seconds):
    return email.utils.formatdate(time.time() - seconds, usegmt=True)


def item(guid, title, desc, link, age):
    return {"guid": guid, "title": title, "description": desc, "link": link,
            "pubDate": ago(age)}


def developments(conf, *extra):
    r = run("developments", "-c", conf, "--json", "--since", "3650d", *extra)
    check(r.returncode == 0, "developments %s exits 0 (%s)" % (" ".join(extra), r.stderr.strip()))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def main():
    d = tmpdir()
    state = state_path(d)
    jsonl = os.path.join(d, "alerts.jsonl")
    feeds = {
        "yonhap": [item("y-1", "S. Korea, US begin Freedom Shield exercise with field training",
                        "The 11-day exercise includes large-scale combined field training.",
                        "https://en.yna.example/view/AEN1", 3 * 3600),
                   # old news on the first poll: grouped, never alerted
                   item("y-old", "Allies postpone Freedom Shield over virus outbreak",
                        "The drills were delayed.", "https://en.yna.example/view/OLD",
                        30 * 86400)],
        "reuters": [item("r-1", "US, South Korea launch Freedom Shield, biggest drills in years",
                         "North Korea fired missiles ahead of the exercise.",
                         "https://www.reuters.example/world/fs-begins", 2 * 3600)],
        "ap": [item("a-1", "US and South Korean militaries start Freedom Shield drills",
                    "The drills simulate a North Korean attack.",
                    "https://apnews.example/article/fs", 1 * 3600)],
        "aggregator": [],
        "stripes": [],
    }
    with FeedServer() as srv:
        def publish():
            for name, items in feeds.items():
                srv.routes["/%s.xml" % name] = (200, {"Content-Type": "application/rss+xml"},
                                                 rss(items, title=name))
        publish()
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
feeds:
%s
topics:
  - name: drills
    terms: ["freedom shield", "drills", "exercise"]
    updates: {sources: 4}
  - name: nk
    terms: ["north korea"]
    updates: {new_topic: false}
sinks:
  - {type: log, path: "%s", format: jsonl}
""" % (state, "\n".join('  - {url: "%s", name: %s}' % (srv.url("/%s.xml" % n), n)
                        for n in feeds), jsonl))

        r = run("once", "-c", conf)
        check(r.returncode == 0, "once exits 0 (%s)" % r.stderr.strip()[-300:])
        alerts = read_jsonl(jsonl)
        check(len(alerts) == 1, "three outlets, one event: one alert (%d)" % len(alerts))
        first = alerts[0] if alerts else {}
        check(first.get("development") and isinstance(first.get("sources"), list),
              "the alert names its development and sources")
        check(first.get("item", {}).get("id") in ("y-1", "r-1", "a-1") and "updates" not in first,
              "the first alert is about the event and updates nothing")
        devs = developments(conf)
        ids = sorted(i["id"] for dv in devs for i in dv["items"])
        check(ids == sorted(["y-1", "y-old", "r-1", "a-1"]),
              "every matching item is in exactly one development, the backlog item too (%s)" % ids)
        fs = [dv for dv in devs if any(i["id"] == "r-1" for i in dv["items"])]
        check(len(fs) == 1 and sorted(i["id"] for i in fs[0]["items"]) == ["a-1", "r-1", "y-1"],
              "the three reports are one development")
        check(fs and fs[0]["id"] == first.get("development"), "its id is the alert's development")
        check(fs and set(fs[0]) >= {"id", "topics", "items", "figures", "first_seen", "last_seen"}
              and set(fs[0]["items"][0]) >= {"id", "feed", "title", "link", "published"},
              "the JSON carries the contract's keys")
        check(fs and sorted(fs[0]["sources"]) == ["ap", "reuters", "yonhap"],
              "its sources are the three feeds")

        # A report with a new key figure: one update alert.
        feeds["stripes"].append(item("a-2", "Freedom Shield drills draw 13,000 troops to the field",
                                "Freedom Shield involves 13,000 troops, the exercise command said.",
                                "https://apnews.example/article/fs-troops", 1800))
        # The same article through an aggregator, with tracking parameters.
        feeds["aggregator"].append(item(
            "agg-1", "US, South Korea launch Freedom Shield, biggest drills in years",
            "North Korea fired missiles ahead of the exercise.",
            "http://reuters.example/world/fs-begins/?utm_source=agg&utm_medium=rss#top", 1700))
        # A feed that changed its guids: the same link is the same item.
        feeds["reuters"][0] = dict(feeds["reuters"][0], guid="r-1-renamed")
        publish()
        r = run("once", "-c", conf)
        check(r.returncode == 0, "second once exits 0")
        new = read_jsonl(jsonl)[len(alerts):]
        check(len(new) == 1, "a new figure gives one update alert, the copies none (%d: %s)"
              % (len(new), [a["item"]["id"] for a in new]))
        upd = new[0] if new else {}
        check(upd.get("item", {}).get("id") == "a-2" and upd.get("updates") == first.get("id")
              and upd.get("development") == first.get("development"),
              "the update names the development and the alert it updates")
        check("13000" in json.dumps(upd.get("update", {}).get("figures", [])),
              "the update says what is new: the figure (%s)" % upd.get("update"))
        check(upd.get("update", {}).get("confirmed_by") == 4 and len(upd.get("sources", [])) == 4,
              "and that a fourth source confirms it (updates: {sources: 4})")
        devs = developments(conf)
        ids = sorted(i["id"] for dv in devs for i in dv["items"])
        check("r-1-renamed" not in ids, "a renamed guid is not a new item")

        # A repeat of the known figures: nothing.
        feeds["yonhap"].append(item("y-2", "13,000 troops join Freedom Shield field drills",
                                    "Freedom Shield puts 13,000 troops in the field.",
                                    "https://en.yna.example/view/AEN2", 1200))
        publish()
        before = len(read_jsonl(jsonl))
        r = run("once", "-c", conf)
        check(r.returncode == 0 and len(read_jsonl(jsonl)) == before,
              "a repeat of the known figures raises nothing")

        # A failure between grouping and queueing the alert: the state file
        # refuses the alert, the transaction goes, nothing is half kept.
        feeds["ap"].append(item("a-3", "Tariff talks on car exports resume in Washington",
                                "Seoul's negotiators arrived for a new round of tariffs talks "
                                "about Hyundai exports.", "https://apnews.example/article/t", 600))
        write(conf, open(conf).read().replace(
            "topics:\n", "topics:\n  - name: tariffs\n    terms: [tariffs]\n", 1))
        publish()
        if PG:
            state_sql(state, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
                      " AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;"
                      " CREATE TRIGGER refuse BEFORE INSERT ON alerts"
                      " FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            state_sql(state, "CREATE TRIGGER refuse BEFORE INSERT ON alerts"
                      " BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
        n_stories = state_sql(state, "SELECT count(*) FROM stories")[0][0]
        before = len(read_jsonl(jsonl))
        r = run("once", "-c", conf)
        check(state_sql(state, "SELECT count(*) FROM stories")[0][0] == n_stories and
              state_sql(state, "SELECT count(*) FROM items WHERE item_id = 'a-3'")[0][0] == 0,
              "the refused alert leaves no story and no seen mark")
        state_sql(state, "DROP TRIGGER refuse ON alerts" if PG else "DROP TRIGGER refuse")
        check(len(read_jsonl(jsonl)) == before, "nothing was delivered")
        r = run("once", "-c", conf)
        r = run("once", "-c", conf)
        new = read_jsonl(jsonl)[before:]
        check([a["item"]["id"] for a in new] == ["a-3"],
              "the next polls alert once (%s)" % [a["item"]["id"] for a in new])
        devs = developments(conf)
        ids = [i["id"] for dv in devs for i in dv["items"]]
        check(len(ids) == len(set(ids)) and "a-3" in ids, "and group it once")

        only = developments(conf, "--topic", "tariffs")
        check(len(only) == 1 and only[0]["items"][0]["id"] == "a-3", "--topic filters")
        r = run("developments", "-c", conf, "--explain", first.get("development", "x"))
        check(r.returncode == 0 and "joined" in r.stdout and "new:" in r.stdout,
              "--explain shows each decision")
        r = run("developments", "-c", conf, "--explain", "nosuchid")
        check(r.returncode == 1 and "no development" in r.stderr, "--explain of an unknown id fails")
        r = run("developments", "-c", conf, "--since", "soon")
        check(r.returncode == 2 and "--since" in r.stderr, "a bad --since is a usage error")
        r = run("developments", "-c", conf)
        check(r.returncode == 0 and "Freedom Shield" in r.stdout, "the listing shows titles")
    demo_check()
    finish()


def demo_check():
    """config/demo.yaml: the Freedom Edge samples give one alert and one
    update alert that carries the new figures."""
    import shutil
    root = os.environ.get("FW_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    # The repository's layout: paths in demo.yaml are relative to config/.
    d = tmpdir()
    os.makedirs(os.path.join(d, "config"))
    shutil.copy(os.path.join(root, "config", "demo.yaml"), os.path.join(d, "config"))
    shutil.copytree(os.path.join(root, "config", "samples"),
                    os.path.join(d, "config", "samples"))
    import subprocess
    from fwtest import FW_BIN
    r = subprocess.run([FW_BIN, "once", "-c", "config/demo.yaml"], cwd=d,
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "the demo runs (%s)" % r.stderr.strip()[-200:])
    alerts = read_jsonl(os.path.join(d, "demo-alerts.jsonl"))
    fe = [a for a in alerts if "Freedom Edge" in (a.get("item", {}).get("title") or "")]
    firsts = [a for a in fe if "updates" not in a]
    updates = [a for a in fe if "updates" in a]
    check(len(firsts) == 1 and len(updates) == 1,
          "demo: three Freedom Edge reports, one alert and one update (%s)"
          % [(a["item"]["title"], "updates" in a) for a in fe])
    check(updates and firsts and updates[0]["updates"] == firsts[0]["id"] and
          "5400" in updates[0]["update"]["figures"],
          "demo: the update names the alert and the new figure")


if __name__ == "__main__":
    main()

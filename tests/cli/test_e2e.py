"""End to end: feeds served over real HTTP on 127.0.0.1, `feedwatch once`
twice on a real state (a SQLite file, or a PostgreSQL database under
FW_TEST_STATE=postgresql). The first run alerts on the new on-topic items;
the second alerts on nothing; a new item later gives exactly one alert.
Broken feeds (unreachable, HTML page, truncated XML, 404) are reported and
never stop the others."""
import email.utils
import json
import os
import shutil
import time

from fwtest import (PG, FeedServer, check, finish, read_jsonl, rss, run, state_path, state_sql,
                    tmpdir, write)


def rfc822(age_seconds):
    return email.utils.formatdate(time.time() - age_seconds, usegmt=True)


def main():
    d = tmpdir()
    recent = rfc822(3600)
    old = rfc822(5 * 86400)
    wire = [
        {"guid": "yna-1", "title": "Seoul, Washington open talks on defense cost-sharing",
         "link": "http://news.example/yna-1", "pubDate": recent,
         "description": "Negotiators met for the first round of the Special Measures Agreement."},
        {"guid": "yna-2", "title": "Allies wrap up Freedom Shield exercise",
         "link": "http://news.example/yna-2", "pubDate": recent,
         "description": "South Korea and the US ended their combined drills."},
        {"guid": "yna-3", "title": "Kospi closes higher on chip rally",
         "link": "http://news.example/yna-3", "pubDate": recent,
         "description": "Stocks rose."},
        {"guid": "yna-old", "title": "Old story on defense cost-sharing",
         "link": "http://news.example/yna-old", "pubDate": old,
         "description": "From last week."},
        {"guid": "yna-drill", "title": "Oil major to drill new wells",
         "link": "http://news.example/yna-drill", "pubDate": recent,
         "description": "Offshore drilling expands."},
    ]
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom wire</title><id>urn:atom-wire</id><updated>2025-01-01T00:00:00Z</updated>
  <entry><id>urn:atom-1</id><title>US tariffs on Korean cars take effect</title>
    <link rel="alternate" href="http://news.example/atom-1"/>
    <updated>%s</updated><summary>Hyundai and Kia face 25%% duties.</summary></entry>
  <entry><id>urn:atom-dup</id><title>Seoul, Washington open talks on defense cost-sharing</title>
    <link rel="alternate" href="http://news.example/yna-1"/>
    <updated>%s</updated><summary>Same story, other outlet.</summary></entry>
</feed>""" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600)),
              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600)))
    with FeedServer() as srv:
        srv.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(wire))
        srv.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"}, atom)
        srv.routes["/page.html"] = (200, {"Content-Type": "text/html"},
                                    "<!DOCTYPE html><html><head><title>Home</title></head>"
                                    "<body><p>Not a feed</p></body></html>")
        srv.routes["/truncated.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                        rss(wire[:1])[:200])
        state = state_path(d)
        jsonl = os.path.join(d, "alerts.jsonl")
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
feeds:
  - {url: "%s", name: wire}
  - {url: "%s", name: atom}
  - {url: "%s", name: html-page}
  - {url: "%s", name: truncated}
  - {url: "http://127.0.0.1:1/unreachable.xml", name: unreachable, timeout: 5s}
  - {url: "%s", name: missing}
topics:
  - name: sma
    terms: ["cost-sharing", "special measures agreement"]
  - name: drills
    terms: ["freedom shield", "drills"]
    exclude: ["oil"]
  - name: tariffs
    terms: ["tariffs"]
sinks:
  - {type: log, path: "%s", format: jsonl}
  - {type: log, path: "-", format: text}
""" % (state, srv.url("/wire.xml"), srv.url("/atom.xml"), srv.url("/page.html"),
            srv.url("/truncated.xml"), srv.url("/missing.xml"), jsonl))

        r = run("check-config", "-c", conf)
        check(r.returncode == 0, "check-config accepts the test config (%s)" % r.stderr.strip())

        r = run("once", "-c", conf)
        check(r.returncode == 0, "first once exits 0 although some feeds fail")
        alerts = read_jsonl(jsonl)
        by_item = {a["item"]["id"]: a for a in alerts}
        check(set(by_item) == {"yna-1", "yna-2", "urn:atom-1"},
              "first run alerts exactly the recent on-topic items (got %s)" % sorted(by_item))
        a = by_item.get("yna-1", {})
        check(a.get("topics") == ["sma"], "yna-1 is sma")
        check(a.get("feed") == srv.url("/wire.xml"), "alert carries the feed URL")
        check(a.get("item", {}).get("title") == wire[0]["title"], "alert carries the title")
        check(a.get("item", {}).get("link") == wire[0]["link"], "alert carries the link")
        check(isinstance(a.get("item", {}).get("published"), str) and
              a["item"]["published"].endswith("Z"), "alert carries an RFC 3339 date")
        check(isinstance(a.get("id"), str) and len(a["id"]) >= 16, "alert has a stable id")
        check("cost-sharing" in a.get("matches", {}).get("sma", []),
              "alert carries its matched terms")
        check(by_item.get("urn:atom-1", {}).get("topics") == ["tariffs"], "Atom item is tariffs")
        check("yna-old" not in by_item, "first poll stays silent on a week-old item")
        check("yna-drill" not in by_item, "exclusion keeps oil drilling out")
        check("urn:atom-dup" not in by_item, "the same story via a second feed is one alert")
        check("Seoul, Washington open talks" in r.stderr,
              "alerts appear on the terminal as readable text")
        for name in ("html-page", "truncated", "unreachable", "missing"):
            pass
        check("html-page" in r.stderr and "HTML" in r.stderr,
              "an HTML page is reported as such")
        check("unreachable" in r.stderr, "an unreachable feed is reported")
        check("missing" in r.stderr and "404" in r.stderr, "a 404 is reported")

        if PG:
            version = state_sql(state, "SELECT max(version) FROM schema_version")[0][0]
        else:
            mode = state_sql(state, "PRAGMA journal_mode")[0][0]
            version = state_sql(state, "PRAGMA user_version")[0][0]
            check(mode == "wal", "state file is in WAL mode")
        seen = state_sql(state, "SELECT count(*) FROM items")[0][0]
        check(version >= 1, "schema version is recorded")
        check(seen >= 7, "every item of the good feeds is remembered (%d)" % seen)

        r = run("once", "-c", conf)
        check(r.returncode == 0, "second once exits 0")
        check(len(read_jsonl(jsonl)) == len(alerts), "second run gives no new alerts")
        check("Seoul, Washington open talks" not in r.stderr,
              "second run prints no alert on the terminal")

        wire.append({"guid": "yna-4", "title": "USFK troop cut denied; SMA talks resume",
                     "link": "http://news.example/yna-4", "pubDate": rfc822(60),
                     "description": "Cost-sharing negotiations resume next week."})
        srv.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(wire))
        r = run("once", "-c", conf)
        new = read_jsonl(jsonl)[len(alerts):]
        check(r.returncode == 0 and [a["item"]["id"] for a in new] == ["yna-4"],
              "a new item later gives exactly one alert")

        r = run("alerts", "-c", conf)
        check(r.returncode == 0 and "delivered" in r.stdout, "alerts lists delivered alerts")
        r = run("status", "-c", conf, "--json")
        check(r.returncode == 0 and r.stdout.count("\n") == 6, "status lists every feed")
    shutil.rmtree(d)
    duplicates()
    finish()


def duplicates():
    """`parse` lists every entry, repeats included; the store keeps one row
    per feed and id, so `once` remembers and alerts each story once."""
    d = tmpdir()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    entry = """<entry><id>%s</id><title>Tariffs on steel %s</title>%s
      <updated>%s</updated><summary>US tariffs.</summary></entry>"""
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Dups</title><id>urn:dups</id>
%s</feed>""" % "\n".join([
        entry % ("urn:same", "one", "", now),
        entry % ("urn:same", "one", "", now),
        # No id: the link is the id, twice.
        "<entry><title>Tariffs by link</title><link href=\"http://news.example/l\"/>"
        "<updated>%s</updated></entry>" % now,
        "<entry><title>Tariffs by link</title><link href=\"http://news.example/l\"/>"
        "<updated>%s</updated></entry>" % now,
    ])
    with FeedServer() as srv:
        srv.routes["/dups.xml"] = (200, {"Content-Type": "application/atom+xml"}, atom)
        feed = write(os.path.join(d, "dups.xml"), atom)
        r = run("parse", "--json", feed)
        ids = [i["id"] for i in json.loads(r.stdout)["items"]] if r.returncode == 0 else []
        check(ids == ["urn:same", "urn:same", "http://news.example/l",
                      "http://news.example/l"] and "repeated" not in r.stdout,
              "parse lists every entry, repeats included (%s)" % ids)
        state = state_path(d)
        jsonl = os.path.join(d, "alerts.jsonl")
        conf = write(os.path.join(d, "feedwatch.yaml"), """
state: %s
feeds:
  - {url: "%s", name: dups}
topics:
  - {name: tariffs, terms: ["tariffs"]}
sinks:
  - {type: log, path: "%s", format: jsonl}
""" % (state, srv.url("/dups.xml"), jsonl))
        r = run("once", "-c", conf)
        alerts = read_jsonl(jsonl) if os.path.exists(jsonl) else []
        got = sorted(a["item"]["id"] for a in alerts)
        check(r.returncode == 0 and got == ["http://news.example/l", "urn:same"],
              "once alerts each repeated entry once (%s)" % got)
        seen = state_sql(state, "SELECT count(*) FROM items")[0][0]
        check(seen == 2, "the store keeps one row per id (%d)" % seen)
    shutil.rmtree(d)


main()

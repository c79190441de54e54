"""feedwatch migrate-state (issue 18): a SQLite state with feeds, seen
items, alerts, deliveries and developments is copied into a throwaway
PostgreSQL database (tests/pg/pgserver.py) and back into a new file;
every table's rows are counted on both sides, the copy lists the same
alerts, remembers what was seen (a poll over it finds nothing new) and
continues its ids; a destination that is not empty is refused and left
as it was. Skipped (77) when no PostgreSQL server is installed."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg"))
import pgserver  # noqa: E402
from fwtest import FeedServer, check, finish, read_jsonl, rss, run, tmpdir, write  # noqa: E402

TABLES = ["feeds", "items", "alerts", "deliveries", "developments", "stories",
          "story_terms", "term_df", "sink_flood"]


def config(d, state, feeds):
    return write(os.path.join(d, "fw-%d.yaml" % abs(hash(state))), """
state: "%s"
defaults: {backlog: 36500d}
topics:
  - {name: sma, terms: ["cost-sharing", "defense cost"]}
  - {name: drills, terms: ["joint drills", "exercise"]}
sinks:
  - {type: log, name: out, path: "%s", format: jsonl}
feeds:
  - {url: "%s", name: a}
  - {url: "%s", name: b}
""" % (state, os.path.join(d, "alerts.jsonl"), feeds.url("/a.xml"), feeds.url("/b.xml")))


def sqlite_counts(path):
    db = sqlite3.connect(path)
    out = {t: db.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in TABLES}
    db.close()
    return out


def pg_counts(srv, dbname):
    return {t: int(srv.psql("SELECT count(*) FROM %s" % t, dbname)) for t in TABLES}


def main():
    if not pgserver.available():
        print("no PostgreSQL server installed; skipped")
        sys.exit(77)
    d = tmpdir()
    now = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    items_a = [{"guid": "a%d" % i, "title": "Seoul and Washington agree on defense cost-sharing"
                " deal, round %d" % i, "link": "http://news.example/sma/%d" % i,
                "description": "The cost-sharing talks ended.", "pubDate": now}
               for i in range(6)]
    items_b = [{"guid": "b%d" % i, "title": "Allies start joint drills off the coast, day %d" % i,
                "link": "http://news.example/drills/%d" % i,
                "description": "A joint exercise began.", "pubDate": now} for i in range(5)]
    items_b.append(dict(items_a[0], guid="b-copy"))  # one story, two feeds
    file_state = os.path.join(d, "state.db")
    with FeedServer() as feeds, pgserver.PgServer() as srv:
        feeds.routes["/a.xml"] = (200, {}, rss(items_a))
        feeds.routes["/b.xml"] = (200, {}, rss(items_b))
        r = run("once", "-c", config(d, file_state, feeds))
        check(r.returncode == 0, "once over the file state (rc %d: %s)" % (r.returncode, r.stderr[-300:]))
        n_alerts = len(read_jsonl(os.path.join(d, "alerts.jsonl")))
        before = sqlite_counts(file_state)
        check(n_alerts >= 2 and n_alerts == before["alerts"],
              "12 stories in %d developments, one alert each" % n_alerts)
        check(all(before[t] > 0 for t in TABLES if t != "sink_flood"),
              "the file has rows in every table: %s" % before)

        pg = srv.create_db("migrated")
        r = run("migrate-state", "--from", file_state, "--to", pg)
        check(r.returncode == 0, "migrate-state into PostgreSQL (rc %d: %s)"
              % (r.returncode, r.stderr.strip()))
        check("every count matches" in r.stdout, "it says every count matches")
        check("MISMATCH" not in r.stdout, "no table differs")
        after = pg_counts(srv, "migrated")
        check(after == before, "PostgreSQL holds what the file held: %s" % after)

        pg_conf = config(d, pg, feeds)
        a_file = run("alerts", "-c", config(d, file_state, feeds), "--json")
        a_pg = run("alerts", "-c", pg_conf, "--json")
        check(a_file.returncode == 0 and a_file.stdout == a_pg.stdout,
              "`alerts --json` lists the same on both")
        d_file = run("developments", "-c", config(d, file_state, feeds), "--json")
        d_pg = run("developments", "-c", pg_conf, "--json")
        check(d_file.stdout == d_pg.stdout, "`developments --json` lists the same on both")

        # What was seen stays seen; new stories get new ids after the old.
        items_a.append({"guid": "a-new", "title": "Defense cost-sharing vote next week",
                        "link": "http://news.example/sma/new", "pubDate": now})
        feeds.routes["/a.xml"] = (200, {}, rss(items_a))
        r = run("once", "-c", pg_conf)
        check(r.returncode == 0, "once over the migrated state (%s)" % r.stderr[-300:])
        lines = read_jsonl(os.path.join(d, "alerts.jsonl"))
        check("1 new items" in r.stderr and len(lines) == n_alerts,
              "only the new story is new after the migration, and joins its development")
        more = int(srv.psql("SELECT count(*) FROM stories", "migrated"))
        check(more == before["stories"] + 1, "a new story row continues the ids (%d)" % more)

        # A destination that already holds a state is refused, unchanged.
        r = run("migrate-state", "--from", file_state, "--to", pg)
        check(r.returncode == 1 and "not empty" in r.stderr,
              "a non-empty destination is refused (rc %d: %s)" % (r.returncode, r.stderr.strip()))
        check(int(srv.psql("SELECT count(*) FROM items", "migrated")) == before["items"] + 1,
              "and left as it was")

        # And back, into a new file.
        back = os.path.join(d, "back.db")
        r = run("migrate-state", "--from", pg, "--to", back)
        check(r.returncode == 0 and "every count matches" in r.stdout,
              "migrate-state back into a file (rc %d: %s)" % (r.returncode, r.stderr.strip()))
        check(sqlite_counts(back) == pg_counts(srv, "migrated"),
              "the new file holds what PostgreSQL held")
        r = run("once", "-c", config(d, back, feeds))
        lines2 = read_jsonl(os.path.join(d, "alerts.jsonl"))
        check(r.returncode == 0 and len(lines2) == len(lines),
              "nothing alerts again over the file copied back")
        r = run("migrate-state", "--from", back)
        check(r.returncode == 2 and "usage" in r.stderr, "--to is required (rc %d)" % r.returncode)
    finish()


if __name__ == "__main__":
    main()

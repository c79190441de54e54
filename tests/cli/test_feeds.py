"""Bringing feeds (issue 20): the feeds.d config directory (include:),
OPML import and export, discovery of a page's feeds, add and remove
against a running daemon, and progress on a terminal. Servers listen on
127.0.0.1 only."""
import os
import re
import signal
import subprocess
import threading
import time

from fwtest import (FW_BIN, TEST_DATA, FeedServer, check, finish, read_jsonl, rss, run,
                    tmpdir, write)

NOW = time.time()


def rfc822(t):
    import email.utils
    return email.utils.formatdate(t, usegmt=True)


def story(guid, title, age=600):
    return {"guid": guid, "title": title, "link": "http://news.example/" + guid,
            "description": "text", "pubDate": rfc822(NOW - age)}


def base_config(d, feeds="", extra=""):
    return write(os.path.join(d, "feedwatch.yaml"), """state: state.db
feeds:
%s
topics:
  - {name: drills, terms: [drills]}
  - {name: tariffs, terms: [tariffs]}
sinks:
  - {type: log, path: alerts.jsonl, format: jsonl}
%s""" % (feeds or "  []", extra))


def test_include():
    d = tmpdir()
    os.mkdir(os.path.join(d, "feeds.d"))
    write(os.path.join(d, "feeds.d", "wire.xml"), rss([story("w1", "Allies hold drills")]))
    write(os.path.join(d, "feeds.d", "wire.yaml"),
          '# written by hand\nfeeds:\n  - {url: "file:wire.xml", name: wire}\n')
    conf = base_config(d)
    r = run("check-config", "-c", conf)
    check(r.returncode == 0 and "OK: 1 feed," in r.stdout,
          "include: feeds.d/*.yaml beside the main file is read (%s)" % r.stdout.strip())
    r = run("once", "-c", conf)
    alerts = read_jsonl(os.path.join(d, "alerts.jsonl"))
    check([a["feed_name"] for a in alerts] == ["wire"],
          "include: a feed from feeds.d is polled and alerts (%s)" % r.stderr.strip()[-300:])
    write(os.path.join(d, "feeds.d", "zz-bad.yaml"),
          'feeds:\n  - {url: "file:wire.xml", name: wire2}\n  - {url: "http://x/", nmae: x}\n')
    r = run("check-config", "-c", conf)
    errs = r.stderr.splitlines()
    bad = os.path.join(d, "feeds.d", "zz-bad.yaml")
    check(r.returncode == 1 and
          any(l.startswith(bad + ":2:5: feed '") and "listed twice: first at %s:3:5"
              % os.path.join(d, "feeds.d", "wire.yaml") in l for l in errs),
          "include: a feed defined twice names both files, lines and columns (%s)" % errs)
    check(any(l.startswith(bad + ":3:") and "unknown key 'nmae'" in l for l in errs),
          "include: an error in an included file names that file:line:col")


def main():
    test_include()
    finish()


if __name__ == "__main__":
    main()

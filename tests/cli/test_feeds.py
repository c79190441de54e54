"""Bringing feeds (issue 20): the feeds.d config directory (include:),
OPML import and export, discovery of a page's feeds, add and remove
against a running daemon, and progress on a terminal. Servers listen on
127.0.0.1 only."""
import os
import time

from fwtest import (PG, Daemon, FW_BIN, TEST_DATA, FeedServer, check, finish, read_jsonl, rss,
                    run, state_path, tmpdir, write)

NOW = time.time()


def rfc822(t):
    import email.utils
    return email.utils.formatdate(t, usegmt=True)


def story(guid, title, age=600):
    return {"guid": guid, "title": title, "link": "http://news.example/" + guid,
            "description": "text", "pubDate": rfc822(NOW - age)}


def base_config(d, feeds="", extra=""):
    return write(os.path.join(d, "feedwatch.yaml"), """state: %s
feeds:
%s
topics:
  - {name: drills, terms: [drills]}
  - {name: tariffs, terms: [tariffs]}
sinks:
  - {type: log, path: alerts.jsonl, format: jsonl}
%s""" % (state_path(d) if PG else "state.db", feeds or "  []", extra))


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


OPML = os.path.join(TEST_DATA, "opml")


def feeds_of(conf):
    """name -> (url, tags) of the configured feeds, through export-opml."""
    import xml.etree.ElementTree as ET
    r = run("export-opml", "-c", conf)
    out = {}
    for o in ET.fromstring(r.stdout.encode()).iter("outline"):
        if o.get("xmlUrl"):
            cats = [c.strip("/") for c in o.get("category", "").split(",") if c]
            out[o.get("title")] = (o.get("xmlUrl"), tuple(cats))
    return r, out


def test_opml():
    d = tmpdir()
    conf = base_config(d, '  - {url: "https://en.yna.co.kr/RSS/news.xml", name: yonhap}')
    r = run("import-opml", "-c", conf, os.path.join(OPML, "flat.opml"))
    check(r.returncode == 0 and "skipped https://en.yna.co.kr/RSS/news.xml: already "
          "configured as 'yonhap' (%s:3)" % conf in r.stdout,
          "import-opml: a URL already configured is skipped and reported (%s)" % r.stdout)
    check("imported 2 feeds into %s/feeds.d/opml-flat.yaml" % d in r.stdout and
          "systemctl reload feedwatch" in r.stdout,
          "import-opml: the new feeds go into one file in feeds.d; the reload is named")
    check(os.listdir(os.path.join(d, "feeds.d")) == ["opml-flat.yaml"] and
          open(conf).read().count("url:") == 1, "import-opml: the main file is untouched")
    r, feeds = feeds_of(conf)
    check(feeds.get("nhk-world", ("",))[0] == "https://www3.nhk.or.jp/rss/news/cat6.xml" and
          "the-korea-herald" in feeds,
          "import-opml: flat export, xmlurl in any case, text as the title (%s)" % feeds)
    run("import-opml", "-c", conf, os.path.join(OPML, "nested.opml"))
    r, feeds = feeds_of(conf)
    check(feeds.get("defense-desk") == ("https://defense.example/feed",
                                        ("Korea", "Defense", "alliance", "usfk")) and
          feeds.get("japan-wire") == ("https://japan.example/atom.xml", ("Japan",)) and
          feeds.get("unfiled") == ("https://unfiled.example/rss", ()),
          "import-opml: nested folders and categories become tags (%s)" % feeds)
    r = run("import-opml", "-c", conf, os.path.join(OPML, "untitled.opml"))
    _, feeds = feeds_of(conf)
    check(r.returncode == 0 and "no-title-example" in feeds and
          "empty-text-example" in feeds and "in-a-nameless-folder" in feeds and
          "listed twice in the file" in r.stdout and "not an http or https URL" in r.stdout,
          "import-opml: missing titles give names from the host; duplicates and other "
          "schemes are skipped (%s)" % r.stdout)
    r = run("import-opml", "-c", conf, os.path.join(OPML, "entities.opml"))
    _, feeds = feeds_of(conf)
    check(feeds.get("le-monde-international") == ("https://lemonde.example/rss?a=1&b=2",
                                                  ("Politique & Défense",)) and
          "q-a-séoul" in feeds,
          "import-opml: HTML entities in titles and folders are decoded (%s)" % feeds)
    r = run("import-opml", "-c", conf, os.path.join(OPML, "latin1.opml"))
    _, feeds = feeds_of(conf)
    check(feeds.get("le-français-à-séoul") == ("https://seoul.example/fr.xml", ("Actualités",)),
          "import-opml: an ISO-8859-1 file is read in its encoding (%s)" % r.stdout)
    secret = write(os.path.join(d, "secret.txt"), "TOPSECRET-MARKER")
    hostile = write(os.path.join(d, "hostile.opml"),
                    open(os.path.join(OPML, "hostile.opml")).read().replace("SECRETFILE", secret))
    r = run("import-opml", "-c", conf, hostile)
    _, feeds = feeds_of(conf)
    written = "".join(open(os.path.join(d, "feeds.d", f)).read()
                      for f in os.listdir(os.path.join(d, "feeds.d")))
    check(r.returncode == 0 and "TOPSECRET" not in r.stdout + r.stderr + written and
          "leak" in feeds, "import-opml: an external entity is never read (%s)" % feeds)
    before = sorted(os.listdir(os.path.join(d, "feeds.d")))
    r = run("import-opml", "-c", conf, os.path.join(OPML, "notopml.xml"))
    check(r.returncode == 1 and "not an OPML file" in r.stderr and
          sorted(os.listdir(os.path.join(d, "feeds.d"))) == before,
          "import-opml: a file that is not OPML is refused and nothing is written")
    r = run("import-opml", "-c", conf, os.path.join(OPML, "flat.opml"))
    check(r.returncode == 0 and "nothing to import" in r.stdout and
          sorted(os.listdir(os.path.join(d, "feeds.d"))) == before,
          "import-opml: importing again adds nothing")
    check(run("check-config", "-c", conf).returncode == 0, "import-opml: the result is valid")

    # Round trip: what export-opml prints imports into a fresh config as
    # the same feeds, names and tags.
    r, before_rt = feeds_of(conf)
    exported = write(os.path.join(d, "export.opml"), r.stdout)
    d2 = tmpdir()
    conf2 = base_config(d2)
    r = run("import-opml", "-c", conf2, exported)
    _, after_rt = feeds_of(conf2)
    check(r.returncode == 0 and after_rt == before_rt and len(after_rt) >= 12,
          "round trip: import -> export -> import gives the same %d feeds (%s)"
          % (len(before_rt), set(before_rt.items()) ^ set(after_rt.items())))
    r = run("export-opml", "-c", conf2)
    check(r.stdout == run("export-opml", "-c", conf).stdout,
          "round trip: the second export is the first, byte for byte")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire</title><id>urn:a</id>
<updated>%s</updated>
<entry><id>urn:a1</id><title>US tariffs on Korean cars</title><updated>%s</updated></entry>
</feed>""" % (iso(NOW - 60), iso(NOW - 60))

JSONFEED = """{"version": "https://jsonfeed.org/version/1.1", "title": "JSON wire",
"items": [{"id": "j1", "title": "Drills", "content_text": "x", "date_published": "%s"},
          {"id": "j2", "title": "More", "content_text": "y", "date_published": "%s"}]}""" % (
    iso(NOW - 7200), iso(NOW - 3600))


def page(head):
    return (200, {"Content-Type": "text/html; charset=utf-8"},
            "<!DOCTYPE html><html><head><title>Site</title>%s</head>"
            "<body><p>News <a href='/x'>x</a></p></body></html>" % head)


def discover_json(url):
    import json
    r = run("discover", "--json", url, timeout=120)
    return r, [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def test_discover(srv):
    rss_body = rss([story("r1", "Allies hold drills", 600), story("r2", "Other", 7200)],
                   title="Main RSS")
    srv.routes["/news/rss.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss_body)
    srv.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"}, ATOM)
    srv.routes["/news/feed.json"] = (200, {"Content-Type": "application/feed+json"}, JSONFEED)
    srv.routes["/site/index.html"] = page(
        '<base href="/news/">'
        '<link rel="alternate" type="application/rss+xml" title="Ma&#27;]0;x&#7;in" '
        'href="rss.xml">'
        '<link rel="Alternate home" type="application/atom+xml" href="%s">'
        '<link rel="alternate" type="application/feed+json" href="feed.json">'
        '<link rel="alternate" type="text/html" href="/other.html">'
        '<link rel="stylesheet" type="text/css" href="style.css">'
        '<LINK REL=alternate TYPE="application/rss+xml" HREF="rss.xml">'
        % srv.url("/atom.xml"))
    r, c = discover_json(srv.url("/site/index.html"))
    check(r.returncode == 0 and [x["url"] for x in c] ==
          [srv.url("/news/rss.xml"), srv.url("/atom.xml"), srv.url("/news/feed.json")],
          "discover: RSS, Atom and JSON Feed links, resolved against <base href>, "
          "without duplicates or other types (%s)" % [x["url"] for x in c])
    by = {x["url"]: x for x in c}
    x = by.get(srv.url("/news/rss.xml"), {})
    check(x.get("ok") and x.get("title") == "Main RSS" and x.get("format") == "rss2.0" and
          x.get("items") == 2 and x.get("newest") == iso(NOW - 600) and
          (x.get("link_title") or "").startswith("Ma") and
          not any(ch in x.get("link_title", "") for ch in "\033\007") and x.get("advertised"),
          "discover: each candidate is fetched and parsed: title, format, items, newest (%s)"
          % x)
    check(by.get(srv.url("/atom.xml"), {}).get("format") == "atom1.0" and
          by.get(srv.url("/news/feed.json"), {}).get("format") == "jsonfeed1" and
          by.get(srv.url("/news/feed.json"), {}).get("items") == 2,
          "discover: Atom and JSON Feed candidates are read too (%s)" % c)
    r = run("discover", srv.url("/site/index.html"))
    check("\033" not in r.stdout and "\007" not in r.stdout,
          "discover: control characters of a page's link title never reach the terminal")
    check(r.returncode == 0 and "advertises 3 feeds" in r.stdout and "title: Main RSS" in
          r.stdout and "rss2.0, 2 items, newest %s" % iso(NOW - 600) in r.stdout and
          "feedwatch add" in r.stdout, "discover: the listing is readable (%s)" % r.stdout)

    # Relative hrefs without <base>: against the page's own URL.
    srv.routes["/dir/feeds/main.xml"] = (200, {}, rss_body)
    srv.routes["/dir/page.html"] = page(
        '<link rel="alternate" type="application/rss+xml" href="feeds/main.xml">')
    r, c = discover_json(srv.url("/dir/page.html"))
    check([x["url"] for x in c] == [srv.url("/dir/feeds/main.xml")] and c[0]["ok"],
          "discover: a relative href resolves against the page URL (%s)" % c)

    # A page that advertises a broken feed (404) and one that is HTML.
    srv.routes["/broken.html"] = page(
        '<link rel="alternate" type="application/rss+xml" href="/gone.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/dir/page.html">')
    r, c = discover_json(srv.url("/broken.html"))
    check(r.returncode == 1 and len(c) == 2 and not c[0]["ok"] and c[0]["error"] == "HTTP 404"
          and not c[1]["ok"] and "HTML" in c[1]["error"],
          "discover: a broken advertised feed is shown with why, and exits 1 (%s)" % c)
    r = run("discover", srv.url("/broken.html"))
    check("does not work: HTTP 404" in r.stdout, "discover: the listing says why (%s)" % r.stdout)

    # No <link>: the common paths, only those that are feeds.
    srv.routes["/index.xml"] = (200, {}, rss_body)
    srv.routes["/feed"] = (200, {"Content-Type": "text/html"}, "<html><body>blog</body></html>")
    srv.routes["/plain.html"] = page("")
    n0 = len(srv.requests)
    r, c = discover_json(srv.url("/plain.html"))
    asked = [p for p, _ in srv.requests[n0:]]
    check(r.returncode == 0 and [x["url"] for x in c] ==
          [srv.url("/atom.xml"), srv.url("/index.xml")] and
          not c[0]["advertised"] and "/feed" in asked and "/rss" in asked,
          "discover: without links, common paths are tried and only feeds kept (%s, %s)"
          % (c, asked))
    n0 = len(srv.requests)
    discover_json(srv.url("/site/index.html"))
    check(not any(p in ("/feed", "/rss", "/index.xml") for p, _ in srv.requests[n0:]),
          "discover: common paths are not tried when the page advertises feeds")
    r, c = discover_json(srv.url("/news/rss.xml"))
    check(r.returncode == 0 and len(c) == 1 and c[0]["url"] == srv.url("/news/rss.xml") and
          c[0]["ok"], "discover: a feed's own URL is the feed")
    r = run("discover", srv.url("/missing.html"))
    check(r.returncode == 1 and "HTTP 404" in r.stderr, "discover: a missing page exits 1")
    with FeedServer() as empty:
        empty.routes["/"] = page("")
        r = run("discover", empty.url("/"))
        check(r.returncode == 1 and "advertises no feed" in r.stdout,
              "discover: a page with no feed anywhere says so and exits 1 (%s)" % r.stdout)


def hits(srv, path):
    return sum(1 for p, _ in srv.requests if p.split("?")[0] == path)


def test_add_remove(srv):
    d = tmpdir()
    srv.routes["/wire.xml"] = (200, {"Content-Type": "application/rss+xml"},
                               rss([story("a1", "Allies hold drills off Korea"),
                                    story("a2", "Stocks rise")], title="Wire & Co"))
    srv.routes["/wire.html"] = page(
        '<link rel="alternate" type="application/rss+xml" href="/wire.xml">')
    srv.routes["/trade.xml"] = (200, {}, rss([story("t1", "New tariffs on steel")],
                                             title="Trade desk"))
    srv.routes["/bad.html"] = page(
        '<link rel="alternate" type="application/rss+xml" href="/gone.xml">')
    srv.routes["/other.xml"] = (200, {}, rss([story("o1", "Quiet day")], title="Other"))
    conf = base_config(d, '  - {url: "%s", name: other, interval: 1h}' % srv.url("/other.xml"))
    dm = Daemon(conf)
    try:
        check(dm.wait_log(r"cycle: 1 feeds polled", 15) is not None, "add: the daemon runs")
        r = run("add", "-c", conf, "--topics", "drills", "--interval", "10m",
                srv.url("/wire.html"), timeout=60)
        path = os.path.join(d, "feeds.d", "wire-co.yaml")
        check(r.returncode == 0 and "advertises %s" % srv.url("/wire.xml") in r.stdout and
              "would alert: [drills] Allies hold drills off Korea" in r.stdout and
              "2 current items, 1 would match a topic" in r.stdout and
              "added 'wire-co' (%s) in %s" % (srv.url("/wire.xml"), path) in r.stdout and
              "systemctl reload feedwatch" in r.stdout,
              "add: a page's feed is found, checked, dry-run and written (%s)" % r.stdout)
        text = open(path).read() if os.path.exists(path) else ""
        check("url: %s" % srv.url("/wire.xml") in text and "interval: 10m" in text and
              "topics: [drills]" in text, "add: one small YAML file (%s)" % text)
        check(hits(srv, "/wire.xml") >= 1 and not any(
            "wire.xml" in l for l in dm.lines), "add: the daemon has not polled it yet")
        line = dm.reload()
        check(line is not None and "2 feeds" in line, "add: reload sees the new feed (%s)" % line)
        check(dm.wait_log(r"feed 'wire-co': 2 items, 2 new, 1 alerts", 15) is not None,
              "add: after reload the daemon polls the added feed")
        alerts = [a["feed_name"] for a in read_jsonl(os.path.join(d, "alerts.jsonl"))]
        end = time.monotonic() + 10
        while "wire-co" not in alerts and time.monotonic() < end:
            time.sleep(0.2)
            alerts = [a["feed_name"] for a in read_jsonl(os.path.join(d, "alerts.jsonl"))]
        check(alerts.count("wire-co") == 1, "add: the added feed alerts (%s)" % alerts)

        r = run("add", "-c", conf, srv.url("/wire.xml"))
        check(r.returncode == 1 and "already configured as 'wire-co'" in r.stderr,
              "add: a configured URL is refused")
        n_files = len(os.listdir(os.path.join(d, "feeds.d")))
        r = run("add", "-c", conf, srv.url("/bad.html"))
        check(r.returncode == 1 and "no working feed" in r.stderr and
              len(os.listdir(os.path.join(d, "feeds.d"))) == n_files,
              "add: a URL that is no feed is refused and nothing written (%s)" % r.stderr)
        r = run("add", "-c", conf, "--topics", "nope", srv.url("/trade.xml"))
        check(r.returncode == 1 and "no topic 'nope'" in r.stderr, "add: unknown --topics")
        r = run("add", "-c", conf, "--dry-run", srv.url("/trade.xml"))
        check(r.returncode == 0 and "would alert: [tariffs]" in r.stdout and "dry run" in
              r.stdout and len(os.listdir(os.path.join(d, "feeds.d"))) == n_files,
              "add --dry-run writes nothing (%s)" % r.stdout)
        r = run("add", "-c", conf, "--name", "trade", srv.url("/trade.xml"))
        check(r.returncode == 0 and os.path.exists(os.path.join(d, "feeds.d", "trade.yaml")),
              "add --name NAME (%s)" % r.stdout)

        r = run("remove", "-c", conf, "other")
        check(r.returncode == 1 and "in the main file (%s:3)" % conf in r.stderr,
              "remove: a feed of the main file is left to the user")
        r = run("remove", "-c", conf, "nope")
        check(r.returncode == 1 and "no feed 'nope'" in r.stderr, "remove: unknown feed")
        r = run("remove", "-c", conf, srv.url("/wire.xml"))
        check(r.returncode == 0 and not os.path.exists(path) and "systemctl reload" in r.stdout,
              "remove URL: the feed's file is deleted (%s)" % r.stdout)
        line = dm.reload()
        check(line is not None and "2 feeds" in line, "remove: reload drops it (%s)" % line)
        st = run("status", "-c", conf, "--json").stdout
        check("wire-co" not in st and "trade" in st, "remove: status no longer lists it")
    finally:
        dm.stop()
    # A file of several feeds is rewritten without the one removed.
    d2 = tmpdir()
    conf2 = base_config(d2)
    os.mkdir(os.path.join(d2, "feeds.d"))
    many = write(os.path.join(d2, "feeds.d", "many.yaml"),
                 "# my feeds\nfeeds:\n  - {url: 'http://a.example/', name: a}\n"
                 "  - {url: 'http://b.example/', name: b, tags: [x]}\n"
                 "  - {url: 'http://c.example/', name: c}\n")
    r = run("remove", "-c", conf2, "b")
    text = open(many).read()
    check(r.returncode == 0 and text.startswith("# my feeds") and "b.example" not in text and
          "a.example" in text and "c.example" in text and
          run("check-config", "-c", conf2).returncode == 0,
          "remove: a file of several feeds is rewritten without it, comments kept (%s)" % text)


def on_tty(*args):
    """Runs feedwatch with stderr (and stdout) on a terminal; all it wrote."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(FW_BIN, [FW_BIN] + list(args))
    out = b""
    end = time.time() + 60
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


def test_progress(srv):
    d = tmpdir()
    for k in range(3):
        srv.routes["/p%d.xml" % k] = (200, {}, rss([story("p%d" % k, "Drills %d" % k)],
                                                   title="P%d" % k))
    conf = base_config(d)
    urls = [srv.url("/p%d.xml" % k) for k in range(3)]
    r = run("add", "-c", conf, "--dry-run", *urls)
    check(r.returncode == 0 and "feeds, " not in r.stderr and "\033" not in r.stdout + r.stderr,
          "progress: add prints nothing extra when stderr is not a terminal")
    out = on_tty("add", "-c", conf, *urls)
    check("feedwatch add: 1/3 feeds, 1 alert so far" in out and
          "feedwatch add: 3/3 feeds, 3 alerts so far" in out and out.count("added '") == 3,
          "progress: add on a terminal shows feeds done/total and alerts so far (%r)"
          % out[-400:])


def main():
    test_include()
    test_opml()
    with FeedServer() as srv:
        test_discover(srv)
        srv.requests.clear()
        test_add_remove(srv)
        test_progress(srv)
    finish()


if __name__ == "__main__":
    main()

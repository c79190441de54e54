"""The command-line contract users' scripts rely on: --help, --version,
parse --json's object, classify --json's lines, check-config, -c default."""
import json
import os
import shutil
import subprocess

from fwtest import FW_BIN, SOURCE_ROOT, FeedServer, check, finish, rss, run, tmpdir, write

ITEM_KEYS = {"id", "title", "link", "summary", "content", "author", "published",
             "updated", "categories"}
DOC_KEYS = {"format", "title", "link", "description", "language", "items", "warnings"}


def one_executable():
    """One dynamically linked executable runs every command: no helper
    beside it, and the system's libxml2 (so its security updates apply)."""
    check(not os.path.exists(os.path.join(os.path.dirname(FW_BIN), "feedwatch-core")),
          "no feedwatch-core is built beside the executable")
    r = subprocess.run(["ldd", FW_BIN], capture_output=True, text=True)
    check(r.returncode == 0 and "libxml2.so" in r.stdout,
          "the executable is linked against the shared libxml2 (%s)" % r.stdout.strip())
    # A charset only iconv converts is read in the same process.
    euc = os.path.join(SOURCE_ROOT, "tests", "data", "feeds", "enc-euc-kr.xml")
    r = run("parse", "--json", euc)
    check(r.returncode == 0 and "\ubc29\uc704\ube44" in r.stdout,
          "an EUC-KR feed is read (%s)" % r.stderr.strip())
    r = run("bogus-verb")
    check(r.returncode == 2 and "unknown command 'bogus-verb'" in r.stderr,
          "an unknown command is a usage error")


def charset_streams():
    """Every fixture in a legacy charset parses the same from a file, from
    a redirected file and from a pipe written in small pieces (the reader
    sees the start of the document before it knows the charset)."""
    feeds = os.path.join(SOURCE_ROOT, "tests", "data", "feeds")
    names = sorted(f for f in os.listdir(feeds)
                   if f.startswith("enc-") and f.endswith(".xml"))
    check(len(names) >= 8, "there are charset fixtures (%d)" % len(names))
    for name in names:
        path = os.path.join(feeds, name)
        if os.path.exists(path[:-4] + ".content-type"):
            continue  # the Content-Type only comes with a URL
        want = subprocess.run([FW_BIN, "parse", "--json", path],
                              capture_output=True).stdout
        check(want != b"", "%s: parsed from the file" % name)
        with open(path, "rb") as f:
            r = subprocess.run([FW_BIN, "parse", "--json", "-"], stdin=f,
                               capture_output=True)
        check(r.returncode == 0 and r.stdout == want,
              "%s: the same from a redirected standard input" % name)
        data = open(path, "rb").read()
        p = subprocess.Popen([FW_BIN, "parse", "--json", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        for i in range(0, len(data), 100):
            p.stdin.write(data[i:i + 100])
            p.stdin.flush()
        p.stdin.close()
        out = p.stdout.read()
        p.wait()
        p.stdout.close()
        p.stderr.close()
        check(p.returncode == 0 and out == want,
              "%s: the same from a pipe" % name)


def main():
    d = tmpdir()
    r = run("--help")
    check(r.returncode == 0, "--help exits 0")
    for verb in ("parse", "classify", "once", "run", "check-config"):
        check(verb in r.stdout, "--help mentions %s" % verb)
    check("/etc/feedwatch/feedwatch.yaml" in r.stdout, "--help gives the -c default")
    r = run("--version")
    check(r.returncode == 0 and r.stdout.startswith("feedwatch "), "--version")

    feed = write(os.path.join(d, "f.xml"), rss([
        {"guid": "a1", "title": "Tariffs &amp; trade: <b>Korea</b>", "link": "/a1",
         "description": "&lt;p&gt;US tariffs on Korean   steel&lt;/p&gt;",
         "pubDate": "Tue, 10 Jun 2025 04:00:00 +0900"},
        {"title": "No guid here", "link": "http://example.org/b"},
    ]))
    r = run("parse", "--json", feed)
    check(r.returncode == 0, "parse --json exits 0")
    doc = json.loads(r.stdout) if r.returncode == 0 else {}
    check(set(doc) >= DOC_KEYS, "parse --json has the document keys")
    check(doc.get("format") == "rss2.0", "format is rss2.0")
    items = doc.get("items", [])
    check(len(items) == 2, "two items")
    if len(items) == 2:
        check(set(items[0]) >= ITEM_KEYS, "items have every contract key")
        check(items[0]["id"] == "a1", "id from guid")
        check(items[0]["published"] == "2025-06-09T19:00:00Z", "date in RFC 3339 UTC")
        check(items[0]["summary"] == "US tariffs on Korean steel",
              "summary: entities decoded, markup stripped, spaces collapsed")
        check(items[1]["id"] == "http://example.org/b", "id falls back to the link")
        check(items[1]["published"] is None, "a missing date is null")
        check(isinstance(items[0]["categories"], list), "categories is a list")
    r = run("parse", "--json", "-", stdin=open(feed).read())
    check(r.returncode == 0 and json.loads(r.stdout)["format"] == "rss2.0", "parse reads stdin")
    # A URL and a path give the same output, as JSON and as the listing,
    # except that the item's relative link "/a1" resolves against the URL
    # (a path gives no base to resolve against).
    with FeedServer() as srv:
        srv.routes["/f.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                open(feed, "rb").read())
        for args in (("--json",), ()):
            by_path = run("parse", *args, feed)
            by_url = run("parse", *args, srv.url("/f.xml"))
            check(by_url.returncode == 0 and by_path.returncode == 0 and
                  srv.url("/a1") in by_url.stdout and
                  by_url.stdout.replace(srv.url("/a1"), "/a1") == by_path.stdout,
                  "parse %sof a URL prints what parse of the file prints"
                  % (args[0] + " " if args else ""))
        r = run("parse", srv.url("/missing.xml"))
        check(r.returncode == 1 and "HTTP status 404" in r.stderr,
              "parse of a URL that answers 404 exits 1 and says so")

    conf = os.path.join(SOURCE_ROOT, "config", "feedwatch.yaml")
    # Its state directory is the service's (/var/lib/feedwatch), which
    # check-config checks: check a copy whose state is in a directory here.
    shipped = open(conf, encoding="utf-8").read()
    copy = write(os.path.join(d, "shipped.yaml"),
                 shipped.replace("state: /var/lib/feedwatch/state.db",
                                 "state: %s/state.db" % d))
    r = run("check-config", "-c", copy)
    check("state: /var/lib/feedwatch/state.db" in shipped and r.returncode == 0,
          "the shipped config/feedwatch.yaml is valid (%s)" % r.stderr.strip())
    r = run("check-config", "-c", os.path.join(SOURCE_ROOT, "config", "demo.yaml"))
    check(r.returncode == 0, "the shipped config/demo.yaml is valid (%s)" % r.stderr.strip())
    r = run("classify", "-c", conf, "--json", feed)
    check(r.returncode == 0, "classify --json exits 0")
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(len(lines) == 2, "classify prints one line per item")
    if lines:
        check(set(lines[0]) == {"id", "title", "topics", "matches", "excluded"},
              "classify lines have exactly id, title, topics, matches (and the added "
              "excluded)")
        check("tariffs" in lines[0]["topics"] and lines[0]["matches"].get("tariffs"),
              "classify finds the tariffs item and names its terms")
    r = run("classify", "-c", conf, feed)
    check(r.returncode == 0 and "tariffs" in r.stdout, "classify without --json is readable")
    # --explain adds the words each term matched; the contract's fields stay.
    r = run("classify", "-c", conf, "--json", "--explain", feed)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(r.returncode == 0 and lines and
          set(lines[0]) == {"id", "title", "topics", "matches", "excluded", "explain"},
          "classify --json --explain adds only 'explain'")
    if lines and lines[0].get("explain", {}).get("tariffs"):
        ex = lines[0]["explain"]["tariffs"]
        check(all(set(e) == {"term", "field", "matched"} for e in ex),
              "each explanation has term, field and matched")
        check({"term": "tariff", "field": "title", "matched": "tariffs"} in ex,
              "the stem term 'tariff' shows the word 'tariffs' it matched (%s)" % ex)
    r = run("classify", "-c", conf, "--explain", feed)
    check(r.returncode == 0 and '"tariff" (tariffs) in title' in r.stdout,
          "classify --explain shows the matched word in the listing")

    one_executable()
    charset_streams()
    shutil.rmtree(d)
    finish()


main()

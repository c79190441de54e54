"""The command-line contract users' scripts rely on: --help, --version,
parse --json's object, classify --json's lines, check-config, -c default."""
import json
import os
import re
import shutil
import subprocess

from fwtest import FW_BIN, SOURCE_ROOT, FeedServer, check, finish, rss, run, tmpdir, write

ITEM_KEYS = {"id", "title", "link", "summary", "content", "author", "published",
             "updated", "categories"}
DOC_KEYS = {"format", "title", "link", "description", "language", "items", "warnings"}


def core_path():
    return os.path.join(os.path.dirname(FW_BIN), "feedwatch-core")


def module_split(d, feed):
    """`parse` of a file runs in the executable alone; every other command
    runs in feedwatch-core, which the executable becomes (execv, same
    process id), and says so clearly when it cannot."""
    want = run("parse", "--json", feed).stdout
    lone = os.path.join(d, "lone")
    os.mkdir(lone)
    shutil.copy(FW_BIN, lone)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    exe = os.path.join(lone, os.path.basename(FW_BIN))
    r = subprocess.run([exe, "parse", "--json", feed], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0 and r.stdout == want,
          "parse of a file needs no feedwatch-core, and prints the same JSON (%s)"
          % r.stderr.strip())
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env)
    check(r.returncode == 0, "--version needs no feedwatch-core")
    r = subprocess.run([exe, "check-config", "-c", "/nonexistent.yaml"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 1 and "cannot run the check-config command" in r.stderr
          and "feedwatch-core is not installed" in r.stderr,
          "without feedwatch-core, other commands fail with a clear error (%s)"
          % r.stderr.strip())
    r = subprocess.run([exe, "parse", "--json", "http://127.0.0.1:9/f.xml"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 1 and "feedwatch-core" in r.stderr,
          "parse of a URL goes to feedwatch-core")
    # A charset only iconv converts (EUC-KR) is read by feedwatch-core: a
    # lone executable says so rather than guessing.
    euc = os.path.join(SOURCE_ROOT, "tests", "data", "feeds", "enc-euc-kr.xml")
    r = subprocess.run([exe, "parse", "--json", euc], capture_output=True,
                       text=True, env=env)
    handed = r.returncode == 1 and "feedwatch-core" in r.stderr
    # (A dynamically linked executable, as in a sanitizer build, reads it.)
    want = subprocess.run([core_path(), "parse", "--json", euc],
                          capture_output=True, text=True).stdout
    direct = r.returncode == 0 and r.stdout == want and "\ubc29\uc704\ube44" in want
    check(handed or direct,
          "an EUC-KR feed is read, or handed to feedwatch-core (%s)" % r.stderr.strip())
    # feedwatch-core refuses to run without a command.
    r = subprocess.run([core_path()], capture_output=True, text=True)
    check(r.returncode == 2 and "run by feedwatch" in r.stderr,
          "feedwatch-core alone says it is run by feedwatch")
    # The executable's verb list and feedwatch-core's verb table are the same.
    daemon = os.path.join(SOURCE_ROOT, "daemon")
    front = re.search(r"verbs\[\] = \{([^}]*)\}", open(os.path.join(daemon, "main.c")).read())
    front = re.findall(r'"([a-z-]+)"', front.group(1)) if front else []
    core = re.findall(r'\{\s*"([a-z-]+)"\s*,\s*cmd_\w+\s*\}',
                      open(os.path.join(daemon, "core_main.c")).read())
    check(len(core) >= 7 and sorted(front) == sorted(core),
          "main.c and core_main.c know the same commands (%s / %s)" % (front, core))


def charset_handoff(d):
    """Every fixture in a legacy charset parses the same through the
    executable as in feedwatch-core, from a file, from a redirected file
    and from a pipe (the executable may hand such a document on, with what
    it already read of standard input)."""
    feeds = os.path.join(SOURCE_ROOT, "tests", "data", "feeds")
    names = sorted(f for f in os.listdir(feeds)
                   if f.startswith("enc-") and f.endswith(".xml"))
    check(len(names) >= 8, "there are charset fixtures (%d)" % len(names))
    for name in names:
        path = os.path.join(feeds, name)
        if os.path.exists(path[:-4] + ".content-type"):
            continue  # the Content-Type only comes with a URL
        want = subprocess.run([core_path(), "parse", "--json", path],
                              capture_output=True).stdout
        got = run("parse", "--json", path)
        check(got.returncode == 0 and got.stdout.encode() == want and want,
              "%s: the executable prints what feedwatch-core prints" % name)
        with open(path, "rb") as f:
            r = subprocess.run([FW_BIN, "parse", "--json", "-"], stdin=f,
                               capture_output=True)
        check(r.returncode == 0 and r.stdout == want,
              "%s: the same from a redirected standard input" % name)
        data = open(path, "rb").read()
        # Written in small pieces, so the executable reads the start of
        # the document before it knows the charset.
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
    # A URL is parsed in feedwatch-core, a path in the executable: the
    # same output either way, as JSON and as the listing, except that the
    # item's relative link "/a1" resolves against the URL (a path gives no
    # base to resolve against).
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

    module_split(d, feed)
    charset_handoff(d)
    shutil.rmtree(d)
    finish()


main()

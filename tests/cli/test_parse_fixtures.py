"""`feedwatch parse --json` over every parse fixture, through the binary
users run: each feed is served over HTTP on 127.0.0.1 (with its
<case>.content-type, if any) so the base URL and the charset header take the
same path as in the daemon, and the output must equal
tests/data/expected/<case>.json (warnings as substrings, as in
tests/test_parse.c). Error fixtures must exit 1 with one line on stderr.
Also: keys in the contract's order, stdin ("-"), the readable listing."""
import json
import os

from fwtest import TEST_DATA, FeedServer, check, finish, run, tmpdir, write

DOC_ORDER = ["format", "title", "link", "description", "language", "items",
             "warnings"]
ITEM_ORDER = ["id", "title", "link", "summary", "content", "author",
              "published", "updated", "categories"]


def fixtures():
    feeds = os.path.join(TEST_DATA, "feeds")
    exp = os.path.join(TEST_DATA, "expected")
    for name in sorted(os.listdir(exp)):
        case = name[:-5]
        for f in sorted(os.listdir(feeds)):
            if f.startswith(case + ".") and not f.endswith(".content-type"):
                yield case, os.path.join(feeds, f), os.path.join(exp, name)
                break


def main():
    n = 0
    with FeedServer() as srv:
        cases = list(fixtures())
        for case, path, exp_path in cases:
            with open(path, "rb") as f:
                body = f.read()
            headers = {}
            ct = os.path.join(TEST_DATA, "feeds", case + ".content-type")
            if os.path.exists(ct):
                with open(ct) as f:
                    headers["Content-Type"] = f.read().strip()
            srv.routes["/feeds/" + case] = (200, headers, body)
        for case, path, exp_path in cases:
            n += 1
            url = srv.url("/feeds/" + case)
            base = srv.url("/")
            with open(exp_path, encoding="utf-8") as f:
                text = f.read()
            # The fixtures' base is https://example.com/feeds/<case>; here
            # it is this server, over http (a protocol-relative link
            # follows the scheme).
            text = text.replace("https://example.com/", base)
            text = text.replace("https://cdn.example.net/", "http://cdn.example.net/")
            exp = json.loads(text)
            r = run("parse", "--json", url)
            if "error" in exp:
                lines = r.stderr.strip().split("\n")
                check(r.returncode == 1 and len(lines) == 1 and
                      exp["error"] in lines[0] and r.stdout == "",
                      "%s: exit 1 and one line: %r" % (case, r.stderr.strip()))
                continue
            if not check(r.returncode == 0, "%s: exit 0 (%s)" % (case, r.stderr.strip())):
                continue
            try:
                got = json.loads(r.stdout)
            except ValueError as e:
                check(False, "%s: output is JSON (%s)" % (case, e))
                continue
            check(list(got) == DOC_ORDER, "%s: document keys in order" % case)
            check(all(list(it) == ITEM_ORDER for it in got["items"]),
                  "%s: item keys in order" % case)
            ew, gw = exp.pop("warnings"), got.pop("warnings")
            check(got == exp, "%s: same as expected/%s.json" % (case, case))
            check(len(ew) == len(gw) and all(a in b for a, b in zip(ew, gw)),
                  "%s: warnings %r" % (case, gw))

    # Standard input, and the listing without --json.
    feed = os.path.join(TEST_DATA, "feeds", "rss20-basic.xml")
    with open(feed, encoding="utf-8") as f:
        text = f.read()
    r = run("parse", "--json", "-", stdin=text)
    check(r.returncode == 0 and json.loads(r.stdout)["format"] == "rss2.0",
          "parse --json - reads standard input")
    r = run("parse", feed)
    check(r.returncode == 0 and "First & item" in r.stdout and
          "Format:" in r.stdout, "parse without --json prints a listing")
    d = tmpdir()
    r = run("parse", "--json", os.path.join(d, "missing.xml"))
    check(r.returncode == 1 and r.stderr.startswith("feedwatch: parse: ") and
          r.stderr.count("\n") == 1, "a missing file: exit 1, one line")
    bad = write(os.path.join(d, "page.html"), "<!DOCTYPE html><html></html>")
    r = run("parse", bad)
    check(r.returncode == 1 and r.stderr.strip() ==
          "feedwatch: parse: %s: not a feed: found an HTML page" % bad,
          "an HTML page: the contract's one-line error")
    r = run("parse")
    check(r.returncode == 2, "no SOURCE: usage error, exit 2")
    check(n >= 150, "at least 150 fixtures (%d)" % n)
    finish()


if __name__ == "__main__":
    main()

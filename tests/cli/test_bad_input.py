"""Bad input at the command line: broken configs, a state file that cannot
be opened (under FW_TEST_STATE=postgresql: a database that cannot be
reached or does not exist), input that is not a feed. Each gives a clear
error and a non-zero exit, never a crash."""
import os
import re
import shutil

from fwtest import PG, check, finish, run, state_path, tmpdir, write

LOCATED = re.compile(r"^(.+):(\d+):(\d+): (.+)$")

BROKEN = {
    "unknown-key": ("state: s.db\nfeeds:\n  - url: http://127.0.0.1:1/\n    intervall: 5m\n",
                    4, "unknown key 'intervall'"),
    "missing-feeds": ("state: s.db\n", 1, "missing required key 'feeds'"),
    "bad-duration": ("state: s.db\nfeeds:\n  - url: http://127.0.0.1:1/\n    interval: soon\n",
                     4, "invalid duration"),
    "yaml-syntax": ("state: s.db\nfeeds: [\n", 3, "YAML syntax error"),
    "bad-scheme": ("state: s.db\nfeeds:\n  - url: ftp://example.org/\n", 3, "must start with"),
    "bad-sink": ("state: s.db\nfeeds: []\nsinks:\n  - type: pager\n", 4, "must be one of"),
    "bad-topic-ref": ("state: s.db\nfeeds:\n  - url: http://127.0.0.1:1/\n    topics: [nope]\n",
                      4, "unknown topic"),
}


def main():
    d = tmpdir()
    for name, (text, line, needle) in BROKEN.items():
        path = write(os.path.join(d, name + ".yaml"), text)
        r = run("check-config", "-c", path)
        first = r.stderr.strip().splitlines()[0] if r.stderr.strip() else ""
        m = LOCATED.match(first)
        check(r.returncode != 0, "%s: check-config exits non-zero" % name)
        check(m is not None and m.group(1) == path and int(m.group(2)) == line and
              needle in m.group(4),
              "%s: error is FILE:%d:COL: ...%s... (got %r)" % (name, line, needle, first))
        r = run("once", "-c", path)
        check(r.returncode != 0 and needle in r.stderr, "%s: once refuses to start" % name)

    r = run("check-config", "-c", os.path.join(d, "absent.yaml"))
    check(r.returncode != 0 and "cannot open" in r.stderr, "a missing config is a clear error")

    if PG:
        bad_databases(d)
    else:
        bad_state_files(d)

    html = write(os.path.join(d, "page.html"),
                 "<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>")
    r = run("parse", "--json", html)
    check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and
          "HTML" in r.stderr, "parse of an HTML page: one-line error naming HTML")
    garbage = write(os.path.join(d, "garbage.bin"), "\x01\x02 not xml at all {{{")
    r = run("parse", "--json", garbage)
    check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1,
          "parse of garbage: one-line error")
    r = run("parse", "--json", os.path.join(d, "absent.xml"))
    check(r.returncode != 0 and "absent.xml" in r.stderr, "parse of a missing file names it")

    r = run("frobnicate")
    check(r.returncode == 2, "an unknown command is a usage error")
    r = run("once", "--bogus")
    check(r.returncode == 2, "an unknown option is a usage error")
    shutil.rmtree(d)
    finish()


def bad_state_files(d):
    # A state file in a directory that does not exist: a state error.
    conf = write(os.path.join(d, "nostate.yaml"),
                 "state: %s/no/such/dir/state.db\nfeeds: []\n" % d)
    r = run("once", "-c", conf)
    check(r.returncode != 0 and "state file" in r.stderr, "an unopenable state file is an error")

    # A file that is not a database at all.
    junk = write(os.path.join(d, "junk.db"), "this is not sqlite " * 100)
    conf = write(os.path.join(d, "junkstate.yaml"), "state: %s\nfeeds: []\n" % junk)
    r = run("once", "-c", conf)
    check(r.returncode != 0 and "state file" in r.stderr, "a corrupt state file is an error")


def bad_databases(d):
    # No server behind the socket: an error naming the database, never
    # its password.
    conf = write(os.path.join(d, "noserver.yaml"), 'state: "host=%s user=feedwatch '
                 'password=SECRETPW dbname=nope"\nfeeds: []\n' % os.path.join(d, "nosock"))
    r = run("once", "-c", conf)
    check(r.returncode == 1 and "cannot connect to the database" in r.stderr and
          "/nope" in r.stderr and "SECRETPW" not in r.stderr,
          "an unreachable database is an error without its password (%s)" % r.stderr.strip())
    # A database the server does not have.
    missing = state_path(d).replace("dbname=", "dbname=missing_")
    conf = write(os.path.join(d, "nodb.yaml"), 'state: "%s"\nfeeds: []\n' % missing)
    r = run("once", "-c", conf)
    check(r.returncode == 1 and "does not exist" in r.stderr,
          "a database that does not exist is an error (%s)" % r.stderr.strip())


main()

"""Shared helpers for the CLI tests: run the built binary, serve files over
HTTP on 127.0.0.1, make temporary configs, make and query states. Python
standard library only.

The state backend: a SQLite file by default. With FW_TEST_STATE=postgresql
(the tests run under tests/pg/pgserver.py, which starts a throwaway server
and names its folder in FW_TEST_PG_SERVER) state_path() gives a fresh
database on that server instead, and state_sql() queries either kind."""
import atexit
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

FW_BIN = os.environ.get("FW_BIN", "build/daemon/feedwatch")
SOURCE_ROOT = os.environ.get("FW_SOURCE_ROOT", os.getcwd())
TEST_DATA = os.environ.get("FW_TEST_DATA", os.path.join(SOURCE_ROOT, "tests", "data"))

failures = []
passed = [0]

STATE_BACKEND = os.environ.get("FW_TEST_STATE", "sqlite")
PG = STATE_BACKEND == "postgresql"
if STATE_BACKEND not in ("sqlite", "postgresql"):
    sys.exit("FW_TEST_STATE=%s: must be sqlite or postgresql" % STATE_BACKEND)
if PG and not os.environ.get("FW_TEST_PG_SERVER"):
    sys.exit("FW_TEST_STATE=postgresql needs a server: run the test under "
             "tests/pg/pgserver.py -- python3 %s" % sys.argv[0])


def check(cond, what):
    """Records one assertion; finish() exits non-zero if any failed."""
    if cond:
        passed[0] += 1
        print("ok   - " + what)
    else:
        print("FAIL - " + what)
        failures.append(what)
    return cond


def finish():
    print("%d passed, %d failed" % (passed[0], len(failures)))
    sys.exit(1 if failures else 0)


_pg_server = None
_pg_dbs = {}        # state: value -> database name


def _server():
    global _pg_server
    if _pg_server is None:
        sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "pg"))
        import pgserver
        _pg_server = pgserver.PgServer(running_in=os.environ["FW_TEST_PG_SERVER"])
    return _pg_server


def _drop_databases():
    for name in list(_pg_dbs.values()):
        try:
            _server().drop_db(name)
        except (RuntimeError, OSError, subprocess.SubprocessError):
            pass    # the server goes away with the test anyway
    _pg_dbs.clear()


_pg_by_path = {}     # (folder, name) -> state: value


def state_path(d, name="state.db"):
    """The state: value of the state called name in the folder d: the file
    name, or under FW_TEST_STATE=postgresql a database of its own, new
    and empty at the first call with d and name (the same one after) and
    dropped when the test exits."""
    if not PG:
        return os.path.join(d, name)
    key = (os.path.abspath(d), name)
    if key not in _pg_by_path:
        db = "fw_%d_%s" % (len(_pg_dbs) + 1, re.sub(r"[^a-z0-9]", "_", name.lower()))
        if not _pg_dbs:
            atexit.register(_drop_databases)
        conninfo = _server().create_db(db)
        _pg_dbs[conninfo] = db
        _pg_by_path[key] = conninfo
    return _pg_by_path[key]


def state_exists(state):
    """Whether the state was created: the file exists, or the database
    holds the schema."""
    if not is_pg_state(state):
        return os.path.exists(state)
    return state_sql(state, "SELECT count(*) FROM pg_tables WHERE tablename = 'feeds'")[0][0] > 0


def is_pg_state(state):
    return state in _pg_dbs


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'%s'" % str(v).replace("'", "''")


def state_sql(state, sql, params=()):
    """Runs one statement (with ? placeholders) on a state from
    state_path() and commits it; returns its rows as tuples, typed (ints,
    floats, strings, None) alike on both engines."""
    if not is_pg_state(state):
        db = sqlite3.connect(state, timeout=10)
        try:
            rows = db.execute(sql, params).fetchall()
            db.commit()
            return rows
        finally:
            db.close()
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError("%d placeholders, %d parameters: %s" % (len(parts) - 1, len(params), sql))
    text = parts[0] + "".join(_pg_literal(v) + p for v, p in zip(params, parts[1:]))
    if not re.match(r"\s*(SELECT|WITH|VALUES)\b", text, re.I):
        _server().psql(text, _pg_dbs[state])
        return []
    # Rows as JSON keep their types and their column order.
    out = _server().psql("SELECT coalesce(json_agg(q), '[]') FROM (%s) q" % text, _pg_dbs[state])
    return [tuple(v for _, v in row) for row in
            json.loads(out, object_pairs_hook=lambda pairs: pairs)]


def run(*args, stdin=None, timeout=60, env=None):
    """Runs feedwatch with args; returns CompletedProcess (text)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([FW_BIN] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=e)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, dict(self.headers)))
        route = srv.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if callable(route):
            route(self)
            return
        status, headers, body = route
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FeedServer:
    """An HTTP server on 127.0.0.1 with a dict of routes:
    path -> (status, headers, body) or a callable(handler)."""

    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes = {}
        self.httpd.requests = []
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def routes(self):
        return self.httpd.routes

    @property
    def requests(self):
        return self.httpd.requests

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()


def tmpdir():
    return tempfile.mkdtemp(prefix="feedwatch-cli-")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def rss(items, title="Test feed"):
    """items: list of dicts with guid, title, description, link, pubDate."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0"><channel><title>%s</title>' % title,
           "<link>http://example.org/</link><description>d</description>"]
    for it in items:
        out.append("<item>")
        for k in ("guid", "title", "link", "description", "pubDate"):
            if k in it:
                out.append("<%s>%s</%s>" % (k, it[k], k))
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out)


class Daemon:
    """feedwatch run, outside any service manager, its stderr collected
    line by line."""

    def __init__(self, conf):
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
            env.pop(k, None)
        self.proc = subprocess.Popen([FW_BIN, "run", "-c", conf], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self):
        return "\n".join(self.lines)

    def wait_log(self, pattern, seconds, since=0):
        """The first line from index since on that matches pattern, waiting
        up to seconds; None when none did."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for l in self.lines[since:]:
                if re.search(pattern, l):
                    return l
            time.sleep(0.1)
        return None

    def reload(self):
        """SIGHUP, then the daemon's "reloaded" line (None if it never came)."""
        n = len(self.lines)
        self.proc.send_signal(signal.SIGHUP)
        return self.wait_log(r"reloaded: ", 10, n)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=5)
        return self.proc.returncode

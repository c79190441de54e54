"""Shared helpers for the CLI tests: run the built binary, serve files over
HTTP on 127.0.0.1, make temporary configs. Python standard library only."""
import http.server
import json
import os
import re
import signal
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

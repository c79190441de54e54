"""A throwaway PostgreSQL 15 for the tests: initdb and pg_ctl from Debian's
postgresql-15 package in a temporary folder, listening only on a Unix
socket in that folder, trust authentication, stopped and removed by
itself. PostgreSQL refuses to run as root, and CI runs as root: the
server then runs as 'nobody' (runuser), and the folder is given to it.

As a module: PgServer() is a context manager; .conninfo(dbname) is a
libpq keyword string, .create_db(name) makes a fresh database. As a
program: `pgserver.py -- CMD ARGS…` runs CMD with FW_TEST_PG set to the
conninfo of a fresh database and FW_TEST_PG_SERVER to the server's
folder, then stops the server, whatever CMD did; its exit status is CMD's,
or 77 (skipped) when no PostgreSQL is installed."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SUPERUSER = "feedwatch"


def _bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    return None


def available():
    return _bindir() is not None


class PgServer:
    def __init__(self, running_in=None):
        """A new server in a new folder, or (running_in) the one another
        process started in that folder, which this object never stops."""
        self.bindir = _bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server installed (Debian: postgresql)")
        if running_in is not None:
            self.dir = running_in
            self.as_user = []
            self.running = False
            return
        self.dir = tempfile.mkdtemp(prefix="feedwatch-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "nobody", "--"]
            shutil.chown(self.dir, "nobody", "nogroup")
        self.running = False

    def _run(self, *args, check=True):
        return subprocess.run(self.as_user + list(args), cwd=self.dir, check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def _initdb(self):
        """A new cluster in self.data. initdb takes seconds, so with
        FW_TEST_PG_TEMPLATE naming a folder (meson: one in the build
        directory) the first cluster made is kept there, never started,
        and later ones are copies of it (cp -a keeps modes and owner)."""
        initdb = os.path.join(self.bindir, "initdb")
        template = os.environ.get("FW_TEST_PG_TEMPLATE")
        stamp = "%s as uid %d\n" % (initdb, os.geteuid())
        if template:
            try:
                with open(os.path.join(template, "made-by")) as f:
                    if f.read() == stamp:
                        subprocess.run(["cp", "-a", os.path.join(template, "data"), self.data],
                                       check=True)
                        return
            except (OSError, subprocess.CalledProcessError):
                shutil.rmtree(self.data, ignore_errors=True)
        self._run(initdb, "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        if template:
            # Made aside and renamed: tests running at once each make
            # their own, and the first rename wins. One made by another
            # initdb or user goes first.
            parent = os.path.dirname(os.path.abspath(template))
            aside = None
            try:
                os.makedirs(parent, exist_ok=True)
                aside = tempfile.mkdtemp(prefix="pg-template-", dir=parent)
                subprocess.run(["cp", "-a", self.data, os.path.join(aside, "data")], check=True)
                with open(os.path.join(aside, "made-by"), "w") as f:
                    f.write(stamp)
                if os.path.exists(template):
                    shutil.rmtree(template, ignore_errors=True)
                os.rename(aside, template)
                aside = None
            except (OSError, subprocess.CalledProcessError):
                pass    # no template this time: the next test makes one
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)

    def start(self):
        if not os.path.exists(self.data):
            self._initdb()
        # fsync off: a test server's data need not survive a power cut.
        opts = "-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off " \
               "-c max_connections=60" % self.dir
        r = self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l",
                      self.log, "-o", opts, "-w", "-t", "60", "start", check=False)
        if r.returncode != 0:
            log = open(self.log).read() if os.path.exists(self.log) else ""
            raise RuntimeError("pg_ctl start failed: %s\n%s" % (r.stdout, log))
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", mode,
                      "-w", "stop", check=False)
            self.running = False

    def restart(self):
        """Stops the server (dropping every connection) and starts it again."""
        self.stop("immediate")
        self.start()

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *a):
        self.cleanup()

    def conninfo(self, dbname="postgres"):
        return "host=%s user=%s dbname=%s" % (self.dir, SUPERUSER, dbname)

    def uri(self, dbname="postgres"):
        return "postgresql://%s@/%s?host=%s" % (SUPERUSER, dbname, self.dir)

    def psql(self, sql, dbname="postgres"):
        """Runs sql; returns its output, unaligned, without headers."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(dbname),
                            "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        return r.stdout.strip()

    def create_db(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s"' % name)
        self.psql('CREATE DATABASE "%s"' % name)
        return self.conninfo(name)

    def drop_db(self, name):
        """Drops the database, closing whatever connections it still has."""
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def main(argv):
    if "--" not in argv:
        print("usage: pgserver.py -- CMD [ARGS…]", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    if not available():
        print("pgserver: no PostgreSQL server installed; skipped")
        return 77
    srv = PgServer()
    child = None

    def stop_child(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
    signal.signal(signal.SIGTERM, stop_child)
    signal.signal(signal.SIGINT, stop_child)
    try:
        srv.start()
        env = dict(os.environ)
        env["FW_TEST_PG"] = srv.create_db("feedwatch_test")
        env["FW_TEST_PG_SERVER"] = srv.dir
        child = subprocess.Popen(cmd, env=env)
        return child.wait()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

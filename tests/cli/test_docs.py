"""The man pages: feedwatch(1) and feedwatch.yaml(5) render from their scdoc
sources without a single warning from man/groff; every configuration key
the code accepts (the key tables in daemon/conf.c) is documented in its
section of feedwatch.yaml(5); every command (main.c's verb table), every
long option (the getopt tables) and every exit status is in feedwatch(1).
Skipped (77) when scdoc is missing, except under CI, where it must exist."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from fwtest import SOURCE_ROOT, check, finish

DOCS = os.path.join(SOURCE_ROOT, "docs")
DAEMON = os.path.join(SOURCE_ROOT, "daemon")

# conf.c key table -> the section of feedwatch.yaml(5) that documents it.
SECTIONS = {
    "top_keys": "TOP LEVEL",
    "http_keys": "HTTP",
    "defaults_keys": "DEFAULTS",
    "feed_keys": "FEEDS",
    "header_keys": "HEADERS",
    "topic_keys": "TOPICS",
    "sink_keys": "SINKS",
    "developments_keys": "DEVELOPMENTS",
    "updates_keys": "TOPICS",
}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def sections(scd):
    """'# TITLE' -> body text, for an scdoc source."""
    out, name = {}, None
    for line in scd.split("\n"):
        m = re.match(r"^# (.+)$", line)
        if m:
            name = m.group(1).strip()
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def key_tables():
    src = read(os.path.join(DAEMON, "conf.c"))
    tables = {}
    for m in re.finditer(r"static const struct key_handler (\w+)\[\] = \{(.*?)\n\};", src, re.S):
        tables[m.group(1)] = re.findall(r'\{\s*"([^"]+)"\s*,', m.group(2))
    return tables


def render(scd_path, tmp):
    out = os.path.join(tmp, os.path.basename(scd_path)[:-4])
    with open(scd_path, "rb") as src, open(out, "wb") as dst:
        r = subprocess.run(["scdoc"], stdin=src, stdout=dst, stderr=subprocess.PIPE)
    return out, r.returncode, r.stderr.decode("utf-8", "replace")


def main():
    if shutil.which("scdoc") is None:
        if os.environ.get("CI"):
            check(False, "scdoc is installed (CI builds the man pages)")
            finish()
        print("SKIP: scdoc not installed")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="feedwatch-docs-")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANPAGER="cat", PAGER="cat")
    pages = {}
    for name in ("feedwatch.1", "feedwatch.yaml.5"):
        src = os.path.join(DOCS, name + ".scd")
        out, rc, err = render(src, tmp)
        check(rc == 0 and err == "", "scdoc renders %s (%s)" % (name, err.strip()))
        r = subprocess.run(["man", "--warnings", "-l", out], capture_output=True, text=True,
                           env=env)
        check(r.returncode == 0 and r.stderr.strip() == "",
              "man --warnings -l %s: no warnings (%r)" % (name, r.stderr.strip()[:300]))
        check(len(r.stdout) > 2000, "%s renders to real text (%d bytes)" % (name, len(r.stdout)))
        if shutil.which("groff"):
            g = subprocess.run(["groff", "-ww", "-z", "-man", out], capture_output=True,
                               text=True, env=env)
            check(g.returncode == 0 and g.stderr.strip() == "",
                  "groff -ww -man %s: no warnings (%r)" % (name, g.stderr.strip()[:300]))
        pages[name] = (read(src), r.stdout)

    # feedwatch.yaml(5): every key of every table, in its own section.
    scd, text = pages["feedwatch.yaml.5"]
    check("whsec_" in text and "whsec__" not in text,
          "the whsec_ prefix renders as written, not as whsec__base64_")
    secs = sections(scd)
    tables = key_tables()
    check(len(tables) >= 7 and sum(len(v) for v in tables.values()) >= 50,
          "found conf.c's key tables (%d tables, %d keys)"
          % (len(tables), sum(len(v) for v in tables.values())))
    missing = []
    for table, keys in sorted(tables.items()):
        where = secs.get(SECTIONS.get(table, ""), scd)
        for k in keys:
            if not re.search(r"\*%s\* \(_" % re.escape(k), where) and \
                    not re.search(r"\*%s\*" % re.escape(k), where):
                missing.append("%s.%s" % (table, k))
            elif not re.search(r"(^|\W)%s(\W|$)" % re.escape(k), text):
                missing.append("%s.%s (not in the rendered page)" % (table, k))
    check(not missing, "every config key is in feedwatch.yaml(5) under its section; missing: %s"
          % ", ".join(missing))
    undoc_type = []
    for table, keys in tables.items():
        where = secs.get(SECTIONS.get(table, ""), "")
        for k in keys:
            # An entry "*key* (_type_, ...)"; a feed's overrides of the
            # defaults are typed in DEFAULTS.
            typed = re.compile(r"\*%s\* \(_[a-z]" % re.escape(k))
            if where and not typed.search(where) and not (
                    table == "feed_keys" and typed.search(secs.get("DEFAULTS", ""))):
                undoc_type.append("%s.%s" % (table, k))
    check(not undoc_type, "each key's entry states its type: %s" % ", ".join(undoc_type))
    example_less = []
    for title in ("TOP LEVEL", "HTTP", "DEFAULTS", "FEEDS", "HEADERS", "TOPICS", "SINKS"):
        for entry in re.split(r"\n(?=\*[a-z_]+\* \()", secs.get(title, "")):
            m = re.match(r"\*([a-z_]+)\* \(", entry)
            if m and "Example:" not in entry:
                example_less.append(m.group(1))
    check(not example_less, "each key entry has an example: %s" % ", ".join(example_less))
    check("default" in secs.get("DEFAULTS", ""), "defaults are stated")

    # feedwatch(1): commands, options, exit codes, files.
    scd, text = pages["feedwatch.1"]
    secs = sections(scd)
    verbs = re.findall(r'\{\s*"([a-z-]+)"\s*,\s*cmd_\w+\s*[,}]', read(os.path.join(DAEMON, "main.c")))
    check(len(verbs) >= 7, "found main.c's verbs (%s)" % ", ".join(verbs))
    missing = [v for v in verbs if "*%s*" % v not in secs.get("COMMANDS", "")]
    check(not missing, "every command is in COMMANDS; missing: %s" % ", ".join(missing))
    opts = set()
    for f in os.listdir(DAEMON):
        if f.startswith("cmd_") and f.endswith(".c"):
            for o in re.findall(r'\{\s*"([a-z-]+)"\s*,\s*(?:no|required|optional)_argument',
                                read(os.path.join(DAEMON, f))):
                opts.add(o)
    check("log-level" in opts and "config" in opts, "found the getopt tables (%s)"
          % ", ".join(sorted(opts)))
    missing = [o for o in sorted(opts) if "*--%s*" % o not in secs.get("OPTIONS", "")]
    check(not missing, "every long option is in OPTIONS; missing: %s" % ", ".join(missing))
    for code in ("0", "1", "2"):
        check("*%s*" % code in secs.get("EXIT STATUS", ""), "exit status %s is documented" % code)
    for f in ("/etc/feedwatch/feedwatch.yaml", "/var/lib/feedwatch/state.db", "feedwatch.service"):
        check(f in secs.get("FILES", ""), "FILES lists %s" % f)
    for s in ("SIGTERM", "SIGHUP", "READY=1", "WATCHDOG=1", "/metrics", "/healthz"):
        check(s in text, "feedwatch(1) explains %s" % s)
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

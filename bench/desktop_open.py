#!/usr/bin/env python3
"""Opens the desktop app on a catalog and reports what opening costs (issue 18, part 2). Run by
bench/big_catalog.sh under Xvfb with WebKitWebDriver on DRIVER; APP is a wrapper that writes the
app's pid to PIDFILE. Prints one line:
  first_paint_ms=<session start to the first playlist row in the DOM> cpu_s_10s=<CPU seconds of
  the app and its WebKit processes in the first 10 s> rss_kb=<the app process's VmRSS at 10 s>
  web_rss_kb=<the WebKit child processes' VmRSS summed>
With EMPTY=1 the catalog has no playlists: first paint is then the empty page's "No playlists yet".
"""
import json
import os
import time
import urllib.error
import urllib.request

DRIVER = os.environ.get("DRIVER", "http://127.0.0.1:4444")
APP = os.environ["APP"]
PIDFILE = os.environ["PIDFILE"]
EMPTY = os.environ.get("EMPTY") == "1"
TICK = os.sysconf("SC_CLK_TCK")


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}").get("value")


def tree(pid):
    """pid and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except OSError:
        return 0.0


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


caps = {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {"binary": APP, "args": []}}}}
for _ in range(60):
    try:
        t0 = time.time()
        sid = call("POST", "/session", caps)["sessionId"]
        break
    except (urllib.error.URLError, ConnectionError):
        time.sleep(0.5)
probe = "return document.querySelector('tr[data-id]') != null" if not EMPTY else \
    "return document.body.innerText.includes('No playlists yet')"
paint = None
while time.time() - t0 < 60:
    try:
        if call("POST", f"/session/{sid}/execute/sync", {"script": probe, "args": []}):
            paint = (time.time() - t0) * 1000
            break
    except urllib.error.HTTPError:
        pass
    time.sleep(0.05)
time.sleep(max(0.0, 10 - (time.time() - t0)))
with open(PIDFILE) as f:
    app = int(f.read().strip())
procs = tree(app)
cpu = sum(cpu_s(p) for p in procs)
web = sum(rss_kb(p) for p in procs if p != app)
print(f"first_paint_ms={paint if paint is None else round(paint)} cpu_s_10s={cpu:.2f} rss_kb={rss_kb(app)} web_rss_kb={web}")
try:
    call("DELETE", f"/session/{sid}")
except Exception:
    pass

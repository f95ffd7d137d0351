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
probe = {"using": "css selector", "value": "tr[data-id]"} if not EMPTY else \
    {"using": "xpath", "value": "//*[contains(text(), 'No playlists yet')]"}
paint, error = None, None
while time.time() - t0 < 60:
    try:
        if call("POST", f"/session/{sid}/elements", probe):
            paint = (time.time() - t0) * 1000
            break
    except Exception as e:  # the page may not be there yet
        error = e
    time.sleep(0.05)
if paint is None and error is not None:
    print(f"probe failed: {error}")
WAIT_S = float(os.environ.get("WAIT_S", "10"))
time.sleep(max(0.0, WAIT_S - (time.time() - t0)))
with open(PIDFILE) as f:
    app = int(f.read().strip())
procs = tree(app)
cpu = sum(cpu_s(p) for p in procs)
web = sum(rss_kb(p) for p in procs if p != app)
threads = []
for t in os.listdir(f"/proc/{app}/task"):
    try:
        with open(f"/proc/{app}/task/{t}/stat") as f:
            raw = f.read()
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        threads.append(((int(fields[11]) + int(fields[12])) / TICK, name))
    except OSError:
        pass
busy = ", ".join(f"{n}={c:.2f}" for c, n in sorted(threads, reverse=True)[:4])
def count(css):
    try:
        return len(call("POST", f"/session/{sid}/elements", {"using": "css selector", "value": css}))
    except Exception:
        return -1


rows = count(".tablewrap tbody tr[data-id]")
if os.environ.get("PER_PROCESS"):
    for p in procs:
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
            ts = []
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/stat") as f:
                    raw = f.read()
                fl = raw.rsplit(")", 1)[1].split()
                ts.append(((int(fl[11]) + int(fl[12])) / TICK, raw[raw.index("(") + 1:raw.rindex(")")]))
            top = ", ".join(f"{n}={c:.2f}" for c, n in sorted(ts, reverse=True)[:3])
            with open(f"/proc/{p}/smaps_rollup") as f:
                kinds = {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("Rss", "Anonymous", "Shared_Clean", "Private_Clean"))}
            print(f"  {comm}: memory_kb {kinds}")
            print(f"  {comm}: cpu_s={cpu_s(p):.2f} rss_kb={rss_kb(p)} threads: {top}")
        except OSError:
            pass
print(f"first_paint_ms={paint if paint is None else round(paint)} cpu_s_10s={cpu:.2f} app_cpu_s={cpu_s(app):.2f} "
      f"rss_kb={rss_kb(app)} web_rss_kb={web} playlist_rows_in_dom={rows} busiest_app_threads: {busy}")
try:
    call("DELETE", f"/session/{sid}")
except Exception:
    pass

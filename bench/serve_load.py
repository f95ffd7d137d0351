#!/usr/bin/env python3
"""Load client of bench/serve_load.sh (stdlib only): runs one sync-and-download job through a
running `catalog-sync serve` and, with --load, 50 Server-Sent Events clients on /api/events and
20 requests/s (open loop: each request at its scheduled time, on its own connection) to the
task-center route while the job runs. Prints one JSON line: the route's latency percentiles
(ms), the server's peak RSS (kB, from /proc/PID/status), the job's wall time (s), the bytes it
downloaded and its throughput (bytes/s), and how many SSE events the clients received.
"""
import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse


def call(base, token, method, path, body=None):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {path}: {resp.status} {raw[:200]!r}")
    return json.loads(raw) if raw else None


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--opml", required=True)
    ap.add_argument("--library", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--load", action="store_true")
    ap.add_argument("--sse", type=int, default=50)
    ap.add_argument("--rps", type=float, default=20.0)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    done = threading.Event()

    peak = [rss_kb(a.pid)]

    def sample_rss():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(a.pid))
            time.sleep(0.2)

    threading.Thread(target=sample_rss, daemon=True).start()

    added = call(a.base, a.token, "POST", "/api/playlists", {"urls": [a.opml]})
    ids = added["ids"]
    call(a.base, a.token, "PUT", "/api/wanted", {"playlist_ids": ids, "wanted": True})

    events = [0]
    lock = threading.Lock()
    conns = []

    def sse_client():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        with lock:
            conns.append(conn)
        try:
            conn.request("GET", "/api/events", headers={"Authorization": f"Bearer {a.token}", "Accept": "text/event-stream"})
            resp = conn.getresponse()
            while not done.is_set():
                line = resp.readline()
                if not line:
                    break
                if line.startswith(b"event:"):
                    with lock:
                        events[0] += 1
        except OSError:
            pass

    latencies = []
    errors = [0]

    def one_request():
        t = time.perf_counter()
        try:
            call(a.base, a.token, "GET", "/api/task-center")
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
        except Exception:  # noqa: BLE001 - counted
            with lock:
                errors[0] += 1

    def requester():
        i = 0
        t0 = time.perf_counter()
        while not done.is_set():
            at = t0 + i / a.rps
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            threading.Thread(target=one_request, daemon=True).start()
            i += 1

    if a.load:
        for _ in range(a.sse):
            threading.Thread(target=sse_client, daemon=True).start()
        time.sleep(0.5)  # let the streams open before the job starts
        threading.Thread(target=requester, daemon=True).start()

    start = time.perf_counter()
    job = call(a.base, a.token, "POST", "/api/jobs", {"kind": "sync_download", "playlist_ids": ids})
    while True:
        status = call(a.base, a.token, "GET", f"/api/jobs/{job}")["job"]["status"]
        if status not in ("queued", "running", "pause_requested"):
            break
        time.sleep(0.25)
    wall = time.perf_counter() - start
    done.set()
    time.sleep(0.3)
    for c in conns:
        try:
            c.sock and c.sock.close()
        except OSError:
            pass
    total = 0
    files = 0
    for root, _dirs, names in os.walk(a.library):
        for n in names:
            if n.endswith(".mp3"):
                files += 1
                total += os.path.getsize(os.path.join(root, n))
    print(json.dumps({
        "load": a.load,
        "job_status": status,
        "files": files,
        "bytes": total,
        "wall_s": round(wall, 2),
        "throughput_bps": round(total / wall),
        "requests": len(latencies),
        "request_errors": errors[0],
        "p50_ms": percentile(latencies, 50) and round(percentile(latencies, 50), 2),
        "p99_ms": percentile(latencies, 99) and round(percentile(latencies, 99), 2),
        "max_ms": latencies and round(max(latencies), 2),
        "sse_clients": a.sse if a.load else 0,
        "sse_events": events[0],
        "rss_peak_kb": peak[0],
    }), flush=True)


if __name__ == "__main__":
    main()

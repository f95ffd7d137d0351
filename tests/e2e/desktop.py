#!/usr/bin/env python3
"""End to end in the real desktop app: drives the built `catalog-sync-desktop` through
WebKitWebDriver (W3C WebDriver) against the testkit loopback server.

It adds an OPML subscription list by URL, selects two of its playlists, runs "Sync then
download", follows the job in the task center (speeds shown), pauses and resumes it, waits for
it to finish, checks the files in the library, and saves a screenshot of each page into
ARTIFACTS. Plain standard library: WebDriver is JSON over HTTP. Run through tests/e2e/run.sh,
which builds what it needs and provides Xvfb and a D-Bus session.

Environment: APP (binary), OPML (subscription list URL), LIBRARY (folder the app downloads
into), ARTIFACTS (screenshot folder), DRIVER (WebKitWebDriver's URL, default http://127.0.0.1:4444).
Every request opens its own connection (urllib), so no connection the driver closed is reused.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

DRIVER = os.environ.get("DRIVER", "http://127.0.0.1:4444")
APP = os.environ["APP"]
OPML = os.environ["OPML"]
LIBRARY = os.environ["LIBRARY"]
ARTIFACTS = os.environ["ARTIFACTS"]
EXPECTED_FILES = int(os.environ.get("EXPECTED_FILES", "6"))
WAIT = 120.0


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}").get("value")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None


class Session:
    def __init__(self):
        # WebKitWebDriver starts the app itself: the binary is a WebKitGTK "browser" whose
        # automation session it drives (what tauri-driver would translate `tauri:options` into).
        caps = {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {"binary": APP, "args": []}}}}
        deadline = time.time() + 30
        while True:
            try:
                self.id = call("POST", "/session", caps)["sessionId"]
                break
            except (urllib.error.URLError, ConnectionError, RuntimeError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def s(self, method, path, body=None):
        return call(method, f"/session/{self.id}{path}", body)

    def find_all(self, css):
        return [list(e.values())[0] for e in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def xpath_all(self, xp):
        return [list(e.values())[0] for e in self.s("POST", "/elements", {"using": "xpath", "value": xp})]

    def wait(self, what, fn, timeout=WAIT):
        deadline = time.time() + timeout
        while True:
            value = fn()
            if value:
                return value
            if time.time() > deadline:
                self.shot(f"timeout-{what}")
                raise AssertionError(f"waited {timeout}s for {what}")
            time.sleep(0.25)

    def click(self, el):
        """A WebDriver click; WebKitWebDriver sometimes calls a visible button "not
        interactable" right after a re-render, then the DOM click the button's handler gets."""
        try:
            self.s("POST", f"/element/{el}/click", {})
        except RuntimeError as e:
            if "not interactable" not in str(e):
                raise
            ref = {"element-6066-11e4-a52e-4f735466cecf": el}
            self.s("POST", "/execute/sync", {"script": "arguments[0].click()", "args": [ref]})

    def type(self, el, text):
        self.s("POST", f"/element/{el}/value", {"text": text})

    def text(self, el):
        return self.s("GET", f"/element/{el}/text")

    def body_text(self):
        return self.text(self.find_all("body")[0])

    def enabled(self, el):
        return self.s("GET", f"/element/{el}/enabled")

    def shot(self, name):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        path = os.path.join(ARTIFACTS, f"{name}.png")
        with open(path, "wb") as f:
            f.write(png)
        print(f"screenshot {path}", flush=True)

    def key(self, keys):
        """Presses a chord, e.g. ["\ue009", "2"] = Ctrl+2."""
        down = [{"type": "keyDown", "value": k} for k in keys]
        up = [{"type": "keyUp", "value": k} for k in reversed(keys)]
        self.s("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": down + up}]})

    def close(self):
        try:
            self.s("DELETE", "")
        except Exception:  # noqa: BLE001 - the app may already be gone
            pass


def button(sess, label):
    found = sess.xpath_all(f"//button[normalize-space(.)='{label}' or @aria-label='{label}']")
    return found[0] if found else None


def files_in(folder):
    out = []
    for root, _dirs, names in os.walk(folder):
        out += [os.path.join(root, n) for n in names if n.endswith(".mp3")]
    return out


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    sess = Session()
    try:
        # Playlists page, empty state
        sess.wait("the playlists page", lambda: sess.find_all('input[aria-label="Feed or playlist URL"]'))
        time.sleep(0.5)
        sess.shot("1-playlists-empty")
        url_box = sess.find_all('input[aria-label="Feed or playlist URL"]')[0]
        sess.type(url_box, OPML + "\ue007")
        rows = sess.wait("imported playlists", lambda: [e for e in sess.find_all('input[aria-label^="Select "]') if "Select all" not in (sess.s("GET", f"/element/{e}/attribute/aria-label") or "")])
        assert len(rows) >= 2, f"expected the OPML's playlists, got {len(rows)} rows"
        sess.click(rows[0])
        sess.click(rows[1])
        sess.shot("2-playlists-selected")
        go = button(sess, "Sync then download")
        assert go and sess.enabled(go), "Sync then download is not enabled with two playlists selected"
        sess.click(go)

        # Task center: the job runs with speeds shown
        sess.key(["\ue009", "2"])
        sess.wait("a running job", lambda: "Running" in sess.body_text())
        def job_speed():
            cells = sess.find_all("tr.job td.num")
            text = sess.text(cells[0]) if cells else ""
            return text if "B/s" in text else None

        speed = sess.wait("a speed in the job's row", job_speed)
        print(f"speed shown: {speed!r}", flush=True)
        pause = sess.wait("the pause button", lambda: sess.xpath_all("//button[starts-with(@aria-label, 'Pause job')]"))
        sess.shot("3-task-center-running")
        sess.click(pause[0])
        sess.wait("the paused job", lambda: "Paused" in sess.body_text() and sess.xpath_all("//button[starts-with(@aria-label, 'Resume job')]"))
        paused_files = len(files_in(LIBRARY))
        sess.shot("4-task-center-paused")
        sess.click(sess.xpath_all("//button[starts-with(@aria-label, 'Resume job')]")[0])
        sess.wait("the finished job", lambda: "Done" in sess.body_text() and "Running" not in sess.body_text())
        # expand the job row: stages, workers, runs
        rows = sess.find_all("tr.job")
        if rows:
            sess.click(rows[0])
            time.sleep(1.0)
        sess.shot("5-task-center-done")

        sess.key(["\ue009", "1"])
        time.sleep(1.0)
        sess.shot("6-playlists-after")
        sess.key(["\ue009", "3"])
        time.sleep(1.0)
        sess.shot("7-settings")
    finally:
        sess.close()

    files = files_in(LIBRARY)
    print(f"{len(files)} files in the library ({paused_files} when paused)", flush=True)
    assert len(files) == EXPECTED_FILES, f"expected {EXPECTED_FILES} media files in {LIBRARY}, found {len(files)}: {files}"
    assert all(os.path.getsize(f) > 0 for f in files)
    print("e2e: ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"e2e: FAILED: {e}", file=sys.stderr)
        sys.exit(1)

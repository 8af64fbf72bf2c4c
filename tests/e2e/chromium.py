"""A real browser for the e2e: Debian's headless Chromium driven over the Chrome DevTools Protocol
(CDP) with the `websockets` package already pinned in requirements.lock (no driver download, no
browser download). Only what the browser scenario needs: navigate, evaluate JavaScript (awaiting
promises) in the page, read the page's location.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

from websockets.sync.client import connect

# Debian's packages: chromium-headless-shell (bookworm) or chromium as a fallback.
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser")

# No network here and none wanted: no background fetches, updates, sync or first-run UI.
# As root Chromium needs --no-sandbox (the e2e runs as root inside `unshare -m -n`).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


def find():
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(RuntimeError):
    pass


class Chromium:
    def __init__(self, work, public_host, log=print):
        exe = find()
        if not exe:
            raise CdpError(f"no headless Chromium found (tried {', '.join(CANDIDATES)}); .ci/test installs it")
        self.log = log
        self.profile = os.path.join(work, "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        self.stderr_path = os.path.join(work, "chromium.log")
        self.stderr = open(self.stderr_path, "ab")
        # The hub's public TLS certificate comes from the test CA, which Chromium's NSS store does not
        # know; the resolver rule pins the public host to loopback whatever Chromium's DNS does.
        argv = [exe, *FLAGS, f"--user-data-dir={self.profile}", "--ignore-certificate-errors",
                f"--host-resolver-rules=MAP {public_host} 127.0.0.1", "about:blank"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     start_new_session=True, env=_env(work))
        self.port = self._devtools_port()
        page = self._page_target()
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=64 << 20, open_timeout=10)
        self.ids = itertools.count(1)
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _devtools_port(self, timeout=30):
        # Chromium writes the port it chose to <profile>/DevToolsActivePort
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(f"Chromium exited with {self.proc.returncode} (see {self.stderr_path})")
            try:
                with open(path) as f:
                    return int(f.readline().strip())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise CdpError(f"Chromium did not open its DevTools port within {timeout}s (see {self.stderr_path})")

    def _page_target(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.load(r)
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise CdpError(f"no page target in {targets}")
        return pages[0]

    def call(self, method, params=None, timeout=30):
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"no answer to {method} within {timeout}s")
            try:
                raw = self.ws.recv(timeout=left)
            except TimeoutError:
                continue
            msg = json.loads(raw)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            # events (Page.*, Runtime.consoleAPICalled, ...) are not needed: dropped

    def evaluate(self, expression, timeout=30):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True,
                                           "timeout": int(timeout * 1000)}, timeout=timeout + 5)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError(f"JavaScript error: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def navigate(self, url):
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {r['errorText']}")

    def location(self):
        try:
            return self.evaluate("location.href + ' ' + document.readyState", timeout=5)
        except CdpError:
            return None  # between documents

    def wait_location(self, pattern, timeout):
        """Wait until location.href matches `pattern` and the document is loaded; -> href."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.location() or last
            if last:
                href, _, state = last.rpartition(" ")
                if re.search(pattern, href) and state == "complete":
                    return href
            time.sleep(0.25)
        raise CdpError(f"the page did not reach {pattern!r} within {timeout}s (last: {last})")

    def wait_js(self, expression, what, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                v = self.evaluate(expression, timeout=5)
                if v:
                    return v
            except CdpError as e:
                last = e
            time.sleep(0.25)
        raise CdpError(f"timed out after {timeout}s waiting for {what}" + (f" ({last})" if last else ""))

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def _env(work):
    return {"PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8", "TMPDIR": os.path.join(work, "tmp")}


# Runs inside the page at /user/<name>/lab: the events websocket, a kernel and `1+1`, with the page's own
# cookies, Origin and the `_xsrf` cookie as X-XSRFToken, exactly as JupyterLab's own requests do.
IN_PAGE_CHECKS = r"""
(async (base) => {
  const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "");
  const wsBase = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base;
  const out = {xsrf: !!xsrf};
  const once = (ws, ms) => new Promise((resolve) => {
    ws.onopen = () => resolve("open");
    ws.onerror = () => resolve("error");
    ws.onclose = (e) => resolve("closed " + e.code);
    setTimeout(() => resolve("timeout"), ms);
  });
  const events = new WebSocket(wsBase + "api/events/subscribe");
  out.events = await once(events, 15000);
  events.close();
  const headers = {"X-XSRFToken": xsrf, "Content-Type": "application/json"};
  const r = await fetch(base + "api/kernels", {method: "POST", headers, body: JSON.stringify({name: "python3"})});
  out.kernel_status = r.status;
  if (!r.ok) { out.kernel_body = (await r.text()).slice(0, 300); return out; }
  const kernel = await r.json();
  out.result = await new Promise((resolve) => {
    const ws = new WebSocket(wsBase + "api/kernels/" + kernel.id + "/channels?session_id=e2e-browser");
    const msg_id = "e2e-" + Math.random().toString(16).slice(2);
    ws.onopen = () => ws.send(JSON.stringify({
      header: {msg_id, username: "e2e", session: "e2e-browser", msg_type: "execute_request", version: "5.3",
               date: new Date().toISOString()},
      parent_header: {}, metadata: {}, channel: "shell", buffers: [],
      content: {code: "1+1", silent: false, store_history: false, user_expressions: {}, allow_stdin: false,
                stop_on_error: true}}));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (!m.parent_header || m.parent_header.msg_id !== msg_id) return;
      if (m.msg_type === "execute_result") { ws.close(); resolve(m.content.data["text/plain"]); }
      if (m.msg_type === "error") { ws.close(); resolve("error: " + m.content.ename + ": " + m.content.evalue); }
    };
    ws.onerror = () => resolve("kernel websocket error");
    setTimeout(() => resolve("timeout"), 60000);
  });
  const d = await fetch(base + "api/kernels/" + kernel.id, {method: "DELETE", headers});
  out.kernel_deleted = d.status;
  return out;
})
"""

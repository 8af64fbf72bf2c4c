"""A scripted browser-like client for the e2e test.

It talks only to the hub's public origin (https://hub.example.test, through the test ingress's TLS
listener and CHP) and sends what a browser sends: Sec-Fetch-* headers on navigations and fetches, Origin on
non-GET fetches and on every websocket handshake (never Sec-Fetch-* on websockets, like Chromium), cookies,
and X-XSRFToken taken from the `_xsrf` cookie of the path it is talking to (the hub's, or the
single-user server's).
"""

import json
import ssl
import time
import urllib.parse
import uuid

import requests
import websockets.sync.client

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


class ClientError(AssertionError):
    pass


def _check(cond, msg):
    if not cond:
        raise ClientError(msg)


class Browser:
    def __init__(self, public_url, ca_file, log=print):
        self.base = public_url.rstrip("/")  # https://hub.example.test
        u = urllib.parse.urlsplit(self.base)
        self.origin = f"{u.scheme}://{u.netloc}"
        self.host = u.hostname
        self.ca_file = ca_file
        self.log = log
        self.s = requests.Session()
        self.s.trust_env = False  # no proxies or CA bundles from the environment
        self.s.verify = ca_file
        self.s.headers.update({
            "User-Agent": UA,
            "Accept-Language": "en-US,en;q=0.9",
            "Accept-Encoding": "gzip, deflate",
        })

    # -------------------------------------------------------------- low level
    def url(self, path):
        return self.base + path

    def xsrf(self, path):
        """The `_xsrf` cookie the browser would send for `path` (most specific path wins)."""
        best = None
        for c in self.s.cookies:
            if c.name == "_xsrf" and path.startswith(c.path or "/"):
                if best is None or len(c.path or "") > len(best.path or ""):
                    best = c
        return best.value if best else None

    def navigate(self, path, method="GET", data=None, expect=200, **kw):
        h = {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Dest": "document",
            "Upgrade-Insecure-Requests": "1",
        }
        if method != "GET":
            h["Origin"] = self.origin
        r = self.s.request(method, self.url(path), headers=h, data=data, timeout=30, **kw)
        if expect is not None:
            _check(r.status_code == expect,
                   f"{method} {path}: expected {expect}, got {r.status_code} at {r.url}: {r.text[:300]!r}")
        return r

    def fetch(self, path, method="GET", json_body=None, xsrf_path=None, expect=200, stream=False, timeout=30):
        h = {
            "Accept": "application/json, text/plain, */*",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Dest": "empty",
        }
        if method not in ("GET", "HEAD"):
            h["Origin"] = self.origin
        tok = self.xsrf(xsrf_path or path)
        if tok:
            h["X-XSRFToken"] = tok
        body = None
        if json_body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(json_body)
        r = self.s.request(method, self.url(path), headers=h, data=body, timeout=timeout,
                           allow_redirects=False, stream=stream)
        if expect is not None:
            exp = expect if isinstance(expect, (tuple, list, set)) else (expect,)
            _check(r.status_code in exp,
                   f"{method} {path}: expected {expect}, got {r.status_code}: {r.text[:500]!r}")
        return r

    def cookie_header(self, path):
        jar = self.s.cookies
        parts = []
        for c in jar:
            if c.domain and c.domain.lstrip(".") not in (self.host, ""):
                continue
            if path.startswith(c.path or "/"):
                parts.append(f"{c.name}={c.value}")
        return "; ".join(parts)

    def websocket(self, path, origin=None):
        """Open a websocket like a browser page would (Origin + cookies, no Sec-Fetch-*)."""
        ws_url = "wss://" + self.base.split("://", 1)[1] + path
        ctx = ssl.create_default_context(cafile=self.ca_file)
        headers = {"Cookie": self.cookie_header(path.split("?")[0]), "User-Agent": UA}
        return websockets.sync.client.connect(
            ws_url, ssl=ctx, origin=origin or self.origin, additional_headers=headers,
            open_timeout=20, max_size=2**24, compression=None)

    # -------------------------------------------------------------- hub
    def login(self, username, password, next_url="/hub/home"):
        """Log in on the hub's form; lands on next_url (the hub's default, /hub/spawn, would start a server)."""
        q = "?next=" + urllib.parse.quote(next_url, safe="")
        self.navigate("/hub/login" + q)
        tok = self.xsrf("/hub/")
        _check(tok, "no _xsrf cookie after GET /hub/login")
        r = self.navigate("/hub/login" + q, method="POST",
                          data={"username": username, "password": password, "_xsrf": tok}, expect=None)
        _check(r.status_code == 200 and "/hub/login" not in r.url,
               f"login failed: {r.status_code} at {r.url}")
        return r

    def user_model(self, hub_name):
        return self.fetch(f"/hub/api/users/{urllib.parse.quote(hub_name, safe='@~')}",
                          xsrf_path="/hub/").json()

    def start_server(self, hub_name, server_name="", options=None):
        q = urllib.parse.quote(hub_name, safe="@~")
        path = f"/hub/api/users/{q}/server" if not server_name else \
            f"/hub/api/users/{q}/servers/{urllib.parse.quote(server_name, safe='')}"
        return self.fetch(path, method="POST", json_body=options or {}, xsrf_path="/hub/", expect=(201, 202))

    def progress(self, hub_name, server_name="", timeout=120):
        """Follow the progress event stream (as EventSource would) until ready/failed; returns events."""
        q = urllib.parse.quote(hub_name, safe="@~")
        base = f"/hub/api/users/{q}/server" if not server_name else \
            f"/hub/api/users/{q}/servers/{urllib.parse.quote(server_name, safe='')}"
        xs = self.xsrf("/hub/")
        path = f"{base}/progress?_xsrf={urllib.parse.quote(xs or '')}"
        h = {"Accept": "text/event-stream", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
             "Sec-Fetch-Dest": "empty", "Cache-Control": "no-cache"}
        events = []
        deadline = time.monotonic() + timeout
        with self.s.get(self.url(path), headers=h, stream=True, timeout=timeout) as r:
            _check(r.status_code == 200, f"progress: {r.status_code} {r.text[:300]!r}")
            for line in r.iter_lines(chunk_size=None, decode_unicode=True):  # as the events arrive
                if time.monotonic() > deadline:
                    raise ClientError(f"progress: no ready/failed event within {timeout}s: {events}")
                if not line or not line.startswith("data:"):
                    continue
                ev = json.loads(line[5:].strip())
                events.append(ev)
                self.log(f"    progress: {ev.get('progress')} {ev.get('message')!r}"
                         f"{' READY' if ev.get('ready') else ''}{' FAILED' if ev.get('failed') else ''}")
                if ev.get("ready") or ev.get("failed"):
                    break
        return events

    def stop_server(self, hub_name, server_name=""):
        q = urllib.parse.quote(hub_name, safe="@~")
        path = f"/hub/api/users/{q}/server" if not server_name else \
            f"/hub/api/users/{q}/servers/{urllib.parse.quote(server_name, safe='')}"
        return self.fetch(path, method="DELETE", xsrf_path="/hub/", expect=(202, 204))

    def wait_stopped(self, hub_name, server_name="", timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.user_model(hub_name)
            srv = (m.get("servers") or {}).get(server_name)
            if not srv:
                return
            time.sleep(0.5)
        raise ClientError(f"server {hub_name}/{server_name!r} still listed by the hub after {timeout}s")

    # -------------------------------------------------------------- single-user server
    def lab(self, prefix):
        r = self.navigate(f"{prefix}lab")
        _check("jupyter-config-data" in r.text, f"GET {prefix}lab is not JupyterLab: {r.text[:300]!r}")
        return r

    def api_status(self, prefix):
        return self.fetch(f"{prefix}api/status").json()

    def events_subscribe(self, prefix):
        """Open /api/events/subscribe; returns the open connection (raises on a refused handshake)."""
        return self.websocket(f"{prefix}api/events/subscribe")

    def create_kernel(self, prefix):
        r = self.fetch(f"{prefix}api/kernels", method="POST", json_body={"name": "python3"},
                       expect=(200, 201))
        return r.json()

    def execute(self, prefix, kernel_id, code, timeout=60):
        session = uuid.uuid4().hex
        with self.websocket(f"{prefix}api/kernels/{kernel_id}/channels?session_id={session}") as ws:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "username": "e2e", "session": session, "msg_type": "execute_request",
                           "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            result = None
            replied = idle = False
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
                if isinstance(raw, bytes):
                    continue
                m = json.loads(raw)
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                t = m.get("msg_type") or m.get("header", {}).get("msg_type")
                if t == "execute_result":
                    result = m["content"]["data"].get("text/plain")
                elif t == "error":
                    raise ClientError(f"kernel error: {m['content'].get('ename')}: {m['content'].get('evalue')}")
                elif t == "execute_reply":
                    replied = True
                elif t == "status" and m["content"].get("execution_state") == "idle":
                    idle = True
                if replied and idle:  # shell reply and iopub idle may come in either order
                    return result
            raise ClientError(f"no execute_reply for {code!r} within {timeout}s (got {result!r})")

    def delete_kernel(self, prefix, kernel_id):
        self.fetch(f"{prefix}api/kernels/{kernel_id}", method="DELETE", expect=204)

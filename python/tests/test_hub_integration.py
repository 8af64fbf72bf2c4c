"""A real JupyterHub 6.1.1 process driving ExecSpawner and a fake acactl.

The proxy is an in-memory Proxy subclass (no configurable-http-proxy needed);
everything else is the real hub: REST API, User.spawn with its start_timeout
(asyncio.wait_for), the progress event stream, state persisted in the
database, and re-polling on restart with cleanup_servers = False.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import pid_alive

API_TOKEN = "tester-token-0123456789abcdef"

# The fake acactl: behaviour depends on JUPYTERHUB_USER.  "marcus" gets a real
# (tiny) HTTP server, "slow" never finishes starting, "broken" fails.
FAKE = r'''
import json, os, signal, subprocess, sys, time

def on_term(*_):
    record(event="term")
    time.sleep(0.3)  # "deleting the half-created app"
    record(event="cleaned")
    os._exit(143)

signal.signal(signal.SIGTERM, on_term)

record_path, userserver = sys.argv[1], sys.argv[2]
sub = sys.argv[3]
user = os.environ["JUPYTERHUB_USER"]
state = json.loads(os.environ["ACACTL_STATE"]) if "ACACTL_STATE" in os.environ else None

def record(**kw):
    with open(record_path, "a") as f:
        f.write(json.dumps(dict(kw, sub=sub, user=user)) + "\n")

def progress(p, m):
    sys.stderr.write(json.dumps({"progress": p, "message": m}) + "\n")
    sys.stderr.flush()

record(state=state, forward=os.environ["ACACTL_FORWARD"].split(","),
       has_token=bool(os.environ.get("JUPYTERHUB_API_TOKEN")))

if sub == "profiles":
    # only marcus' hub "has" profiles: the others keep the 2 s start_timeout
    if user != "marcus":
        print(json.dumps({"error": {"code": "ConfigInvalid", "message": "no profiles here"}}))
        sys.exit(2)
    print(json.dumps({"profiles": [], "start_timeout": 5, "selected": {"profile": None, "choices": {}, "start_timeout": 5}}))
elif sub == "start":
    if user == "broken":
        print(json.dumps({"error": {"code": "InvalidProfile", "message": "no such profile 'huge'"}}))
        sys.exit(2)
    if user == "slow":
        progress(10, "creating app")
        while True:
            time.sleep(0.05)
    progress(20, "creating app aca-" + user)
    sys.stderr.write("a plain log line\n")
    srv = subprocess.Popen([sys.executable, userserver], stdout=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    port = int(srv.stdout.readline())
    progress(80, "replica running")
    print(json.dumps({"name": "aca-" + user, "url": "http://127.0.0.1:%d" % port,
                      "state": {"pid": srv.pid, "port": port}}))
elif sub == "poll":
    try:
        os.kill(state["pid"], 0)
        print(json.dumps({"status": "running", "exit_status": None}))
    except ProcessLookupError:
        print(json.dumps({"status": "stopped", "exit_status": 0}))
elif sub == "stop":
    deleted = False
    if state:
        try:
            os.kill(state["pid"], signal.SIGKILL)
            deleted = True
        except ProcessLookupError:
            pass
    print(json.dumps({"name": "aca-" + user, "deleted": deleted}))
'''

USERSERVER = r'''
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"version": "2.21.1"}')
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
'''

CONFIG = r'''
import sys
from jupyterhub.proxy import Proxy

class MemoryProxy(Proxy):
    routes = {{}}
    async def start(self):
        pass
    async def stop(self):
        pass
    async def add_route(self, routespec, target, data):
        self.routes[routespec] = dict(routespec=routespec, target=target, data=data)
    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)
    async def get_all_routes(self):
        return dict(self.routes)

c.JupyterHub.proxy_class = MemoryProxy
c.JupyterHub.spawner_class = "acactl"  # the installed package's entry point
c.ExecSpawner.command = [sys.executable, {fake!r}, {record!r}, {userserver!r}]
c.ExecSpawner.term_grace = 3
c.Spawner.start_timeout = 2
c.Spawner.http_timeout = 10
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.cleanup_servers = False
# answer POST .../server at once (202) and report through the progress stream
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.services = [dict(name="tester", api_token={token!r})]
c.JupyterHub.load_roles = [
    dict(name="tester", scopes=["admin:users", "admin:servers"], services=["tester"])
]
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/hub/api"
        self.record = tmp_path / "record.jsonl"
        (tmp_path / "fake_acactl.py").write_text(FAKE)
        (tmp_path / "userserver.py").write_text(USERSERVER)
        (tmp_path / "jupyterhub_config.py").write_text(
            CONFIG.format(
                fake=str(tmp_path / "fake_acactl.py"),
                record=str(self.record),
                userserver=str(tmp_path / "userserver.py"),
                port=self.port,
                token=API_TOKEN,
            )
        )
        self.proc = None

    def start(self):
        self.log = open(self.dir / "hub.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.hub_log()
            try:
                self.request("GET", "/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise AssertionError("hub did not come up\n" + self.hub_log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def hub_log(self):
        return (self.dir / "hub.log").read_text(errors="replace")[-5000:]

    def request(self, method, path, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.api + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {API_TOKEN}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
            return resp.status, (json.loads(text) if text.strip() else None)

    def progress(self, user, timeout=15):
        req = urllib.request.Request(
            f"{self.api}/users/{user}/server/progress",
            headers={"Authorization": f"token {API_TOKEN}"},
        )
        events = []
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            for raw in resp:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
        return events

    def records(self):
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def wait_for(self, predicate, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n" + self.hub_log())


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """One hub for the module (starting one costs seconds); the tests use distinct users."""
    h = Hub(tmp_path_factory.mktemp("hub"))
    h.start()
    yield h
    h.stop()
    for line in h.records():  # never leave a user server behind
        state = line.get("state") or {}
        if state.get("pid") and pid_alive(state["pid"]):
            os.kill(state["pid"], signal.SIGKILL)


def server_model(hub, user):
    _, model = hub.request("GET", f"/users/{user}")
    return model["servers"].get("")


def test_spawn_restart_stop(hub):
    hub.request("POST", "/users/marcus")
    status, _ = hub.request("POST", "/users/marcus/server")
    assert status == 202
    events = hub.progress("marcus")
    messages = [e.get("message") for e in events]
    assert "creating app aca-marcus" in messages
    assert messages.index("creating app aca-marcus") < messages.index("replica running")
    assert events[-1].get("ready") is True
    hub.wait_for(lambda: (server_model(hub, "marcus") or {}).get("ready"), "server ready")

    model = server_model(hub, "marcus")
    state = model["state"]["acactl"]
    assert pid_alive(state["pid"])
    assert model["url"] == "/user/marcus/"
    subs = [r["sub"] for r in hub.records() if r["user"] == "marcus"]
    assert subs[:2] == ["profiles", "start"], subs  # start_timeout from acactl before the start
    (start,) = [r for r in hub.records() if r["sub"] == "start" and r["user"] == "marcus"]
    assert start["has_token"] and "JUPYTERHUB_API_TOKEN" in start["forward"]
    assert start["state"] is None

    # hub restart: the server survives, and the hub re-polls it with its state
    hub.stop()
    hub.start()
    hub.wait_for(
        lambda: any(r["sub"] == "poll" for r in hub.records()), "poll after restart"
    )
    poll = [r for r in hub.records() if r["sub"] == "poll" and r["user"] == "marcus"][0]
    assert poll["state"] == state
    assert server_model(hub, "marcus")["ready"]
    assert pid_alive(state["pid"])

    status, _ = hub.request("DELETE", "/users/marcus/server")
    assert status in (202, 204)
    hub.wait_for(lambda: server_model(hub, "marcus") is None, "server gone")
    stop = [r for r in hub.records() if r["sub"] == "stop" and r["user"] == "marcus"][-1]
    assert stop["state"] == state
    hub.wait_for(lambda: not pid_alive(state["pid"]), "user server killed")


def test_start_timeout_and_failure(hub):
    for user in ("slow", "broken"):
        hub.request("POST", f"/users/{user}")

    # start_timeout (2 s): the hub cancels start(); acactl gets SIGTERM and
    # finishes its cleanup before the spawn is reported as failed
    status, _ = hub.request("POST", "/users/slow/server")
    assert status == 202
    events = hub.progress("slow")
    assert {"progress": 10, "message": "creating app"} in events
    assert events[-1].get("failed") is True
    assert "cleaned" in [r.get("event") for r in hub.records()]
    hub.wait_for(lambda: server_model(hub, "slow") is None, "slow server cleared")
    # no state was ever stored, so the hub's cleanup needs no acactl stop
    calls = [r["sub"] for r in hub.records() if r["user"] == "slow" and "event" not in r]
    assert calls == ["profiles", "start"]
    assert [r["event"] for r in hub.records() if "event" in r] == ["term", "cleaned"]

    # a failing start: the error code and message reach the user
    status, _ = hub.request("POST", "/users/broken/server")
    assert status == 202
    failed = hub.progress("broken")[-1]
    assert failed.get("failed") is True
    assert "InvalidProfile" in failed["message"]
    assert "no such profile 'huge'" in failed["message"]

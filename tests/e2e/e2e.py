"""Orchestrator of the real-JupyterHub e2e test. Run by tests/e2e/run.sh inside `unshare --mount --net`.

Brings up, inside the private namespaces: loopback, a private /etc/hosts (bind-mounted), a test CA and
the hub's public TLS certificate, the fake ARM in launch mode, the ACA-style ingress (ports 80/443), then
one JupyterHub per configuration group (built from contrib/jupyterhub_config.py) and runs the scenarios
of that group with the browser-like client. Prints PASS/FAIL per scenario and `N passed, M failed`.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import client as client_mod  # noqa: E402

PUBLIC_HOST = "hub.example.test"
PUBLIC_URL = f"https://{PUBLIC_HOST}/"
HUB_APP = "jupyterhub"
PASSWORD = "e2e-password-not-secret"
CHP_PORT = 8000
SPAWNER_ARG = "--ServerApp.shutdown_no_activity_timeout=0"  # harmless; proves c.Spawner.args arrive
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


class Failure(AssertionError):
    pass


class Fatal(Failure):
    """Stops a wait_for at once."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_for(what, fn, timeout, interval=0.25):
    """Call fn until it returns a truthy value; Failure after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - keep trying until the deadline
            last = e
        time.sleep(interval)
    raise Failure(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last!r})" if last else ""))


# ------------------------------------------------------------------------------------------- environment
class World:
    """Namespace setup + long-lived processes (fake ARM, ingress) shared by all groups."""

    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.procs = []
        self.home = os.path.join(self.work, "home")
        os.makedirs(os.path.join(self.home, ".jupyter"), exist_ok=True)
        # Stands in for the notebook image's own config: its user is not root, ours (fake-arm's child) is.
        with open(os.path.join(self.home, ".jupyter", "jupyter_server_config.json"), "w") as f:
            json.dump({"ServerApp": {"allow_root": True}}, f)
        self.venv_bin = os.path.join(a.venv, "bin")
        self.path = ":".join([self.venv_bin, os.path.dirname(a.chp), "/usr/local/bin", "/usr/bin", "/bin"])

    # -- namespace
    def setup_namespace(self):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        self.hosts = os.path.join(self.work, "hosts")
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")
            f.write(f"127.0.0.1\t{HUB_APP}\n127.0.0.1\t{PUBLIC_HOST}\n")
            # the hub checks CHP at its bind address 0.0.0.0 as socket.gethostname(), like a replica's own name
            f.write(f"127.0.0.1\t{socket.gethostname()}\n")
        resolv = os.path.join(self.work, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("# private e2e namespace: no DNS server\noptions timeout:1 attempts:1\n")
        subprocess.run(["mount", "--bind", self.hosts, "/etc/hosts"], check=True)
        subprocess.run(["mount", "--bind", resolv, "/etc/resolv.conf"], check=True)
        # prove we are isolated: only loopback exists
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        check(all(": lo:" in ln for ln in links.strip().splitlines()), f"not in a private netns: {links}")

    # -- TLS for the public host
    def make_certs(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acactl e2e test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC_HOST)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(PUBLIC_HOST)]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        d = os.path.join(self.work, "tls")
        os.makedirs(d, exist_ok=True)
        self.ca_file = os.path.join(d, "ca.pem")
        self.cert_file = os.path.join(d, "hub.pem")
        self.key_file = os.path.join(d, "hub.key")
        with open(self.ca_file, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(self.cert_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

    # -- processes
    def spawn(self, name, argv, env, cwd=None, stdout=None):
        logf = open(os.path.join(self.work, f"{name}.log"), "ab")
        p = subprocess.Popen(argv, env=env, cwd=cwd or self.work, stdin=subprocess.DEVNULL,
                             stdout=stdout if stdout is not None else logf, stderr=logf,
                             start_new_session=True)
        p.e2e_name = name
        self.procs.append(p)
        return p

    def base_env(self):
        return {"PATH": self.path, "HOME": self.home, "LANG": "C.UTF-8", "TMPDIR": os.path.join(self.work, "tmp")}

    def start_fake(self):
        os.makedirs(os.path.join(self.work, "tmp"), exist_ok=True)
        env = self.base_env()
        env["VIRTUAL_ENV"] = self.a.venv
        p = self.spawn("fake-arm", [self.a.fake_arm, "--listen", "127.0.0.1:0",
                                    "--state-dir", os.path.join(self.work, "fake"), "--launch",
                                    "--provision-polls", "2", "--retry-after", "1", "--failure-polls", "4"],
                       env, stdout=subprocess.PIPE)
        line = p.stdout.readline().decode()
        check(line.strip(), f"fake-arm printed no ready line (see {self.work}/fake-arm.log)")
        self.info = json.loads(line)
        log(f"fake ARM at {self.info['base_url']} (environment {self.info['environment']}, "
            f"domain {self.info.get('default_domain')})")
        self.admin = self.info["admin_url"].rstrip("/")
        self.fake_ca = self.info["ca_pem"]
        self.admin_ctx = ssl.create_default_context(cafile=self.fake_ca)

    def start_ingress(self):
        dom = self.info.get("default_domain") or ""
        static = [f"{HUB_APP}={CHP_PORT}"] + ([f"{HUB_APP}.internal.{dom}={CHP_PORT}"] if dom else [])
        argv = [os.path.join(self.venv_bin, "python"), os.path.join(HERE, "ingress.py"),
                "--admin-url", self.admin, "--ca", self.fake_ca, "--hosts-file", self.hosts,
                "--public-host", PUBLIC_HOST, "--public-port", str(CHP_PORT),
                "--tls-cert", self.cert_file, "--tls-key", self.key_file]
        for s in static:
            argv += ["--static", s]
        p = self.spawn("ingress", argv, self.base_env(), stdout=subprocess.PIPE)
        line = p.stdout.readline().decode()
        check(line.strip().startswith("{"), f"ingress did not start (see {self.work}/ingress.log)")

    # -- fake ARM admin API
    def admin_call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.admin + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.admin_ctx, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return {"status": e.code, "error": e.read().decode(errors="replace")}

    def apps(self):
        return self.admin_call("GET", "/apps")

    def apps_of(self, user, server=""):
        return [a for a in self.apps()
                if (a.get("tags") or {}).get("acactl-user") == user
                and (a.get("tags") or {}).get("acactl-server", "") == server]

    def arm_get_app(self, name):
        """GET the app through ARM. The fake's clock only advances when ARM is polled (every GET of the app
        or of an operation is one tick), while real ARM finishes an accepted DELETE on its own: so waiting
        for a deletion polls the app, as time passing. (A DELETE that was never sent still never completes.)"""
        if not getattr(self, "arm_token", None):
            self.arm_token = self.admin_call("POST", "/token", {"expires_in": 3600})["access_token"]
        url = (f"{self.info['base_url']}/subscriptions/{self.info['subscription']}/resourceGroups/"
               f"{self.info['resource_group']}/providers/Microsoft.App/containerApps/{name}?api-version=2026-07-01")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.arm_token}"})
        try:
            with urllib.request.urlopen(req, context=self.admin_ctx, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def wait_gone(self, name, timeout):
        def gone():
            if name not in [a["name"] for a in self.apps()]:
                return True
            self.arm_get_app(name)
            return False
        wait_for(f"app {name} to be deleted from the fake ARM", gone, timeout, interval=0.5)

    def app_name(self, acactl_config, user, server=""):
        """The app name acactl will use (acactl start --dry-run: no network, no credentials)."""
        argv = [self.a.acactl, "--config", acactl_config, "start", "--dry-run", "--user", user]
        if server:
            argv += ["--server", server]
        out = subprocess.run(argv, capture_output=True, text=True, env=self.base_env(), timeout=30)
        check(out.returncode == 0, f"acactl start --dry-run failed: {out.stderr}")
        return json.loads(out.stdout)["name"]

    def acactl_config(self, name, allow_origin="auto", start_timeout=60):
        path = os.path.join(self.work, f"acactl-{name}.yaml")
        cfg = {
            "hub_id": "e2e",
            "subscription_id": self.info["subscription"],
            "resource_group": self.info["resource_group"],
            "environment": self.info["environment"],
            "location": self.info["location"],
            "cloud": "custom",
            "cloud_endpoints": {"resource_manager": self.info["base_url"],
                                "authority_host": self.info["base_url"],
                                "token_scope": "https://management.azure.com/.default"},
            "ca_bundle": self.fake_ca,
            "credential": {"type": "managed-identity"},
            "cache_dir": os.path.join(self.work, "acactl-cache"),
            "hub": {"public_url": PUBLIC_URL, "connect_url": f"http://{HUB_APP}", "allow_origin": allow_origin},
            "server": {"image": "local/singleuser", "command": ["jupyterhub-singleuser"], "target_port": 8888,
                       "start_timeout": start_timeout},
            "arm": {"poll_interval_ms": 300, "retry_base_ms": 100},
        }
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)  # JSON is YAML
        return path

    def app_log(self, name):
        p = os.path.join(self.work, "fake", "apps", name, "output.log")
        try:
            with open(p, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


# ------------------------------------------------------------------------------------------- hub
HUB_CONFIG_TEMPLATE = '''\
# Generated by tests/e2e/e2e.py: the project's contrib/jupyterhub_config.py, then test-only overrides.
import os
c = get_config()  # noqa: F821
_contrib = {contrib!r}
with open(_contrib) as _f:
    exec(compile(_f.read(), _contrib, "exec"), {{"get_config": get_config, "__file__": _contrib,  # noqa: F821
                                                 "__name__": "contrib_jupyterhub_config"}})

# --- test-only overrides ---
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.allow_named_servers = True
c.JupyterHub.cookie_secret_file = {cookie_secret!r}
c.ConfigurableHTTPProxy.pid_file = {chp_pid!r}
c.JupyterHub.log_level = "DEBUG"
# POST .../server answers 202 at once and the client follows the progress stream, as the spawn page does
c.JupyterHub.tornado_settings = dict(c.JupyterHub.tornado_settings, slow_spawn_timeout=1)
c.Spawner.debug = False
# JupyterHub's own Spawner.args reach the container after acactl's own args (ACACTL_ARGS)
c.Spawner.args = [{spawner_arg!r}]
{extra}
'''

BATCH_CONFIG = '''
# --- batchspawner driving acactl's batch mode (README.md, "batchspawner") ---
import json
import batchspawner
from traitlets import Integer, Unicode

class ACABatchSpawner(batchspawner.BatchSpawnerRegexStates):
    port = Integer(80)                     # no batchspawner-singleuser port callback: ACA serves on 80
    req_homedir = Unicode("/home/jovyan")  # not configurable; the default needs a Unix account per user

c.JupyterHub.spawner_class = ACABatchSpawner
c.ACABatchSpawner.exec_prefix = ""
c.ACABatchSpawner.batchspawner_singleuser_cmd = ""
c.ACABatchSpawner.batch_script = ""        # acactl never reads the script: the container comes from its config
c.ACABatchSpawner.batch_submit_cmd = "{acactl} batch submit"
c.ACABatchSpawner.batch_query_cmd = "{acactl} batch query {{job_id}}"
c.ACABatchSpawner.batch_cancel_cmd = "{acactl} batch cancel {{job_id}}"
c.ACABatchSpawner.state_pending_re = r'"state":"pending"'   # the regexes documented in README.md
c.ACABatchSpawner.state_running_re = r'"state":"running"'
c.ACABatchSpawner.state_unknown_re = r'"state":"unknown"'
c.ACABatchSpawner.state_exechost_re = r'"host":"([a-z0-9-]+)"'
c.ACABatchSpawner.startup_poll_interval = 1.0
# submit runs with ONLY get_env(): keep what acactl needs to reach ARM (never forwarded into the app)
c.ACABatchSpawner.env_keep = ["JUPYTERHUB_SINGLEUSER_APP", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                              "AZURE_CLIENT_ID", "ACACTL_CONFIG"]
# user options reach acactl only through ACACTL_USER_OPTIONS
c.ACABatchSpawner.environment = {{"ACACTL_USER_OPTIONS": lambda spawner: json.dumps(spawner.user_options or {{}})}}
c.ACABatchSpawner.start_timeout = 120
c.ACABatchSpawner.http_timeout = 60
'''


class Hub:
    """A hub run from the venv the acactl wheel is installed in: `spawner_class = "acactl"` (the package's
    entry point), the binary installed with it, no PYTHONPATH and no ACACTL_BIN.

    dockerfile=True runs the README Dockerfile's CMD as is: `jupyterhub -f <contrib/jupyterhub_config.py>`
    from a fresh directory, with only the environment an ACA hub app has (no test overrides)."""

    def __init__(self, world, name, acactl_config, extra="", env_extra=None, dockerfile=False):
        self.w = world
        self.name = name
        self.dir = os.path.join(world.work, f"hub-{name}")
        os.makedirs(self.dir, exist_ok=True)
        self.acactl_config = acactl_config
        contrib = os.path.join(world.a.repo, "contrib", "jupyterhub_config.py")
        if dockerfile:
            self.cfg = contrib
            self.chp_pid = os.path.join(self.dir, "jupyterhub-proxy.pid")  # CHP's default, in the cwd
        else:
            self.cfg = os.path.join(self.dir, "jupyterhub_config.py")
            self.chp_pid = os.path.join(self.dir, "chp.pid")
            with open(self.cfg, "w") as f:
                f.write(HUB_CONFIG_TEMPLATE.format(
                    contrib=contrib, password=PASSWORD, cookie_secret=os.path.join(self.dir, "cookie_secret"),
                    chp_pid=self.chp_pid, spawner_arg=SPAWNER_ARG, extra=extra))
        self.env = world.base_env()
        self.env.update({
            "CONTAINER_APP_NAME": HUB_APP,
            "ACACTL_CONFIG": acactl_config,
            "ACACTL_HUB_PUBLIC_URL": PUBLIC_URL,
            "ACACTL_HUB_DB_URL": f"sqlite:///{os.path.join(self.dir, 'jupyterhub.sqlite')}",
            "ACACTL_START_TIMEOUT": "60",
            "ACACTL_TERM_GRACE": "20",
            "ACACTL_HTTP_TIMEOUT": "30",
            "ACACTL_POLL_INTERVAL": "5",
            # what ACA gives the hub app: its managed identity endpoint
            "IDENTITY_ENDPOINT": world.info["identity_endpoint"],
            "IDENTITY_HEADER": world.info["identity_header"],
        })
        self.env.update(env_extra or {})
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.proc = self.w.spawn(f"hub-{self.name}-{self.starts}",
                                 [os.path.join(self.w.venv_bin, "jupyterhub"), "-f", self.cfg],
                                 self.env, cwd=self.dir)
        ctx = ssl.create_default_context(cafile=self.w.ca_file)

        def up():
            if self.proc.poll() is not None:
                raise Fatal(f"hub exited with {self.proc.returncode} (see {self.logfile()})")
            with urllib.request.urlopen(PUBLIC_URL + "hub/api", context=ctx, timeout=5) as r:
                return r.status == 200
        wait_for("the hub to answer on https://hub.example.test/hub/api", up, 60)
        log(f"hub '{self.name}' up (start #{self.starts})")

    def logfile(self):
        return os.path.join(self.w.work, f"hub-{self.name}-{self.starts}.log")

    def log_text(self):
        try:
            with open(self.logfile(), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # CHP is started by the hub; the hub stops it on a clean shutdown, not when it fails to start
        try:
            with open(self.chp_pid) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        # CHP is the hub's child in its own process group; make sure nothing is left on the ports
        wait_for("ports 8000/8081 to be free", lambda: not _port_open(CHP_PORT) and not _port_open(8081), 15)


def _port_open(port):
    import socket
    s = socket.socket()
    s.settimeout(0.2)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


# ------------------------------------------------------------------------------------------- scenario steps
def browser(world, user):
    b = client_mod.Browser(PUBLIC_URL, world.ca_file, log=log)
    b.login(user, PASSWORD)
    return b


def spawn(world, b, hub_user, server="", options=None):
    b.start_server(hub_user, server, options)
    events = b.progress(hub_user, server, timeout=120)
    last = events[-1] if events else {}
    check(last.get("ready"), f"spawn did not become ready: {last}")
    prefix = urllib.parse.urlsplit(last["url"]).path
    if not prefix.endswith("/"):
        prefix += "/"
    apps = world.apps_of(hub_user, server)
    check(len(apps) == 1, f"expected exactly one app for {hub_user!r}/{server!r}, found {[a['name'] for a in apps]}")
    app = apps[0]
    check_app_spec(app)
    log(f"  server ready at {prefix} (app {app['name']})")
    return prefix, app["name"]


def check_app_spec(app):
    """What acactl must (not) put into the user app."""
    spec = app["app"]["properties"]
    ing = spec["configuration"]["ingress"]
    check(ing.get("allowInsecure") is True, f"user app ingress must allowInsecure (else ACA answers 301): {ing}")
    check(ing.get("external") is False, f"user app ingress must be internal: {ing}")
    env = {e["name"]: e for e in spec["template"]["containers"][0].get("env", [])}
    for k in env:
        check(not k.startswith(("IDENTITY_", "AZURE_", "MSI_", "ACACTL_")) and k not in ("PATH", "HOME"),
              f"hub-side variable {k} leaked into the user app")
    tok = env.get("JUPYTERHUB_API_TOKEN")
    check(tok is not None and "secretRef" in tok and "value" not in tok,
          f"JUPYTERHUB_API_TOKEN must be a secretRef, got {tok}")


def use_server(world, b, prefix, app_name, expect_secure_cookie=True):
    """Through the hub: lab page, api/status, events websocket, kernel + 1+1."""
    b.lab(prefix)
    if expect_secure_cookie:
        cs = [c for c in b.s.cookies if c.name.startswith("jupyterhub-user-")]
        check(cs and all(c.secure for c in cs), f"single-user auth cookie must be secure: {[(c.name, c.secure) for c in cs]}")
    st = b.api_status(prefix)
    check("started" in st, f"api/status: {st}")
    with b.events_subscribe(prefix):
        pass
    k = b.create_kernel(prefix)
    try:
        out = b.execute(prefix, k["id"], "1+1")
        check(out == "2", f"1+1 gave {out!r}")
    finally:
        b.delete_kernel(prefix, k["id"])
    check("Blocking Cross Origin" not in world.app_log(app_name),
          "the single-user server blocked a request (see its output.log)")
    log(f"  lab, api/status, events websocket, kernel 1+1=2 OK via {prefix}")


def stop(world, b, hub_user, app_name, server=""):
    b.stop_server(hub_user, server)
    b.wait_stopped(hub_user, server, timeout=60)
    world.wait_gone(app_name, 30)
    log(f"  stopped; app {app_name} gone from the fake ARM")


def count_puts(world, app_name):
    reqs = world.admin_call("GET", "/requests")
    return sum(1 for r in reqs if r.get("method") == "PUT" and f"/containerApps/{app_name}?" in r.get("path", ""))


# ------------------------------------------------------------------------------------------- scenarios
def _raw(port, host, path="/", headers=None, tls_ca=None, sni=None):
    """One HTTP/1.1 request straight to the ingress; -> (status, headers, body)."""
    import http.client
    if tls_ca:
        ctx = ssl.create_default_context(cafile=tls_ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": host}
    h.update(headers or {})
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    body = r.read().decode(errors="replace")
    conn.close()
    return r.status, dict(r.getheaders()), body


def sc_ingress(world, hub):
    """The ACA-style ingress answers as ACA does (checked directly, apps inserted through the admin API)."""
    dom = world.info["default_domain"]
    ws = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}

    def app(name, allow_insecure, transport):
        body = {"location": world.info["location"], "properties": {
            "environmentId": world.info["environment_id"],
            "configuration": {"ingress": {"external": False, "targetPort": 8888, "transport": transport,
                                          "allowInsecure": allow_insecure}},
            "template": {"containers": [{"name": "c", "image": "local/none", "resources": {"cpu": 0.5, "memory": "1Gi"}}]}}}
        r = world.admin_call("POST", "/apps", {"name": name, "body": body})
        check(r.get("ok"), f"admin POST /apps {name}: {r}")

    app("ing-secure", False, "http")
    app("ing-auto", True, "auto")
    app("ing-http", True, "http")
    try:
        wait_for("the ingress to see the inserted apps", lambda: _raw(80, "ing-http")[0] == 503, 10)
        st, _, body = _raw(80, "no-such-app")
        check(st == 404 and "This Container App is stopped or does not exist" in body, f"unknown Host: {st}")
        st, _, body = _raw(80, PUBLIC_HOST, "/hub/api")
        check(st == 404 and "does not exist" in body, f"public host on the in-environment listener: {st}")
        st, _, body = _raw(80, HUB_APP, "/hub/api")
        check(st == 200 and "version" in body, f"hub app on :80 -> CHP -> hub: {st} {body[:100]!r}")
        st, _, body = _raw(443, PUBLIC_HOST, "/hub/api", tls_ca=world.ca_file)
        check(st == 200, f"public host on the TLS listener: {st}")
        st, _, body = _raw(443, HUB_APP, "/hub/api", tls_ca=world.ca_file)
        check(st == 404 and "does not exist" in body, f"other Host on the TLS listener: {st}")
        st, h, _ = _raw(80, "ing-secure", "/x?y=1")
        check(st == 301 and h.get("location") == "https://ing-secure/x?y=1", f"allowInsecure false: {st} {h}")
        st, _, body = _raw(80, "ing-auto", "/ws", headers=ws)
        check(st == 503 and "protocol error" in body, f"websocket upgrade with transport auto: {st} {body!r}")
        st, _, body = _raw(80, "ing-http", "/")
        check(st == 503 and "connection failure" in body, f"app not listening: {st} {body!r}")
        st, _, _ = _raw(80, f"ing-http.internal.{dom}", "/")
        check(st == 503, f"app fqdn, not listening: {st}")
        st, _, _ = _raw(80, "ING-HTTP", "/")
        check(st == 503, f"Host is case-insensitive: {st}")
        log("  404 unknown/public Host, 301 allowInsecure=false, 503 upgrade on transport auto, 503 not listening,"
            " hub app and public TLS host -> CHP: OK")
    finally:
        for n in ("ing-secure", "ing-auto", "ing-http"):
            world.admin_call("DELETE", f"/apps/{n}")


def sc_dockerfile(world, hub):
    """README's Dockerfile CMD, `jupyterhub -f .../jupyterhub_config.py` from a directory that is not on
    sys.path, with nothing but `pip install acactl jupyterhub`: the hub loads the spawner by entry point."""
    version = subprocess.run([os.path.join(world.venv_bin, "acactl"), "--version"], capture_output=True,
                             text=True, timeout=30).stdout.split()[-1]
    text = hub.log_text()
    check(f"Using Spawner: acactl.spawner.ExecSpawner-{version}" in text,
          f"the hub must load the acactl package's spawner (see {hub.logfile()})")
    check("ModuleNotFoundError" not in text and "PYTHONPATH" not in hub.env, "no PYTHONPATH, no import error")
    r = urllib.request.urlopen(PUBLIC_URL + "hub/login", context=ssl.create_default_context(cafile=world.ca_file),
                               timeout=10)
    check(r.status == 200, f"GET /hub/login: {r.status}")
    log(f"  the Dockerfile's CMD runs: 'Using Spawner: acactl.spawner.ExecSpawner-{version}'")


def chromium_session(world, user):
    """Headless Chromium: the hub's login form, the spawn page, JupyterLab at /user/<user>/lab, then the
    in-page checks (events websocket, kernel, 1+1). -> (their results, the app's name)."""
    import chromium

    t = time.monotonic()
    c = chromium.Chromium(world.work, PUBLIC_HOST, log=log)
    try:
        c.navigate(PUBLIC_URL + "hub/login")
        c.wait_js("!!document.querySelector('#username_input')", "the hub's login form", 30)
        c.evaluate("(() => {"
                   f"document.querySelector('#username_input').value = {json.dumps(user)};"
                   f"document.querySelector('#password_input').value = {json.dumps(PASSWORD)};"
                   "document.querySelector('#login_submit').click(); return true; })()")
        c.wait_location(r"/(hub/(home|spawn|spawn-pending/.*)?|user/.*)$", 30)
        log(f"  logged in on the form ({time.monotonic() - t:.1f}s)")
        c.navigate(PUBLIC_URL + "hub/spawn")  # the spawn page; no options form: the spawn starts at once
        href = c.wait_location(rf"/user/{user}/lab(\?.*)?$", 150)
        log(f"  spawned and landed on {href} ({time.monotonic() - t:.1f}s)")
        c.wait_js("!!document.querySelector('.jp-LabShell')", "JupyterLab's shell in the page", 90)
        log(f"  JupyterLab rendered ({time.monotonic() - t:.1f}s)")
        out = c.evaluate(chromium.IN_PAGE_CHECKS + f"({json.dumps(f'/user/{user}/')})", timeout=120)
    finally:
        c.close()
    log(f"  in-page checks: {out}")
    apps = world.apps_of(user)
    check(len(apps) == 1, f"expected one app for {user}: {[a['name'] for a in apps]}")
    return out, apps[0]["name"]


def sc_browser(world, hub):
    """Headless Chromium: the hub's login form, spawn, JupyterLab at /user/<name>/lab, and from inside the
    page the events websocket, a kernel and 1+1 = 2; the server logs no "Blocking Cross Origin"."""
    out, app = chromium_session(world, "betty")
    check(out.get("xsrf"), f"no _xsrf cookie in the page: {out}")
    check(out.get("events") == "open", f"the events websocket must connect from the page: {out}")
    check(out.get("kernel_status") == 201, f"kernel creation from the page: {out}")
    check(out.get("result") == "2", f"1+1 from the page: {out}")
    check("Blocking Cross Origin" not in world.app_log(app), "the single-user server blocked a request (see its output.log)")
    stop(world, browser(world, "betty"), "betty", app)


def sc_browser_neg_no_allow_origin(world, hub):
    """NEGATIVE CONTROL for the browser scenario: the same steps against acactl `hub.allow_origin: off`
    must fail where the issue says (events websocket, kernel creation), proving the browser checks bite."""
    out, app = chromium_session(world, "henry")
    check(out.get("events") != "open", f"without allow_origin the events websocket must not open: {out}")
    check(out.get("kernel_status") in (403, 404), f"without allow_origin kernel creation must be refused: {out}")
    wait_for("'Blocking Cross Origin' in the single-user server's log",
             lambda: "Blocking Cross Origin" in world.app_log(app), 10)
    log(f"  as expected: events websocket {out.get('events')}, POST api/kernels {out.get('kernel_status')}")
    stop(world, browser(world, "henry"), "henry", app)


def sc_happy(world, hub):
    b = browser(world, "alice")
    prefix, app = spawn(world, b, "alice")
    c0 = world.apps_of("alice")[0]["app"]["properties"]["template"]["containers"][0]
    check(c0.get("args", [])[-1:] == [SPAWNER_ARG], f"c.Spawner.args must come last in the container's args: {c0.get('args')}")
    use_server(world, b, prefix, app)
    stop(world, b, "alice", app)


def sc_escaped_user(world, hub):
    raw = "Marcus.Müller@example.org"
    b = browser(world, raw)
    hub_user = b.user_model(raw.lower())["name"]  # the authenticator normalizes (lower case)
    check(hub_user == raw.lower(), f"hub user name {hub_user!r}")
    prefix, app = spawn(world, b, hub_user)
    check("%C3%BC" in prefix.upper() or "ü" in prefix, f"prefix not escaped as expected: {prefix}")
    use_server(world, b, prefix, app)
    stop(world, b, hub_user, app)


def sc_named_server(world, hub):
    b = browser(world, "carol")
    prefix, app = spawn(world, b, "carol", "gpu")
    check(prefix.endswith("/user/carol/gpu/"), f"named server prefix {prefix}")
    use_server(world, b, prefix, app)
    stop(world, b, "carol", app, "gpu")


def sc_hub_restart(world, hub):
    b = browser(world, "dave")
    prefix, app = spawn(world, b, "dave")
    use_server(world, b, prefix, app)
    k = b.create_kernel(prefix)
    b.execute(prefix, k["id"], "x = 41")
    log("  restarting the hub while dave's server runs")
    hub.stop()
    check([a["name"] for a in world.apps_of("dave")] == [app], "the app must survive the hub's shutdown")
    hub.start()
    m = b.user_model("dave")
    srv = (m.get("servers") or {}).get("")
    check(srv and srv.get("ready"), f"after the restart the hub must still list dave's server as ready: {m}")
    apps = world.apps_of("dave")
    check([a["name"] for a in apps] == [app], f"adopted, not duplicated: apps {[a['name'] for a in apps]}")
    check(count_puts(world, app) == 1, f"the app must have been created once (PUTs: {count_puts(world, app)})")
    # the same server process: the kernel started before the restart still has its state
    out = b.execute(prefix, k["id"], "x + 1")
    check(out == "42", f"kernel state after the hub restart: {out!r}")
    b.delete_kernel(prefix, k["id"])
    use_server(world, b, prefix, app)
    stop(world, b, "dave", app)


def sc_app_deleted_outside(world, hub):
    """The app disappears behind the hub's back (e.g. `acactl gc`, an admin): the hub's poll notices."""
    b = browser(world, "olga")
    prefix, app = spawn(world, b, "olga")
    r = world.admin_call("DELETE", f"/apps/{app}")
    check(r.get("ok"), f"admin DELETE: {r}")
    t = time.monotonic()
    wait_for("the hub's poll to notice that olga's app is gone",
             lambda: not (b.user_model("olga").get("servers") or {}), 30)
    log(f"  the hub dropped the server {time.monotonic() - t:.1f}s after the app was deleted (poll_interval 5 s)")
    r = b.navigate(f"{prefix}lab", expect=None)
    check("/hub/" in r.url, f"after that, /user/olga/ is the hub's again: {r.status_code} {r.url}")


def sc_provision_failure(world, hub):
    name = world.app_name(hub.acactl_config, "erin")
    world.admin_call("POST", "/behaviour", {"match": name, "behaviour": "ProvisionFailed"})
    b = browser(world, "erin")
    r = b.fetch("/hub/api/users/erin/server", method="POST", json_body={}, xsrf_path="/hub/", expect=(202, 500))
    if r.status_code == 500:  # failed within slow_spawn_timeout: the error is in the answer too
        log(f"  POST answered 500: {r.json().get('message')!r}")
        check("expired" in r.text.lower(), f"the ARM provisioning error must reach the user: {r.text!r}")
    events = b.progress("erin", timeout=90)
    last = events[-1] if events else {}
    check(last.get("failed"), f"expected a failed spawn, got {last}")
    msg = last.get("message", "")
    log(f"  spawn error shown to the user: {msg!r}")
    check("Operation expired" in msg,
          f"the ARM provisioning error must reach the user: {msg!r}")
    page = b.navigate("/hub/spawn-pending/erin", expect=None)
    check("Operation expired" in page.text, f"the spawn page must show the error: {page.status_code} {page.text[:300]!r}")
    log("  /hub/spawn-pending/erin shows the error")
    world.wait_gone(name, 30)
    check(not (b.user_model("erin").get("servers") or {}), "no server may be left for erin")


def sc_image_pull_failure(world, hub):
    name = world.app_name(hub.acactl_config, "fiona")
    world.admin_call("POST", "/behaviour", {"match": name, "behaviour": "ImagePullFailure"})
    b = browser(world, "fiona")
    b.fetch("/hub/api/users/fiona/server", method="POST", json_body={}, xsrf_path="/hub/", expect=(202, 500))
    events = b.progress("fiona", timeout=90)
    last = events[-1] if events else {}
    check(last.get("failed"), f"expected a failed spawn, got {last}")
    msg = last.get("message", "")
    log(f"  spawn error shown to the user: {msg!r}")
    check("ImagePullBackOff" in msg or "pulling image" in msg, f"the image pull error must reach the user: {msg!r}")
    world.wait_gone(name, 30)
    check(not (b.user_model("fiona").get("servers") or {}), "no server may be left for fiona")


def sc_start_timeout(world, hub):
    name = world.app_name(hub.acactl_config, "frank")
    world.admin_call("POST", "/behaviour", {"match": name, "behaviour": "SlowProvision", "polls": 100000})
    b = browser(world, "frank")
    t = time.monotonic()
    b.start_server("frank")
    wait_for(f"app {name} to be created", lambda: name in [a["name"] for a in world.apps()], 20)
    events = b.progress("frank", timeout=90)
    last = events[-1] if events else {}
    check(last.get("failed"), f"expected the hub's start_timeout to fail the spawn, got {last}")
    log(f"  spawn failed after {time.monotonic() - t:.0f}s: {last.get('message')!r}")
    world.wait_gone(name, 40)
    log(f"  app {name} cleaned up {time.monotonic() - t:.0f}s after the spawn request")
    wait_for("the hub to forget frank's server", lambda: not (b.user_model("frank").get("servers") or {}), 30)


def sc_neg_no_change_origin(world, hub):
    b = browser(world, "gina")
    prefix, app = spawn(world, b, "gina")  # the hub's own readiness check uses the app name: "ready"
    r = b.navigate(f"{prefix}lab", expect=None)
    check(r.status_code == 404 and "This Container App is stopped or does not exist" in r.text,
          f"without --change-origin the ingress must answer 404 for /user/...: got {r.status_code} {r.text[:200]!r}")
    log(f"  as expected: GET {prefix}lab -> 404 'This Container App is stopped or does not exist.'")
    stop(world, b, "gina", app)


def sc_neg_no_allow_origin(world, hub):
    b = browser(world, "hank")
    prefix, app = spawn(world, b, "hank")
    b.lab(prefix)
    b.api_status(prefix)  # same-origin GETs carry no Origin: these still work
    blocked = None
    try:
        with b.events_subscribe(prefix):
            pass
    except Exception as e:  # websockets.InvalidStatus
        blocked = e
    check(blocked is not None, "without allow_origin the events websocket must be refused")
    check("403" in str(blocked), f"expected HTTP 403 on the websocket handshake, got {blocked!r}")
    wait_for("'Blocking Cross Origin' in the single-user server's log",
             lambda: "Blocking Cross Origin" in world.app_log(app), 10)
    r = b.fetch(f"{prefix}api/kernels", method="POST", json_body={"name": "python3"}, expect=None)
    check(r.status_code in (403, 404), f"kernel creation must be blocked, got {r.status_code}")
    line = next(ln for ln in world.app_log(app).splitlines() if "Blocking Cross Origin" in ln)
    log(f"  as expected: events websocket refused ({blocked}); log: {line.strip()[:160]}")
    stop(world, b, "hank", app)


def sc_batchspawner(world, hub):
    b = browser(world, "ivan")
    # user options are template variables of batchspawner's script: they must not reach the container.
    # acactl refuses options its configuration does not define (this hub has no profiles), naming the
    # option, before anything is created. (On a named server: the hub keeps a server's last user
    # options and reuses them when a later spawn sends none.)
    evil = {"cmd": "--ServerApp.allow_origin=*", "image": "evil/image"}
    try:
        b.start_server("ivan", "evil", evil)
        last = (b.progress("ivan", "evil", timeout=120) or [{}])[-1]
        check(last.get("failed"), f"a spawn with undefined user options must fail, got {last}")
    except client_mod.ClientError as e:
        check("500" in str(e), f"unexpected answer to a spawn with undefined user options: {e}")
    wait_for("the refusal in the hub log", lambda: "user option `cmd` is not accepted" in hub.log_text(), 30)
    check(not world.apps_of("ivan", "evil"), "an app was created for refused user options")
    log("  undefined user options refused before any app was created")
    prefix, app = spawn(world, b, "ivan")
    c0 = world.apps_of("ivan")[0]["app"]["properties"]["template"]["containers"][0]
    argv = c0.get("command", []) + c0.get("args", [])
    check(c0["image"] == "local/singleuser" and not any("*" in x for x in argv)
          and "--ServerApp.allow_origin=https://hub.example.test" in argv,
          f"user options leaked into the container: image {c0['image']}, argv {argv}")
    use_server(world, b, prefix, app)
    stop(world, b, "ivan", app)


# (group, scenario list, hub factory)
def groups(world):
    std_cfg = world.acactl_config("std")
    off_cfg = world.acactl_config("no-allow-origin", allow_origin="off")
    chp_plain = f"c.ConfigurableHTTPProxy.command = [{world.a.chp!r}]  # NEGATIVE CONTROL: no --change-origin\n"
    timeout_extra = ("c.Spawner.start_timeout = 8   # the hub gives up long before acactl would\n"
                     "c.ExecSpawner.term_grace = 20\n"
                     "c.ExecSpawner.profile_start_timeout = False  # keep the 8 s above\n")
    batch_extra = BATCH_CONFIG.format(acactl=os.path.join(world.venv_bin, "acactl"))  # the wheel's binary
    return [
        ("dockerfile", lambda: Hub(world, "dockerfile", std_cfg, dockerfile=True),
         [("dockerfile-cmd-loads-the-spawner", sc_dockerfile)]),
        ("exec", lambda: Hub(world, "exec", std_cfg),
         [("ingress-emulation", sc_ingress), ("browser-happy-path", sc_browser), ("happy-path", sc_happy), ("escaped-user-name", sc_escaped_user), ("named-server", sc_named_server),
          ("hub-restart-adopts-server", sc_hub_restart),
          ("app-deleted-outside-hub", sc_app_deleted_outside), ("provision-failure", sc_provision_failure),
          ("image-pull-failure", sc_image_pull_failure)]),
        ("start-timeout", lambda: Hub(world, "timeout", std_cfg, timeout_extra),
         [("hub-start-timeout-cleans-up", sc_start_timeout)]),
        ("no-change-origin", lambda: Hub(world, "nochange", std_cfg, chp_plain),
         [("negative-control-no-change-origin", sc_neg_no_change_origin)]),
        ("no-allow-origin", lambda: Hub(world, "noorigin", off_cfg),
         [("negative-control-no-allow-origin", sc_neg_no_allow_origin),
          ("browser-negative-control-no-allow-origin", sc_browser_neg_no_allow_origin)]),
        ("batchspawner", lambda: Hub(world, "batch", std_cfg, batch_extra),
         [("batchspawner-happy-path", sc_batchspawner)]),
    ]


def safe_stop(hub, results):
    try:
        hub.stop()
    except Exception as e:  # noqa: BLE001 - record it, go on with the next group
        results.append((f"{hub.name}: hub shutdown", False, f"{type(e).__name__}: {e}"))
        log(f"FAIL hub '{hub.name}' shutdown: {e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--chp", required=True)
    p.add_argument("--acactl", required=True)
    p.add_argument("--fake-arm", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--budget", type=float, default=480)
    p.add_argument("--only", default="", help="comma-separated scenario or group names")
    p.add_argument("--keep", action="store_true", help="leave everything running at the end (debug)")
    a = p.parse_args()
    # run.sh's hard timeout kills `unshare`, which then sends us SIGTERM (--kill-child): clean up on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = {s for s in a.only.split(",") if s}
    world = World(a)
    results = []
    try:
        world.setup_namespace()
        world.make_certs()
        world.start_fake()
        world.start_ingress()
        for gname, make_hub, scenarios in groups(world):
            todo = [(n, f) for n, f in scenarios if not only or n in only or gname in only]
            if not todo:
                continue
            hub = make_hub()
            try:
                hub.start()
            except Exception as e:  # noqa: BLE001
                for n, _ in todo:
                    results.append((n, False, f"hub '{gname}' did not start: {e}"))
                    log(f"FAIL {n}: hub did not start: {e}")
                safe_stop(hub, results)
                continue
            for n, f in todo:
                if time.monotonic() - T0 > a.budget:
                    results.append((n, False, f"not run: the e2e budget of {a.budget:.0f}s is exhausted"))
                    log(f"FAIL {n}: budget exhausted")
                    continue
                log(f"--- {n} (hub config '{gname}')")
                t = time.monotonic()
                try:
                    f(world, hub)
                    results.append((n, True, f"{time.monotonic() - t:.1f}s"))
                    log(f"PASS {n} ({time.monotonic() - t:.1f}s)")
                except Exception as e:  # noqa: BLE001
                    detail = f"{type(e).__name__}: {e}"
                    results.append((n, False, detail))
                    log(f"FAIL {n}: {detail}")
                    traceback.print_exc(file=sys.stdout)
                    with open(os.path.join(a.work, f"fake-requests-{n}.json"), "w") as fr:
                        json.dump(world.admin_call("GET", "/requests"), fr, indent=1)
                    log(f"  logs: fake ARM requests {a.work}/fake-requests-{n}.json, hub {hub.logfile()}, fake {a.work}/fake-arm.log, ingress {a.work}/ingress.log, "
                        f"apps {a.work}/fake/apps/*/output.log")
                    # leave nothing behind for the next scenario
                    for app in world.apps():
                        world.admin_call("DELETE", f"/apps/{app['name']}")
            safe_stop(hub, results)
            left = world.apps()
            if left:
                names = [x["name"] for x in left]
                results.append((f"{gname}: no apps left", False, f"apps left in the fake ARM: {names}"))
                for app in left:
                    world.admin_call("DELETE", f"/apps/{app['name']}")
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stdout)
        results.append(("setup", False, f"{type(e).__name__}: {e}"))
    finally:
        if a.keep:
            log("--keep: leaving processes running; press Ctrl-C to end")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        world.cleanup()
    print()
    print("=" * 78)
    for n, ok, d in results:
        print(f"{'PASS' if ok else 'FAIL'}  {n:42s} {d}")
    print("=" * 78)
    if time.monotonic() - T0 > a.budget:
        results.append(("budget", False, f"the e2e took {time.monotonic() - T0:.0f}s > budget {a.budget:.0f}s"))
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    if not results:
        failed = 1
        print("no scenario ran")
    print(f"e2e: {time.monotonic() - T0:.0f}s (budget {a.budget:.0f}s)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()

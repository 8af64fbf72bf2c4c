"""An ACA-style (envoy) ingress for the e2e test: routes ONLY by exact Host match.

Listeners (inside the test's private network namespace):
  * in-environment, plain HTTP (port 80): Host = an app's name or its fqdn (as the fake ARM reports it,
    `<app>.internal.<domain>` for internal ingress) -> that app's local port (fake-arm launch mode);
    Host = a static app (the hub's app name, e.g. `jupyterhub`) -> its port (CHP).
  * external, TLS (port 443): serves ONLY the hub's public host (e.g. `hub.example.test`) -> CHP.
    Anything else there, and the public host on the in-environment listener, gets the 404 page.

Answers as ACA does (see reference/aca-arm.md and hub-recipe.md):
  * unknown Host, app without ingress, app being deleted -> 404 "This Container App is stopped or does not exist."
  * ingress.allowInsecure false on the plain listener -> 301 to https
  * ingress.transport other than "http" -> websocket upgrade answered 503
  * app whose server is not listening (yet) -> 503
  * otherwise the request is passed through unchanged (Host kept; X-Forwarded-Proto/-For added), websockets
    included: after the upstream's answer the bytes are copied both ways until either side closes.

Apps are read from the fake ARM's admin API (`GET {admin}/apps`: name, provisioningState, behaviour,
ingress{fqdn, targetPort, transport, allowInsecure}, local_port, listening). Every app name and fqdn that
appears is appended to the private hosts file (-> 127.0.0.1), standing in for the environment's DNS.

Prints one JSON line {"ready": true, ...} on stdout when listening; logs one line per request on stderr.
"""

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.request

NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Azure Container App - Unavailable</title>\n</head>\n<body>\n"
    "<h1>Error 404 - This Container App is stopped or does not exist.</h1>\n"
    "<p>The Container App you have attempted to reach is currently stopped or does not exist.</p>\n"
    '<p>If you are the Container App administrator, please visit <a href="https://portal.azure.com">'
    "Azure Portal</a>.</p>\n</body>\n</html>\n"
)
UPSTREAM_DOWN = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
NO_UPGRADE = "upstream connect error or disconnect/reset before headers. reset reason: protocol error"
# dropped from proxied requests (but for websocket upgrades, which need Connection: Upgrade)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer"}


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} ingress: {msg}", file=sys.stderr, flush=True)


class Apps:
    """Cached view of the fake ARM's apps (refreshed at most every `ttl` seconds)."""

    def __init__(self, admin_url, ca_file, hosts_file, ttl=0.15):
        self.url = admin_url.rstrip("/") + "/apps"
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.hosts_file = hosts_file
        self.ttl = ttl
        self.apps = []
        self.at = 0.0
        self.lock = asyncio.Lock()
        self.known_names = set()

    def _fetch(self):
        with urllib.request.urlopen(self.url, context=self.ctx, timeout=5) as r:
            return json.load(r)

    async def get(self, fresh=False):
        async with self.lock:
            if fresh or time.monotonic() - self.at > self.ttl:
                try:
                    self.apps = await asyncio.to_thread(self._fetch)
                    self.at = time.monotonic()
                    self._update_hosts()
                except Exception as e:  # the fake went away: keep the last view
                    log(f"admin API unavailable: {e}")
            return self.apps

    def _update_hosts(self):
        names = []
        for a in self.apps:
            names.append(a["name"].lower())
            fqdn = (a.get("ingress") or {}).get("fqdn")
            if fqdn:
                names.append(fqdn.lower())
        new = [n for n in names if n not in self.known_names]
        if new and self.hosts_file:
            # Append in place: the file is bind-mounted over /etc/hosts (a rename would detach it).
            with open(self.hosts_file, "a") as f:
                for n in new:
                    f.write(f"127.0.0.1\t{n}\n")
            self.known_names.update(new)

    async def watch(self):
        while True:
            await self.get()
            await asyncio.sleep(0.1)


def find_app(apps, host):
    for a in apps:
        ing = a.get("ingress") or {}
        if host == a["name"].lower() or (ing.get("fqdn") and host == ing["fqdn"].lower()):
            return a
    return None


def simple_response(status, reason, body, ctype="text/plain", extra=()):
    b = body.encode()
    head = [f"HTTP/1.1 {status} {reason}", f"content-type: {ctype}", f"content-length: {len(b)}",
            "server: envoy", "connection: close", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + b


class Ingress:
    def __init__(self, apps, static, public_host, public_target):
        self.apps = apps
        self.static = static  # host -> port (in-environment listener)
        self.public_host = public_host
        self.public_target = public_target

    async def route(self, tls, host, is_upgrade, path):
        """-> ("proxy", port, label) | ("respond", bytes, label)"""
        if tls:
            if host == self.public_host:
                return "proxy", self.public_target, "hub(public)"
            return "respond", simple_response(404, "Not Found", NOT_FOUND_PAGE, "text/html; charset=utf-8"), "404"
        if host in self.static:
            return "proxy", self.static[host], f"static:{host}"
        app = find_app(await self.apps.get(), host)
        if app is None:
            # a brand-new app may not be in the cached view yet
            app = find_app(await self.apps.get(fresh=True), host)
        ing = (app or {}).get("ingress")
        if app is None or not ing or app.get("provisioningState") == "Deleting":
            return "respond", simple_response(404, "Not Found", NOT_FOUND_PAGE, "text/html; charset=utf-8"), "404"
        if not ing.get("allowInsecure"):
            loc = f"https://{host}{path}"
            return "respond", simple_response(301, "Moved Permanently", "", extra=[f"location: {loc}"]), "301"
        beh = app.get("behaviour")
        if isinstance(beh, dict):
            beh = beh.get("behaviour")
        if beh == "NotServing":
            return "respond", simple_response(503, "Service Unavailable", "no healthy upstream"), "503"
        if is_upgrade and str(ing.get("transport", "auto")).lower() != "http":
            return "respond", simple_response(503, "Service Unavailable", NO_UPGRADE), "503 (upgrade, transport)"
        if not app.get("local_port") or not app.get("listening"):
            return "respond", simple_response(503, "Service Unavailable", UPSTREAM_DOWN), "503 (not listening)"
        return "proxy", app["local_port"], f"app:{app['name']}"

    async def handle(self, reader, writer, tls):
        peer = writer.get_extra_info("peername")
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            request_line = lines[0]
            try:
                method, target, version = request_line.split(" ", 2)
            except ValueError:
                writer.write(simple_response(400, "Bad Request", "bad request"))
                return
            headers = []
            for ln in lines[1:]:
                if not ln:
                    continue
                k, _, v = ln.partition(":")
                headers.append((k.strip(), v.strip()))
            hmap = {k.lower(): v for k, v in headers}
            host_full = hmap.get("host", "")
            if target.startswith("http://") or target.startswith("https://"):  # absolute form
                host_full = target.split("/", 3)[2]
                target = "/" + (target.split("/", 3)[3] if target.count("/") >= 3 else "")
            host = host_full.lower()
            if host.startswith("["):
                host = host.split("]")[0] + "]"
            else:
                host = host.split(":")[0]
            is_upgrade = "upgrade" in hmap
            kind, what, label = await self.route(tls, host, is_upgrade, target)
            lst = "443" if tls else "80"
            if kind == "respond":
                log(f":{lst} {method} Host={host_full} {target} -> {label}")
                writer.write(what)
                await writer.drain()
                return
            try:
                ur, uw = await asyncio.open_connection("127.0.0.1", what)
            except OSError:
                log(f":{lst} {method} Host={host_full} {target} -> {label} port {what}: 503 (connect failed)")
                writer.write(simple_response(503, "Service Unavailable", UPSTREAM_DOWN))
                await writer.drain()
                return
            out = [f"{method} {target} {version}"]
            xff = hmap.get("x-forwarded-for")
            client_ip = peer[0] if peer else "127.0.0.1"
            for k, v in headers:
                lk = k.lower()
                if lk in ("x-forwarded-for", "x-forwarded-proto"):
                    continue
                if lk in HOP_BY_HOP and not is_upgrade:
                    continue
                out.append(f"{k}: {v}")
            if not is_upgrade:
                out.append("Connection: close")
            out.append(f"X-Forwarded-For: {xff + ', ' if xff else ''}{client_ip}")
            out.append(f"X-Forwarded-Proto: {'https' if tls else 'http'}")
            uw.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            await uw.drain()
            status = await self.pipe(reader, writer, ur, uw, is_upgrade)
            log(f":{lst} {method} Host={host_full} {target} -> {label} port {what}: {status}")
        except Exception as e:  # never let one connection take the ingress down
            log(f"error: {e!r}")
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def pipe(self, cr, cw, ur, uw, is_upgrade):
        status = {"line": "?"}

        async def up():  # client -> upstream
            try:
                while True:
                    data = await cr.read(65536)
                    if not data:
                        break
                    uw.write(data)
                    await uw.drain()
            except Exception:
                pass
            if is_upgrade:
                uw.close()

        async def down():  # upstream -> client
            first = True
            try:
                while True:
                    data = await ur.read(65536)
                    if not data:
                        break
                    if first:
                        status["line"] = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
                        first = False
                    cw.write(data)
                    await cw.drain()
            except Exception:
                pass

        t_up = asyncio.ensure_future(up())
        try:
            await down()
        finally:
            t_up.cancel()
            uw.close()
        return status["line"]


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--ca", required=True, help="CA bundle of the fake ARM's HTTPS listener")
    p.add_argument("--hosts-file", required=True)
    p.add_argument("--http-port", type=int, default=80)
    p.add_argument("--https-port", type=int, default=443)
    p.add_argument("--static", action="append", default=[], help="HOST=PORT on the in-environment listener")
    p.add_argument("--public-host", required=True)
    p.add_argument("--public-port", type=int, required=True, help="port behind the public TLS host (CHP)")
    p.add_argument("--tls-cert", required=True)
    p.add_argument("--tls-key", required=True)
    a = p.parse_args()
    static = {}
    for s in a.static:
        h, _, port = s.rpartition("=")
        static[h.lower()] = int(port)
    apps = Apps(a.admin_url, a.ca, a.hosts_file)
    ing = Ingress(apps, static, a.public_host.lower(), a.public_port)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(a.tls_cert, a.tls_key)
    s80 = await asyncio.start_server(lambda r, w: ing.handle(r, w, False), "0.0.0.0", a.http_port,
                                     limit=256 * 1024)
    s443 = await asyncio.start_server(lambda r, w: ing.handle(r, w, True), "0.0.0.0", a.https_port,
                                      ssl=sctx, limit=256 * 1024)
    asyncio.ensure_future(apps.watch())
    print(json.dumps({"ready": True, "http_port": a.http_port, "https_port": a.https_port}), flush=True)
    async with s80, s443:
        await asyncio.gather(s80.serve_forever(), s443.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass

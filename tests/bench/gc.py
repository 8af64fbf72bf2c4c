"""Driver for tests/bench/gc.sh: sets up the fake ARM + fake hub, runs one `acactl gc`, prints figures.
No assertions beyond sanity checks; the numbers go into the closing note of the change."""
import hashlib, http.client, json, os, ssl, subprocess, sys, tempfile, time, urllib.parse

APPS, ORPHANS, LATENCY = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
BURST, RATE = 200, 10.0
sys.path.insert(0, os.path.dirname(__file__))
from fakeenv import ACACTL, acactl_env, start_fake
HUB_ID, TOKEN, OLD = "bench", "bench-gc-token-0123456789abcdef", "2026-01-01T00:00:00Z"

def server_key(hub, user, server):
    """acactl's naming::server_key: sha256 of length-prefixed parts, lowercase base32 without padding."""
    h = hashlib.sha256()
    for part in (hub, user, server):
        b = part.encode()
        h.update(len(b).to_bytes(8, "big")); h.update(b)
    alphabet, out, acc, bits = "abcdefghijklmnopqrstuvwxyz234567", [], 0, 0
    for byte in h.digest():
        acc = (acc << 8) | byte; bits += 8
        while bits >= 5:
            bits -= 5; out.append(alphabet[(acc >> bits) & 31])
    return "".join(out)

tmp = tempfile.mkdtemp(prefix="acactl-gc-bench-")
fake, info = start_fake(tmp, "--hub")
ctx = ssl.create_default_context(cafile=info["ca_pem"])
arm_host = urllib.parse.urlparse(info["base_url"])
hub_host = urllib.parse.urlparse(info["hub_admin_url"])
arm_conn = http.client.HTTPSConnection(arm_host.hostname, arm_host.port, context=ctx)
hub_conn = http.client.HTTPConnection(hub_host.hostname, hub_host.port)

def call(conn, method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"content-type": "application/json"})
    r = conn.getresponse(); data = r.read()
    assert r.status == 200, (path, r.status, data[:300])
    return json.loads(data or b"null")

try:
    rg_id = f"/subscriptions/{info['subscription']}/resourceGroups/{info['resource_group']}/providers/Microsoft.App/containerApps"
    live = []
    t0 = time.perf_counter()
    for i in range(APPS):
        user, name = f"user{i:05d}", f"bench-user{i:05d}"
        call(arm_conn, "POST", "/_fake/apps", {"name": name, "created_at": OLD, "tags": {
            "managed-by": "acactl", "acactl-hub": HUB_ID, "acactl-user": user, "acactl-server": "",
            "acactl-key": server_key(HUB_ID, user, ""), "acactl-created": OLD}})
        if i >= ORPHANS:
            live.append({"user": user, "server": "", "ready": True,
                         "state": {"acactl": {"version": 1, "id": f"{rg_id}/{name}", "name": name}}})
    call(hub_conn, "POST", "/_hub/servers", live)
    call(hub_conn, "POST", "/_hub/tokens", {"token": TOKEN, "scopes": ["list:users", "read:servers", "admin:server_state"]})
    setup = time.perf_counter() - t0
    call(arm_conn, "POST", "/_fake/throttle", {"reads": [250, 25.0], "writes": [BURST, RATE], "deletes": [BURST, RATE]})
    call(arm_conn, "POST", "/_fake/knobs", {"latency_ms": LATENCY})
    call(arm_conn, "POST", "/_fake/reset_log", {})

    env = acactl_env(info, tmp, HUB_ID, f"hub:\n  api_url: {info['hub_api_url']}\n  api_token: {TOKEN}\n")
    rss_file = os.path.join(tmp, "rss")
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, ACACTL, "gc", "-o", "json"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    rss_kib = int(open(rss_file).read().split()[-1])
    if p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:], file=sys.stderr)
    summary = json.loads(p.stdout)

    reqs = call(arm_conn, "GET", "/_fake/requests")
    arm = [r for r in reqs if r["kind"] == "Arm"]
    lists = [r for r in arm if r["method"] == "GET" and "/containerApps" in r["path"] and "/containerApps/" not in r["path"]]
    deletes = [r for r in arm if r["method"] == "DELETE"]
    throttled = [r for r in deletes if r["status"] == 429]
    other = [r for r in arm if r not in lists and r not in deletes]
    accepted, repeated = {}, 0
    for r in deletes:
        name = r["path"].split("?")[0].rsplit("/", 1)[-1]
        if accepted.get(name):
            repeated += 1
        if r["status"] in (200, 202, 204):
            accepted[name] = True
    hub_reqs = call(hub_conn, "GET", "/_hub/requests")
    apps_left = len(call(arm_conn, "GET", "/_fake/apps"))

    first = min(r["time"] for r in deletes) if deletes else 0
    last = max(r["time"] for r in deletes) if deletes else 0
    limit = max(ORPHANS - BURST, 0) / RATE
    print(f"gc of {APPS} apps ({ORPHANS} orphans), fake ARM with {LATENCY} ms latency and ARM's buckets "
          f"(deletes {BURST} burst, {RATE:g}/s); setup {setup:.0f} s")
    print(f"exit code {p.returncode}; summary: scanned {summary['scanned']}, kept {summary['kept']}, "
          f"deleted {summary['deleted']}, failed {summary['failed']}; apps still listed {apps_left} (ARM accepted the deletes; the fake finishes them on later polls)")
    print(f"wall time of gc:               {wall:8.1f} s")
    print(f"  deleting (first to last):    {last - first:8.1f} s")
    print(f"physical limit of the bucket:  {limit:8.1f} s  ((orphans - burst) / refill = ({ORPHANS} - {BURST}) / {RATE:g})")
    print(f"wall / limit:                  {wall / limit if limit else float('nan'):8.3f}  (target <= 1.10)")
    print(f"ARM requests: {len(arm)} = {len(lists)} list pages + {len(deletes) - len(throttled)} deletes "
          f"+ {len(throttled)} retries caused by 429 + {len(other)} other; "
          f"deletes repeated after success: {repeated}; unique apps accepted: {len(accepted)}")
    print(f"hub requests: {len(hub_reqs)} ({sum(1 for r in hub_reqs if '/users?' in r['path'])} list pages, "
          f"{sum(1 for r in hub_reqs if '/server' in r['path'])} per-server re-checks, 1 scope check)")
    print(f"peak RSS of acactl gc: {rss_kib / 1024:.1f} MB")
finally:
    fake.terminate()
    fake.wait()

"""Driver for tests/bench/fleet.sh: fresh-process acactl commands against the fake ARM with ARM's
token buckets (reads 250 + 25/s, writes and deletes 200 + 10/s), 20 s wall-clock provisioning,
3 s deletion and Retry-After 1 s. Prints figures; asserts nothing.

Sizes (scale 1.0, chosen for a 2-core machine; the issue's full sizes are extrapolated, or set one
by one: A_STARTS, B_SERVERS, B_SECS, C_SERVERS, C_STARTS, e.g. C_SERVERS=2000 C_STARTS=300):
  A: A_STARTS starts at once                          (issue: 300)
  B: B_SERVERS (1,000) servers polled every 30 s +-10% for B_SECS (issue: 3,000 for 120 s)
  C: C_SERVERS polled servers, C_STARTS starts at once, then C_STARTS stops at once (issue: 2,000/300)
  D: during B, D_DELETE apps deleted behind acactl's back halfway through
  S: 20 stops one after the other with Retry-After 15 s (issue 10)
BASELINE=/path/to/acactl[,/path/to/another] adds a column to B per binary: the fleet view run by
that build (an earlier one), in the same invocation, before this build's column.
"""
import asyncio, base64, hashlib, json, os, random, ssl, statistics, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from fakeenv import ACACTL, acactl_env, start_fake

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
A_STARTS = int(os.environ.get("A_STARTS", max(10, int(300 * SCALE))))
B_SERVERS = int(os.environ.get("B_SERVERS", max(50, int(1000 * SCALE))))
B_SECS = int(os.environ.get("B_SECS", 60))
C_SERVERS = int(os.environ.get("C_SERVERS", max(50, int(400 * SCALE))))
C_STARTS = int(os.environ.get("C_STARTS", max(10, int(100 * SCALE))))
D_DELETE = 10
WARM_STOPS = 3
POLL_EVERY = 30.0
PROVISION = 20.0
DELETE_SECS = 3.3  # not a multiple of stop's 0.5 s check: honest lag figures
MAX_AGE = 10
BASELINE = os.environ.get("BASELINE")
random.seed(7)


class Fake:
    def __init__(self, tmp, retry_after=1):
        self.proc, self.info = start_fake(tmp, "--provision-secs", str(PROVISION), "--delete-secs", str(DELETE_SECS),
                                          "--retry-after", str(retry_after), "--throttle", "arm", "--page-size", "100")
        self.ctx = ssl.create_default_context(cafile=self.info["ca_pem"])

    def admin(self, path, body=None, method=None):
        req = urllib.request.Request(self.info["base_url"] + "/_fake/" + path,
                                     method=method or ("POST" if body is not None else "GET"),
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def app_id(self, name):
        i = self.info
        return f"/subscriptions/{i['subscription']}/resourceGroups/{i['resource_group']}/providers/Microsoft.App/containerApps/{name}"

    def insert(self, n, prefix):
        names = []
        for k in range(n):
            user = f"{prefix}{k}"
            name = app_name("bench", user)
            KEYS[name] = server_key("bench", user)
            self.admin("apps", {"name": name, "tags": {"managed-by": "acactl", "acactl-hub": "bench",
                                                       "acactl-user": user, "acactl-server": "",
                                                       "acactl-key": key_of(name)}})
            names.append(name)
        self.admin("reset_log", {})
        return names


# Inserted apps are named and keyed exactly as `acactl start` would name and key them
# (src/naming.rs): poll refuses a state whose key does not begin with its name's 10-character hash
# ("ACACTL_STATE key does not belong to its app name", InvalidState), so an invented key such as
# base32(name) made every poll fail before reaching ARM (status unknown, 0 ARM requests).
KEYS = {}


def server_key(hub, user, server=""):
    """naming::server_key: base32 (lowercase, no padding, trailing bits dropped) of the SHA-256 of
    the length-prefixed (hub, user, server)."""
    h = hashlib.sha256()
    for part in (hub, user, server):
        b = part.encode()
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return base64.b32encode(h.digest()).decode().lower().rstrip("=")[:256 // 5]


def app_name(hub, user, server=""):
    """naming::app_name for the plain user names used here (lowercase letters and digits)."""
    assert user.isalnum() and user.islower() and not server
    slug = user[:32 - len(hub) - 10 - 2]
    return f"{hub}-{slug}-{server_key(hub, user, server)[:10]}"


def key_of(name):
    """The server key an inserted app was tagged with."""
    return KEYS[name]


def env_for(fake, tmp, fleet, binary=None):
    extra = f"fleet:\n  enabled: {'true' if fleet else 'false'}\n  max_age: {MAX_AGE}\n"
    env = dict(acactl_env(fake.info, tmp, "bench", extra), HTTP_PROXY=fake.info["ingress_url"])
    if binary:
        env["_BENCH_BIN"] = binary  # which acactl run() starts; not passed on
    return env


def spawner_env(base, user):
    prefix = f"/user/{user}/"
    return dict(base, JUPYTERHUB_USER=user, JUPYTERHUB_API_TOKEN="bench-token-0123456789",
                JUPYTERHUB_SERVICE_PREFIX=prefix, JUPYTERHUB_API_URL="http://127.0.0.1:8081/hub/api",
                ACACTL_FORWARD="JUPYTERHUB_USER,JUPYTERHUB_API_TOKEN,JUPYTERHUB_SERVICE_PREFIX,JUPYTERHUB_API_URL")


async def run(argv, env):
    env = dict(env)
    binary = env.pop("_BENCH_BIN", ACACTL)
    t0 = time.time()
    p = await asyncio.create_subprocess_exec(binary, *argv, env=env, stdout=asyncio.subprocess.PIPE,
                                             stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    out, err = await p.communicate()
    t1 = time.time()
    try:
        doc = json.loads(out.decode().strip().splitlines()[-1])
    except Exception:
        doc = {}
    return {"rc": p.returncode, "doc": doc, "err": err.decode(), "t0": t0, "t1": t1}


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def window_p99(log, t0):
    wins = {}
    for x in log:
        wins.setdefault(int((x[1] - t0) // 10), []).append(x[2])
    w = [pct(v, 99) * 1000 for _, v in sorted(wins.items()) if len(v) >= 100]
    return f"median {statistics.median(w):.0f} of [{' '.join(f'{x:.0f}' for x in w)}]" if w else "-"


def arm_stats(fake, t0, t1):
    reqs = [r for r in fake.admin("requests") if r["kind"] == "Arm" and t0 <= r["time"] <= t1]
    span = max(t1 - t0, 1e-9)
    kinds = {}
    for r in reqs:
        path = r["path"].split("?")[0].lower()
        if "containerappoperation" in path:
            k = "operation"
        elif path.endswith("/containerapps"):
            k = "list"
        elif "/replicas" in path:
            k = "replicas"
        elif "/revisions/" in path:
            k = "revision"
        elif "/containerapps/" in path:
            k = "app"
        else:
            k = "other"
        kinds[f"{r['method']} {k}"] = kinds.get(f"{r['method']} {k}", 0) + 1
    reads = sum(1 for r in reqs if r["method"] == "GET")
    writes = sum(1 for r in reqs if r["method"] in ("PUT", "PATCH", "POST"))
    deletes = sum(1 for r in reqs if r["method"] == "DELETE")
    return {"reads/s": round(reads / span, 2), "writes/s": round(writes / span, 2), "deletes/s": round(deletes / span, 2),
            "429": sum(1 for r in reqs if r["status"] == 429), "by kind": dict(sorted(kinds.items())), "reqs": reqs}


def show(title, rows):
    print(f"\n== {title}")
    keys = []
    for _, d in rows:
        for k in d:
            if k not in keys:
                keys.append(k)
    w = max(len(k) for k in keys) + 2
    print(" " * w + "".join(f"{label:>34}" for label, _ in rows))
    for k in keys:
        print(f"{k:<{w}}" + "".join(f"{str(d.get(k, '')):>34}" for _, d in rows))
    for label, d in rows:
        if "by kind" in d:
            pass


# ------------------------------------------------------------------------------------------------

async def scenario_a(fleet):
    tmp = tempfile.mkdtemp(prefix="acactl-fleet-a-")
    fake = Fake(tmp)
    try:
        base = env_for(fake, tmp, fleet)
        t0 = time.time()
        results = await asyncio.gather(*[run(["start", "--progress", "json"], spawner_env(base, f"a{k}"))
                                         for k in range(A_STARTS)])
        t1 = time.time()
        st = arm_stats(fake, t0, t1)
        puts = {}
        for r in st["reqs"]:
            if r["method"] == "PUT" and r["status"] in (200, 201):
                puts.setdefault(r["path"].split("?")[0].rsplit("/", 1)[-1].lower(), r["time"])
        ok = [r for r in results if r["rc"] == 0]
        throttled = [r for r in results if r["rc"] != 0 and ("Throttl" in r["err"] or "RequestBudget" in r["err"])]
        after_put, before_put = [], []
        for r in ok:
            t_put = puts.get(r["doc"].get("name", "").lower())
            if t_put:
                after_put.append(r["t1"] - t_put - PROVISION)
                before_put.append(t_put - r["t0"])
        leftover = len(fake.admin("apps"))
        return {"ready": f"{len(ok)}/{A_STARTS}", "failed": A_STARTS - len(ok), "failed by throttling": len(throttled),
                "wall s": round(t1 - t0, 1),
                "pre-PUT wait p50/p90/max": f"{pct(before_put,50):.1f}/{pct(before_put,90):.1f}/{pct(before_put,100):.1f}",
                "overhead after PUT p50/p90": f"{pct(after_put,50):.2f}/{pct(after_put,90):.2f}",
                "overhead after PUT max": f"{pct(after_put,100):.2f}",
                "apps existing after": leftover,
                "reads/s": st["reads/s"], "writes/s": st["writes/s"], "429": st["429"],
                "kinds": st["by kind"]}, [r["err"][-300:] for r in results if r["rc"] != 0][:2]
    finally:
        fake.stop()


async def poll_once(name, base, fake):
    state = json.dumps({"version": 1, "id": fake.app_id(name), "name": name, "url": f"http://{name}",
                        "hub_id": "bench", "key": key_of(name)})
    return await run(["poll"], dict(base, ACACTL_STATE=state))


async def poll_loop(name, base, fake, until, log, probe):
    # The key tag and the state's key: poll's ownership rule (issue 10) reports an app without
    # them as not this server's ("stopped"), which is not what this benchmark measures.
    state = json.dumps({"version": 1, "id": fake.app_id(name), "name": name, "url": f"http://{name}",
                        "hub_id": "bench", "key": key_of(name)})
    env = dict(base, ACACTL_STATE=state)
    if probe:
        env["JUPYTERHUB_SERVICE_PREFIX"] = f"/user/{name}/"
    await asyncio.sleep(random.uniform(0, POLL_EVERY))
    while time.time() < until:
        r = await run(["poll"], env)
        log.append((name, r["t0"], r["t1"] - r["t0"], r["doc"].get("status", "noanswer"), r["doc"].get("source", "arm"),
                    r["t1"]))
        await asyncio.sleep(POLL_EVERY * random.uniform(0.9, 1.1))


async def scenario_bd(fleet, binary=None):
    tmp = tempfile.mkdtemp(prefix="acactl-fleet-b-")
    fake = Fake(tmp)
    try:
        names = fake.insert(B_SERVERS, "b")
        base = env_for(fake, tmp, fleet, binary)
        log = []
        # A hub in service: one poll before the clock starts (with the view on, it lists the
        # fleet, as the hub's polls have since long before; without it, it costs one GET).
        await poll_once(names[0], base, fake)
        fake.admin("reset_log", {})
        t0 = time.time()
        until = t0 + B_SECS
        victims = random.sample(names, D_DELETE)
        deleted_at = {}

        async def deleter():
            await asyncio.sleep(B_SECS / 2)
            for v in victims:
                deleted_at[v] = time.time()  # before: a poll ending after this may see it gone
                # Off the event loop: a blocking call here would stall every poll's clock.
                await asyncio.to_thread(fake.admin, f"apps/{v}", None, "DELETE")

        await asyncio.gather(deleter(), *[poll_loop(n, base, fake, until, log, False) for n in names])
        t1 = time.time()
        # Rates over the measured window: every loop then sleeps ~30 s before it sees the end, so
        # t1 - t0 would count that tail as idle time (it read 65 of the 100 polls/s it drove).
        st = arm_stats(fake, t0, until)
        if os.environ.get("B_DUMP"):
            tag = os.path.basename(binary) if binary else "this-build"
            with open(f"{os.environ['B_DUMP']}-{'view' if fleet else 'off'}-{tag}.json", "w") as f:
                json.dump({"polls": log, "arm": fake.admin("requests")}, f)
        lat = [x[2] for x in log]
        unknown = sum(1 for x in log if x[3] not in ("running", "stopped", "pending"))
        # A live app reported gone: "stopped" from a poll that ended before its app's deletion began.
        false_gone = sum(1 for n, t, _, s, _, t1 in log if s == "stopped" and (n not in deleted_at or t1 < deleted_at[n]))
        delays, late, unpolled = [], 0, 0
        for v, td in deleted_at.items():
            after = sorted((t, s, t1) for n, t, _, s, _, t1 in log if n == v and t >= td)
            first_stop = next((t1 for t, s, t1 in after if s == "stopped"), None)
            if first_stop is not None:
                delays.append(first_stop - td)
            # the first poll that starts after max_age must say stopped
            due = [s for t, s, _ in after if t >= td + MAX_AGE]
            if not due:
                unpolled += 1
            elif due[0] != "stopped":
                late += 1
        sources = {}
        for x in log:
            sources[x[4]] = sources.get(x[4], 0) + 1
        b = {"servers": B_SERVERS, "polls": len(log), "polls/s": round(len(log) / (until - t0), 1),
             "ARM reads/s": st["reads/s"], "429": st["429"], "unknown polls": unknown,
             "poll p50/p99 ms": f"{pct(lat,50)*1000:.0f}/{pct(lat,99)*1000:.0f}",
             "poll p90/p99.9/max ms": f"{pct(lat,90)*1000:.0f}/{pct(lat,99.9)*1000:.0f}/{max(lat, default=0)*1000:.0f}",
             # A stall of the (shared, 2-core) machine slows every poll of its window, whatever the
             # build: the p99 of each 10 s window shows whether slow polls are spread or bunched.
             "poll p99 per 10 s window ms": window_p99(log, t0),
             "answered by": sources, "live apps reported gone": false_gone, "kinds": st["by kind"]}
        d = {"deleted behind acactl": len(deleted_at),
             "gone reported after s (max)": f"{max(delays):.1f}" if delays else "-",
             "not polled after max_age (run ended)": unpolled,
             "not gone at first poll after max_age": late, "live apps reported gone": false_gone}
        return b, d
    finally:
        fake.stop()


async def scenario_c(fleet):
    tmp = tempfile.mkdtemp(prefix="acactl-fleet-c-")
    fake = Fake(tmp)
    try:
        names = fake.insert(C_SERVERS, "c")
        base = env_for(fake, tmp, fleet)
        log = []
        t0 = time.time()
        until = t0 + 10 + PROVISION + 40 + 20
        out = {}

        async def lifecycle():
            await asyncio.sleep(10)
            # A hub in service has stopped servers before: three stops, one after another, give
            # the cache dir the deletion times stop paces its GETs by (a brand-new hub's first
            # stops fall back to the view and doubling GETs: see the "cold" line of S).
            for n in names[:WARM_STOPS]:
                state = {"version": 1, "id": fake.app_id(n), "name": n, "url": f"http://{n}", "hub_id": "bench",
                         "key": key_of(n)}
                w = await run(["stop"], dict(base, ACACTL_STATE=json.dumps(state)))
                out.setdefault("warm-up stops ok", 0)
                out["warm-up stops ok"] += w["rc"] == 0 and w["doc"].get("deleted") is True
            starts = await asyncio.gather(*[run(["start", "--progress", "json"], spawner_env(base, f"s{k}"))
                                            for k in range(C_STARTS)])
            ok = [r for r in starts if r["rc"] == 0]
            out["started"] = f"{len(ok)}/{C_STARTS}"
            out["start p50/max s"] = f"{pct([r['t1']-r['t0'] for r in ok],50):.1f}/{pct([r['t1']-r['t0'] for r in ok],100):.1f}"
            stops = await asyncio.gather(*[run(["stop"], dict(base, ACACTL_STATE=json.dumps(r["doc"]["state"])))
                                           for r in ok])
            out["stopped"] = f"{sum(1 for s in stops if s['rc'] == 0)}/{len(ok)}"
            dels, seen = {}, {}
            for r in await asyncio.to_thread(fake.admin, "requests"):
                name = r["path"].split("?")[0].rsplit("/", 1)[-1].lower()
                if r["method"] == "DELETE" and r["status"] == 202:
                    dels.setdefault(name, r["time"])
                elif r["method"] == "GET" and r["status"] == 404 and name in dels:
                    seen.setdefault(name, r["time"])
            lag, detect = [], []
            for r, s in zip(ok, stops):
                name = r["doc"]["name"].lower()
                td = dels.get(name)
                if td and s["rc"] == 0:
                    lag.append(s["t1"] - (td + DELETE_SECS))
                    if name in seen:
                        detect.append(seen[name] - (td + DELETE_SECS))
            out["stop return - gone p50/p90/max s"] = f"{pct(lag,50):.2f}/{pct(lag,90):.2f}/{pct(lag,100):.2f}"
            # ARM's 404 for the app (what stop waits for) minus the moment it was gone: the part
            # acactl's design decides; the rest is process start-up and exit on a busy machine.
            out["404 seen - gone p50/p90/max s"] = f"{pct(detect,50):.2f}/{pct(detect,90):.2f}/{pct(detect,100):.2f}"
            out["failures"] = [x["err"][-200:] for x in list(starts) + list(stops) if x["rc"] != 0][:2]

        await asyncio.gather(lifecycle(), *[poll_loop(n, base, fake, until, log, False) for n in names])
        st = arm_stats(fake, t0, until)
        # unknown for more than one poll interval = two unknowns in a row for one server
        streak, by = 0, {}
        for n, t, _, s, _, _ in sorted(log, key=lambda x: x[1]):
            if s not in ("running", "stopped", "pending"):
                by[n] = by.get(n, 0) + 1
                streak = max(streak, by[n])
            else:
                by[n] = 0
        lat = [x[2] for x in log]
        out.update({"polled": C_SERVERS, "polls": len(log), "unknown polls": sum(by.values()) if False else
                    sum(1 for x in log if x[3] not in ("running", "stopped", "pending")),
                    "longest unknown streak": streak, "poll p50/p99 ms": f"{pct(lat,50)*1000:.0f}/{pct(lat,99)*1000:.0f}",
                    "reads/s": st["reads/s"], "writes/s": st["writes/s"], "deletes/s": st["deletes/s"], "429": st["429"],
                    "kinds": st["by kind"]})
        failures = out.pop("failures")
        return out, failures
    finally:
        fake.stop()


async def scenario_s():
    tmp = tempfile.mkdtemp(prefix="acactl-fleet-s-")
    fake = Fake(tmp, retry_after=15)
    try:
        base = env_for(fake, tmp, True)
        lag = []
        for name in fake.insert(20, "q"):
            fake.admin("reset_log", {})
            state = {"version": 1, "id": fake.app_id(name), "name": name, "url": f"http://{name}",
                     "hub_id": "bench", "key": key_of(name)}
            s = await run(["stop"], dict(base, ACACTL_STATE=json.dumps(state)))
            assert s["rc"] == 0, s["err"]
            td = next(x["time"] for x in fake.admin("requests") if x["method"] == "DELETE" and x["status"] == 202)
            lag.append(s["t1"] - (td + DELETE_SECS))
        return {"stops": 20, "Retry-After": "15 s", "return - gone median s": round(statistics.median(lag), 2),
                "return - gone max s": round(max(lag), 2)}
    finally:
        fake.stop()


def kinds_table(title, a, b):
    print(f"   {title} requests by kind: fleet off {a}\n   {' ' * len(title)}                  fleet on  {b}")


async def main():
    print(f"acactl fleet benchmark, scale {SCALE}: provisioning {PROVISION:.0f} s, deletion {DELETE_SECS:.1f} s, "
          f"ARM buckets reads 250+25/s writes 200+10/s deletes 200+10/s, Retry-After 1 s, page size 100, max_age {MAX_AGE} s")
    which = os.environ.get("SCENARIOS", "ABCS")
    if "A" in which:
        off, eoff = await scenario_a(False)
        on, eon = await scenario_a(True)
        ko, kn = off.pop("kinds"), on.pop("kinds")
        show(f"A: {A_STARTS} starts at once", [("fleet.enabled: false", off), ("fleet view", on)])
        kinds_table("A", ko, kn)
        for e in eoff + eon:
            print("   failure:", e.replace("\n", " | "))
    if "B" in which:
        # The view columns first (BASELINE builds, then this one), the machine-loading
        # fleet.enabled: false run last, so no view column follows it; B_OFF=0 skips it.
        extra = []
        for binary in BASELINE.split(",") if BASELINE else []:
            bb, db = await scenario_bd(True, binary)
            bb.pop("kinds")
            extra.append((f"view, {os.path.basename(binary)}", bb, db))
        bon, don = await scenario_bd(True)
        boff, doff = await scenario_bd(False) if os.environ.get("B_OFF", "1") != "0" else ({"kinds": {}}, {})
        ko, kn = boff.pop("kinds"), bon.pop("kinds")
        cols = [("fleet.enabled: false", boff), ("fleet view", bon)]
        dcols = [("fleet.enabled: false", doff), ("fleet view", don)]
        for label, bb, db in extra:
            cols.append((label, bb))
            dcols.append((label, db))
        show(f"B: {B_SERVERS} servers polled every {POLL_EVERY:.0f} s +-10% for {B_SECS} s", cols)
        kinds_table("B", ko, kn)
        pages = -(-3000 // 100)
        print(f"   extrapolated to 3,000 servers: fleet off {3000 / POLL_EVERY:.0f} reads/s (one GET per poll, "
              f"over the 25/s refill); fleet view {pages} list pages per {MAX_AGE} s = {pages / MAX_AGE:.1f} reads/s "
              f"plus one confirm GET per app that vanished")
        show("D: apps deleted behind acactl's back during B", dcols)
    if "C" in which:
        coff, eoff = await scenario_c(False)
        con, eon = await scenario_c(True)
        ko, kn = coff.pop("kinds"), con.pop("kinds")
        show(f"C: {C_SERVERS} polled servers, {C_STARTS} starts at once, then {C_STARTS} stops at once",
             [("fleet.enabled: false", coff), ("fleet view", con)])
        kinds_table("C", ko, kn)
        for e in eoff + eon:
            print("   failure:", e.replace("\n", " | "))
    if "S" in which:
        s = await scenario_s()
        show("S (issue 10): stop's return minus the moment the app was gone", [("fleet view", s)])


asyncio.run(main())

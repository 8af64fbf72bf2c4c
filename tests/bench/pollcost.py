"""Benchmark (not a test): the wall time and CPU of one fresh-process `acactl poll` answered by the
fleet view, for a hub of N apps (the view's size is what grows), in two moments: a view that needs
no refresh, and a due view (its last fifth) while another process holds the refresh lock (the
share of polls that find it so is the list's duration / max_age). Usage, after
`cargo build --release --bin acactl -p acactl && cargo build --release -p fake-arm`:
    python3 tests/bench/pollcost.py 3000
    BINARIES=/tmp/old-acactl,target/release/acactl python3 tests/bench/pollcost.py 3000   (side by side)
"""
import asyncio, fcntl, glob, json, os, sys, time, tempfile, statistics, resource
os.environ["SCENARIOS"] = "-"  # fleet.py's scenarios: none (only its helpers are used)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
N = int(sys.argv[1])
sys.argv = ["x", "0.1"]
import fleet as F
POLLS = 40


async def measure(base, names, st, binary):
    env = dict(base, _BENCH_BIN=binary)
    ts = []
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for n in names[:POLLS]:
        r = await F.run(["poll"], dict(env, ACACTL_STATE=json.dumps(st(n))))
        ts.append(r["t1"] - r["t0"])
        assert r["doc"].get("status") == "running" and r["doc"].get("source") == "fleet", r
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / POLLS
    return f"wall p50 {statistics.median(ts)*1000:.1f} ms, cpu/poll {cpu*1000:.1f} ms"


def date_view(tmp, age_s):
    """Make the view on disk `age_s` old (same file, same mode)."""
    manifest = [p for p in glob.glob(f"{tmp}/cache/fleet/view-*.json")][0]
    with open(manifest) as f:
        m = json.load(f)
    m["refreshed_ms"] = int((time.time() - age_s) * 1000)
    with open(manifest, "w") as f:
        json.dump(m, f)
    return manifest


async def main():
    binaries = os.environ.get("BINARIES", F.ACACTL).split(",")
    tmp = tempfile.mkdtemp(prefix="pollcost-")
    fake = F.Fake(tmp)
    try:
        names = fake.insert(N, "p")
        base = F.env_for(fake, tmp, True)
        st = lambda n: {"version": 1, "id": fake.app_id(n), "name": n, "url": f"http://{n}", "hub_id": "bench", "key": F.key_of(n)}
        await F.run(["poll"], dict(base, ACACTL_STATE=json.dumps(st(names[0]))))  # list into the view
        print(f"{N} apps, {POLLS} fresh-process polls each, max_age {F.MAX_AGE} s")
        for binary in binaries:
            date_view(tmp, 1)
            fresh = await measure(base, names, st, binary)
            # Due (8.5 s of 10) while "another process" refreshes: this script holds the lock.
            manifest = date_view(tmp, F.MAX_AGE * 0.85)
            with open(manifest[:-len(".json")] + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                due = await measure(base, names, st, binary)
            print(f"  {binary}\n    view not due:                 {fresh}\n    due, another refreshes it:    {due}")
    finally:
        fake.stop()
asyncio.run(main())

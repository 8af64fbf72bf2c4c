"""Benchmark (not a test): the wall time and CPU of one fresh-process `acactl poll` answered by the
fleet view, for a hub of N apps (the view's size is what grows). Usage, after
`cargo build --release --bin acactl -p acactl && cargo build --release -p fake-arm`:
    python3 tests/bench/pollcost.py 3000
"""
import asyncio, json, os, sys, time, tempfile, statistics, resource
os.environ["SCENARIOS"] = "-"  # fleet.py's scenarios: none (only its helpers are used)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
N = int(sys.argv[1])
sys.argv = ["x", "0.1"]
import fleet as F
async def main():
    tmp = tempfile.mkdtemp(prefix="pollcost-")
    fake = F.Fake(tmp)
    try:
        names = fake.insert(N, "p")
        base = F.env_for(fake, tmp, True)
        st = lambda n: {"version": 1, "id": fake.app_id(n), "name": n, "url": f"http://{n}", "hub_id": "bench", "key": F.key_of(n)}
        await F.run(["poll"], dict(base, ACACTL_STATE=json.dumps(st(names[0]))))  # refresh the view
        ts = []
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        for n in names[:40]:
            r = await F.run(["poll"], dict(base, ACACTL_STATE=json.dumps(st(n))))
            ts.append(r["t1"] - r["t0"]); assert r["doc"].get("status") == "running", r
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / 40
        print(f"{N} apps: poll wall p50 {statistics.median(ts)*1000:.1f} ms, cpu/poll {cpu*1000:.1f} ms")
    finally:
        fake.stop()
asyncio.run(main())

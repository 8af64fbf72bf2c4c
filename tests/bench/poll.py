"""Driver for tests/bench/poll.sh: prints medians and peak RSS; no assertions.
Wall times include GNU time's own fork+exec, equally for both sides."""
import json, os, resource, ssl, statistics, subprocess, sys, tempfile, time, urllib.request

RUNS = int(sys.argv[1])
sys.path.insert(0, os.path.dirname(__file__))
from fakeenv import ACACTL, acactl_env, start_fake

tmp = tempfile.mkdtemp(prefix="acactl-bench-")
fake, info = start_fake(tmp, "--retry-after", "0", "--provision-polls", "1")
ctx = ssl.create_default_context(cafile=info["ca_pem"])

def admin(path, body=None):
    req = urllib.request.Request(info["base_url"] + "/_fake/" + path, method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.loads(r.read() or b"null")

env = dict(acactl_env(info, tmp, "bench", "arm:\n  poll_interval_ms: 20\n"), HTTP_PROXY=info["ingress_url"])
spawner = dict(env, JUPYTERHUB_USER="bench", JUPYTERHUB_API_TOKEN="bench-token-0123456789",
               JUPYTERHUB_SERVICE_PREFIX="/user/bench/", JUPYTERHUB_API_URL="http://127.0.0.1:8081/hub/api",
               ACACTL_FORWARD="JUPYTERHUB_USER,JUPYTERHUB_API_TOKEN,JUPYTERHUB_SERVICE_PREFIX,JUPYTERHUB_API_URL")

def counts():
    reqs = admin("requests")
    admin("reset_log", {})
    kinds = [r["kind"] for r in reqs]
    return kinds.count("Arm"), kinds.count("Token")

RSS_FILE = os.path.join(tmp, "rss")

def measured(argv, env):
    """Wall time and peak RSS (KiB) of one fresh process. GNU time reports the RSS of the exec'd
    program itself (rusage of a child forked from Python would include Python's pages)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", RSS_FILE] + argv, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    return elapsed, int(open(RSS_FILE).read().split()[-1]), p.stdout, p.returncode

try:
    admin("reset_log", {})
    t, rss, out, status = measured([ACACTL, "start"], spawner)
    assert status == 0, out
    state = json.loads(out)["state"]
    start_counts = counts()
    # One warm-up poll fills nothing new (start cached the token), then measure.
    penv = dict(env, ACACTL_STATE=json.dumps(state))
    measured([ACACTL, "poll"], penv)
    counts()
    poll_t, poll_rss = [], []
    for _ in range(RUNS):
        t, rss, out, status = measured([ACACTL, "poll"], penv)
        assert json.loads(out)["status"] == "running", out
        poll_t.append(t); poll_rss.append(rss)
    arm, tok = counts()
    per_poll = (arm / RUNS, tok / RUNS)
    token = next(json.load(open(os.path.join(tmp, "cache/tokens", f)))["token"]
                 for f in os.listdir(os.path.join(tmp, "cache/tokens")) if f.endswith(".json"))
    url = f"{info['base_url']}{state['id']}?api-version=2026-07-01"
    curl_t, curl_rss = [], []
    for _ in range(RUNS):
        t, rss, out, status = measured(["curl", "-sS", "--cacert", info["ca_pem"], "-H", f"Authorization: Bearer {token}", url], env)
        assert status == 0
        curl_t.append(t); curl_rss.append(rss)
    counts()
    t, rss, out, status = measured([ACACTL, "stop"], penv)
    assert status == 0, out
    stop_counts = counts()

    pm, cm = statistics.median(poll_t), statistics.median(curl_t)
    print(f"runs: {RUNS} fresh processes each, fake ARM on loopback")
    print(f"{'':28}{'median wall':>14}{'peak RSS':>12}")
    print(f"{'acactl poll':28}{pm*1000:>11.1f} ms{max(poll_rss)/1024:>9.1f} MB")
    print(f"{'curl (same GET, same token)':28}{cm*1000:>11.1f} ms{max(curl_rss)/1024:>9.1f} MB")
    print(f"poll / curl median wall time: {pm/cm:.2f}x (target <= 1.5x); poll peak RSS target < 15 MB")
    print(f"ARM / token requests: start {start_counts[0]} / {start_counts[1]}, "
          f"poll {per_poll[0]:.0f} / {per_poll[1]:.0f} (warm cache, per poll), stop {stop_counts[0]} / {stop_counts[1]}")
finally:
    fake.terminate()
    fake.wait()

"""ExecSpawner against a fake acactl (see conftest.py)."""

import asyncio
import json
import os
import time

import pytest
from conftest import TOKEN, pid_alive
from jupyterhub.spawner import SpawnException

from acactl.spawner import ExecSpawner, ExecSpawnerError, installed_binary

pytestmark = pytest.mark.asyncio

STATE = {"app": "aca-marcus-1a2b", "resourceId": "/subscriptions/x/apps/aca-marcus-1a2b"}
START_OK = {"stdout": {"name": "aca-marcus-1a2b", "url": "http://aca-marcus-1a2b", "state": STATE}}
LIMIT = 10  # no single call may take longer: a hang must fail, not block the suite


def run(coro, limit=LIMIT):
    return asyncio.wait_for(coro, limit)


# --- start ----------------------------------------------------------------


async def test_start_success(fake, make_spawner, monkeypatch):
    monkeypatch.setenv("HUB_ONLY_VAR", "from-hub")
    monkeypatch.setenv("ACACTL_STATE", '{"stale": true}')  # must not leak from the hub env
    fake.script(start=START_OK)
    sp = make_spawner(
        environment={"USER_VAR": "u"},
        extra_env={"ACACTL_LOG": "debug"},
        user_options={"profile": "small", "n": [1, 2]},
    )

    url = await run(sp.start())

    assert url == "http://aca-marcus-1a2b"
    assert sp.get_state() == {"acactl": STATE}
    (call,) = fake.calls()
    assert call["argv"] == ["start", "--progress", "json"]
    env = call["env"]
    user_env = sp.get_env()
    assert env["ACACTL_FORWARD"].split(",") == sorted(user_env)
    for key, value in user_env.items():
        assert env[key] == value
    assert env["JUPYTERHUB_API_TOKEN"] == TOKEN  # acactl needs it (as an ACA secret)
    assert "USER_VAR" in env["ACACTL_FORWARD"].split(",")
    # the hub's own environment and extra_env reach acactl, but are not forwarded
    assert env["HUB_ONLY_VAR"] == "from-hub"
    assert env["ACACTL_LOG"] == "debug"
    assert "HUB_ONLY_VAR" not in env["ACACTL_FORWARD"].split(",")
    assert "ACACTL_LOG" not in env["ACACTL_FORWARD"].split(",")
    assert json.loads(env["ACACTL_USER_OPTIONS"]) == {"profile": "small", "n": [1, 2]}
    assert "ACACTL_STATE" not in env
    assert call["stdin"] == {"target": "/dev/null", "is_fifo": False, "data": ""}


async def test_get_env_wins_over_extra_env(fake, make_spawner):
    fake.script(start=START_OK)
    sp = make_spawner(environment={"SHARED": "user"}, extra_env={"SHARED": "extra"})
    await run(sp.start())
    assert fake.calls()[0]["env"]["SHARED"] == "user"


async def test_stdin_not_inherited(fake, make_spawner):
    """Even if the hub's own stdin is an open pipe, acactl gets /dev/null."""
    fake.script(start=START_OK, poll={"stdout": {"status": "running", "exit_status": None}})
    sp = make_spawner()
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        await run(sp.start(), 5)
        await run(sp.poll(), 5)
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    for call in fake.calls():
        assert call["stdin"]["target"] == "/dev/null"


async def test_empty_user_options(fake, make_spawner):
    fake.script(start=START_OK)
    sp = make_spawner()
    await run(sp.start())
    assert fake.calls()[0]["env"]["ACACTL_USER_OPTIONS"] == "{}"


async def test_config_file_flag(fake, make_spawner):
    fake.script(
        start=START_OK,
        poll={"stdout": {"status": "running", "exit_status": None}},
        stop={"stdout": {"name": "aca-marcus-1a2b", "deleted": True}},
    )
    sp = make_spawner(config_file="/etc/acactl/acactl.toml")
    await run(sp.start())
    await run(sp.poll())
    await run(sp.stop())
    argvs = [c["argv"] for c in fake.calls()]
    assert argvs == [
        ["--config", "/etc/acactl/acactl.toml", "start", "--progress", "json"],
        ["--config", "/etc/acactl/acactl.toml", "poll"],
        ["--config", "/etc/acactl/acactl.toml", "stop"],
    ]


async def test_command_string_is_one_word(make_spawner):
    sp = make_spawner(command="/usr/local/bin/acactl")
    assert sp._argv(["poll"]) == ["/usr/local/bin/acactl", "poll"]


async def test_progress_forwarded_in_order(fake, make_spawner, caplog):
    fake.script(
        start={
            "stderr": [
                json.dumps({"progress": 10, "message": "creating app"}),
                "plain log line one",
                {"sleep": 0.2},
                json.dumps({"progress": 40, "message": "provisioning"}),
                {"sleep": 0.2},
                json.dumps({"message": "waiting for replica"}),
                '{"not": "a progress event"}',
                '{"progress": NaN, "message": "odd number"}',
                '{"progress": true, "message": "odd type"}',
                json.dumps({"progress": 90, "message": "almost"}),
            ],
            **START_OK,
        }
    )
    sp = make_spawner()
    start = asyncio.ensure_future(sp.start())
    await asyncio.sleep(0)  # start() is running
    live = [e async for e in sp.progress()]
    assert await run(start) == "http://aca-marcus-1a2b"
    expected = [
        {"progress": 10, "message": "creating app"},
        {"progress": 40, "message": "provisioning"},
        {"message": "waiting for replica"},
        {"message": "odd number"},
        {"message": "odd type"},
        {"progress": 90, "message": "almost"},
    ]
    assert live == expected
    # a client that connects late gets the whole history
    assert [e async for e in sp.progress()] == expected
    assert "plain log line one" in caplog.text
    assert '{"not": "a progress event"}' in caplog.text


async def test_progress_opened_before_start(fake, make_spawner):
    """The hub may open the progress stream while its spawn hooks still run."""
    fake.script(start={"stderr": [json.dumps({"progress": 30, "message": "m"})], **START_OK})
    sp = make_spawner()
    sp.clear_state()
    sp._start_pending = True  # what User.spawn sets before the hooks

    async def collect():
        return [e async for e in sp.progress()]

    watcher = asyncio.ensure_future(collect())
    await asyncio.sleep(0.1)  # "hooks"
    await run(sp.start())
    sp._start_pending = False
    assert await run(watcher) == [{"progress": 30, "message": "m"}]


async def test_progress_reset_by_clear_state(fake, make_spawner):
    fake.script(start={"stderr": [json.dumps({"progress": 50, "message": "old"})], **START_OK})
    sp = make_spawner()
    await run(sp.start())
    sp.clear_state()
    assert [e async for e in sp.progress()] == []


async def test_start_failure(fake, make_spawner):
    fake.script(
        start={
            "exit": 3,
            "stdout": {"error": {"code": "QuotaExceeded", "message": "no cores left in region"}},
        }
    )
    sp = make_spawner()
    with pytest.raises(SpawnException) as info:
        await run(sp.start())
    assert "QuotaExceeded" in str(info.value)
    assert "no cores left in region" in str(info.value)
    assert "QuotaExceeded" in info.value.jupyterhub_message
    assert "no cores left in region" in info.value.jupyterhub_message
    assert info.value.reason == "QuotaExceeded"
    assert sp.get_state() == {}


async def test_start_failure_without_json_uses_stderr(fake, make_spawner):
    fake.script(start={"exit": 2, "stderr": ["config file missing key 'image'"], "stdout": "oops"})
    sp = make_spawner()
    with pytest.raises(SpawnException) as info:
        await run(sp.start())
    assert "config file missing key 'image'" in str(info.value)
    assert "exit_2" in str(info.value)


async def test_start_bad_url_keeps_state(fake, make_spawner):
    """exit 0 but no url: fail, yet keep the state so the hub can still clean up."""
    fake.script(start={"stdout": {"name": "aca-marcus-1a2b", "state": STATE}})
    sp = make_spawner()
    with pytest.raises(SpawnException, match="url"):
        await run(sp.start())
    assert sp.get_state() == {"acactl": STATE}


async def test_start_garbage_stdout(fake, make_spawner):
    fake.script(start={"stdout": "http://aca-marcus-1a2b"})
    sp = make_spawner()
    with pytest.raises(SpawnException, match="bad_output"):
        await run(sp.start())


async def test_start_missing_command(make_spawner, tmp_path):
    sp = make_spawner(command=[str(tmp_path / "no-such-acactl")])
    with pytest.raises(SpawnException, match="cannot run acactl"):
        await run(sp.start())


# --- state ------------------------------------------------------------------


async def test_state_round_trip(make_spawner):
    sp = make_spawner()
    sp.load_state({"acactl": STATE})
    assert sp.get_state() == {"acactl": STATE}
    other = make_spawner()
    other.load_state(sp.get_state())
    assert other.acactl_state == STATE
    other.clear_state()
    assert other.get_state() == {}
    other.load_state({})
    assert other.acactl_state is None


# --- poll -------------------------------------------------------------------


def started(make_spawner, **kwargs):
    sp = make_spawner(**kwargs)
    sp.load_state({"acactl": STATE})
    return sp


async def test_poll_running(fake, make_spawner):
    fake.script(poll={"stdout": {"status": "pending", "exit_status": None}})
    sp = started(make_spawner, user_options={"profile": "gpu"})
    assert await run(sp.poll()) is None
    (call,) = fake.calls()
    assert call["argv"] == ["poll"]
    assert json.loads(call["env"]["ACACTL_STATE"]) == STATE
    assert json.loads(call["env"]["ACACTL_USER_OPTIONS"]) == {"profile": "gpu"}
    assert sp.get_state() == {"acactl": STATE}


@pytest.mark.parametrize("exit_status", [0, 1])
async def test_poll_gone(fake, make_spawner, exit_status):
    fake.script(poll={"stdout": {"status": "stopped", "exit_status": exit_status}})
    sp = started(make_spawner)
    status = await run(sp.poll())
    assert status == exit_status and type(status) is int
    assert sp.get_state() == {}
    # now known to be gone: the next poll does not run acactl again
    assert await run(sp.poll()) == 0
    assert len(fake.calls()) == 1


async def test_poll_nonzero_exit_is_running(fake, make_spawner, caplog):
    fake.script(
        poll={
            "exit": 3,
            "stdout": {"error": {"code": "Throttled", "message": "429 from ARM"}},
        }
    )
    sp = started(make_spawner)
    assert await run(sp.poll()) is None
    assert sp.get_state() == {"acactl": STATE}
    assert any(r.levelname == "WARNING" and "Throttled" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "stdout",
    ["not json at all", "", '["a", "list"]', '{"status": "running"}', '{"exit_status": "0"}',
     '{"exit_status": true}', '{"status": "stopped", "exit_status": 0}\n{"extra": 1}'],
)
async def test_poll_garbage_is_running(fake, make_spawner, stdout, caplog):
    fake.script(poll={"stdout": stdout})
    sp = started(make_spawner)
    assert await run(sp.poll()) is None
    assert sp.get_state() == {"acactl": STATE}
    assert any(r.levelname == "WARNING" for r in caplog.records)


async def test_poll_timeout_kills_child(fake, make_spawner):
    fake.script(poll={"sleep": 30, "stdout": {"status": "stopped", "exit_status": 0}})
    sp = started(make_spawner, poll_timeout=0.5)
    t0 = time.monotonic()
    assert await run(sp.poll()) is None
    assert time.monotonic() - t0 < 5
    (call,) = fake.calls()
    assert not pid_alive(call["pid"])
    assert sp.get_state() == {"acactl": STATE}


async def test_poll_without_state_does_not_run(fake, make_spawner):
    sp = make_spawner()
    assert await run(sp.poll()) == 0
    assert fake.calls() == []


async def test_poll_missing_command_is_running(make_spawner, tmp_path):
    sp = started(make_spawner, command=[str(tmp_path / "no-such-acactl")])
    assert await run(sp.poll()) is None


async def test_poll_never_raises(fake, make_spawner):
    fake.script(poll={"stdout": {"status": "stopped", "exit_status": 0}})
    sp = started(make_spawner)

    def broken_get_env():
        raise KeyError("boom")

    sp.get_env = broken_get_env
    assert await run(sp.poll()) is None
    assert fake.calls() == []


# --- stop -------------------------------------------------------------------


async def test_stop_success_clears_state(fake, make_spawner):
    fake.script(stop={"stdout": {"name": "aca-marcus-1a2b", "deleted": True}})
    sp = started(make_spawner)
    await run(sp.stop(now=True))
    (call,) = fake.calls()
    assert call["argv"] == ["stop"]
    assert json.loads(call["env"]["ACACTL_STATE"]) == STATE
    assert sp.get_state() == {}


async def test_stop_failure_raises(fake, make_spawner):
    fake.script(
        stop={"exit": 3, "stdout": {"error": {"code": "ArmError", "message": "delete failed: 500"}}}
    )
    sp = started(make_spawner)
    with pytest.raises(ExecSpawnerError) as info:
        await run(sp.stop())
    assert "ArmError" in str(info.value) and "delete failed: 500" in str(info.value)
    assert sp.get_state() == {"acactl": STATE}


# --- cancellation (JupyterHub's start_timeout) -------------------------------


async def _started_task(fake, sp):
    """Run sp.start() as a task and wait until the fake is really running."""
    task = asyncio.ensure_future(sp.start())
    for _ in range(500):
        if fake.calls():
            return task
        await asyncio.sleep(0.01)
    raise AssertionError("fake acactl never started")


async def test_cancel_sends_sigterm_and_waits(fake, make_spawner):
    fake.script(start={"sleep": 30, "on_term": "exit", "term_delay": 0.3, **START_OK})
    sp = make_spawner(term_grace=5)
    task = await _started_task(fake, sp)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run(task)
    elapsed = time.monotonic() - t0
    # the child cleaned up before start() finished, well within the grace
    assert fake.events() == ["term", "cleaned"]
    assert 0.25 < elapsed < 4
    assert not pid_alive(fake.calls()[0]["pid"])
    assert sp.get_state() == {}


async def test_cancel_grace_is_shielded(fake, make_spawner):
    """Repeated cancellation does not cut the child's grace period short."""
    fake.script(start={"sleep": 30, "on_term": "exit", "term_delay": 0.5, **START_OK})
    sp = make_spawner(term_grace=5)
    task = await _started_task(fake, sp)
    task.cancel()
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run(task)
    assert fake.events() == ["term", "cleaned"]


async def test_hub_start_timeout(fake, make_spawner):
    """What the hub does: asyncio.wait_for(spawner.start(), start_timeout)."""
    fake.script(start={"sleep": 30, "on_term": "exit", "term_delay": 0.3, **START_OK})
    sp = make_spawner(term_grace=5)
    with pytest.raises(asyncio.TimeoutError):
        # long enough for the fake to install its SIGTERM handler on a busy machine
        await asyncio.wait_for(sp.start(), 1.5)
    # wait_for only returns once start() has finished its cleanup
    assert fake.events() == ["term", "cleaned"]
    assert [e async for e in sp.progress()] == []  # progress stream ends


async def test_cancel_sigkill_after_grace(fake, make_spawner, caplog):
    fake.script(start={"sleep": 30, "on_term": "ignore", **START_OK})
    sp = make_spawner(term_grace=0.5)
    task = await _started_task(fake, sp)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run(task)
    elapsed = time.monotonic() - t0
    assert fake.events() == ["term"]
    assert 0.45 < elapsed < 4
    assert not pid_alive(fake.calls()[0]["pid"])
    assert "SIGKILL" in caplog.text


# --- secrets ----------------------------------------------------------------


async def test_token_never_logged(fake, make_spawner, caplog):
    fake.script(
        start={
            "stderr": [
                f"debug: using token {TOKEN}",
                json.dumps({"progress": 20, "message": f"token={TOKEN}"}),
            ],
            "exit": 3,
            "stdout": {"error": {"code": "Bad", "message": f"rejected {TOKEN}"}},
        },
        poll={"exit": 3, "stderr": [f"poll saw {TOKEN}"],
              "stdout": {"error": {"code": "E", "message": f"poll error {TOKEN}"}}},
        stop={"exit": 3, "stderr": [f"stop saw {TOKEN} and hunter2-hunter2"],
              "stdout": {"error": {"code": "E", "message": f"stop error {TOKEN} hunter2-hunter2"}}},
    )
    sp = make_spawner(environment={"MY_SECRET": "hunter2-hunter2"})
    events = []

    async def watch():
        async for e in sp.progress():
            events.append(e)

    start = asyncio.ensure_future(sp.start())
    await asyncio.sleep(0)
    watcher = asyncio.ensure_future(watch())
    with pytest.raises(SpawnException) as info:
        await run(start)
    await run(watcher)
    sp.load_state({"acactl": STATE})
    assert await run(sp.poll()) is None
    with pytest.raises(ExecSpawnerError) as stop_info:
        await run(sp.stop())

    # acactl did get the token, and logged lines were forwarded (redacted)
    assert fake.calls()[0]["env"]["JUPYTERHUB_API_TOKEN"] == TOKEN
    assert "debug: using token ***" in caplog.text
    assert "poll error ***" in caplog.text
    assert "stop error *** ***" in str(stop_info.value)
    assert events == [{"progress": 20, "message": "token=***"}]
    for text in (caplog.text, str(info.value), info.value.jupyterhub_message,
                 str(stop_info.value), json.dumps(events)):
        assert TOKEN not in text
        assert "hunter2-hunter2" not in text


async def test_is_a_spawner():
    from jupyterhub.spawner import Spawner

    assert issubclass(ExecSpawner, Spawner)
    traits = ExecSpawner.class_trait_names(config=True)
    for name in ("command", "config_file", "term_grace", "poll_timeout", "extra_env"):
        assert name in traits
    assert ExecSpawner().command == [installed_binary()]  # beside the package, not a PATH lookup
    assert ExecSpawner().term_grace == 20
    assert ExecSpawner().poll_timeout == 60

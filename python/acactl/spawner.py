"""ExecSpawner: a generic JupyterHub spawner that runs an external command
(``acactl``) once per lifecycle event.

The spawner knows nothing about Azure.  It only implements the exec protocol
that ``acactl`` speaks:

* argv: ``command + [--config PATH] + <subcommand args>``
  (``start --progress json``, ``poll``, ``stop``); stdin is /dev/null.
* environment: the hub's own ``os.environ`` (acactl authenticates to Azure with
  it), then ``extra_env``, then ``get_env()`` (which wins), then the protocol
  variables ``ACACTL_FORWARD`` (comma-separated ``get_env()`` keys),
  ``ACACTL_USER_OPTIONS`` (JSON of ``user_options``, always),
  ``ACACTL_USER_GROUPS`` (JSON list of the user's hub group names, always) and
  ``ACACTL_STATE`` (JSON of the state ``start`` printed, only when there is
  one).
* profiles: ``acactl profiles`` (JSON) renders the options form and gives
  the chosen profile's start timeout, which becomes ``Spawner.start_timeout``
  (plus ``term_grace`` and ``start_timeout_margin``) before the hub starts
  its clock.
* stdout: exactly one JSON object; stderr: human log lines, and during
  ``start --progress json`` also JSON lines ``{"progress": N, "message": "..."}``
  that are forwarded to :meth:`ExecSpawner.progress`.
* failure: non-zero exit and ``{"error": {"code": "...", "message": "..."}}``.

Install: ``pip install acactl`` puts this module and the ``acactl`` binary into
the hub's environment and registers the ``jupyterhub.spawners`` entry point
``acactl``: ``c.JupyterHub.spawner_class = "acactl"``.  The binary installed
with this package is used unless ``c.ExecSpawner.command`` says otherwise.

JupyterHub's own Spawner settings are honoured or refused (see
``UNSUPPORTED_TRAITS``): ``args`` reach the container (``ACACTL_ARGS``),
``environment``, ``default_url`` and ``notebook_dir`` reach it through
``get_env()``; ``cmd``, the cpu/memory limits and ``image`` are acactl
settings: setting them refuses every spawner with the name of the acactl
setting to use, and ``check_config(c)`` at the end of the hub's config file
(as in contrib/jupyterhub_config.py) stops the hub at start-up instead.
"""

import asyncio
import html
import importlib.metadata
import json
import math
import os
import re
import signal
import sys
from collections import deque
from pathlib import Path

from jupyterhub.spawner import Spawner
from jupyterhub.traitlets import Command
from traitlets import Bool, Dict, Float, Unicode, default

try:  # JupyterHub >= 6.0: logged without traceback, counted as a spawn "failure"
    from jupyterhub.spawner import SpawnException
except ImportError:  # pragma: no cover - older JupyterHub
    SpawnException = None

__all__ = ["ExecSpawner", "ExecSpawnerError", "check_config", "installed_binary", "unsupported_settings"]

# Variables owned by the protocol: never inherited from the hub's environment,
# never taken from get_env(), never listed in ACACTL_FORWARD.
PROTOCOL_VARS = (
    "ACACTL_FORWARD",
    "ACACTL_STATE",
    "ACACTL_USER_OPTIONS",
    "ACACTL_USER_GROUPS",
    "ACACTL_ARGS",
)

# JupyterHub Spawner settings acactl cannot take from the hub: (default, the
# acactl setting to use instead).  A non-default value stops the hub at start-up.
# ACA gives a container one cpu and one memory figure (a Consumption pair, or a
# workload profile's room): there is no separate limit and guarantee.
UNSUPPORTED_TRAITS = {
    "cmd": (["jupyterhub-singleuser"], "acactl's `server.command` (the container's command)"),
    "cpu_limit": (None, "acactl's `server.cpu` (or a profile's or choice's `cpu`)"),
    "cpu_guarantee": (None, "acactl's `server.cpu` (or a profile's or choice's `cpu`)"),
    "mem_limit": (None, "acactl's `server.memory` (or a profile's or choice's `memory`)"),
    "mem_guarantee": (None, "acactl's `server.memory` (or a profile's or choice's `memory`)"),
    "image": ("", "acactl's `server.image` (or a profile's or choice's `image`)"),
}
STATE_KEY = "acactl"

# Names of get_env() keys whose values are redacted from anything we log or
# show (acactl should never print them, this is defence in depth).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|_KEY$", re.IGNORECASE)
_MIN_SECRET_LEN = 8
_REASON_CHARS = re.compile(r"[^A-Za-z0-9_.-]")

_MAX_STDOUT = 1 << 20  # one JSON object; anything bigger is garbage
_MAX_LINE = 64 << 10  # stderr lines longer than this are split
_ERR_TAIL = 20  # stderr lines kept for error messages
_REAP_TIMEOUT = 5  # after SIGKILL, how long to wait for the pipes to close


class ExecSpawnerError(RuntimeError):
    """acactl failed (stop), or could not be run at all."""


class _CommandTimeout(Exception):
    pass


class _Result:
    def __init__(self, returncode, stdout, stderr_tail, redact):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr_tail = stderr_tail  # already redacted
        self._redact = redact

    def json(self):
        """stdout parsed as one JSON object, or None."""
        try:
            value = json.loads(self.stdout.decode("utf-8", "replace").strip())
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def error(self):
        """(code, message) from an error object on stdout, else from stderr."""
        doc = self.json() or {}
        err = doc.get("error")
        if isinstance(err, dict) and (err.get("code") or err.get("message")):
            code, message = str(err.get("code") or "error"), str(err.get("message") or "")
            return self._redact(code), self._redact(message)
        tail = "; ".join(self.stderr_tail) or "no error output"
        return f"exit_{self.returncode}", tail


class ExecSpawner(Spawner):
    """Run each server through an external command (``acactl``)."""

    command = Command(
        config=True,
        help="""The command to run (a list, or a string for a single word).

        Default: the `acactl` binary installed with this package (in the
        environment's scripts directory, beside the Python interpreter); the
        hub's PATH is never searched.  The subcommand and its arguments are
        appended; use an absolute path.""",
    )

    @default("command")
    def _default_command(self):
        binary = installed_binary()
        if not binary:
            raise ExecSpawnerError(_NO_BINARY)
        return [binary]

    image = Unicode(
        "",
        config=True,
        help="""Not used: the image comes from acactl's configuration
        (`server.image`, or a profile's).  Set here (kubespawner's habit), every
        spawner is refused naming that setting, and check_config(c) stops the
        hub at start-up.""",
    )

    config_file = Unicode(
        "",
        config=True,
        help="If set, `--config PATH` is passed before the subcommand.",
    )

    term_grace = Float(
        20,
        config=True,
        help="""Seconds the command gets to clean up after SIGTERM before SIGKILL.

        Used when start() is cancelled (JupyterHub's start_timeout): acactl then
        deletes what it created.  The wait is shielded from further
        cancellation, so start_timeout must leave room for it.""",
    )

    poll_timeout = Float(
        60,
        config=True,
        help="""Seconds `poll` may take; after that the command is killed and the
        server is reported as still running (an error never means "gone").""",
    )

    extra_env = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        config=True,
        help="""Extra environment variables for the command itself (e.g. acactl's
        own settings).  Not forwarded into the container (not in
        ACACTL_FORWARD); get_env() wins on a name clash.""",
    )

    profiles_form = Bool(
        True,
        config=True,
        help="""Render an options form from `acactl profiles` (when acactl has
        more than one profile, or options to choose).  The choice reaches
        acactl as ACACTL_USER_OPTIONS, which acactl validates: a user can only
        pick configured profiles and choices.""",
    )

    profiles_timeout = Float(
        30,
        config=True,
        help="Seconds `acactl profiles` may take (it makes no network call).",
    )

    profile_start_timeout = Bool(
        True,
        config=True,
        help="""Set start_timeout before each start from the chosen profile
        (`acactl profiles`).  Turn off to keep a fixed Spawner.start_timeout,
        which must then cover the longest profile + term_grace.""",
    )

    start_timeout_margin = Float(
        40,
        config=True,
        help="""Added to the chosen profile's start timeout and term_grace to
        give Spawner.start_timeout, set before each start: acactl then always
        times out (and cleans up) before the hub cancels it.""",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        problems = unsupported_settings(self)
        if problems:
            raise ExecSpawnerError("; ".join(problems))

    @default("options_form")
    def _default_options_form(self):
        return _options_form if self.profiles_form else ""

    def options_from_form(self, formdata):
        """{"profile": slug, "<option>": choice} from the form's fields
        (`profile` and `<slug>--<option>`); other profiles' fields are dropped."""
        profile = (formdata.get("profile") or [""])[0]
        options = {"profile": profile} if profile else {}
        prefix = f"{profile}--"
        for key, values in formdata.items():
            if profile and key.startswith(prefix) and values:
                options[key[len(prefix):]] = values[0]
        return options

    async def list_profiles(self, selected=False):
        """`acactl profiles` for this user (JSON), or None when it fails.  With
        `selected`, acactl also says what `start` would choose for
        self.user_options (passed as ACACTL_USER_OPTIONS, as to start)."""
        args = ["profiles", "-o", "json", "--user", self.user.name]
        if selected:
            args.append("--selected")
        try:
            result = await self._run(args, timeout=self.profiles_timeout, quiet=True)
        except (OSError, _CommandTimeout) as e:
            self.log.warning("cannot run acactl profiles: %s", self._redact(str(e)))
            return None
        doc = result.json() if result.returncode == 0 else None
        if doc is None or not isinstance(doc.get("profiles"), list):
            code, message = result.error()
            self.log.warning("acactl profiles failed [%s]: %s", code, message)
            return None
        return doc

    async def run_pre_spawn_hook(self):
        # The hub reads start_timeout right after this hook, before start():
        # the chosen profile's timeout must be in place by then.
        await self._apply_profile_timeout()
        result = super().run_pre_spawn_hook()
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        return result

    async def _apply_profile_timeout(self):
        if not self.profile_start_timeout:
            return
        doc = await self.list_profiles(selected=True)
        if doc is None:
            return
        seconds = selected_start_timeout(doc)
        if seconds is None:
            return
        timeout = int(math.ceil(seconds + self.term_grace + self.start_timeout_margin))
        if timeout != self.start_timeout:
            self.log.info(
                "start_timeout for %s: %ss (acactl %ss + term_grace + margin)", self._log_name, timeout, seconds
            )
        self.start_timeout = timeout

    # The JSON object `start` printed under "state"; None = no server known.
    acactl_state = None

    _progress_events = ()
    _progress_wakeup = None
    _start_running = False

    # --- state ----------------------------------------------------------

    def load_state(self, state):
        super().load_state(state)
        value = state.get(STATE_KEY)
        self.acactl_state = value if isinstance(value, dict) else None

    def get_state(self):
        state = super().get_state()
        if self.acactl_state is not None:
            state[STATE_KEY] = self.acactl_state
        return state

    def clear_state(self):
        super().clear_state()
        self.acactl_state = None
        # The hub calls clear_state() before the spawn hooks and start(): a
        # progress stream opened from now on must not replay the last spawn.
        self._progress_events = []

    # --- lifecycle --------------------------------------------------------

    async def start(self):
        self._progress_events = events = []
        self._start_running = True
        try:
            result = await self._run(
                ["start", "--progress", "json"],
                on_json=lambda obj: self._add_progress(events, obj),
            )
        except OSError as e:
            raise self._spawn_error("exec_failed", f"cannot run acactl: {e}")
        finally:
            self._start_running = False
            self._notify_progress()

        if result.returncode != 0:
            code, message = result.error()
            raise self._spawn_error(code, message)

        doc = result.json()
        if doc is None:
            raise self._spawn_error(
                "bad_output", "acactl start printed no JSON object on stdout"
            )
        state = doc.get("state")
        if isinstance(state, dict):
            # Keep it even if the rest is wrong: the server may exist, and
            # with state the hub's poll/stop can still find and delete it.
            self.acactl_state = state
        url = doc.get("url")
        if not (isinstance(url, str) and re.match(r"https?://[^/\s]+", url)):
            raise self._spawn_error(
                "bad_output", f"acactl start returned no usable url: {url!r}"
            )
        if not isinstance(state, dict):
            raise self._spawn_error(
                "bad_output", "acactl start returned no state object"
            )
        self.log.info(
            "acactl started %s for %s at %s", doc.get("name"), self._log_name, url
        )
        return url

    async def poll(self):
        if self.acactl_state is None:
            return 0  # never started (or already known to be gone)
        try:
            return self._poll_result(
                await self._run(["poll"], timeout=self.poll_timeout, quiet=True)
            )
        except _CommandTimeout:
            self.log.warning(
                "acactl poll for %s timed out after %ss (killed); assuming it is still running",
                self._log_name,
                self.poll_timeout,
            )
            return None
        except Exception as e:  # an error must never look like "server gone"
            self.log.warning(
                "cannot run acactl poll for %s (%s); assuming it is still running",
                self._log_name,
                self._redact(str(e)),
            )
            return None

    def _poll_result(self, result):
        if result.returncode != 0:
            code, message = result.error()
            self.log.warning(
                "acactl poll for %s failed [%s]: %s; assuming it is still running",
                self._log_name,
                code,
                message,
            )
            return None
        doc = result.json()
        exit_status = doc.get("exit_status", "missing") if doc else "missing"
        if exit_status is None:
            return None
        if type(exit_status) is not int:
            self.log.warning(
                "acactl poll for %s printed unusable output (exit_status %r); "
                "assuming it is still running",
                self._log_name,
                exit_status,
            )
            return None
        self.log.info(
            "acactl poll: server of %s is %s (exit status %s)",
            self._log_name,
            doc.get("status"),
            exit_status,
        )
        self.acactl_state = None
        return exit_status

    async def stop(self, now=False):
        # `now` is ignored: acactl always deletes the app.  Run even without
        # state: acactl can derive the app's name from the environment.
        try:
            result = await self._run(["stop"])
        except OSError as e:
            raise ExecSpawnerError(f"cannot run acactl stop: {e}") from None
        if result.returncode != 0:
            code, message = result.error()
            raise ExecSpawnerError(f"acactl stop failed [{code}]: {message}")
        doc = result.json() or {}
        self.log.info(
            "acactl stopped %s for %s (deleted: %s)",
            doc.get("name"),
            self._log_name,
            doc.get("deleted"),
        )
        self.acactl_state = None

    # --- progress ---------------------------------------------------------

    async def progress(self):
        """Replay this spawn's progress events, then follow new ones until
        start() has returned.  Several clients may iterate at once."""
        events, seen = None, 0
        while True:
            if self._progress_events is not events:
                events, seen = self._progress_events, 0
            while seen < len(events):
                seen += 1
                yield events[seen - 1]
            if not (self._start_running or self._start_pending):
                return
            if self._progress_wakeup is None:
                self._progress_wakeup = asyncio.Event()
            try:
                # the timeout re-checks the flags, which the hub changes
                # without telling us (e.g. a pre_spawn_hook failing)
                await asyncio.wait_for(self._progress_wakeup.wait(), 1)
            except asyncio.TimeoutError:
                pass

    def _add_progress(self, events, obj):
        if "progress" not in obj and "message" not in obj:
            return False
        event = {}
        progress = obj.get("progress")
        if type(progress) in (int, float) and math.isfinite(progress):
            event["progress"] = max(0, min(100, int(progress)))
        if "message" in obj:
            event["message"] = self._redact(str(obj["message"]))
        if event:
            events.append(event)
            self._notify_progress()
        return True

    def _notify_progress(self):
        wakeup, self._progress_wakeup = self._progress_wakeup, None
        if wakeup is not None:
            wakeup.set()

    # --- running the command ---------------------------------------------

    def _argv(self, args):
        argv = list(self.command)
        if self.config_file:
            argv += ["--config", self.config_file]
        return argv + list(args)

    def _child_env(self):
        """The command's environment; also remembers the secret values to redact."""
        user_env = {
            k: "" if v is None else str(v)
            for k, v in self.get_env().items()
            if k not in PROTOCOL_VARS
        }
        forward = sorted(k for k in user_env if "," not in k)
        if len(forward) != len(user_env):
            self.log.warning("not forwarding environment names containing ','")
        env = {k: v for k, v in os.environ.items() if k not in PROTOCOL_VARS}
        env.update(self.extra_env)
        env.update(user_env)
        env["ACACTL_FORWARD"] = ",".join(forward)
        env["ACACTL_USER_OPTIONS"] = json.dumps(self.user_options or {}, default=str)
        env["ACACTL_USER_GROUPS"] = json.dumps(_group_names(self.user))
        args = [str(a) for a in self.get_args()]
        if args:  # appended to the container's args, after acactl's own
            env["ACACTL_ARGS"] = json.dumps(args)
        if self.acactl_state is not None:
            env["ACACTL_STATE"] = json.dumps(self.acactl_state)
        secrets = {v for k, v in user_env.items() if _SECRET_NAME.search(k)}
        secrets.add(self.api_token or "")
        self._secrets = sorted(
            (s for s in secrets if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True
        )
        return env

    def _redact(self, text):
        for secret in getattr(self, "_secrets", ()):
            text = text.replace(secret, "***")
        return text

    async def _run(self, args, *, timeout=None, on_json=None, quiet=False):
        """Run `command args`; return a _Result.

        stderr lines go to self.log (JSON objects to `on_json` first, if it
        accepts them).  On timeout the child is killed and _CommandTimeout is
        raised.  On cancellation the child gets SIGTERM and `term_grace`
        seconds (shielded: further cancellations do not cut the wait short),
        then SIGKILL, and the CancelledError is re-raised.
        """
        subcommand = args[0]
        env = self._child_env()
        log_line = self.log.debug if quiet else self.log.info
        tail = deque(maxlen=_ERR_TAIL)

        def on_stderr(raw):
            line = self._redact(raw.decode("utf-8", "replace").rstrip("\r"))
            if not line.strip():
                return
            if on_json is not None and line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                if isinstance(obj, dict) and on_json(obj):
                    self.log.debug("acactl %s [%s] progress: %s", subcommand, self._log_name, line)
                    return
            tail.append(line)
            log_line("acactl %s [%s]: %s", subcommand, self._log_name, line)

        proc = await asyncio.create_subprocess_exec(
            *self._argv(args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        pump = asyncio.ensure_future(self._pump(proc, on_stderr))
        try:
            if timeout is None:
                returncode, stdout = await asyncio.shield(pump)
            else:
                returncode, stdout = await asyncio.wait_for(
                    asyncio.shield(pump), timeout
                )
        except asyncio.CancelledError:
            reaper = asyncio.ensure_future(self._terminate(proc, pump, subcommand))
            while not reaper.done():
                try:
                    await asyncio.shield(reaper)
                except asyncio.CancelledError:
                    continue  # the child gets its grace period regardless
            raise
        except asyncio.TimeoutError:
            self._signal(proc, signal.SIGKILL)
            await self._reap(pump)
            raise _CommandTimeout() from None
        return _Result(returncode, stdout, list(tail), self._redact)

    async def _pump(self, proc, on_stderr):
        stdout, _ = await asyncio.gather(
            _read_capped(proc.stdout), _read_lines(proc.stderr, on_stderr, self.log)
        )
        return await proc.wait(), stdout

    async def _terminate(self, proc, pump, subcommand):
        try:
            if proc.returncode is None:
                self.log.warning(
                    "acactl %s for %s cancelled: sending SIGTERM, grace %ss",
                    subcommand,
                    self._log_name,
                    self.term_grace,
                )
                self._signal(proc, signal.SIGTERM)
                try:
                    await asyncio.wait_for(asyncio.shield(pump), self.term_grace)
                    return
                except asyncio.TimeoutError:
                    self.log.warning(
                        "acactl %s for %s did not exit within %ss: sending SIGKILL",
                        subcommand,
                        self._log_name,
                        self.term_grace,
                    )
                    self._signal(proc, signal.SIGKILL)
            await self._reap(pump)
        except Exception:  # never let cleanup errors replace the cancellation
            self.log.exception("error while terminating acactl %s", subcommand)

    @staticmethod
    def _signal(proc, sig):
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass

    async def _reap(self, pump):
        try:
            await asyncio.wait_for(asyncio.shield(pump), _REAP_TIMEOUT)
        except asyncio.TimeoutError:
            pump.cancel()  # something else holds the pipes open
        except Exception:
            pass

    def _spawn_error(self, code, message):
        code = self._redact(str(code))
        text = f"acactl start failed [{code}]: {self._redact(message)}"
        if SpawnException is None:  # pragma: no cover
            return ExecSpawnerError(text)
        reason = _REASON_CHARS.sub("_", code)[:64] or "error"
        exc = SpawnException(text, reason=reason, status_code=500)
        # what the progress page and the spawn error page show the user
        exc.jupyterhub_message = text
        return exc


_NO_BINARY = (
    "no acactl binary was installed with the acactl package (was it installed from a wheel?): "
    "set c.ExecSpawner.command to the binary's absolute path"
)


def installed_binary():
    """Absolute path of the `acactl` binary installed with this package, or None.

    Read from the distribution's RECORD, so it is the binary of this very
    installation (venv, --user or system), wherever the scripts directory is."""
    try:
        dist = importlib.metadata.distribution("acactl")
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name in ("acactl", "acactl.exe") and entry.parent.name in ("bin", "Scripts"):
            path = Path(dist.locate_file(entry)).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                # only the package that is actually imported: not a second copy elsewhere
                if Path(__file__).resolve().is_relative_to(Path(dist.locate_file("")).resolve()):
                    return str(path)
    return None


def unsupported_settings(spawner):
    """What the operator set that acactl cannot honour, each naming the acactl setting to use."""
    problems = []
    for name, (default_value, instead) in UNSUPPORTED_TRAITS.items():
        if spawner.has_trait(name) and getattr(spawner, name) not in (default_value, None, ""):
            problems.append(
                f"c.Spawner.{name} = {getattr(spawner, name)!r} is not used by the acactl spawner: set {instead}"
            )
    try:
        spawner.command
    except ExecSpawnerError as e:
        problems.append(str(e))
    return problems


def check_config(config):
    """Refuse to start a hub whose spawner settings acactl would drop: call it at
    the end of jupyterhub_config.py with `c` (contrib/jupyterhub_config.py does).
    Prints every problem and raises SystemExit(1), which JupyterHub does not
    swallow as it does other errors in a config file.  Without it, the same check
    refuses each spawner when it is created (the user sees the message)."""
    try:
        ExecSpawner(config=config)
    except ExecSpawnerError as e:
        for problem in str(e).split("; "):
            print(f"acactl spawner: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def _group_names(user):
    names = []
    for g in getattr(user, "groups", None) or ():
        name = getattr(g, "name", g)
        if isinstance(name, str):
            names.append(name)
    return sorted(set(names))


def selected_start_timeout(doc):
    """Seconds acactl's start may take: what `acactl profiles --selected`
    answered for these user options (acactl's own selection rules), or None."""
    selected = doc.get("selected")
    seconds = selected.get("start_timeout") if isinstance(selected, dict) else None
    return seconds if type(seconds) in (int, float) else None


def render_options_form(doc):
    """A simple HTML form: one radio button per profile, a select per option."""
    profiles = [p for p in doc.get("profiles") or [] if isinstance(p, dict) and p.get("slug")]
    if not profiles or (len(profiles) == 1 and not profiles[0].get("options")):
        return ""
    e = lambda v: html.escape(str(v if v is not None else ""), quote=True)  # noqa: E731
    default = next((p for p in profiles if p.get("default")), profiles[0])
    parts = ['<div class="acactl-profiles">']
    for p in profiles:
        slug = p["slug"]
        checked = " checked" if p is default else ""
        parts.append('<div class="form-group acactl-profile">')
        parts.append(
            f'<label><input type="radio" name="profile" value="{e(slug)}"{checked}> '
            f"<strong>{e(p.get('display_name') or slug)}</strong></label>"
        )
        if p.get("description"):
            parts.append(f'<p class="help-block">{e(p["description"])}</p>')
        for option in p.get("options") or []:
            field = f"{slug}--{option.get('name')}"
            parts.append(
                f'<label for="{e(field)}">{e(option.get("display_name") or option.get("name"))}</label>'
            )
            parts.append(f'<select class="form-control" name="{e(field)}" id="{e(field)}">')
            for choice in option.get("choices") or []:
                selected = " selected" if choice.get("slug") == option.get("default") else ""
                parts.append(
                    f'<option value="{e(choice.get("slug"))}"{selected}>'
                    f"{e(choice.get('display_name') or choice.get('slug'))}</option>"
                )
            parts.append("</select>")
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)


async def _options_form(spawner):
    """ExecSpawner.options_form: rendered from `acactl profiles` for this user."""
    doc = await spawner.list_profiles()
    return render_options_form(doc) if doc else ""


async def _read_capped(stream):
    chunks, size = [], 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return b"".join(chunks)
        if size < _MAX_STDOUT:
            chunks.append(chunk)
        size += len(chunk)


async def _read_lines(stream, on_line, log):
    def emit(line):
        try:
            on_line(line)
        except Exception:
            log.exception("error handling acactl output")

    buf = b""
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            emit(line)
        while len(buf) > _MAX_LINE:
            emit(buf[:_MAX_LINE])
            buf = buf[_MAX_LINE:]
    if buf:
        emit(buf)


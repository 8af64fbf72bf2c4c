"""Example JupyterHub 6.x configuration: a hub running as an Azure Container App
that runs each user's notebook server as its own Container App through acactl.

Usable as-is inside ACA: every value comes from an environment variable with
a default, and the defaults are derived from the variables ACA sets in every
container (CONTAINER_APP_NAME, CONTAINER_APP_ENV_DNS_SUFFIX).

Layout assumed (the recipe that was reproduced end to end):
  browser --https--> ACA ingress of the hub app --> CHP :8000 (bind_url)
      CHP --/hub/--> the hub process on 127.0.0.1:8081 (hub_bind_url)
      CHP --/user/<name>/--> http://<user app name>  (ACA in-environment ingress)
  user server --http://<hub app name>/hub/api--> CHP --> hub  (hub_connect_url)

Installing the spawner: `pip install acactl jupyterhub` into the hub's Python
environment; it brings the spawner (entry point "acactl") and the acactl binary,
which the spawner finds beside itself.  Nothing needs to be on PYTHONPATH.
"""

import os

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)


def env(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_float(name, default):
    return float(env(name, str(default)))


# The hub's own app name and the environment's default domain, set by ACA.
hub_app = env("CONTAINER_APP_NAME", "jupyterhub")
dns_suffix = os.environ.get("CONTAINER_APP_ENV_DNS_SUFFIX", "")

# --- spawner ------------------------------------------------------------------

# The `jupyterhub.spawners` entry point of the acactl package (acactl.spawner.ExecSpawner).
c.JupyterHub.spawner_class = "acactl"

# Default: the acactl binary installed with the package.  ACACTL_BIN overrides
# it (an absolute path: the hub's PATH is never searched).
if env("ACACTL_BIN", ""):
    c.ExecSpawner.command = [env("ACACTL_BIN", "")]

# acactl's own settings file (image, environment, resources, ...), passed as
# `--config PATH` on every call.  Empty = acactl's default lookup.
c.ExecSpawner.config_file = env("ACACTL_CONFIG", "")

# When the hub gives up on a start (start_timeout), acactl gets SIGTERM and
# this long to delete the half-created app before SIGKILL.
c.ExecSpawner.term_grace = env_float("ACACTL_TERM_GRACE", 20)

# A poll that takes longer is killed and reported as "still running".
c.ExecSpawner.poll_timeout = env_float("ACACTL_POLL_TIMEOUT", 60)

# Everything in get_env() is forwarded into the user's container (acactl
# forwards exactly ACACTL_FORWARD, minus its deny-list).  Keep env_keep at its
# default: never add AZURE_*/IDENTITY_* or other hub credentials to it.
# Values in c.Spawner.environment are forwarded too (names matching
# TOKEN/SECRET/PASSWORD/... are redacted from the spawner's logs).

# JupyterHub's Spawner settings: c.Spawner.args are appended to the container's
# arguments; environment, default_url and notebook_dir reach the container; cmd,
# cpu/mem limits and guarantees and image are acactl settings (server.command,
# server.cpu, server.memory, server.image or profiles): check_config(c) at the
# end of this file stops the hub at start-up when they are set.
#
# Not set on purpose: c.Spawner.args with --ServerApp.allow_origin.  acactl
# adds `--ServerApp.allow_origin=<public hub origin>` itself (derived from
# JUPYTERHUB_PUBLIC_HUB_URL, i.e. from public_url below).  Without it the
# single-user server blocks the browser's API and websocket requests, because
# CHP's --change-origin makes Host differ from the browser's Origin.

# --- URLs -----------------------------------------------------------------------

# The public URL users type.  Needed because CHP's --change-origin rewrites
# Host for the hub's own route too: without public_url the hub would build
# OAuth redirect_uris and next-url checks from "127.0.0.1:8081".  It also
# gives the single-user servers JUPYTERHUB_PUBLIC_HUB_URL, from which acactl
# derives allow_origin, and makes the OAuth state cookie secure.
# Default: the hub app's external ingress FQDN; set it for a custom domain.
c.JupyterHub.public_url = env(
    "ACACTL_HUB_PUBLIC_URL",
    f"https://{hub_app}.{dns_suffix}/" if dns_suffix else "http://localhost:8000/",
)

# CHP listens here; this is the hub app's ingress targetPort.
c.JupyterHub.bind_url = env("ACACTL_HUB_BIND_URL", "http://0.0.0.0:8000")

# The hub process itself only needs to be reachable by CHP in the same
# container: keep it on loopback.
c.JupyterHub.hub_bind_url = env("ACACTL_HUB_HUB_BIND_URL", "http://127.0.0.1:8081")

# How user servers (other apps in the ACA environment) reach the hub API:
# JUPYTERHUB_API_URL = <this>/hub/api, through the hub app's ingress and CHP.
# Without it they would get the replica's hostname, which nobody can resolve.
# The hub app's ingress must then accept plain http in the environment
# (allowInsecure: true), or use https://<hub app>.internal.<dns suffix>.
# Do NOT set c.JupyterHub.hub_connect_url instead: it also becomes CHP's
# default route target, and CHP would loop through the ingress into itself.
c.Spawner.hub_connect_url = env("ACACTL_HUB_CONNECT_URL", f"http://{hub_app}")

# Not set: c.Spawner.ip / c.Spawner.port.  acactl writes JUPYTERHUB_SERVICE_URL
# itself, with 0.0.0.0 and its configured target port (the defaults here would
# make the server listen on the container's loopback).

# --- proxy and cookies -----------------------------------------------------------

# ACA's envoy routes by Host: CHP must send Host: <user app>, not the public
# host of the hub, or every /user/ request hits a 404 "app does not exist".
# Also needed for https targets (TLS SNI comes from Host).
c.ConfigurableHTTPProxy.command = [
    env("ACACTL_CHP_BIN", "configurable-http-proxy"),
    "--change-origin",
]

# The user server sees X-Forwarded-Proto: http on the in-environment hop, so
# without this its auth cookie would be set without `secure`.
c.JupyterHub.tornado_settings = {"cookie_options": {"secure": True}}

# --- lifecycle ---------------------------------------------------------------------

# The hub app restarts on every new revision and on platform maintenance; the
# default (True) would stop every user's server each time.  With False, the
# hub re-polls its servers on start-up (through acactl poll) and keeps the
# live ones.  This only works with a persistent database (below).
c.JupyterHub.cleanup_servers = False

# Must survive hub restarts, or running user apps are forgotten (and only
# `acactl gc` would remove them).  SQLite on an Azure Files (SMB) mount has
# unreliable locking: prefer PostgreSQL, e.g.
# postgresql+psycopg2://user@server.postgres.database.azure.com/jupyterhub
c.JupyterHub.db_url = env("ACACTL_HUB_DB_URL", "sqlite:///jupyterhub.sqlite")

# acactl start waits (up to its own server.start_timeout, default 300 s) for
# the app's new revision to run and Jupyter to answer.  The hub must give it
# longer than that plus term_grace: then acactl always times out first,
# deletes the app itself and reports a clear error, instead of being
# cancelled by the hub mid-way.  (When the hub does cancel, start() still
# waits up to term_grace for acactl to delete what it created, so a start can
# take start_timeout + term_grace.)  Set ACACTL_START_TIMEOUT to acactl's
# server.start_timeout.  Default: 300 + 20 + 40 = 360 s.  This is only the
# fallback: before each start the exec spawner runs `acactl profiles` and sets
# start_timeout to the chosen profile's start timeout + term_grace +
# start_timeout_margin (GPU profiles may need 30 minutes, the small one 5).
acactl_start_timeout = env_float("ACACTL_START_TIMEOUT", 300)
c.Spawner.start_timeout = int(acactl_start_timeout + c.ExecSpawner.term_grace + 40)

# After start returns, the hub waits this long for <url>/api to answer with a
# status below 500.  acactl only returns once Jupyter answers, so this is
# quick; the margin covers adding the proxy route.
c.Spawner.http_timeout = int(env("ACACTL_HTTP_TIMEOUT", "60"))

# Every poll runs `acactl poll`: one ARM read per running server (acactl
# caches its token).  ARM allows about 25 reads/s (bucket of 250) per
# identity and region, shared with starts, stops and `acactl gc`, so keep
#   running servers / poll_interval  well below 25/s
# (30 s: fine up to a few hundred servers; raise it for large hubs).  A longer
# interval only delays noticing a server that died on its own.
c.Spawner.poll_interval = int(env("ACACTL_POLL_INTERVAL", "30"))
# Spread the polls out instead of firing them in bursts.
c.Spawner.poll_jitter = 0.3

# Authentication is deployment-specific (the default, PAM, cannot work in a
# container without user accounts): set e.g. "generic-oauth" or "azuread"
# (oauthenticator) and configure it below.
if os.environ.get("ACACTL_HUB_AUTHENTICATOR"):
    c.JupyterHub.authenticator_class = os.environ["ACACTL_HUB_AUTHENTICATOR"]

# Profiles: with `profiles:` in acactl's config, the exec spawner renders an
# options form from `acactl profiles` (one radio button per profile the user
# may use, a select per option) and passes the choice as ACACTL_USER_OPTIONS,
# which acactl validates.  Profiles limited to hub groups see the user's
# groups in ACACTL_USER_GROUPS (from user.groups; with an OAuth
# authenticator, set manage_groups = True so the hub keeps them current).
# c.ExecSpawner.profiles_form = False     # no form (REST user_options still work)
c.ExecSpawner.start_timeout_margin = env_float("ACACTL_START_TIMEOUT_MARGIN", 40)

# Last: refuse to start when a JupyterHub Spawner setting above (or added after
# copying this file) is one acactl cannot honour (cmd, cpu/mem limits, image),
# naming the acactl setting to use instead.
from acactl.spawner import check_config  # noqa: E402

check_config(c)

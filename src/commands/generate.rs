//! `acactl generate`: completions and the man page from the one clap definition.

use clap::CommandFactory;
use clap_complete::aot::{Shell, generate};

use crate::cli::{Cli, Generate};

/// Man page sections clap does not know about.
const MAN_SECTIONS: &str = r#".SH "SPAWNER PROTOCOL"
Each command prints exactly one JSON object and a newline on stdout; logs and progress go to stderr.
Commands never read stdin.
.TP
\fBstart\fR
prints {"name", "url", "state"} once Jupyter answers through the ingress; \-\-progress json writes
{"progress": N, "message": ...} lines on stderr. On failure, timeout or SIGTERM the app is deleted.
.TP
\fBpoll\fR
prints {"status": running|pending|unknown|stopped|failed, "exit_status": null|int}. exit_status is
non\-null only when the app is really gone (a terminally failed app is deleted first). Errors are
"unknown" with a null exit_status; poll exits 0 except for usage errors.
.TP
\fBstop\fR
prints {"name", "deleted": true|false}; idempotent.
.TP
errors
non\-zero exit and {"error": {"code", "message"}} on stdout.
.SH "EXIT STATUS"
.TP
0
success (poll: always, except usage errors)
.TP
1
nothing matched (status)
.TP
2
usage or configuration error
.TP
3
Azure or runtime failure (gc: a delete failed, or gc refused because the hub's view was incomplete)
.TP
4
another acactl gc of this hub holds the lock; this run did nothing
.SH ENVIRONMENT
.TP
ACACTL_CONFIG
configuration file (after \-\-config)
.TP
ACACTL_FORWARD, ACACTL_STATE, ACACTL_USER_OPTIONS, ACACTL_USER_GROUPS
set by the exec spawner: the get_env() keys to forward, the state a previous start printed, the user's options ({"profile": slug, option: choice}), the user's hub groups (JSON list)
.TP
JUPYTERHUB_USER, JUPYTERHUB_SERVER_NAME, JUPYTERHUB_API_TOKEN, JUPYTERHUB_SERVICE_PREFIX, ...
the spawner environment JupyterHub provides
.TP
ACACTL_HUB_ID, AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_ACA_ENVIRONMENT_NAME, AZURE_ACR_SERVER, AZURE_ACR_IDENTITY, JUPYTERHUB_HUB_CONNECT_URL, AZURE_REGION
override the configuration file
.TP
ACACTL_HUB_API_URL, ACACTL_HUB_API_TOKEN
the Hub REST API and a service token (list:users, read:servers, admin:server_state) for status and gc; JUPYTERHUB_API_TOKEN is never used for them
.TP
AZURE_FEDERATED_TOKEN_FILE, IDENTITY_ENDPOINT, IDENTITY_HEADER, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET
the hub's Azure identity (never forwarded to user containers)
.TP
HTTP_PROXY, HTTPS_PROXY, NO_PROXY
proxies for ARM and readiness checks
.SH FILES
.TP
~/.config/acactl/config.yaml, /etc/acactl/config.yaml
configuration, in this order after \-\-config and ACACTL_CONFIG; refused (exit 2) when writable by group or others or owned by anyone but the user or root
.TP
~/.cache/acactl/tokens/
ARM token cache (directory 0700, files 0600)
.TP
~/.cache/acactl/gc\-<hub_id>.lock
held (flock) while acactl gc runs (at most gc.deadline)
.TP
~/.cache/acactl/locks/<app>.lock
held (flock) while start, stop or batch submit/cancel work on one server
.SH EXAMPLES
.nf
acactl \-\-config config.example.yaml start \-\-dry\-run \-\-user marcus
acactl poll \-\-user marcus
acactl stop \-\-user marcus \-\-server gpu
acactl profiles \-o table
acactl status \-\-user marcus
acactl gc \-\-dry\-run
.fi
"#;

pub fn render(what: Generate) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let shell = match what {
        Generate::Man => {
            let man = clap_mangen::Man::new(cmd);
            // Writing to a Vec cannot fail.
            let _ = man.render_title(&mut out);
            let _ = man.render_name_section(&mut out);
            let _ = man.render_synopsis_section(&mut out);
            let _ = man.render_description_section(&mut out);
            let _ = man.render_options_section(&mut out);
            let _ = man.render_subcommands_section(&mut out);
            out.extend_from_slice(MAN_SECTIONS.as_bytes());
            let _ = man.render_version_section(&mut out);
            return out;
        }
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompleteElvish => Shell::Elvish,
        Generate::CompletePowershell => Shell::PowerShell,
    };
    generate(shell, &mut cmd, "acactl", &mut out);
    out
}

//! The clap definitions: one source for parsing, --help, the man page and shell completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 nothing matched, 2 usage or configuration error, 3 Azure or runtime failure,
4 another gc holds the lock.
Each command prints exactly one JSON document on stdout; logs and progress go to stderr.
See README.md, section \"Spawner protocol\", or man acactl.";

#[derive(Debug, Parser)]
#[command(
    name = "acactl",
    bin_name = "acactl",
    version,
    about = "Run each JupyterHub user's notebook server as an Azure Container App",
    long_about = "Run each JupyterHub user's notebook server as an Azure Container App.\n\n\
        A JupyterHub exec spawner runs `acactl start`, `acactl poll` and `acactl stop` once per lifecycle \
        event; each prints one JSON document on stdout.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)
    #[arg(long, global = true, value_name = "ID")]
    pub subscription: Option<String>,

    /// Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)
    #[arg(long, global = true, value_name = "NAME")]
    pub resource_group: Option<String>,

    /// Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the config file)
    #[arg(long, global = true, value_name = "NAME|ID")]
    pub environment: Option<String>,

    /// More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or adopt) the user's container app and wait until the notebook server answers
    #[command(after_help = "Example:\n  acactl --config config.example.yaml start --dry-run --user marcus\n\n\
        Prints {\"name\", \"url\", \"state\"} once the server is ready.")]
    Start(StartArgs),

    /// Report whether the server's container app is running (always exits 0 but for usage errors)
    #[command(
        after_help = "Example:\n  ACACTL_STATE='{\"version\":1,\"id\":\"/subscriptions/...\"}' acactl poll\n  acactl poll --user marcus\n\n\
        Prints {\"status\": running|pending|unknown|stopped|failed, \"exit_status\": null|int}."
    )]
    Poll(TargetArgs),

    /// Delete the server's container app (idempotent)
    #[command(after_help = "Example:\n  acactl stop --user marcus --server gpu\n\n\
        Prints {\"name\", \"deleted\": true|false}.")]
    Stop(TargetArgs),

    /// batchspawner's command contract: submit, query and cancel by app name
    #[command(
        subcommand,
        after_help = "Example (batchspawner):\n  c.ACABatchSpawner.batch_submit_cmd = \"/usr/local/bin/acactl batch submit\"\n  \
        c.ACABatchSpawner.batch_query_cmd = \"/usr/local/bin/acactl batch query {job_id}\"\n  \
        c.ACABatchSpawner.batch_cancel_cmd = \"/usr/local/bin/acactl batch cancel {job_id}\""
    )]
    Batch(BatchCommand),

    /// List this hub's container apps (by ownership tags): user, server, status, URL, image, size, age
    #[command(
        after_help = "Examples:\n  acactl status --user marcus\n  acactl status --all-hubs -o table\n  acactl status -o json | jq '.apps[].name'\n\n\
        JSON: {\"apps\": [{\"hub\", \"user\", \"server\", \"name\", \"status\", \"reason\", \"url\", \"image\", \"cpu\", \"memory\", \
        \"created_at\", \"age_seconds\", \"hub_knows\"}], \"count\"}.\n\
        Exit code 1 when no app matched."
    )]
    Status(StatusArgs),

    /// Delete apps whose JupyterHub server no longer exists, and terminally failed apps
    #[command(after_help = "Examples:\n  acactl gc --dry-run\n  acactl gc --grace 2h -o table\n  \
        */15 * * * *  acactl gc -q -o json >> /var/log/acactl-gc.jsonl   (cron)\n\n\
        Needs hub.api_url and a hub API token (hub.api_token or ACACTL_HUB_API_TOKEN) with the unfiltered scopes \
        list:users, read:servers and admin:server_state. Deletes nothing if the hub cannot be read completely.\n\
        JSON: {\"scanned\", \"kept\", \"deleted\", \"failed\", \"would_delete\" (dry run), \
        \"apps\": [{\"name\", \"user\", \"server\", \"action\", \"reason\"}]}.\n\
        Exit codes: 0 all went well, 3 a delete failed or gc refused, 4 another gc holds the lock.")]
    Gc(GcArgs),

    /// Check configuration, credentials, Azure resources and permissions; each check says how to fix it
    #[command(
        after_help = "Example:\n  acactl doctor\n  acactl doctor -o json | jq '.checks[] | select(.status != \"ok\")'\n\n\
        Exits 3 when any check failed."
    )]
    Doctor(DoctorArgs),

    /// List the configured profiles (JSON for the exec spawner's options form, or a table)
    #[command(
        after_help = "Examples:\n  acactl profiles -o table\n  ACACTL_USER_GROUPS='[\"gpu-users\"]' acactl profiles --user marcus\n\n\
        Prints {\"profiles\": [{slug, display_name, description, default, start_timeout, options: [{name, choices}], groups, users, ...}], \"start_timeout\"}.\n\
        With --user (or JUPYTERHUB_USER), only the profiles that user may use (groups from ACACTL_USER_GROUPS)."
    )]
    Profiles(ProfilesArgs),

    /// Print shell completions or the man page (used to refresh completions/ and man/)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// JupyterHub user name (overrides JUPYTERHUB_USER)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Print the exact ARM request (secrets redacted) and exit; no network, no credentials
    #[arg(long)]
    pub dry_run: bool,

    /// How to report start-up progress on stderr
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this JupyterHub user's apps
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Only this named server ("" = the default server)
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,

    /// Apps of every hub in the resource group (acactl-managed), labelled by hub
    #[arg(long)]
    pub all_hubs: bool,

    /// Output format (default: table on a terminal, json otherwise)
    #[arg(long, short = 'o', value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// List what would be deleted and why; delete nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or seconds (default: the largest
    /// start timeout + hub.http_timeout + 5 minutes)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace: Option<std::time::Duration>,

    /// Deletes in flight at once
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Output format (default: table on a terminal, json otherwise)
    #[arg(long, short = 'o', value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// `90`, `90s`, `30m`, `2h`, `1d` (also combined: `1h30m`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(n));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(format!("`{s}` is not a duration (e.g. 90s, 30m, 2h, 1d)")),
        };
        let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration (e.g. 90s, 30m, 2h, 1d)"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
    }
    if !num.is_empty() || s.is_empty() {
        return Err(format!("`{s}` is not a duration (e.g. 90s, 30m, 2h, 1d)"));
    }
    Ok(std::time::Duration::from_secs(total))
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Output format (default: a table on a terminal, JSON otherwise)
    #[arg(long, short = 'o', value_enum)]
    pub output: Option<OutputFormat>,

    /// Only the profiles this hub user may use (overrides JUPYTERHUB_USER; groups from ACACTL_USER_GROUPS)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// List every profile, ignoring JUPYTERHUB_USER
    #[arg(long, conflicts_with = "user")]
    pub all: bool,

    /// Also print "selected": the profile, choices and start_timeout (seconds) that `start` would use
    /// for the user options in ACACTL_USER_OPTIONS; invalid options are the error `start` would give
    #[arg(long, conflicts_with = "all")]
    pub selected: bool,
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it
    Submit,
    /// Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0
    Query {
        /// The app name `submit` printed
        name: String,
    },
    /// Delete the app (idempotent)
    Cancel {
        /// The app name `submit` printed
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format (default: a table on a terminal, JSON otherwise)
    #[arg(long, short = 'o', value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(value_enum)]
    pub what: Generate,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Generate {
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompleteElvish,
    CompletePowershell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_secs());
        assert_eq!(d("90"), Ok(90));
        assert_eq!(d("30m"), Ok(1800));
        assert_eq!(d("2h"), Ok(7200));
        assert_eq!(d("1h30m"), Ok(5400));
        assert_eq!(d("1d"), Ok(86400));
        assert!(d("2 hours").is_err() && d("h").is_err() && d("").is_err() && d("5x").is_err());
    }
}

/// How start reports progress (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A progress bar on a terminal, plain log lines otherwise.
    Auto,
    /// JupyterHub-style `{"progress": N, "message": ...}` JSON lines on stderr.
    Json,
    /// Plain log lines.
    Plain,
    /// No progress output.
    None,
}

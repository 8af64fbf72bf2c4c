//! The clap definitions: one source for parsing, --help, the man page and shell completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::ProgressMode;

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 nothing matched, 2 usage or configuration error, 3 Azure or runtime failure.
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
}

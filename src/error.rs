//! One error type; its [`ErrorCode`] decides the exit code (0 ok, 1 nothing matched, 2 usage/config,
//! 3 Azure/runtime, 4 another gc holds the lock).

use std::fmt;

/// Exit codes, documented in README.md and the man page. Reserved for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    NothingMatched = 1,
    Usage = 2,
    Runtime = 3,
    /// Another `gc` of this hub holds the lock.
    Busy = 4,
}

impl Exit {
    #[cfg(test)]
    pub const ALL: [Exit; 5] = [Exit::Ok, Exit::NothingMatched, Exit::Usage, Exit::Runtime, Exit::Busy];
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// The codes, each once: its exit and what it means. README's table of error codes is checked
/// against this list (test below), so a new code is documented where it is added.
macro_rules! codes {
    ($($code:ident => $exit:ident, $doc:literal;)*) => {
        /// The stable machine code the spawner sees in `{"error": {"code": ...}}`. Serialises to the
        /// variant's name; [`ErrorCode::Arm`] carries ARM's own code verbatim.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ErrorCode {
            $(#[doc = $doc] $code,)*
            /// ARM's own code from its error body (open-ended: `SubscriptionRequestsThrottled`,
            /// a provisioning failure's code, ...), or `Http<status>` when its body had none.
            Arm(String),
        }

        impl ErrorCode {
            /// Every code of acactl's own, in documentation order.
            #[cfg(test)]
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                    ErrorCode::Arm(code) => code,
                }
            }

            pub fn exit(&self) -> Exit {
                match self {
                    $(ErrorCode::$code => Exit::$exit,)*
                    ErrorCode::Arm(_) => Exit::Runtime,
                }
            }

            #[cfg(test)]
            pub fn doc(&self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $doc,)*
                    ErrorCode::Arm(_) => "ARM's own error code and message, passed through",
                }
            }
        }
    };
}

codes! {
    Usage => Usage, "a command-line usage error (unknown flag, missing argument)";
    ConfigInvalid => Usage, "the configuration is invalid (the message names the key and line)";
    ConfigInsecure => Usage, "the configuration file is writable by others than its owner or root";
    InvalidAppName => Usage, "an app name that is not a container app name of this hub";
    SecretNameConflict => Usage, "two forwarded variables would share one container app secret";
    InvalidPatch => Usage, "`server.patch` (or a profile's) does not apply to the request";
    InvalidUserOptions => Usage, "`ACACTL_USER_OPTIONS` is not a JSON object";
    InvalidUserOption => Usage, "a user option's value is not one of its choices";
    UnknownUserOption => Usage, "a user option the hub (or the chosen profile) does not define";
    UnknownProfile => Usage, "user option `profile` names no profile";
    ProfileNotAllowed => Usage, "the chosen profile is limited to other users or groups";
    NoProfileAvailable => Usage, "no profile is available to the user";
    InvalidUserGroups => Usage, "`ACACTL_USER_GROUPS` is not a JSON list of group names";
    MissingUser => Usage, "no user: neither `JUPYTERHUB_USER` nor `--user`";
    InvalidUserName => Usage, "the user name is empty, too long or has `/` or control characters";
    InvalidServerName => Usage, "the server name has `/` or control characters or is too long";
    InvalidServicePrefix => Usage, "`JUPYTERHUB_SERVICE_PREFIX` does not start and end with `/`";
    InvalidState => Usage, "`ACACTL_STATE` is unreadable or names another app or hub";
    InvalidArgs => Usage, "`ACACTL_ARGS` is not a JSON list of strings";
    MissingForward => Usage, "`ACACTL_FORWARD` is not set";
    MissingApiToken => Usage, "`JUPYTERHUB_API_TOKEN` is not set";
    WorkloadProfileNotFound => Usage, "the workload profile is not defined in the managed environment";
    ResourcesExceedWorkloadProfile => Usage, "CPU or memory do not fit the workload profile";
    StorageNotFound => Usage, "a volume mounts environment storage the environment does not have";
    StorageTypeMismatch => Usage, "a volume's type differs from its environment storage's";
    StorageReadOnly => Usage, "a writable volume mounts read-only environment storage";
    RuntimeError => Runtime, "acactl itself could not run (e.g. no async runtime)";
    Internal => Runtime, "a bug in acactl";
    CredentialUnavailable => Runtime, "no Azure credential could be found or built";
    AuthenticationFailed => Runtime, "the credential did not yield an ARM token";
    ForeignUrl => Runtime, "a URL (or redirect) off the configured origin: the token is not sent there";
    ResponseTooLarge => Runtime, "an answer larger than acactl reads";
    InvalidResponse => Runtime, "ARM sent a body acactl cannot read, or lacks what it must have";
    ConnectionError => Runtime, "ARM could not be reached (after retries)";
    Timeout => Runtime, "an ARM request ran out of time";
    RequestBudgetExhausted => Runtime, "the hub's ARM request budget had no room before the deadline";
    PagingLoop => Runtime, "ARM's list of apps repeated a page: the list is incomplete";
    TooManyPages => Runtime, "ARM's list of apps went on past the page limit: the list is incomplete";
    ServerBusy => Runtime, "another acactl command worked on the server until this one's deadline";
    ServerLockFailed => Runtime, "the per-server lock could not be taken";
    NameConflict => Runtime, "an app of that name exists but is not this server's";
    NotOwned => Runtime, "the app is not tagged as this hub's server: not deleted";
    OwnerUnproven => Runtime, "an old state cannot prove the app is this server's";
    AppVanished => Runtime, "the app disappeared while starting";
    ProvisioningFailed => Runtime, "provisioning failed without an ARM code";
    ImagePullFailed => Runtime, "the platform cannot pull the image";
    ContainerCrashing => Runtime, "the container keeps crashing";
    RevisionFailed => Runtime, "the revision failed for another reason";
    StartTimeout => Runtime, "the server was not ready within its start timeout";
    Terminated => Runtime, "interrupted by a signal (the app was deleted)";
    PollTimeout => Runtime, "poll got no answer in time";
    DeleteFailed => Runtime, "a delete failed without an ARM code";
    HubUnreachable => Runtime, "the JupyterHub API could not be reached";
    HubAuthFailed => Runtime, "the JupyterHub API refused the token (401/403)";
    HubError => Runtime, "the JupyterHub API answered with another error";
    HubInvalidResponse => Runtime, "the JupyterHub API sent a body acactl cannot read";
    HubScopeMissing => Runtime, "the hub API token lacks a scope gc needs";
    HubNotPaginated => Runtime, "the JupyterHub API does not paginate its user list";
    HubPaginationIncomplete => Runtime, "the JupyterHub API's user list is incomplete";
    GcDeadline => Runtime, "gc stopped at its deadline";
    GcLockFailed => Runtime, "gc's lock could not be taken";
    GcAlreadyRunning => Busy, "another gc of this hub holds the lock";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Codes are compared as the spawner sees them (ARM's included).
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, as the spawner sees it: a stable machine code plus a readable message.
/// Causes are kept as the [`std::error::Error::source`] chain; the printer turns those the
/// message does not already say into `Caused by:` lines.
#[derive(Debug)]
pub struct Error {
    pub code: ErrorCode,
    /// As printed: the context, followed by the causes for errors built with [`Error::because`].
    pub message: String,
    source: Option<Cause>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), source: None }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ConfigInvalid, message)
    }
    pub fn exit(&self) -> Exit {
        self.code.exit()
    }
    /// Keep `cause` as the source; the printer shows it as `Caused by:` lines.
    pub fn with_source(mut self, cause: impl Into<Cause>) -> Self {
        self.source = Some(cause.into());
        self
    }
    /// Keep `cause` as the source and say it in the message too (`context: cause: its cause`, or
    /// just the causes after an empty context), for messages the spawner shows a user, who sees
    /// only the message.
    pub fn because(mut self, cause: impl Into<Cause>) -> Self {
        let cause = cause.into();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&*cause);
        while let Some(c) = next {
            if !self.message.is_empty() {
                self.message.push_str(": ");
            }
            self.message.push_str(&c.to_string());
            next = c.source();
        }
        self.source = Some(cause);
        self
    }
    /// The causes, outermost first.
    pub fn causes(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let first: Option<&(dyn std::error::Error + 'static)> = self.source.as_deref().map(|c| c as _);
        std::iter::successors(first, |c| c.source())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|c| c as _)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));

    /// README's table of error codes, as the enum lists them.
    fn table() -> String {
        let mut t = String::from("| code | exit | meaning |\n|---|---|---|\n");
        for c in ErrorCode::ALL {
            t.push_str(&format!("| `{c}` | {} | {} |\n", c.exit() as u8, c.doc()));
        }
        let arm = ErrorCode::Arm(String::new());
        t.push_str(&format!("| ARM's code | {} | {} |\n", arm.exit() as u8, arm.doc()));
        t
    }

    #[test]
    fn readme_lists_every_error_code_and_exit() {
        let begin = "<!-- error-codes: generated from src/error.rs -->\n";
        let block = README.split_once(begin).and_then(|(_, rest)| rest.split_once("<!-- /error-codes -->"));
        let Some((block, _)) = block else { panic!("README.md lacks the error-code table markers") };
        assert!(block == table(), "README.md's error-code table is stale; it should read:\n{}", table());
        // The exit-code table names every exit, each once.
        let exits = README.split_once("### Exit codes").map(|(_, r)| r).unwrap_or_default();
        let rows: Vec<&str> =
            exits.lines().skip_while(|l| !l.starts_with('|')).skip(2).take_while(|l| l.starts_with('|')).collect();
        let listed: Vec<String> = rows.iter().filter_map(|r| r.split('|').nth(1)).map(|c| c.trim().into()).collect();
        let want: Vec<String> = Exit::ALL.iter().map(|e| (*e as u8).to_string()).collect();
        assert_eq!(listed, want, "README.md's exit-code table");
    }

    #[test]
    fn codes_print_as_their_names() {
        assert_eq!(ErrorCode::GcAlreadyRunning.to_string(), "GcAlreadyRunning");
        assert_eq!(ErrorCode::GcAlreadyRunning.exit(), Exit::Busy);
        assert_eq!(serde_json::to_string(&ErrorCode::Arm("Conflict".into())).unwrap(), "\"Conflict\"");
        assert_eq!(ErrorCode::Arm("ContainerAppOperationInProgress".into()).exit(), Exit::Runtime);
    }

    #[test]
    fn because_says_the_chain_and_keeps_it() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::config("cannot read x").because(io);
        assert_eq!(e.message, "cannot read x: disk on fire");
        assert_eq!(e.causes().map(|c| c.to_string()).collect::<Vec<_>>(), ["disk on fire"]);
        assert_eq!(e.exit(), Exit::Usage);
    }
}

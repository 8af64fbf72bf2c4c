//! One error type that decides the exit code (0 ok, 1 nothing matched, 2 usage/config, 3 Azure/runtime,
//! 4 another gc holds the lock).

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

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// What went wrong, as the spawner sees it: a stable machine code plus a readable message.
/// The `anyhow` chain behind it becomes `Caused by:` lines on stderr.
#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    /// Stable, CamelCase code (ARM's own code when ARM said no).
    pub code: String,
    pub message: String,
    pub source: Option<anyhow::Error>,
}

impl Error {
    pub fn new(exit: Exit, code: impl Into<String>, message: impl Into<String>) -> Self {
        Error { exit, code: code.into(), message: message.into(), source: None }
    }
    pub fn usage(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, code, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, "ConfigInvalid", message)
    }
    pub fn runtime(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Exit::Runtime, code, message)
    }
    pub fn with_source(mut self, source: anyhow::Error) -> Self {
        self.source = Some(source);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<Error>() {
            Ok(err) => err,
            Err(e) => Error::runtime("RuntimeError", format!("{e}")).with_source(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

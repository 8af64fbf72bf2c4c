//! The only writer to stdout and stderr. stdout carries exactly one machine-readable document;
//! everything human (logs, progress, errors) goes to stderr.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::{OutputFormat, ProgressMode};
use crate::error::{Error, ErrorCode, Exit};
use crate::table::Table;

/// Secret values registered at run time. Every line we print is scrubbed of them: a second line of
/// defence behind never formatting secrets in the first place.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn register_secret(value: &str) {
    // Very short values would redact ordinary words; tokens are long.
    if value.len() >= 8
        && let Ok(mut s) = SECRETS.lock()
    {
        if s.iter().any(|x| x == value) {
            return;
        }
        s.push(value.to_string());
        // As it appears inside a JSON string (an ARM error echoing the request body, our own
        // JSON output): quotes, backslashes and control characters are escaped there.
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = &escaped[1..escaped.len().saturating_sub(1).max(1)];
        if escaped != value && escaped.len() >= 8 {
            s.push(escaped.to_string());
        }
        // Longest first, so a secret containing another is replaced whole.
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// Secrets acactl may hold from its own environment, whichever command runs: registered at start
/// so that any echo of them (an error body, a log line) is redacted.
pub const SECRET_ENV: &[&str] = &[
    "AZURE_CLIENT_SECRET",
    "IDENTITY_HEADER",
    "MSI_SECRET",
    "JUPYTERHUB_API_TOKEN",
    "JPY_API_TOKEN",
    "ACACTL_HUB_API_TOKEN",
];

pub fn register_env_secrets(env: &dyn crate::env::Env) {
    for name in SECRET_ENV {
        if let Some(v) = env.var(name) {
            register_secret(&v);
        }
    }
}

pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    if let Ok(s) = SECRETS.lock() {
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "<redacted>");
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
    Debug = 3,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);
static PROGRESS: Mutex<ProgressMode> = Mutex::new(ProgressMode::Plain);
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Called once from main; everything else is process-global because output is.
pub fn init(verbosity: Verbosity, progress: ProgressMode) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
    set_progress(progress);
}

pub fn set_progress(progress: ProgressMode) {
    let progress = match progress {
        ProgressMode::Auto if std::io::stderr().is_terminal() && verbosity() < Verbosity::Verbose => ProgressMode::Auto,
        ProgressMode::Auto => ProgressMode::Plain,
        other => other,
    };
    if let Ok(mut p) = PROGRESS.lock() {
        *p = progress;
    }
}

pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        2 => Verbosity::Verbose,
        _ => Verbosity::Debug,
    }
}

/// A start-up phase: `pct` 0-100.
pub fn progress(pct: u8, message: &str) {
    let message = redact(message);
    let mode = PROGRESS.lock().map(|p| *p).unwrap_or(ProgressMode::Plain);
    match mode {
        ProgressMode::Json => {
            let line = json!({ "progress": pct.min(100), "message": message });
            stderr_line(&line.to_string());
        }
        ProgressMode::Auto => {
            if let Ok(mut guard) = BAR.lock() {
                let bar = guard.get_or_insert_with(|| {
                    let bar = ProgressBar::new(100);
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos:>3}% {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_position(pct.min(100) as u64);
                bar.set_message(message);
            }
        }
        ProgressMode::Plain => {
            if verbosity() > Verbosity::Quiet {
                log_line("", &format!("[{pct:>3}%] {message}"));
            }
        }
        ProgressMode::None => {}
    }
}

pub fn finish_progress() {
    if let Ok(mut guard) = BAR.lock()
        && let Some(bar) = guard.take()
    {
        bar.finish_and_clear();
    }
}

pub fn info(message: &str) {
    if verbosity() >= Verbosity::Normal {
        log_line("", message);
    }
}

pub fn verbose(message: &str) {
    if verbosity() >= Verbosity::Verbose {
        log_line("", message);
    }
}

pub fn debug(message: &str) {
    if verbosity() >= Verbosity::Debug {
        log_line("debug: ", message);
    }
}

pub fn warn(message: &str) {
    if verbosity() > Verbosity::Quiet {
        log_line("warning: ", message);
    }
}

fn log_line(prefix: &str, message: &str) {
    let line = format!("acactl: {prefix}{}", redact(message));
    let bar = BAR.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(|| stderr_line(&line)),
        None => stderr_line(&line),
    }
}

/// What a command hands back: the document for stdout, how it reads as a table (commands with
/// `-o`), and the exit code. Only [`emit`] prints it.
pub struct Outcome {
    pub doc: Doc,
    pub table: Option<Table>,
    pub exit: Exit,
}

pub enum Doc {
    Json(Value),
    /// A bare line (batchspawner's submit).
    Text(String),
    /// Written as is (man page, completions).
    Bytes(Vec<u8>),
}

impl Outcome {
    pub fn json(doc: impl serde::Serialize) -> Outcome {
        let doc = serde_json::to_value(doc).unwrap_or(Value::Null);
        Outcome { doc: Doc::Json(doc), table: None, exit: Exit::Ok }
    }

    pub fn text(line: String) -> Outcome {
        Outcome { doc: Doc::Text(line), table: None, exit: Exit::Ok }
    }

    pub fn bytes(bytes: Vec<u8>) -> Outcome {
        Outcome { doc: Doc::Bytes(bytes), table: None, exit: Exit::Ok }
    }

    pub fn table(self, table: Table) -> Outcome {
        Outcome { table: Some(table), ..self }
    }

    pub fn exit(self, exit: Exit) -> Outcome {
        Outcome { exit, ..self }
    }
}

/// Prints the outcome; the one place that decides table or JSON: `-o`, else whether stdout is a
/// terminal (tables for people, JSON for programs).
pub fn emit(outcome: Outcome, format: Option<OutputFormat>) -> Exit {
    let wants_table = match format {
        Some(OutputFormat::Table) => true,
        Some(OutputFormat::Json) => false,
        None => std::io::stdout().is_terminal(),
    };
    match (outcome.table, outcome.doc) {
        (Some(t), _) if wants_table => match t.when_empty {
            Some(note) if t.rows.is_empty() => info(note),
            _ => text(&t.render()),
        },
        (_, Doc::Json(v)) => result(&v),
        (_, Doc::Text(line)) => text(&line),
        (_, Doc::Bytes(b)) => {
            finish_progress();
            write_stdout(&b);
        }
    }
    outcome.exit
}

/// The one machine-readable result on stdout.
fn result(value: &Value) {
    finish_progress();
    // One line for programs; indented for a person at a terminal.
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    } else {
        value.to_string()
    };
    stdout_line(&redact(&text));
}

/// Human text on stdout (a table, submit's name).
fn text(text: &str) {
    finish_progress();
    let mut out = redact(text);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    write_stdout(out.as_bytes());
}

/// An error: JSON on stdout (the spawner parses it), `error:` + `Caused by:` lines on stderr.
pub fn error(err: &Error) {
    finish_progress();
    let doc = json!({ "error": { "code": err.code, "message": err.message } });
    stdout_line(&redact(&doc.to_string()));
    let mut text = format!("error: {}", err.message);
    // What the message already says (built with `Error::because`, or a cause's first line quoted)
    // is not repeated: only a cause's remaining lines are, indented under it.
    for cause in err.causes() {
        let cause = cause.to_string();
        let new: Vec<&str> =
            cause.lines().map(str::trim).filter(|l| !l.is_empty() && !err.message.contains(l)).collect();
        if let Some((first, rest)) = new.split_first() {
            text.push_str(&format!("\n  Caused by: {first}"));
            for l in rest {
                text.push_str(&format!("\n    {l}"));
            }
        }
    }
    stderr_line(&redact(&text));
}

/// A command-line usage error (clap already printed its message on stderr): the JSON on stdout.
pub fn usage_error(kind: &str, rendered: &str) {
    let first = rendered.lines().next().unwrap_or(kind).trim();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let doc = json!({ "error": { "code": ErrorCode::Usage, "message": message } });
    stdout_line(&redact(&doc.to_string()));
}

fn stdout_line(line: &str) {
    let mut s = line.to_string();
    s.push('\n');
    write_stdout(s.as_bytes());
}

/// A closed stdout (broken pipe) is not an error worth reporting: the reader went away.
fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|_| out.flush());
}

fn stderr_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_registered_secrets_only_when_long_enough() {
        register_secret("abc");
        register_secret("s3cr3t-token-value");
        assert_eq!(redact("x s3cr3t-token-value y abc"), "x <redacted> y abc");
        register_secret("quote\"d-secret\\value");
        let doc = json!({"message": "echo: quote\"d-secret\\value"}).to_string();
        assert!(!redact(&doc).contains("d-secret"), "{}", redact(&doc));
        assert!(redact(&doc).contains("<redacted>"));
    }
}

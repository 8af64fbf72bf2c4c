//! acactl: thin entry point. Parse, build a current-thread runtime, run, map errors to exit codes.

mod arm;
mod auth;
mod cli;
mod clock;
mod commands;
mod env;
mod error;
mod estimates;
mod http;
mod hub;
mod join;
mod limits;
mod lock;
mod naming;
mod origin;
mod output;
mod ownership;
mod patch;
mod phase;
mod profiles;
mod request;
mod settings;
mod spec;
mod teardown;
mod template;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::env::ProcessEnv;
use crate::error::{Error, ErrorCode, Exit};
use crate::output::{ProgressMode, Verbosity};

fn main() -> ExitCode {
    output::register_env_secrets(&ProcessEnv);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version: not an error.
                let _ = e.print();
                return Exit::Ok.into();
            }
            // The protocol: every command prints one JSON object on stdout, usage errors included;
            // clap's own message (with its hints) still goes to stderr.
            let _ = e.print();
            output::usage_error(&e.kind().to_string(), &e.render().to_string());
            return Exit::Usage.into();
        }
    };
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        _ => Verbosity::Debug,
    };
    let progress = match &cli.command {
        Command::Start(a) => a.progress,
        _ => ProgressMode::None,
    };
    output::init(verbosity, progress);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            output::error(&Error::new(ErrorCode::RuntimeError, format!("cannot start the async runtime: {e}")));
            return Exit::Runtime.into();
        }
    };
    let result = runtime.block_on(run(cli));
    // Do not wait for stray connections to close.
    runtime.shutdown_background();
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            output::error(&e);
            e.exit().into()
        }
    }
}

async fn run(cli: Cli) -> Result<Exit, Error> {
    if let Command::Generate(g) = &cli.command {
        use std::io::Write;
        let _ = std::io::stdout().write_all(&commands::generate::render(g.what));
        return Ok(Exit::Ok);
    }
    let env = ProcessEnv;
    if let Command::Doctor(args) = &cli.command {
        return commands::doctor::run(&cli.global, args.output, &env).await;
    }
    let settings = settings::load(&cli.global, &env)?;
    let doc = match &cli.command {
        Command::Start(args) => commands::start::run(args, &settings, &env).await?,
        Command::Poll(target) => commands::poll::run(target, &settings, &env).await?,
        Command::Stop(target) => commands::stop::run(target, &settings, &env).await?,
        Command::Batch(cmd) => return commands::batch::run(cmd, &settings).await,
        Command::Status(args) => return commands::status::run(args, &settings).await,
        Command::Gc(args) => return commands::gc::run(args, &settings).await,
        Command::Profiles(args) => return commands::profiles::run(args, &settings, &env),
        Command::Generate(_) | Command::Doctor(_) => unreachable!("handled above"),
    };
    output::result(&doc);
    Ok(Exit::Ok)
}

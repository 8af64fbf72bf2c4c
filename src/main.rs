//! acactl: thin entry point. Parse, build a current-thread runtime, run the command, print its
//! outcome (`output::emit`) or its error, map either to the exit code.

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
mod launch;
mod limits;
mod liveness;
mod lock;
mod naming;
mod origin;
mod output;
mod ownership;
mod patch;
mod phase;
mod preflight;
mod profiles;
mod request;
mod settings;
mod spec;
mod table;
mod teardown;
mod template;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ProgressMode};
use crate::env::ProcessEnv;
use crate::error::{Error, ErrorCode, Exit};
use crate::output::{Outcome, Verbosity};

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
    let format = match &cli.command {
        Command::Status(a) => a.output,
        Command::Gc(a) => a.output,
        Command::Profiles(a) => a.output,
        Command::Doctor(a) => a.output,
        _ => None,
    };
    let env = ProcessEnv;
    let outcome = match &cli.command {
        Command::Generate(g) => Outcome::bytes(commands::generate::render(g.what)),
        Command::Doctor(_) => commands::doctor::run(&cli.global, &env).await?,
        command => {
            let settings = settings::load(&cli.global, &env)?;
            match command {
                Command::Start(args) => commands::start::run(args, &settings, &env).await?,
                Command::Poll(target) => commands::poll::run(target, &settings, &env).await?,
                Command::Stop(target) => commands::stop::run(target, &settings, &env).await?,
                Command::Batch(cmd) => commands::batch::run(cmd, &settings).await?,
                Command::Status(args) => commands::status::run(args, &settings).await?,
                Command::Gc(args) => commands::gc::run(args, &settings).await?,
                Command::Profiles(args) => commands::profiles::run(args, &settings, &env)?,
                Command::Generate(_) | Command::Doctor(_) => unreachable!("handled above"),
            }
        }
    };
    Ok(output::emit(outcome, format))
}

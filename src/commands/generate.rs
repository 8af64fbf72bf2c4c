//! `acactl generate`: completions and the man page from the one clap definition.

use clap::CommandFactory;
use clap_complete::aot::{Shell, generate};

use crate::cli::{Cli, Generate};

pub fn render(what: Generate) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let shell = match what {
        Generate::Man => {
            // Infallible when writing to a Vec.
            let _ = clap_mangen::Man::new(cmd).render(&mut out);
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

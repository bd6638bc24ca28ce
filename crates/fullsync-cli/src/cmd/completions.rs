//! `fullsync completions`: print the shell completion script for bash, zsh or fish.

use clap::CommandFactory;

use crate::Cli;

/// The arguments of `fullsync completions`.
#[derive(clap::Args)]
pub struct Args {
    /// The shell.
    pub shell: Shell,
}

/// Runs `fullsync completions`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { shell } = args;
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "fullsync",
        &mut std::io::stdout(),
    );
    Ok(())
}

/// The shells `fullsync completions` writes for.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

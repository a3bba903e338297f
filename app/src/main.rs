//! `mirador`: the command line. `mirador analyze` writes the feature table, key, loudness and
//! the models' predictions of audio files and folders as CSV or JSON; `mirador play` and
//! `mirador live` open the live view on a file being played or an input device.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Analyze(args) => commands::analyze::analyze(args),
        Command::Play(args) => commands::play::play(args),
        Command::Live(args) => commands::live::live(args),
        Command::Index(args) => commands::index::index(args),
        Command::Similar(args) => commands::similar::similar(args),
        Command::Search(args) => commands::search::search(args),
        Command::Playlist(args) => commands::playlist::playlist(args),
        Command::Library(args) => commands::index::info(args),
        Command::Completions { shell } => commands::manual::completions(shell),
        Command::Man { dir } => commands::manual::man(dir.as_deref()),
    }
}

//! `mirador completions` and `mirador man`: shell completions and manual pages generated from
//! the command-line definitions, so they never disagree with `--help`.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "mirador",
        &mut std::io::stdout(),
    );
    ExitCode::SUCCESS
}

/// Writes mirador.1 and a page per subcommand into `dir`, or prints mirador.1.
pub fn man(dir: Option<&Path>) -> ExitCode {
    let command = Cli::command();
    let written = match dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .map_err(|e| format!("{}: {e}", dir.display())),
        None => clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .map_err(|e| e.to_string()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mirador: {e}");
            ExitCode::from(2)
        }
    }
}

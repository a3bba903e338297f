//! Project automation, run as `cargo xtask <task>`.
//!
//! - `bench [CLIP]`: the streaming analyzer's speed as a multiple of real time (one core), and
//!   the 30 s feature table in Rust against librosa on the same clip, measured in this run.
//! - `bench library [DB]`: the library's search at 10 k, 100 k and 1 M tracks: exact,
//!   int8 and approximate, latency, recall and memory.
//! - `bundle mirador [--release]`: builds `target/bundled/Mirador.clap` and `Mirador.vst3`
//!   (nice-plug-xtask; `mirador` names the `mirador-plugin` package).
//! - `models [facets]`: retrains every shipped model from `../shared/data` (or
//!   `$MIRADOR_DATA`); `facets` only refits the library's facet scales.
//! - `eval [beats|key|genre|explain|cost|library|notes|melody|chords|sections]`: evaluates the shipped models end to end in Rust
//!   and writes `models/REPORT.md`, `library/REPORT.md`, `models/chords/REPORT.md` and
//!   `models/sections/REPORT.md` (`beats` ... `sections`: that part alone, printed or written;
//!   `chords dev` and `sections dev` print the development songs' table instead, and
//!   `sections sweep` tries the sections' parameters on those songs).

mod bench;
mod eval;
mod models;
mod python;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") if args.get(1).is_some_and(|a| a == "library") => {
            bench::library::run(args.get(2).map(String::as_str))
        }
        Some("bench") => bench::run(args.get(1).map(String::as_str)),
        Some("models") if args.get(1).is_some_and(|a| a == "facets") => models::facet_scales(),
        Some("models") if args.get(1).is_some_and(|a| a == "key") => models::key_weights(),
        Some("models") => models::run_all(),
        Some("eval") if args.get(1).is_some_and(|a| a == "beats") => eval::beats_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "key") => eval::key_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "genre") => eval::genre_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "explain") => eval::explain_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "cost") => eval::cost_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "library") => eval::library_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "notes") => eval::notes_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "melody") => eval::melody_only(),
        Some("eval") if args.get(1).is_some_and(|a| a == "chords") => {
            eval::chords_only(args.get(2).is_some_and(|a| a == "dev"))
        }
        Some("eval") if args.get(1).is_some_and(|a| a == "sections") => {
            match args.get(2).map(String::as_str) {
                Some("sweep") => eval::sections_sweep(),
                other => eval::sections_only(other == Some("dev")),
            }
        }
        Some("eval") => eval::run(),
        Some("bundle") => {
            let args = args.into_iter().map(|a| {
                if a == "mirador" {
                    "mirador-plugin".to_string()
                } else {
                    a
                }
            });
            nice_plug_xtask::main_with_args("cargo xtask", args)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask bench [CLIP] | bench library [DB] | bundle mirador [--release] | models [facets] | eval [beats|key|genre|explain|cost|library|notes|melody|chords [dev]|sections [dev|sweep]]"
            );
            std::process::exit(2);
        }
    }
}

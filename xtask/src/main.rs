//! Project automation, run as `cargo xtask <task>`.
//!
//! - `bench [CLIP]`: the streaming analyzer's speed as a multiple of real time (one core), and
//!   the 30 s feature table in Rust against librosa on the same clip, measured in this run.

mod bench;
mod python;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench::run(args.get(1).map(String::as_str)),
        _ => {
            eprintln!("usage: cargo xtask bench [CLIP]");
            std::process::exit(2);
        }
    }
}

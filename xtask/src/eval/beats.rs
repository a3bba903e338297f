//! The beats section of `models/REPORT.md`: Mirador's beat pipeline (decode, `mirador-dsp`,
//! fine-tuned BeatNet in tract, then the online tracker or the offline decoder) on the GTZAN
//! clips here with an even id, scored with mir_eval next to the original BeatNet package
//! (online particle filter, and offline with madmom's DBN) and librosa's beat tracker in the
//! same run (`models/training/beat_eval.py`).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use mirador_app::decode::AudioFile;
use mirador_models::beats::{self, BeatNet, BeatPipeline};
use mirador_models::run_clip;

use super::Fills;
use crate::python::beatnet_python;

/// The sets, as (title, folder, file name prefix and suffix): the GTZAN clips here with an
/// even id ([`clips`]); the originals are the FLAC files of `gtzan/full`, the other clips
/// there Ogg Vorbis. Mirador's BeatNet is fine-tuned on the odd ids
/// (`models/training/beatnet_finetune.py`), the package's model 1 never saw GTZAN, and the
/// decoders use madmom's defaults, tuned on none of these.
const SETS: [(&str, &str, &str, &str); 4] = [
    (
        "GTZAN originals, one per genre, 30 s",
        "gtzan/full",
        "",
        ".flac",
    ),
    ("GTZAN pop, 30 s", "gtzan/full", "pop.", ".ogg"),
    ("GTZAN classical, 30 s", "gtzan/full", "classical.", ".ogg"),
    (
        "GTZAN eight other genres, first 15-20 s",
        "gtzan/first_15_20s",
        "",
        ".ogg",
    ),
];

/// (set title, clip path under the data folder) of every clip with an even id: the odd ones
/// fine-tune the network.
fn clips(data: &Path) -> Result<Vec<(&'static str, String)>> {
    let mut clips = Vec::new();
    for (title, dir, prefix, suffix) in SETS {
        for name in super::sets::files(data, dir, prefix, suffix)? {
            if super::sets::gtzan_id(&name)?.1.is_multiple_of(2) {
                clips.push((title, name));
            }
        }
    }
    Ok(clips)
}

pub(super) fn section(root: &Path, data: &Path) -> Result<Fills> {
    let net = Arc::new(BeatNet::load()?);
    let mut ours = Vec::new();
    for (set, clip) in clips(data)? {
        let mut systems = serde_json::Map::new();
        for (name, mut pipeline) in [
            ("online", BeatPipeline::live(net.clone())),
            ("offline", BeatPipeline::for_clip(net.clone())),
        ] {
            let mut file = AudioFile::open(&data.join(&clip))?;
            let started = Instant::now();
            run_clip(&mut file, &mut [&mut pipeline])
                .map_err(|e| anyhow::anyhow!("{clip}: {e}"))?;
            let announced: Vec<_> = pipeline.take_beats().collect();
            let beats = beats::summarize(&announced);
            systems.insert(
                name.into(),
                serde_json::json!({
                    "seconds": started.elapsed().as_secs_f64(),
                    "beats": beats.beats,
                    "tempo": beats.tempo_bpm,
                }),
            );
        }
        ours.push(serde_json::json!({ "clip": clip, "set": set, "systems": systems }));
    }
    eprintln!("xtask: scoring beats with mir_eval (the BeatNet package and librosa run too)");
    let scores = super::score_in_python(
        root,
        data,
        &beatnet_python()?,
        "beat_eval.py",
        "beats",
        &serde_json::Value::from(ours),
    )?;
    Ok(vec![("beats_tables", report(&scores))])
}

fn report(scores: &serde_json::Value) -> String {
    const METRICS: [&str; 6] = [
        "F",
        "CMLt",
        "AMLt",
        "downbeat F",
        "tempo Acc1",
        "tempo Acc2",
    ];
    const SYSTEMS: [(&str, &str, &str); 5] = [
        (
            "offline",
            "**Mirador, files**: fine-tuned BeatNet in tract + offline bar-pointer Viterbi + bar phase (Rust)",
            "no",
        ),
        (
            "online",
            "**Mirador, live**: fine-tuned BeatNet in tract + online bar-pointer HMM (Rust)",
            "yes",
        ),
        (
            "beatnet offline",
            "BeatNet 1.1.3 package, model 1, offline: madmom's DBN (Python)",
            "no",
        ),
        (
            "beatnet online",
            "BeatNet 1.1.3 package, model 1, online particle filter (Python)",
            "yes",
        ),
        (
            "librosa",
            "librosa 0.10 `beat_track` (Python, whole clip)",
            "no",
        ),
    ];
    let mut out = String::new();
    let sets = SETS.iter().map(|(title, ..)| (*title, *title));
    for (set, title) in sets.chain([("all", "All of them")]) {
        let s = &scores[set];
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = write!(
            out,
            "**{title}** ({} clips, {:.0} s)\n\n\
             | system | causal | F | CMLt | AMLt | downbeat F | tempo Acc1 | tempo Acc2 | CPU s per s of audio |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
            s["clips"],
            s["audio seconds"].as_f64().unwrap_or(0.0),
        );
        for (key, label, causal) in SYSTEMS {
            let row = &s[key];
            let _ = write!(out, "| {label} | {causal} |");
            for m in METRICS {
                match row[m].as_f64() {
                    Some(v) => {
                        let _ = write!(out, " {v:.3} |");
                    }
                    None => out.push_str(" — |"),
                }
            }
            let cost = row["cpu seconds per audio second"]
                .as_f64()
                .unwrap_or(f64::NAN);
            let _ = writeln!(out, " {cost:.4} |");
        }
    }
    out
}

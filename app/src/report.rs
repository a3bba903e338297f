//! Writing results as they come: CSV with exactly the columns of GTZAN's
//! `features_30_sec.csv` (`label` only when a genre model predicts it), JSON with the same
//! values plus each file's metadata, key, loudness and what the models say, or JSON Lines
//! (one such object per line). Each file is written and flushed when it is done, so an
//! interrupted run leaves every finished file in the output (CSV and JSON Lines stay valid
//! as they are; the JSON array is closed when the run ends, also after Ctrl-C).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use mirador_dsp::clip::FeatureTable;
use mirador_dsp::pitch::key::{note_name, Mode, PITCH_NAMES};
use mirador_dsp::structure::letter;
use mirador_models::melody;
use mirador_models::tagger::saliency::{self, Explanation, SaliencyMap, BANDS};
use serde_json::{json, Map, Value};

use crate::batch::Analysis;
use crate::summary::{self, Colors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One aligned line per file for a reader: genre, mood, tempo, key, loudness.
    Summary,
    Csv,
    Json,
    /// JSON Lines: one object per line, valid however far the run got.
    Jsonl,
    /// The chords as `start end label` lines (seconds, Harte labels: the .lab files Sonic
    /// Visualiser and mir_eval read); with several files, each block follows a `# file` line.
    Lab,
    /// The sections the same way, labelled with their letters (A, B, ...).
    SectionsLab,
}

/// Writes one row (CSV) or object (JSON) per analysis as each is added.
pub struct Writer<W: Write> {
    format: Format,
    /// The genre model that predicted the analyses' genres, if any.
    model: Option<String>,
    names: HashMap<PathBuf, String>,
    /// The summary's file column and styles.
    name_width: usize,
    colors: Colors,
    /// Where each explanation's picture goes, when explanations are drawn.
    pictures: Option<PathBuf>,
    /// Where the transcribed notes go as MIDI files, when asked.
    midi: Option<MidiTarget>,
    out: W,
    written: usize,
}

impl<W: Write> Writer<W> {
    /// Starts the output (the summary's or CSV's header, JSON's opening bracket) for the
    /// files at `paths`; `colors` styles the summary.
    pub fn new(
        format: Format,
        model: Option<&str>,
        paths: &[PathBuf],
        colors: Colors,
        mut out: W,
    ) -> Result<Self, String> {
        let names = file_names(paths);
        let name_width = summary::name_width(names.values().map(String::as_str));
        if format == Format::Summary {
            writeln!(out, "{}", summary::header(name_width, colors)).map_err(|e| e.to_string())?;
        } else if format == Format::Csv {
            let mut header = vec!["filename".to_string()];
            header.extend(FeatureTable::column_names());
            if model.is_some() {
                header.push("label".into());
            }
            csv_line(&mut out, &header)?;
        } else if format == Format::Json {
            out.write_all(b"[").map_err(|e| e.to_string())?;
        }
        Ok(Self {
            format,
            model: model.map(str::to_string),
            names,
            name_width,
            colors,
            pictures: None,
            midi: None,
            out,
            written: 0,
        })
    }

    /// Draws each analysis's explanation into `dir` as `NAME.explain.png`.
    pub fn drawing_explanations(mut self, dir: Option<PathBuf>) -> Self {
        self.pictures = dir;
        self
    }

    /// Writes each analysis's notes as a MIDI file to `target`.
    pub fn writing_midi(mut self, target: Option<MidiTarget>) -> Self {
        self.midi = target;
        self
    }

    /// Writes `a`'s notes as a MIDI file, if it has them and MIDI was asked for; a file that
    /// cannot be written is reported and the analysis still written.
    fn midi_file(&self, a: &Analysis, name: &str) -> Option<PathBuf> {
        let (target, notes) = (self.midi.as_ref()?, a.clip.notes.as_ref()?);
        let path = if target.folder {
            let stem = Path::new(name).file_stem().unwrap_or_default();
            let stem = stem.to_string_lossy().replace(['/', '\\'], "_");
            target.path.join(format!("{stem}.mid"))
        } else {
            target.path.clone()
        };
        crate::midi_file::write(notes, a.clip.beats.as_ref(), target.quantize, &path)
            .inspect_err(|e| eprintln!("mirador: {e}"))
            .ok()?;
        Some(path)
    }

    /// Writes `a`'s explanation picture, if it has one and pictures were asked for; a
    /// picture that cannot be written is reported and the analysis still written.
    fn picture(&self, a: &Analysis, name: &str) -> Option<PathBuf> {
        let (dir, explanation) = (self.pictures.as_ref()?, a.clip.explanation.as_ref()?);
        let path = dir.join(format!("{}.explain.png", name.replace(['/', '\\'], "_")));
        crate::saliency_image::write_png(explanation, &path)
            .inspect_err(|e| eprintln!("mirador: {e}"))
            .ok()?;
        Some(path)
    }

    pub fn add(&mut self, a: &Analysis) -> Result<(), String> {
        let name = self
            .names
            .get(&a.path)
            .cloned()
            .unwrap_or_else(|| bare_name(&a.path));
        let picture = self.picture(a, &name);
        let midi = self.midi_file(a, &name);
        match self.format {
            Format::Summary => {
                let line = summary_line(a, &name, picture.as_deref(), midi.as_deref());
                let text = summary::line(&line, self.name_width, self.colors);
                writeln!(self.out, "{text}").map_err(|e| e.to_string())?;
            }
            Format::Csv => {
                let mut row = vec![name, a.clip.table.length.to_string()];
                row.extend(a.clip.table.values().iter().skip(1).map(|v| v.to_string()));
                if self.model.is_some() {
                    let label = a.clip.genre.as_deref().map_or("", most_probable);
                    row.push(label.to_string());
                }
                csv_line(&mut self.out, &row)?;
            }
            Format::Json => {
                let separator: &[u8] = if self.written == 0 { b"\n" } else { b",\n" };
                let object = json_object(a, &name, self.model.as_deref(), picture.as_deref());
                let object = with_midi(object, midi.as_deref());
                let object = serde_json::to_string_pretty(&object).map_err(|e| e.to_string())?;
                self.out.write_all(separator).map_err(|e| e.to_string())?;
                self.out
                    .write_all(object.as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            Format::Jsonl => {
                let object = json_object(a, &name, self.model.as_deref(), picture.as_deref());
                let object = with_midi(object, midi.as_deref()).to_string();
                writeln!(self.out, "{object}").map_err(|e| e.to_string())?;
            }
            Format::Lab | Format::SectionsLab => {
                let write = |out: &mut W| -> std::io::Result<()> {
                    if self.names.len() > 1 {
                        writeln!(out, "# {name}")?;
                    }
                    if self.format == Format::Lab {
                        for c in &a.clip.chords {
                            writeln!(out, "{:.3}\t{:.3}\t{}", c.start, c.end, c.chord.name())?;
                        }
                    } else {
                        for s in &a.clip.sections {
                            writeln!(out, "{:.3}\t{:.3}\t{}", s.start, s.end, letter(s.label))?;
                        }
                    }
                    Ok(())
                };
                write(&mut self.out).map_err(|e| e.to_string())?;
            }
        }
        self.written += 1;
        self.out.flush().map_err(|e| e.to_string())
    }

    /// Ends the output (JSON's closing bracket).
    pub fn finish(mut self) -> Result<(), String> {
        if self.format == Format::Json {
            self.out.write_all(b"\n]\n").map_err(|e| e.to_string())?;
        }
        self.out.flush().map_err(|e| e.to_string())
    }
}

/// Where `mirador analyze --midi` writes.
pub struct MidiTarget {
    /// A file, or with several inputs a folder of `NAME.mid` files.
    pub path: PathBuf,
    pub folder: bool,
    /// Snap the notes to sixteenths of the beat grid.
    pub quantize: bool,
}

/// `object` with the path of the MIDI file written of it, if one was.
fn with_midi(mut object: Value, midi: Option<&Path>) -> Value {
    if let Some(path) = midi {
        object["midi_file"] = json!(path.display().to_string());
    }
    object
}

/// One CSV record, quoted where needed.
fn csv_line(out: &mut impl Write, fields: &[String]) -> Result<(), String> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(fields).map_err(|e| e.to_string())?;
    writer.flush().map_err(|e| e.to_string())
}

/// The most probable of `(class, probability)` pairs.
fn most_probable(p: &[(String, f64)]) -> &str {
    best(p).map_or("", |(c, _)| c)
}

fn best(p: &[(String, f64)]) -> Option<(&str, f64)> {
    p.iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, v)| (c.as_str(), *v))
}

/// What the summary shows of one file.
fn summary_line<'a>(
    a: &'a Analysis,
    name: &'a str,
    picture: Option<&Path>,
    midi: Option<&Path>,
) -> summary::Line<'a> {
    let beats = a.clip.beats.as_ref();
    let mut notes: Vec<String> = Vec::new();
    match (&a.clip.not_enough_music, a.warnings.len()) {
        (Some(reason), _) => notes.push(format!("not enough music: {reason}")),
        (None, 0) => {}
        (None, 1) => notes.push("1 warning".into()),
        (None, n) => notes.push(format!("{n} warnings")),
    }
    if let Some(e) = &a.clip.explanation {
        let heard = |m: &SaliencyMap| {
            m.evidence.map(|(start, end)| {
                format!("{} most from {}-{}", m.class, clock(start), clock(end))
            })
        };
        let mut why: Vec<String> = [heard(&e.genre), heard(&e.mood)]
            .into_iter()
            .flatten()
            .collect();
        if let Some(p) = picture {
            why.push(format!("see {}", p.display()));
        }
        notes.push(format!("why: {}", why.join(", ")));
    }
    if let Some(played) = &a.clip.notes {
        let mut said = format!("{} notes", played.len());
        if let Some(p) = midi {
            said.push_str(&format!(" in {}", p.display()));
        }
        notes.push(said);
    }
    if let Some(track) = &a.clip.f0 {
        notes.push(melody_range(track));
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    summary::Line {
        name,
        seconds: a.frames as f64 / a.info.sample_rate as f64,
        genre: a.clip.genre.as_deref().and_then(best),
        mood: a.clip.network_output.as_ref().and_then(|c| best(&c.mood)),
        tempo_bpm: beats.and_then(|b| b.tempo_bpm),
        beats_per_bar: beats.and_then(|b| b.beats_per_bar),
        key: a.clip.key.map(|k| k.name()),
        lufs: finite(a.clip.loudness.integrated_lufs),
        note,
    }
}

fn probabilities(p: &[(String, f64)]) -> Map<String, Value> {
    p.iter().map(|(c, v)| (c.clone(), json!(v))).collect()
}

fn bare_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Each file's `filename`: the bare file name, as in the GTZAN table, unless several files
/// share it: then each of those is named by its path as found.
fn file_names(paths: &[PathBuf]) -> HashMap<PathBuf, String> {
    let mut counts = HashMap::new();
    for p in paths {
        *counts.entry(bare_name(p)).or_insert(0) += 1;
    }
    paths
        .iter()
        .map(|p| {
            let name = bare_name(p);
            let name = if counts[&name] > 1 {
                p.to_string_lossy().into_owned()
            } else {
                name
            };
            (p.clone(), name)
        })
        .collect()
}

/// Everything said about one file, as JSON.
fn json_object(a: &Analysis, name: &str, model: Option<&str>, picture: Option<&Path>) -> Value {
    let features: Map<String, Value> = FeatureTable::column_names()
        .into_iter()
        .zip(a.clip.table.values())
        .map(|(name, value)| {
            let value = if name == "length" {
                json!(a.clip.table.length)
            } else {
                json!(value)
            };
            (name, value)
        })
        .collect();
    let genre = a.clip.genre.as_ref().map(|p| {
        json!({
            "model": model,
            "label": most_probable(p),
            "probabilities": probabilities(p),
        })
    });
    let mood = a.clip.network_output.as_ref().map(|c| {
        json!({
            "quadrant": most_probable(&c.mood),
            "probabilities": probabilities(&c.mood),
            "valence": c.valence,
            "arousal": c.arousal,
        })
    });
    let tags = a.clip.network_output.as_ref().map(|c| {
        c.top_tags
            .iter()
            .map(|(t, v)| json!({ "tag": t, "likelihood": v }))
            .collect::<Vec<_>>()
    });
    let rhythm = a.clip.beats.as_ref().map(|b| {
        let times = |downbeats_only: bool| {
            b.beats
                .iter()
                .filter(|beat| !downbeats_only || beat.1 == 1)
                .map(|beat| beat.0)
                .collect::<Vec<_>>()
        };
        json!({
            "model": "beatnet",
            "tempo_bpm": b.tempo_bpm,
            "beats_per_bar": b.beats_per_bar,
            "beats": times(false),
            "downbeats": times(true),
        })
    });
    let key = a.clip.key.map(|k| {
        json!({
            "name": k.name(),
            "tonic": PITCH_NAMES[k.tonic],
            "mode": match k.mode {
                Mode::Major => "major",
                Mode::Minor => "minor",
            },
            "confidence": k.confidence,
        })
    });
    let l = &a.clip.loudness;
    let loudness = json!({
        "integrated_lufs": finite(l.integrated_lufs),
        "range_lu": finite(l.range_lu),
        "true_peak_dbtp": finite(l.true_peak_dbtp),
    });
    json!({
        "path": a.path.display().to_string(),
        "filename": name,
        "duration_seconds": a.frames as f64 / a.info.sample_rate as f64,
        "sample_rate": a.info.sample_rate,
        "channels": a.info.channels,
        "codec": a.info.codec,
        "container": a.info.container,
        "decoder": a.decoder,
        "warnings": a.warnings,
        "chroma_tuning": a.clip.table.tuning,
        "features": features,
        "key": key,
        "loudness": loudness,
        "not_enough_music": a.clip.not_enough_music,
        "non_finite_samples": a.clip.table.non_finite_samples,
        "genre": genre,
        "mood": mood,
        "tags": tags,
        "rhythm": rhythm,
        "chords": a.clip.chords.iter().map(|c| json!({
            "start": c.start,
            "end": c.end,
            "label": c.chord.name(),
        })).collect::<Vec<_>>(),
        "sections": a.clip.sections.iter().map(|s| json!({
            "start": s.start,
            "end": s.end,
            "label": letter(s.label),
            "role": s.role.name(),
            "confidence": s.confidence,
        })).collect::<Vec<_>>(),
        "explanation": a.clip.explanation.as_ref().map(|e| explanation_json(e, picture)),
        "notes": a.clip.notes.as_ref().map(|notes| notes.iter().map(|n| json!({
            "start": n.start,
            "end": n.end,
            "pitch": n.pitch,
            "name": note_name(i32::from(n.pitch)),
            "velocity": n.velocity(),
            "bends": n.bends,
        })).collect::<Vec<_>>()),
        "f0": a.clip.f0.as_ref().map(|track| json!({
            "method": "CREPE tiny, a frame every 10 ms centred at `start` + i * `hop_seconds`",
            "start": track.first().map_or(0.0, |p| p.time),
            "hop_seconds": melody::FILE_HOP as f64 / f64::from(melody::SAMPLE_RATE),
            "voicing_threshold": melody::VOICED,
            "hz": track.iter().map(|p| p.voiced().then_some(p.hz)).collect::<Vec<_>>(),
            "confidence": track.iter().map(|p| p.confidence).collect::<Vec<_>>(),
        })),
    })
}

/// "melody G3-E5, 62 % voiced": the voiced frames' range (5th to 95th percentile, so a
/// stray octave does not stretch it).
fn melody_range(track: &[melody::Pitch]) -> String {
    let mut notes: Vec<i32> = track
        .iter()
        .filter(|p| p.voiced())
        .map(|p| p.note_and_cents().0)
        .collect();
    if notes.is_empty() {
        return "no melody".into();
    }
    notes.sort_unstable();
    let at = |q: f64| notes[((notes.len() - 1) as f64 * q).round() as usize];
    format!(
        "melody {}-{}, {:.0} % voiced",
        note_name(at(0.05)),
        note_name(at(0.95)),
        100.0 * notes.len() as f64 / track.len() as f64
    )
}

/// An explanation as JSON: per head, the class, its 3 s of strongest evidence and the map,
/// one row of band values per cell.
fn explanation_json(e: &Explanation, picture: Option<&Path>) -> Value {
    let map = |m: &SaliencyMap| {
        json!({
            "class": m.class,
            "probability": m.probability,
            "evidence": m.evidence.map(|(start, end)| json!({ "start": start, "end": end })),
            "cells": m.rows.iter().map(|(start, values)| json!({
                "start": start,
                "saliency": values,
            })).collect::<Vec<_>>(),
        })
    };
    json!({
        "method": "occlusion: each cell silenced in turn; saliency = the 3 s patch's probability of the class as heard minus without the cell",
        "cell_seconds": saliency::cell_seconds(),
        "bands_hz": (0..BANDS).map(|b| {
            let (low, high) = saliency::band_hz(b);
            json!([low, high])
        }).collect::<Vec<_>>(),
        "genre": map(&e.genre),
        "mood": map(&e.mood),
        "picture": picture.map(|p| p.display().to_string()),
    })
}

/// `m:ss.s`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    format!("{}:{:04.1}", (s / 60.0).floor(), s % 60.0)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

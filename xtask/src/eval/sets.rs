//! The held-out evaluation sets and the files that define them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub(super) struct Set {
    pub(super) name: &'static str,
    pub(super) clips: Vec<Clip>,
}

pub(super) struct Clip {
    pub(super) path: PathBuf,
    /// The genre its confusion-matrix row is under.
    pub(super) genre: String,
    /// The GTZAN genres counted as right: the genre itself, or for a 4Q clip every GTZAN
    /// genre its AllMusic genres map onto.
    pub(super) accepted: Vec<String>,
}

impl Clip {
    fn labelled(path: PathBuf, genre: String) -> Self {
        Self {
            path,
            accepted: vec![genre.clone()],
            genre,
        }
    }
}

pub(super) fn read_ids(path: &Path) -> Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

pub(super) fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// Files named `genre.000NN.*` whose id is in `ids`, with the genre from the name.
pub(super) fn gtzan_clips(dir: &Path, ids: &HashSet<String>) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if ids.contains(stem) {
            let genre = stem.split('.').next().unwrap_or_default().to_string();
            clips.push(Clip::labelled(path, genre));
        }
    }
    clips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(clips)
}

/// Emotify's held-out tracks of one genre folder, in name order: numbers 51-100 (the genre
/// heads train on 1-50 of classical, pop and rock; `models/training/heads.py`).
pub(super) fn emotify_held_out(dir: &Path, genre: &str) -> Result<Vec<PathBuf>> {
    let folder = dir.join(genre);
    let mut paths = Vec::new();
    for entry in
        std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
    {
        let path = entry?.path();
        let number: u32 = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("{} is not numbered", path.display()))?;
        if number > EMOTIFY_TRAIN_LAST {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The last Emotify track number of each genre the genre heads train on.
const EMOTIFY_TRAIN_LAST: u32 = 50;

/// Emotify's held-out clips of the genres GTZAN also has.
pub(super) fn emotify_clips(dir: &Path) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    for genre in ["classical", "pop", "rock"] {
        for path in emotify_held_out(dir, genre)? {
            clips.push(Clip::labelled(path, genre.to_string()));
        }
    }
    clips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(clips)
}

/// Emotify's listener ratings averaged per clip, by the clip's path: for each GEMS
/// category in `data.csv`'s order (amazement, solemnity, tenderness, nostalgia, calmness,
/// power, joyful activation, tension, sadness), the share of listeners who felt it.
/// `data.csv` numbers the tracks 1 to 400 across the genres (classical 1-100, rock 101-200,
/// ...); each folder's files are numbered 1 to 100 within it.
pub(super) fn emotify_ratings(dir: &Path) -> Result<std::collections::HashMap<PathBuf, [f64; 9]>> {
    let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(dir.join("data.csv"))?
        .records()
        .collect::<Result<_, _>>()?;
    let mut first: std::collections::HashMap<&str, u32> = Default::default();
    for row in &rows {
        let id: u32 = row[0].parse()?;
        let low = first.entry(&row[1]).or_insert(id);
        *low = (*low).min(id);
    }
    let mut sums: std::collections::HashMap<PathBuf, ([f64; 9], f64)> = Default::default();
    for row in &rows {
        let genre = &row[1];
        let number = row[0].parse::<u32>()? - first[genre] + 1;
        let entry = sums
            .entry(dir.join(genre).join(format!("{number}.ogg")))
            .or_insert(([0.0; 9], 0.0));
        for (k, sum) in entry.0.iter_mut().enumerate() {
            *sum += row[2 + k].parse::<f64>()?;
        }
        entry.1 += 1.0;
    }
    Ok(sums
        .into_iter()
        .map(|(path, (sum, n))| (path, sum.map(|s| s / n)))
        .collect())
}

/// The GTZAN genres an AllMusic genre maps onto.
pub(super) fn gtzan_genres(allmusic: &str) -> &'static [&'static str] {
    match allmusic {
        "Blues" => &["blues"],
        "Classical" => &["classical"],
        "Country" => &["country"],
        "Jazz" => &["jazz"],
        "Rap" => &["hiphop"],
        "Reggae" => &["reggae"],
        "Pop/Rock" => &["pop", "rock", "metal"],
        _ => &[],
    }
}

/// 4Q clips of the held-out artists whose AllMusic genres map onto GTZAN's; the row genre is
/// the first one listed that maps.
pub(super) fn four_q_genre_clips(root: &Path, data: &Path) -> Result<Vec<Clip>> {
    let genres = four_q_metadata(data, "GenresStr")?;
    let mut clips = Vec::new();
    for name in held_out_4q(root)? {
        let stem = Path::new(&name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let Some(listed) = genres.get(stem) else {
            continue;
        };
        let mapped: Vec<&str> = listed
            .split(';')
            .flat_map(|g| gtzan_genres(g.trim()).iter().copied())
            .collect();
        if let Some(first) = mapped.first() {
            clips.push(Clip {
                path: data.join("4q").join(&name),
                genre: first.to_string(),
                accepted: mapped.iter().map(|g| g.to_string()).collect(),
            });
        }
    }
    Ok(clips)
}

/// One column of 4Q's metadata (`panda_dataset_taffc_metadata.csv`), by clip id.
pub(super) fn four_q_metadata(
    data: &Path,
    column: &str,
) -> Result<std::collections::HashMap<String, String>> {
    let path = data.join("4q/panda_dataset_taffc_metadata.csv");
    let mut reader =
        csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let position = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let (song, wanted) = (position("Song")?, position(column)?);
    let mut values = std::collections::HashMap::new();
    for row in reader.records() {
        let row = row?;
        values.insert(row[song].to_string(), row[wanted].to_string());
    }
    Ok(values)
}

/// `Q1/MT0000....ogg` names of the 4Q clips whose artists no model trained on.
pub(super) fn held_out_4q(root: &Path) -> Result<Vec<String>> {
    let list = root.join("models/musicnn/mood_test.txt");
    let names =
        std::fs::read_to_string(&list).with_context(|| format!("reading {}", list.display()))?;
    Ok(names
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// A folder's files, as paths under the data folder, whose names start with `prefix` and end
/// with `suffix`, in name order.
pub(super) fn files(data: &Path, dir: &str, prefix: &str, suffix: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(data.join(dir))
        .with_context(|| format!("reading {dir}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    Ok(names)
}

/// A GTZAN clip's stem (`blues.00003`) and id (3), from its path under the data folder.
pub(super) fn gtzan_id(clip: &str) -> Result<(&str, u32)> {
    let name = clip.rsplit('/').next().unwrap_or_default();
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let id = stem.rsplit('.').next().unwrap_or_default().parse();
    Ok((stem, id.with_context(|| format!("a GTZAN id in {clip}"))?))
}

/// Plays `path` through the live engine with `listeners`, in 512-sample blocks, and hands
/// `read` what the engine shows every `every` seconds of the clip from `from` on.
pub(super) fn replay_live(
    path: &Path,
    listeners: Vec<Box<dyn mirador_engine::Listener>>,
    (from, every): (f64, f64),
    mut read: impl FnMut(&mirador_engine::Snapshot),
) -> Result<()> {
    use mirador_dsp::clip::Replay;
    let mut file = mirador_app::decode::AudioFile::open(path)?;
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut samples = Vec::new();
    file.play(&mut |block| samples.extend_from_slice(block))?;
    let (mut audio, mut worker, mut reader) =
        mirador_engine::build(&mirador_dsp::AnalyzerConfig::new(rate, channels))?;
    for listener in listeners {
        worker = worker.with_listener(listener);
    }
    let mut next = from;
    for block in samples.chunks(512 * channels) {
        audio.process_interleaved(block);
        worker.poll();
        if reader.now() >= next {
            next += every;
            read(reader.read());
        }
    }
    Ok(())
}

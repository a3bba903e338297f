//! Word search. A [`TextEncoder`] turns a query into what it understood; [`rank`] scores every
//! track against it. The shipped encoder, [`Vocabulary`], maps words onto what Mirador's
//! models predict (the 50 MSD tags, the GTZAN genres, 4Q moods and valence/arousal, tempo,
//! key and mode, loudness, length): a vocabulary search, since no text-audio model with
//! usable weights can be had. A CLAP-style encoder pair fits the same seam: its text half
//! returns [`Encoded::embedding`], its audio half is one more vector the index stores, and
//! [`rank`] compares the two.

use mirador_dsp::pitch::key::PITCH_NAMES;
use mirador_models::tagger::TAGS;

use crate::catalog::{Catalog, Matrix};
use crate::facets::Facet;
use crate::track::Track;

/// One thing a query asks for, scored 0..1 per track.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// An MSD tag, by index into [`TAGS`].
    Tag(usize),
    /// A GTZAN genre, by index into the genre head's classes.
    Genre(usize),
    /// A 4Q quadrant: 0 happy, 1 tense, 2 sad, 3 calm.
    Quadrant(usize),
    /// Higher (true) or lower valence; relative to the reference track when there is one.
    Valence(bool),
    Arousal(bool),
    /// Tempo in this range (BPM).
    Tempo(f64, f64),
    /// Faster (true) or slower than the reference track (else: fast or slow).
    Faster(bool),
    /// A key: a tonic (0 = C) and/or a mode (true = major).
    Key(Option<usize>, Option<bool>),
    /// Loud (true) or quiet; louder or quieter than the reference track.
    Loud(bool),
    /// Length in seconds within this range.
    Duration(f64, f64),
    /// Sung (true) or instrumental.
    Vocals(bool),
}

impl Term {
    /// What it asks for, in words: "genre metal", "tempo 90-110 BPM".
    pub fn describe(&self, genres: &[String]) -> String {
        const QUADRANTS: [&str; 4] = ["happy", "tense", "sad", "calm"];
        let more = |up: bool, yes: &str, no: &str| if up { yes } else { no }.to_string();
        match *self {
            Term::Tag(t) => format!("tag {}", TAGS[t]),
            Term::Genre(g) => format!("genre {}", genres.get(g).map_or("?", |s| s.as_str())),
            Term::Quadrant(q) => format!("mood {}", QUADRANTS[q]),
            Term::Valence(up) => more(up, "happier", "sadder"),
            Term::Arousal(up) => more(up, "more energetic", "calmer"),
            Term::Tempo(lo, hi) => format!("tempo {lo:.0}-{hi:.0} BPM"),
            Term::Faster(up) => more(up, "faster", "slower"),
            Term::Key(tonic, major) => {
                let tonic = tonic.map_or(String::new(), |t| format!("{} ", PITCH_NAMES[t]));
                let mode = major.map_or("", |m| if m { "major" } else { "minor" });
                format!("key {tonic}{mode}").trim_end().to_string()
            }
            Term::Loud(up) => more(up, "louder", "quieter"),
            Term::Duration(lo, hi) if hi.is_infinite() => format!("longer than {lo:.0} s"),
            Term::Duration(lo, hi) => format!("length {lo:.0}-{hi:.0} s"),
            Term::Vocals(sung) => more(sung, "vocals", "instrumental"),
        }
    }
}

/// What a query was read as.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoded {
    /// Each understood term with the words it came from.
    pub terms: Vec<(Term, String)>,
    /// Words it did not understand (small words like "with" or "music" are not listed).
    pub ignored: Vec<String>,
    /// A joint text-audio embedding, from an encoder that has one (the vocabulary does not).
    pub embedding: Option<Vec<f32>>,
}

impl Encoded {
    /// What each understood term came from and asks for, `"quick" as faster, "sad" as mood
    /// sad`, or `nothing`.
    pub fn understood(&self, genres: &[String]) -> String {
        if self.terms.is_empty() {
            return "nothing".into();
        }
        self.terms
            .iter()
            .map(|(term, words)| format!("\"{words}\" as {}", term.describe(genres)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How a ranked track met each term: `tempo 90-110 BPM 0.93, mood calm 0.81`.
    pub fn matched(&self, ranked: &Ranked, genres: &[String]) -> String {
        self.terms
            .iter()
            .zip(&ranked.terms)
            .map(|((term, _), score)| format!("{} {score:.2}", term.describe(genres)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads a query.
pub trait TextEncoder {
    fn encode(&self, text: &str) -> Encoded;
}

/// The vocabulary of Mirador's own predictions.
pub struct Vocabulary {
    /// The genre head's classes, in its order.
    pub genres: Vec<String>,
}

/// Words that carry no meaning in a query.
const SMALL_WORDS: [&str; 27] = [
    "a",
    "an",
    "the",
    "and",
    "with",
    "of",
    "in",
    "some",
    "music",
    "song",
    "songs",
    "track",
    "tracks",
    "like",
    "this",
    "but",
    "very",
    "more",
    "bit",
    "little",
    "that",
    "is",
    "for",
    "to",
    "kind",
    "sort",
    "something",
];

/// Words (and phrases) for moods, energy, tempo, loudness, length and voice.
fn word(words: &[&str]) -> Option<Vec<Term>> {
    use Term::*;
    let phrase = words.join(" ");
    Some(match phrase.as_str() {
        "happy" | "joyful" | "cheerful" | "upbeat" | "fun" | "uplifting" | "euphoric" => {
            vec![Quadrant(0)]
        }
        "tense" | "angry" | "aggressive" | "intense" | "furious" | "anxious" => vec![Quadrant(1)],
        "sad" | "melancholic" | "melancholy" | "gloomy" | "depressing" | "somber" | "sombre" => {
            vec![Quadrant(2)]
        }
        "calm" | "relaxed" | "relaxing" | "peaceful" | "serene" | "soothing" | "mellow"
        | "gentle" | "chill" => vec![Quadrant(3)],
        "calmer" | "more relaxed" | "gentler" | "softer" => vec![Arousal(false)],
        "energetic" | "more energetic" | "livelier" | "lively" | "powerful" | "exciting" => {
            vec![Arousal(true)]
        }
        "happier" | "brighter" | "positive" | "more positive" => vec![Valence(true)],
        "sadder" | "darker" | "dark" | "negative" => vec![Valence(false)],
        "fast" | "faster" | "quick" | "quicker" | "uptempo" | "up-tempo" => vec![Faster(true)],
        "slow" | "slower" | "downtempo" | "down-tempo" => vec![Faster(false)],
        "loud" | "louder" => vec![Loud(true)],
        "quiet" | "quieter" => vec![Loud(false)],
        "short" | "shorter" => vec![Duration(0.0, 180.0)],
        "long" | "longer" => vec![Duration(360.0, f64::INFINITY)],
        "vocals" | "vocal" | "singing" | "singer" | "sung" | "voice" | "voices" => {
            vec![Vocals(true)]
        }
        "instrumental" | "no vocals" | "without vocals" => vec![Vocals(false)],
        "major" => vec![Key(None, Some(true))],
        "minor" => vec![Key(None, Some(false))],
        _ => return None,
    })
}

impl Vocabulary {
    pub fn new(genres: Vec<String>) -> Vocabulary {
        Vocabulary { genres }
    }

    /// Terms for a genre or tag name (both where the name is both).
    fn names(&self, phrase: &str) -> Vec<Term> {
        let norm = |s: &str| s.to_lowercase().replace(['-', ' '], "");
        let key = norm(phrase);
        let key = match key.as_str() {
            "rap" => "hiphop".to_string(),
            "female" | "femalevocals" | "femalevocal" | "femalevoice" => "femalevocalists".into(),
            "male" | "malevocals" | "malevocal" | "malevoice" => "malevocalists".into(),
            "guitars" => "guitar".into(),
            "relaxing" => "chillout".into(),
            _ => key,
        };
        let mut terms = Vec::new();
        if let Some(g) = self.genres.iter().position(|g| norm(g) == key) {
            terms.push(Term::Genre(g));
        }
        if let Some(t) = TAGS.iter().position(|t| norm(t) == key) {
            terms.push(Term::Tag(t));
        }
        terms
    }
}

impl TextEncoder for Vocabulary {
    fn encode(&self, text: &str) -> Encoded {
        let lower = text.to_lowercase();
        let tokens: Vec<&str> = lower
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|t| !t.is_empty())
            .collect();
        let mut out = Encoded::default();
        let mut i = 0;
        'tokens: while i < tokens.len() {
            // Numbers: "90-110 bpm", "120bpm", "120 bpm", "under 3 minutes".
            if let Some((term, used)) = number_term(&tokens[i..]) {
                out.terms.push((term, tokens[i..i + used].join(" ")));
                i += used;
                continue;
            }
            // Keys: "a minor", "c# major", "in e".
            if let Some((term, used)) = key_term(&tokens[i..]) {
                out.terms.push((term, tokens[i..i + used].join(" ")));
                i += used;
                continue;
            }
            // The longest phrase first (tags have up to three words).
            for n in (1..=3.min(tokens.len() - i)).rev() {
                let words = &tokens[i..i + n];
                let phrase = words.join(" ");
                // "sad" is both a tag and a mood: both count.
                let mut terms = self.names(&phrase);
                terms.extend(word(words).unwrap_or_default());
                if !terms.is_empty() {
                    for term in terms {
                        // "angry aggressive" asks for one thing once.
                        if !out.terms.iter().any(|(t, _)| *t == term) {
                            out.terms.push((term, phrase.clone()));
                        }
                    }
                    i += n;
                    continue 'tokens;
                }
            }
            let token = tokens[i].trim_matches(|c: char| !c.is_alphanumeric());
            if !token.is_empty() && !SMALL_WORDS.contains(&token) {
                out.ignored.push(tokens[i].to_string());
            }
            i += 1;
        }
        out
    }
}

fn number_term(tokens: &[&str]) -> Option<(Term, usize)> {
    let bpm_unit = |t: Option<&&str>| t.is_some_and(|t| *t == "bpm");
    let first = tokens[0];
    let (text, unit_attached) = match first.strip_suffix("bpm") {
        Some(rest) if !rest.is_empty() => (rest, true),
        _ => (first, false),
    };
    let unit = unit_attached || bpm_unit(tokens.get(1));
    let used = if unit && !unit_attached { 2 } else { 1 };
    if let Some((lo, hi)) = text.split_once(['-', '–']) {
        let (lo, hi) = (lo.parse::<f64>().ok()?, hi.parse::<f64>().ok()?);
        if unit || (20.0..=400.0).contains(&lo) && (20.0..=400.0).contains(&hi) {
            return Some((Term::Tempo(lo.min(hi), lo.max(hi)), used));
        }
    }
    if let Ok(bpm) = text.parse::<f64>() {
        if unit {
            return Some((Term::Tempo(bpm * 0.96, bpm * 1.04), used));
        }
    }
    // "under 3 minutes", "over 5 min".
    if let (Some(n), Some(u)) = (tokens.get(1), tokens.get(2)) {
        let minutes = n.parse::<f64>().ok()?;
        if u.starts_with("min") {
            return match first {
                "under" | "shorter" | "below" | "less" => {
                    Some((Term::Duration(0.0, minutes * 60.0), 3))
                }
                "over" | "longer" | "above" | "more" => {
                    Some((Term::Duration(minutes * 60.0, f64::INFINITY), 3))
                }
                _ => None,
            };
        }
    }
    None
}

fn key_term(tokens: &[&str]) -> Option<(Term, usize)> {
    let (skip, rest) = if tokens[0] == "in" && tokens.len() > 1 {
        (1, &tokens[1..])
    } else {
        (0, tokens)
    };
    let tonic = pitch_class(rest[0])?;
    let mode = match rest.get(1) {
        Some(&"major") => Some(true),
        Some(&"minor") => Some(false),
        _ => None,
    };
    // A bare letter is a key only after "in" ("in e"); "a" alone is an article.
    if mode.is_none() && skip == 0 {
        return None;
    }
    Some((
        Term::Key(Some(tonic), mode),
        skip + 1 + usize::from(mode.is_some()),
    ))
}

fn pitch_class(name: &str) -> Option<usize> {
    let name = name.replace('♯', "#").replace('♭', "b");
    let mut chars = name.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let natural = PITCH_NAMES.iter().position(|p| *p == letter.to_string())?;
    match chars.as_str() {
        "" => Some(natural),
        "#" | "sharp" => Some((natural + 1) % 12),
        "b" | "flat" => Some((natural + 11) % 12),
        _ => None,
    }
}

/// One ranked track.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub index: usize,
    pub score: f32,
    /// Each term's score for this track, in the query's order.
    pub terms: Vec<f32>,
}

/// The `k` tracks that best match `encoded` (the mean of its terms' scores), blended half and
/// half with similarity to `reference` when there is one; comparatives ("calmer") are
/// relative to it. `joint` holds the tracks' audio half of a joint embedding, if the index
/// stored one.
pub fn rank(
    catalog: &Catalog,
    encoded: &Encoded,
    reference: Option<(&Track, &crate::Query)>,
    joint: Option<&Matrix>,
    k: usize,
    exclude: impl Fn(usize) -> bool,
) -> Vec<Ranked> {
    let n = catalog.len();
    let columns = Columns::new(catalog);
    let per_term: Vec<Vec<f32>> = encoded
        .terms
        .iter()
        .map(|(term, _)| {
            (0..n)
                .map(|i| columns.score(term, i, reference.map(|r| r.0)))
                .collect()
        })
        .collect();
    let mut scores = vec![0f32; n];
    let mut parts = 0.0;
    if !per_term.is_empty() {
        for column in &per_term {
            scores.iter_mut().zip(column).for_each(|(s, c)| *s += c);
        }
        scores.iter_mut().for_each(|s| *s /= per_term.len() as f32);
        parts += 1.0;
    }
    if let (Some(text), Some(audio)) = (&encoded.embedding, joint) {
        let mut cos = vec![0f32; n];
        audio.add_dots(text, 1.0, &mut cos);
        scores
            .iter_mut()
            .zip(cos)
            .for_each(|(s, c)| *s += (c + 1.0) / 2.0);
        parts += 1.0;
    }
    if let Some((_, query)) = reference {
        let similarity = catalog.scores(query, catalog.all());
        scores
            .iter_mut()
            .zip(similarity)
            .for_each(|(s, c)| *s += (c + 1.0) / 2.0);
        parts += 1.0;
    }
    if parts > 1.0 {
        scores.iter_mut().for_each(|s| *s /= parts);
    }
    catalog
        .best(&scores, k, |i| !exclude(i))
        .into_iter()
        .map(|index| Ranked {
            index,
            score: scores[index],
            terms: per_term.iter().map(|c| c[index]).collect(),
        })
        .collect()
}

/// The library's model outputs as percentiles (0 lowest, 1 highest), so that terms on
/// different scales average fairly.
struct Columns<'a> {
    catalog: &'a Catalog,
    tags: Vec<Vec<f32>>,
    genres: Vec<Vec<f32>>,
    mood: Vec<Vec<f32>>,
    loudness: Vec<f32>,
}

impl<'a> Columns<'a> {
    fn new(catalog: &'a Catalog) -> Self {
        let raw = |facet: Facet, j: usize| -> Vec<Option<f32>> {
            catalog
                .tracks
                .iter()
                .map(|t| t.vectors.get(facet).and_then(|v| v.get(j).copied()))
                .collect()
        };
        let ranks = |facet: Facet| -> Vec<Vec<f32>> {
            (0..facet.dims())
                .map(|j| percentiles(&raw(facet, j)))
                .collect()
        };
        let loudness: Vec<Option<f32>> = catalog
            .tracks
            .iter()
            .map(|t| t.loudness_lufs.map(|l| l as f32))
            .collect();
        Columns {
            catalog,
            tags: ranks(Facet::Tags),
            genres: ranks(Facet::Genre),
            mood: ranks(Facet::Mood),
            loudness: percentiles(&loudness),
        }
    }

    fn score(&self, term: &Term, i: usize, reference: Option<&Track>) -> f32 {
        let t = &self.catalog.tracks[i];
        let at = |column: &[Vec<f32>], j: usize| column.get(j).map_or(0.0, |c| c[i]);
        let instrumental = TAGS.iter().position(|t| *t == "instrumental").unwrap_or(0);
        let relative = |own: Option<f64>, theirs: Option<f64>, up: bool, percentile: f32| match (
            own, theirs,
        ) {
            (Some(a), Some(b)) => {
                let d = if up { a - b } else { b - a };
                (1.0 / (1.0 + (-4.0 * d).exp())) as f32
            }
            _ if up => percentile,
            _ => 1.0 - percentile,
        };
        match *term {
            Term::Tag(j) => at(&self.tags, j),
            Term::Genre(j) => at(&self.genres, j),
            Term::Quadrant(q) => at(&self.mood, 2 + q),
            Term::Valence(up) => relative(
                t.valence,
                reference.and_then(|r| r.valence),
                up,
                at(&self.mood, 0),
            ),
            Term::Arousal(up) => relative(
                t.arousal,
                reference.and_then(|r| r.arousal),
                up,
                at(&self.mood, 1),
            ),
            Term::Tempo(lo, hi) => t.tempo.map_or(0.0, |bpm| {
                let d = if bpm < lo {
                    lo - bpm
                } else if bpm > hi {
                    bpm - hi
                } else {
                    0.0
                };
                (-(d / 8.0).powi(2)).exp() as f32
            }),
            Term::Faster(up) => match (t.tempo, reference.and_then(|r| r.tempo)) {
                (Some(a), Some(b)) => {
                    let ratio = (a / b).log2() * 6.0;
                    let d = if up { ratio } else { -ratio };
                    (1.0 / (1.0 + (-d).exp())) as f32
                }
                (Some(bpm), None) => {
                    let d = (bpm - if up { 125.0 } else { 85.0 }) / 10.0;
                    let d = if up { d } else { -d };
                    (1.0 / (1.0 + (-d).exp())) as f32
                }
                _ => 0.0,
            },
            Term::Key(tonic, major) => key_score(t.key.as_deref(), tonic, major),
            Term::Loud(up) => match (t.loudness_lufs, reference.and_then(|r| r.loudness_lufs)) {
                (Some(a), Some(b)) => {
                    let d = if up { a - b } else { b - a };
                    (1.0 / (1.0 + (-d / 2.0).exp())) as f32
                }
                _ if up => self.loudness[i],
                _ => 1.0 - self.loudness[i],
            },
            Term::Duration(lo, hi) => {
                let d = if t.duration < lo {
                    lo - t.duration
                } else if t.duration > hi {
                    t.duration - hi
                } else {
                    0.0
                };
                (-(d / 30.0).powi(2)).exp() as f32
            }
            Term::Vocals(sung) => {
                let p = at(&self.tags, instrumental);
                if sung {
                    1.0 - p
                } else {
                    p
                }
            }
        }
    }
}

/// 1 for the asked key (or mode), 0.5 for its relative or a fifth away, else 0.
fn key_score(key: Option<&str>, tonic: Option<usize>, major: Option<bool>) -> f32 {
    let Some((name, mode)) = key.and_then(|k| k.split_once(' ')) else {
        return 0.0;
    };
    let Some(pc) = PITCH_NAMES.iter().position(|p| *p == name) else {
        return 0.0;
    };
    let is_major = mode == "major";
    match (tonic, major) {
        (None, Some(m)) => f32::from(m == is_major),
        (None, None) => 0.0,
        (Some(t), m) => {
            let mode_ok = m.is_none_or(|m| m == is_major);
            if t == pc && mode_ok {
                return 1.0;
            }
            let relative = match m {
                Some(true) => !is_major && (pc + 3) % 12 == t,
                Some(false) => is_major && (t + 3) % 12 == pc,
                None => false,
            };
            let fifth = mode_ok && (pc + 7) % 12 == t || (t + 7) % 12 == pc;
            if relative || fifth && mode_ok {
                0.5
            } else {
                0.0
            }
        }
    }
}

/// Each value's rank among the present ones, 0 to 1 (ties share the mean rank); a missing
/// value scores 0.
fn percentiles(values: &[Option<f32>]) -> Vec<f32> {
    let mut present: Vec<(usize, f32)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    present.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut out = vec![0.0; values.len()];
    let n = present.len();
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && present[end].1 == present[start].1 {
            end += 1;
        }
        let rank = if n > 1 {
            ((start + end - 1) as f32 / 2.0) / (n - 1) as f32
        } else {
            1.0
        };
        for p in &present[start..end] {
            out[p.0] = rank;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        let head = mirador_models::tagger::Head::genre(mirador_models::tagger::Variant::Cnn);
        Vocabulary::new(head.unwrap().classes)
    }

    fn terms(text: &str) -> Vec<Term> {
        vocabulary()
            .encode(text)
            .terms
            .into_iter()
            .map(|t| t.0)
            .collect()
    }

    #[test]
    fn words_map_onto_the_vocabulary() {
        let tag = |name: &str| Term::Tag(TAGS.iter().position(|t| *t == name).unwrap());
        assert_eq!(
            terms("fast metal"),
            [Term::Faster(true), Term::Genre(6), tag("metal")]
        );
        assert_eq!(
            terms("calm acoustic guitar with vocals"),
            [
                Term::Quadrant(3),
                tag("acoustic"),
                tag("guitar"),
                Term::Vocals(true)
            ]
        );
        assert_eq!(terms("90-110 bpm"), [Term::Tempo(90.0, 110.0)]);
        assert_eq!(terms("120bpm").len(), 1);
        let sad = terms("sad piano in a minor");
        assert_eq!(sad[..2], [tag("sad"), Term::Quadrant(2)]);
        assert_eq!(sad[2], Term::Key(Some(9), Some(false)));
        assert_eq!(terms("in a minor"), [Term::Key(Some(9), Some(false))]);
        assert_eq!(terms("C# major"), [Term::Key(Some(1), Some(true))]);
        assert_eq!(terms("hip hop"), [Term::Genre(4), tag("Hip-Hop")]);
        assert_eq!(terms("female vocalists"), [tag("female vocalists")]);
        assert_eq!(terms("under 3 minutes"), [Term::Duration(0.0, 180.0)]);
        let e = vocabulary().encode("upbeat electronic music with heavy bass");
        assert_eq!(e.terms.len(), 2, "{e:?}");
        assert_eq!(e.ignored, ["heavy", "bass"]);
    }

    #[test]
    fn keys_score_related_keys_half() {
        assert_eq!(key_score(Some("A minor"), Some(9), Some(false)), 1.0);
        assert_eq!(key_score(Some("C major"), Some(9), Some(false)), 0.5);
        assert_eq!(key_score(Some("E minor"), Some(9), Some(false)), 0.5);
        assert_eq!(key_score(Some("F# major"), Some(9), Some(false)), 0.0);
        assert_eq!(key_score(Some("F# major"), None, Some(true)), 1.0);
        assert_eq!(key_score(None, None, Some(true)), 0.0);
    }

    #[test]
    fn percentiles_rank_and_share_ties() {
        let p = percentiles(&[Some(3.0), None, Some(1.0), Some(3.0), Some(2.0)]);
        assert_eq!(p, [5.0 / 6.0, 0.0, 0.0, 5.0 / 6.0, 1.0 / 3.0]);
    }
}

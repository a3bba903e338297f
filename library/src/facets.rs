//! The vectors a track is compared by: the patch network's embedding, and named facets built
//! from Mirador's own analyses, each answering one question ("does it sound alike?", "does it
//! move alike?", ...). [`describe`] builds a track's raw vectors; [`Scales`] standardizes them
//! (fixed statistics fitted on training audio, `facet_scales.json`) and weighs the blocks
//! inside a facet, so cosine similarity means the same in every library.

use mirador_dsp::clip::FeatureTable;
use mirador_dsp::pitch::key::{key_correlations, TEMPERLEY};
use mirador_models::beats::ClipBeats;
use mirador_models::tagger::ClipPredictions;
use serde::{Deserialize, Serialize};

/// Bumped whenever [`describe`] changes what it computes: stored facets of another version are
/// stale and `mirador index` recomputes them.
pub const FACETS_VERSION: &str = "facets-1";

/// What two tracks can be close in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    /// The patch network's penultimate layer, averaged over the track (learned sound).
    Embedding,
    /// MFCC and spectral-shape statistics: instruments, production, brightness.
    Timbre,
    /// The onsets' tempogram profile, the tempo (also octave-free) and the meter.
    Rhythm,
    /// Key correlations, pitch-class profile, key clarity and mode.
    Harmony,
    /// Valence, arousal and the 4Q quadrant probabilities.
    Mood,
    /// The 50 MSD tag likelihoods.
    Tags,
    /// The GTZAN genre probabilities.
    Genre,
}

impl Facet {
    pub const ALL: [Facet; 7] = [
        Facet::Embedding,
        Facet::Timbre,
        Facet::Rhythm,
        Facet::Harmony,
        Facet::Mood,
        Facet::Tags,
        Facet::Genre,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Facet::Embedding => "embedding",
            Facet::Timbre => "timbre",
            Facet::Rhythm => "rhythm",
            Facet::Harmony => "harmony",
            Facet::Mood => "mood",
            Facet::Tags => "tags",
            Facet::Genre => "genre",
        }
    }

    pub fn from_name(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the patch network makes it (else `mirador-dsp`'s analyses do).
    pub fn from_network(self) -> bool {
        matches!(
            self,
            Facet::Embedding | Facet::Mood | Facet::Tags | Facet::Genre
        )
    }

    /// The blocks of the raw vector, in order: (name, length, weight). A block's weight is
    /// its share of the facet after standardization, whatever its length.
    pub fn blocks(self) -> &'static [(&'static str, usize, f32)] {
        match self {
            Facet::Embedding => &[("embedding", 200, 1.0)],
            Facet::Timbre => &[
                ("mfcc 2-20 means", 19, 1.0),
                ("mfcc 1-20 spreads", 20, 0.6),
                ("spectral shape", 6, 0.8),
            ],
            Facet::Rhythm => &[
                (
                    "tempogram profile",
                    mirador_dsp::rhythm::tempo::PROFILE_BINS,
                    1.0,
                ),
                ("tempo", 3, 1.0),
                ("meter", 2, 0.4),
            ],
            Facet::Harmony => &[
                ("key correlations", 24, 1.0),
                ("pitch-class profile", 12, 0.6),
                ("key clarity and mode", 2, 0.4),
            ],
            Facet::Mood => &[("valence and arousal", 2, 1.0), ("quadrants", 4, 1.0)],
            Facet::Tags => &[("tag log-odds", 50, 1.0)],
            Facet::Genre => &[("genre log-probabilities", 10, 1.0)],
        }
    }

    /// The raw vector's length.
    pub fn dims(self) -> usize {
        self.blocks().iter().map(|b| b.1).sum()
    }
}

/// A track's raw facet vectors, indexed by [`Facet::index`]; a facet its analysis could not
/// give (no network output for silence) is empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vectors(pub [Vec<f32>; 7]);

impl Vectors {
    pub fn get(&self, facet: Facet) -> Option<&[f32]> {
        let v = &self.0[facet.index()];
        (!v.is_empty()).then_some(v.as_slice())
    }
}

/// What [`describe`] reads of one analysis.
pub struct Description<'a> {
    pub table: &'a FeatureTable,
    pub network: Option<&'a ClipPredictions>,
    pub beats: Option<&'a ClipBeats>,
}

/// The raw facet vectors of one analysis; levels (gain, mastering) leave them alone: no
/// absolute energy enters.
pub fn describe(d: &Description) -> Vectors {
    let mut v = Vectors::default();
    v.0[Facet::Timbre.index()] = timbre(d.table);
    v.0[Facet::Rhythm.index()] = rhythm(d.table, d.beats);
    v.0[Facet::Harmony.index()] = harmony(d.table);
    if let Some(n) = d.network {
        v.0[Facet::Embedding.index()] = n.embedding.clone();
        let q = |i: usize| n.mood.get(i).map_or(0.0, |m| m.1 as f32);
        v.0[Facet::Mood.index()] = vec![n.valence as f32, n.arousal as f32, q(0), q(1), q(2), q(3)];
        v.0[Facet::Tags.index()] = n
            .tags
            .iter()
            .map(|&p| {
                let p = p.clamp(1e-4, 1.0 - 1e-4);
                (p / (1.0 - p)).ln()
            })
            .collect();
        v.0[Facet::Genre.index()] = n
            .genre
            .iter()
            .map(|g| (g.1.max(1e-4) as f32).ln())
            .collect();
    }
    for (facet, values) in Facet::ALL.iter().zip(&mut v.0) {
        if !values.is_empty() {
            debug_assert_eq!(values.len(), facet.dims(), "{}", facet.name());
            values.iter_mut().for_each(|x| *x = finite(*x));
        }
    }
    v
}

fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn timbre(t: &FeatureTable) -> Vec<f32> {
    let mut v = Vec::with_capacity(Facet::Timbre.dims());
    // MFCC 1 is the log energy: its mean is the level, left out; its spread is dynamics.
    v.extend(t.mfcc[1..].iter().map(|m| m.mean() as f32));
    v.extend(t.mfcc.iter().map(|m| m.var().sqrt() as f32));
    let ln = |x: f64| x.max(1e-6).ln() as f32;
    let centroid = t.spectral_centroid.mean();
    v.push(ln(centroid));
    v.push(ln(t.spectral_bandwidth.mean()));
    v.push(ln(t.rolloff.mean()));
    v.push(t.zero_crossing_rate.mean().sqrt() as f32);
    v.push((t.spectral_centroid.var().sqrt() / centroid.max(1e-6)) as f32);
    // How percussive: the separated waveforms' energy ratio, in log terms.
    v.push(ln(t.perceptr.var()) - ln(t.harmony.var()));
    v
}

fn rhythm(t: &FeatureTable, beats: Option<&ClipBeats>) -> Vec<f32> {
    let mut v = Vec::with_capacity(Facet::Rhythm.dims());
    v.extend_from_slice(&t.tempo_profile);
    // The beat tracker's tempo where it ran, else the onset tempogram's.
    let bpm = beats.and_then(|b| b.tempo_bpm).unwrap_or(t.tempo);
    if bpm > 0.0 && bpm.is_finite() {
        let octave = bpm.log2();
        let turn = std::f64::consts::TAU * octave;
        v.extend([octave as f32, turn.cos() as f32, turn.sin() as f32]);
    } else {
        v.extend([0.0; 3]);
    }
    let meter = beats.and_then(|b| b.beats_per_bar);
    v.push(f32::from(meter == Some(3)));
    v.push(f32::from(meter == Some(4)));
    v
}

fn harmony(t: &FeatureTable) -> Vec<f32> {
    let mut v = Vec::with_capacity(Facet::Harmony.dims());
    let chroma = t.chroma_profile.map(|c| c as f32);
    let correlations = key_correlations(&chroma, &TEMPERLEY).unwrap_or([0.0; 24]);
    v.extend_from_slice(&correlations);
    let total: f32 = chroma.iter().sum();
    v.extend(
        chroma
            .iter()
            .map(|&c| if total > 0.0 { c / total } else { 0.0 }),
    );
    let best = |r: &[f32]| r.iter().fold(-1f32, |a, &b| a.max(b));
    let (major, minor) = (best(&correlations[..12]), best(&correlations[12..]));
    v.push(major.max(minor));
    v.push(major - minor);
    v
}

/// Per-dimension statistics of each facet's raw vectors over training audio, which turn a
/// raw vector into one that cosine similarity can compare.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scales {
    /// What the statistics were fitted on.
    pub fitted_on: String,
    pub facets: Vec<FacetScale>,
    /// Each facet's share of the "all" similarity, by [`Facet::index`]: chosen on the same
    /// training clips (`cargo xtask models facets`).
    #[serde(default = "equal_weights")]
    pub weights: [f32; 7],
}

fn equal_weights() -> [f32; 7] {
    [1.0 / 7.0; 7]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FacetScale {
    pub facet: String,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Scales {
    /// The statistics Mirador ships (`library/facet_scales.json`, made by `cargo xtask
    /// models facets`).
    pub fn shipped() -> Scales {
        serde_json::from_str(include_str!("../facet_scales.json"))
            .expect("facet_scales.json is valid")
    }

    /// No standardization: mean 0 and spread 1 everywhere.
    pub fn identity() -> Scales {
        Scales {
            fitted_on: "nothing (identity)".into(),
            facets: Facet::ALL
                .iter()
                .map(|f| FacetScale {
                    facet: f.name().into(),
                    mean: vec![0.0; f.dims()],
                    std: vec![1.0; f.dims()],
                })
                .collect(),
            weights: equal_weights(),
        }
    }

    /// Mean and spread of each facet over `tracks`' raw vectors (a spread below 1e-6 is 1:
    /// a constant dimension carries nothing).
    pub fn fit<'a>(fitted_on: &str, tracks: impl Iterator<Item = &'a Vectors> + Clone) -> Scales {
        let facets = Facet::ALL
            .iter()
            .map(|&f| {
                let n = f.dims();
                let (mut sum, mut sq, mut count) = (vec![0f64; n], vec![0f64; n], 0usize);
                for v in tracks.clone().filter_map(|t| t.get(f)) {
                    for (i, &x) in v.iter().enumerate().take(n) {
                        sum[i] += x as f64;
                        sq[i] += (x as f64) * (x as f64);
                    }
                    count += 1;
                }
                let c = count.max(1) as f64;
                let mean: Vec<f32> = sum.iter().map(|s| (s / c) as f32).collect();
                let std = sq
                    .iter()
                    .zip(&sum)
                    .map(|(q, s)| {
                        let var = (q / c - (s / c).powi(2)).max(0.0);
                        let sd = var.sqrt() as f32;
                        if sd < 1e-6 {
                            1.0
                        } else {
                            sd
                        }
                    })
                    .collect();
                FacetScale {
                    facet: f.name().into(),
                    mean,
                    std,
                }
            })
            .collect();
        Scales {
            fitted_on: fitted_on.into(),
            facets,
            weights: equal_weights(),
        }
    }

    /// `raw` standardized, each block weighted by its share, and scaled to unit length: the
    /// vector whose dot products are the facet's similarities. Empty or all-zero in, empty out.
    pub fn apply(&self, facet: Facet, raw: &[f32]) -> Vec<f32> {
        if raw.len() != facet.dims() {
            return Vec::new();
        }
        let scale = self.facets.iter().find(|s| s.facet == facet.name());
        let mut out = Vec::with_capacity(raw.len());
        let mut start = 0;
        for &(_, len, weight) in facet.blocks() {
            let w = weight / (len as f32).sqrt();
            for (i, &x) in raw.iter().enumerate().skip(start).take(len) {
                let (mean, std) = scale.map_or((0.0, 1.0), |s| (s.mean[i], s.std[i]));
                out.push(w * (x - mean) / std);
            }
            start += len;
        }
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !(norm > 1e-12 && norm.is_finite()) {
            return Vec::new();
        }
        out.iter_mut().for_each(|x| *x /= norm);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_add_up_to_each_facet() {
        assert_eq!(Facet::Timbre.dims(), 45);
        assert_eq!(Facet::Rhythm.dims(), 29);
        assert_eq!(Facet::Harmony.dims(), 38);
        for f in Facet::ALL {
            assert_eq!(Facet::from_name(f.name()), Some(f));
            assert_eq!(Facet::ALL[f.index()], f);
        }
    }

    #[test]
    fn scaled_vectors_are_unit_length_and_standardized() {
        let a = Vectors(std::array::from_fn(|i| {
            vec![1.0 + i as f32; Facet::ALL[i].dims()]
        }));
        let mut b = a.clone();
        b.0.iter_mut()
            .for_each(|v| v.iter_mut().for_each(|x| *x += 2.0));
        let scales = Scales::fit("two", [&a, &b].into_iter());
        let sa = scales.apply(Facet::Timbre, a.get(Facet::Timbre).unwrap());
        let sb = scales.apply(Facet::Timbre, b.get(Facet::Timbre).unwrap());
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm(&sa) - 1.0).abs() < 1e-5 && (norm(&sb) - 1.0).abs() < 1e-5);
        // Standardized on the two, they sit on opposite sides of the mean.
        let cos: f32 = sa.iter().zip(&sb).map(|(x, y)| x * y).sum();
        assert!((cos + 1.0).abs() < 1e-5, "{cos}");
        assert!(scales.apply(Facet::Timbre, &[0.0; 3]).is_empty());
    }

    #[test]
    fn shipped_scales_cover_every_facet() {
        let scales = Scales::shipped();
        for f in Facet::ALL {
            let s = scales.facets.iter().find(|s| s.facet == f.name()).unwrap();
            assert_eq!(
                (s.mean.len(), s.std.len()),
                (f.dims(), f.dims()),
                "{}",
                f.name()
            );
            assert!(s.std.iter().all(|&x| x > 0.0));
        }
    }
}

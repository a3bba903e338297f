//! madmom's bar-pointer state space (`BarStateSpace`, `BarTransitionModel` and
//! `RNNDownBeatTrackingObservationModel`) for several meters side by side, shared by the
//! online tracker and the offline decoder.
//!
//! A state is a (meter, tempo, position in the bar) triple. The position advances one frame
//! per frame; at each beat boundary the tempo may change with probability `exp(-λ·|r − 1|)`
//! for the interval ratio `r`; the meter never changes. The first 1/λ_obs of the bar is the
//! downbeat region, the first 1/λ_obs of every other beat a beat region.

use std::ops::Range;

/// Settings; the defaults follow madmom's downbeat DBN.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub frames_per_second: f64,
    pub min_bpm: f64,
    pub max_bpm: f64,
    pub num_tempi: usize,
    pub beats_per_bar: Vec<usize>,
    pub transition_lambda: f64,
    pub observation_lambda: f64,
    /// Online only: share of probability mass spread over all states each frame.
    pub restart: f64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            frames_per_second: 50.0,
            min_bpm: 55.0,
            max_bpm: 215.0,
            num_tempi: 60,
            beats_per_bar: vec![3, 4],
            transition_lambda: 100.0,
            observation_lambda: 16.0,
            restart: 1e-5,
        }
    }
}

/// Where a state is in its bar, for the observation model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    None = 0,
    Beat = 1,
    Downbeat = 2,
}

/// One run of states: a meter at one tempo.
#[derive(Debug, Clone)]
pub struct Block {
    pub beats: usize,
    /// Frames per beat.
    pub interval: usize,
    /// Index of the block's first state.
    pub offset: usize,
}

impl Block {
    pub fn len(&self) -> usize {
        self.beats * self.interval
    }

    /// The state that starts beat `beat` (0 = the downbeat).
    pub fn beat_start(&self, beat: usize) -> usize {
        self.offset + beat * self.interval
    }

    /// The last state of beat `beat`.
    pub fn beat_end(&self, beat: usize) -> usize {
        self.offset + (beat + 1) * self.interval - 1
    }
}

pub struct BarSpace {
    pub config: TrackerConfig,
    pub blocks: Vec<Block>,
    /// Per meter, its blocks (one per tempo, in tempo order).
    pub meters: Vec<Range<usize>>,
    /// Tempo transition probabilities at a beat boundary, `[from tempo][to tempo]`; the same
    /// for every meter, since every meter has the same tempi.
    pub transitions: Vec<f64>,
    /// Per state.
    pub region: Vec<Region>,
}

impl BarSpace {
    pub fn new(config: TrackerConfig) -> Self {
        let fps = config.frames_per_second;
        let (min_interval, max_interval) =
            (60.0 * fps / config.max_bpm, 60.0 * fps / config.min_bpm);
        let intervals = beat_intervals(min_interval, max_interval, config.num_tempi);
        let mut blocks = Vec::new();
        let mut meters = Vec::new();
        let mut offset = 0;
        for &beats in &config.beats_per_bar {
            let first = blocks.len();
            for &interval in &intervals {
                blocks.push(Block {
                    beats,
                    interval,
                    offset,
                });
                offset += beats * interval;
            }
            meters.push(first..blocks.len());
        }
        let transitions = tempo_transitions(&intervals, config.transition_lambda);
        let mut region = vec![Region::None; offset];
        for b in &blocks {
            for p in 0..b.len() {
                let position = p as f64 / b.interval as f64;
                if position.fract() < 1.0 / config.observation_lambda {
                    region[b.offset + p] = if position < 1.0 {
                        Region::Downbeat
                    } else {
                        Region::Beat
                    };
                }
            }
        }
        Self {
            config,
            blocks,
            meters,
            transitions,
            region,
        }
    }

    pub fn states(&self) -> usize {
        self.region.len()
    }

    /// Tempi per meter.
    pub fn tempi(&self) -> usize {
        self.meters[0].len()
    }

    /// The block a state belongs to.
    pub fn block_of(&self, state: usize) -> usize {
        self.blocks.partition_point(|b| b.offset + b.len() <= state)
    }

    /// The tempo of a block, in beats per minute.
    pub fn bpm(&self, block: usize) -> f64 {
        60.0 * self.config.frames_per_second / self.blocks[block].interval as f64
    }

    /// Observation densities of one frame's beat and downbeat probabilities, by [`Region`].
    pub fn densities(&self, beat: f32, downbeat: f32) -> [f64; 3] {
        let (beat, downbeat) = (clean(beat) as f64, clean(downbeat) as f64);
        let none = ((1.0 - beat - downbeat) / (self.config.observation_lambda - 1.0)).max(1e-7);
        [none, beat.max(1e-7), downbeat.max(1e-7)]
    }
}

/// madmom's `BeatStateSpace` intervals: every whole number of frames from the shortest to
/// the longest beat, or, when that is more than `count`, `count` or more log-spaced ones.
/// Rounded half to even, as numpy rounds.
fn beat_intervals(min: f64, max: f64, count: usize) -> Vec<usize> {
    let (low, high) = (
        min.round_ties_even() as usize,
        max.round_ties_even() as usize,
    );
    if count >= high + 1 - low {
        return (low..=high).collect();
    }
    let mut n = count;
    loop {
        let mut intervals: Vec<usize> = (0..n)
            .map(|i| {
                let t = i as f64 / (n - 1).max(1) as f64;
                (min.log2() + t * (max.log2() - min.log2()))
                    .exp2()
                    .round_ties_even() as usize
            })
            .collect();
        intervals.dedup();
        if intervals.len() >= count {
            return intervals;
        }
        n += 1;
    }
}

/// madmom's `exponential_transition`, rows normalized; tiny probabilities dropped.
fn tempo_transitions(intervals: &[usize], lambda: f64) -> Vec<f64> {
    let n = intervals.len();
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let ratio = intervals[j] as f64 / intervals[i] as f64;
            let v = (-lambda * (ratio - 1.0).abs()).exp();
            p[i * n + j] = if v > f64::EPSILON { v } else { 0.0 };
        }
        let sum: f64 = p[i * n..(i + 1) * n].iter().sum();
        p[i * n..(i + 1) * n].iter_mut().for_each(|v| *v /= sum);
    }
    p
}

/// A probability from the network, NaN and out-of-range values made safe.
pub fn clean(p: f32) -> f32 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

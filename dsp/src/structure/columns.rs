//! Frames into the columns structure is found on: first a few frames' means as they come
//! ([`Units`], all a file keeps of its frames), then those units averaged between beats
//! ([`synchronize`]) and standardized ([`standardize`]).

use super::{Features, DIMS, TIMBRE};

/// What structure reads of one feature frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Seconds of the frame's centre.
    pub time: f64,
    /// Where it is on the audio timeline (input-rate samples).
    pub position: u64,
    pub chroma: &'a [f32; 12],
    /// MFCCs from the first (at least `1 + TIMBRE` of them).
    pub mfcc: &'a [f32],
    pub rms: f32,
}

impl<'a> From<&'a crate::Frame> for FrameView<'a> {
    fn from(f: &'a crate::Frame) -> Self {
        Self {
            time: f.time,
            position: f.position,
            chroma: &f.chroma,
            mfcc: &f.mfcc,
            rms: f.rms,
        }
    }
}

/// The mean of a few consecutive frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// Seconds of its first frame's centre.
    pub time: f64,
    /// Timeline position of its first frame.
    pub position: u64,
    pub features: Features,
    /// Mean RMS of its frames.
    pub rms: f32,
}

/// Sums frames into [`Unit`]s of a fixed number of frames. No allocation.
pub struct Units {
    frames_per_unit: usize,
    sum: Features,
    rms: f32,
    count: usize,
    time: f64,
    position: u64,
}

impl Units {
    pub fn new(frames_per_unit: usize) -> Self {
        Self {
            frames_per_unit: frames_per_unit.max(1),
            sum: [0.0; DIMS],
            rms: 0.0,
            count: 0,
            time: 0.0,
            position: 0,
        }
    }

    /// Adds a frame; returns the unit it completes.
    pub fn push(&mut self, frame: FrameView<'_>) -> Option<Unit> {
        if self.count == 0 {
            self.time = frame.time;
            self.position = frame.position;
        }
        let values = frame.chroma.iter().chain(&frame.mfcc[1..=TIMBRE]);
        for (s, &v) in self.sum.iter_mut().zip(values) {
            // A broken frame counts as zeros rather than poisoning the song.
            *s += if v.is_finite() { v } else { 0.0 };
        }
        self.rms += if frame.rms.is_finite() {
            frame.rms
        } else {
            0.0
        };
        self.count += 1;
        (self.count == self.frames_per_unit).then(|| self.take())
    }

    /// The unit begun, if any frames are waiting (the end of a file).
    pub fn flush(&mut self) -> Option<Unit> {
        (self.count > 0).then(|| self.take())
    }

    pub fn reset(&mut self) {
        self.sum = [0.0; DIMS];
        self.rms = 0.0;
        self.count = 0;
    }

    fn take(&mut self) -> Unit {
        let n = self.count as f32;
        let unit = Unit {
            time: self.time,
            position: self.position,
            features: self.sum.map(|s| s / n),
            rms: self.rms / n,
        };
        self.reset();
        unit
    }
}

/// Columns of a song: features, when each begins, and its loudness.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    pub features: Vec<Features>,
    /// Seconds where each column begins (the first at 0).
    pub starts: Vec<f64>,
    /// Mean RMS in dBFS of each.
    pub loudness: Vec<f32>,
    /// Seconds where the last one ends.
    pub end: f64,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// Units averaged from each of `cuts` (seconds, ascending; beats) to the next, with a column
/// before the first cut and after the last when they hold units; the song ends at `end`.
/// With fewer than two cuts, or cuts further apart than `step` on average, the cuts are
/// every `step` seconds instead. Consecutive cuts are grouped so there are at most `max`
/// columns. Columns that hold no unit take the previous one's features.
pub fn synchronize(units: &[Unit], cuts: &[f64], end: f64, step: f64, max: usize) -> Columns {
    let regular: Vec<f64>;
    let mean_gap = match cuts {
        [first, .., last] => (last - first) / (cuts.len() - 1) as f64,
        _ => f64::INFINITY,
    };
    let cuts = if mean_gap <= step {
        cuts
    } else {
        regular = (1..)
            .map(|i| i as f64 * step)
            .take_while(|&t| t < end)
            .collect();
        &regular
    };
    let mut starts = vec![0.0];
    let group = cuts.len().div_ceil(max.max(2) - 1).max(1);
    starts.extend(
        cuts.iter()
            .step_by(group)
            .copied()
            .filter(|&t| t > 0.0 && t < end),
    );
    let mut columns = Columns {
        features: Vec::with_capacity(starts.len()),
        loudness: Vec::with_capacity(starts.len()),
        starts,
        end,
    };
    let mut next = 0;
    // Units arrive in time order: each column takes those before the next column's start
    // (the first also those before its own start).
    for i in 0..columns.starts.len() {
        let stop = columns.starts.get(i + 1).copied().unwrap_or(f64::INFINITY);
        let (mut sum, mut rms, mut n) = ([0f32; DIMS], 0f32, 0usize);
        while next < units.len() && units[next].time < stop {
            for (s, v) in sum.iter_mut().zip(&units[next].features) {
                *s += v;
            }
            rms += units[next].rms;
            n += 1;
            next += 1;
        }
        let features = match (n, columns.features.last()) {
            (0, Some(previous)) => *previous,
            _ => sum.map(|s| s / n.max(1) as f32),
        };
        columns.features.push(features);
        let rms = if n > 0 {
            rms / n as f32
        } else {
            columns
                .loudness
                .last()
                .map_or(0.0, |db| 10f32.powf(db / 20.0))
        };
        columns.loudness.push(20.0 * rms.max(1e-5).log10());
    }
    columns
}

/// Every dimension to zero mean and unit variance over the song, then each block (chroma,
/// timbre) scaled by one over the square root of its size, so both weigh alike in a
/// distance.
pub fn standardize(features: &mut [Features]) {
    let n = features.len() as f32;
    if n == 0.0 {
        return;
    }
    for d in 0..DIMS {
        let mean = features.iter().map(|f| f[d]).sum::<f32>() / n;
        let var = features.iter().map(|f| (f[d] - mean).powi(2)).sum::<f32>() / n;
        let block = if d < 12 { 12f32 } else { TIMBRE as f32 };
        // A constant dimension (silence) says nothing: it stays zero.
        let scale = if var > 1e-12 {
            1.0 / (var.sqrt() * block.sqrt())
        } else {
            0.0
        };
        for f in features.iter_mut() {
            f[d] = (f[d] - mean) * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(time: f64, value: f32) -> Unit {
        Unit {
            time,
            position: 0,
            features: [value; DIMS],
            rms: 0.1,
        }
    }

    #[test]
    fn units_average_their_frames_and_skip_broken_values() {
        let mut units = Units::new(2);
        let chroma = [1.0; 12];
        let mfcc: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let frame = |time, rms| FrameView {
            time,
            position: (time * 100.0) as u64,
            chroma: &chroma,
            mfcc: &mfcc,
            rms,
        };
        assert!(units.push(frame(0.0, 0.2)).is_none());
        let u = units.push(frame(0.1, f32::NAN)).unwrap();
        assert_eq!(u.time, 0.0);
        assert_eq!(u.features[0], 1.0);
        // MFCC 0 is left out: the timbre block starts at MFCC 1.
        assert_eq!(u.features[12], 1.0);
        assert_eq!(u.features[DIMS - 1], TIMBRE as f32);
        assert!((u.rms - 0.1).abs() < 1e-6);
        assert!(units.flush().is_none());
        units.push(frame(0.2, 0.2));
        assert_eq!(units.flush().unwrap().time, 0.2);
    }

    #[test]
    fn columns_follow_the_cuts_and_fill_gaps() {
        let units: Vec<Unit> = (0..40).map(|i| unit(i as f64 * 0.1, i as f32)).collect();
        // Beats at 1 s and 2 s, and one at 2.05 s that no unit falls in.
        let c = synchronize(&units, &[1.0, 2.0, 2.05], 4.0, 2.0, 100);
        assert_eq!(c.starts, vec![0.0, 1.0, 2.0, 2.05]);
        assert!((c.features[0][0] - 4.5).abs() < 1e-4, "{:?}", c.features[0]);
        assert!((c.features[1][0] - 14.5).abs() < 1e-4);
        assert_eq!(c.features[2][0], 20.0);
        // 2.05 s onwards holds units 21 to 39.
        assert!((c.features[3][0] - 30.0).abs() < 1e-4);
        assert_eq!(c.end, 4.0);
        // No beats: every `step` seconds; too many: grouped.
        let c = synchronize(&units, &[], 4.0, 0.5, 100);
        assert_eq!(c.len(), 8);
        let beats: Vec<f64> = (1..40).map(|i| i as f64 * 0.1).collect();
        assert!(synchronize(&units, &beats, 4.0, 0.5, 10).len() <= 10);
    }

    #[test]
    fn standardized_blocks_weigh_alike() {
        let mut f: Vec<Features> = (0..10)
            .map(|i| {
                let mut x = [0f32; DIMS];
                x[0] = i as f32 * 100.0;
                x[12] = i as f32;
                x
            })
            .collect();
        standardize(&mut f);
        let spread = |d: usize| f[9][d] - f[0][d];
        assert!((spread(0) * 12f32.sqrt() - spread(12) * (TIMBRE as f32).sqrt()).abs() < 1e-4);
        assert!(f.iter().all(|x| x[1] == 0.0));
    }
}

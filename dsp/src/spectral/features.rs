//! Per-frame features as librosa defines them, on plain slices.

use std::ops::Range;

/// `power_to_db`'s `amin`.
pub const AMIN: f32 = 1e-10;
/// librosa `zero_crossings` treats samples this small as zero (and zero as positive).
const ZERO_CROSSING_THRESHOLD: f32 = 1e-10;

/// `10 * log10(max(amin, power))` with `ref = 1`, then raised to `floor`.
pub fn power_to_db(power: f32, floor: f32) -> f32 {
    (10.0 * power.max(AMIN).log10()).max(floor)
}

/// librosa `feature.rms` of one (zero-padded) frame.
pub fn rms(frame: &[f32]) -> f32 {
    let sum: f64 = frame.iter().map(|&x| (x as f64) * (x as f64)).sum();
    (sum / frame.len() as f64).sqrt() as f32
}

/// librosa `feature.zero_crossing_rate` of one frame of `frame_len` samples whose real samples
/// are `real`; librosa pads the signal ends by repeating the edge sample, which adds no crossings.
pub fn zero_crossing_rate(frame: &[f32], real: Range<usize>) -> f32 {
    let negative = |x: f32| x < -ZERO_CROSSING_THRESHOLD;
    let real = &frame[real];
    let crossings = real
        .windows(2)
        .filter(|pair| negative(pair[0]) != negative(pair[1]))
        .count();
    crossings as f32 / frame.len() as f32
}

/// Spectral shape of one frame from its power spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralShape {
    pub centroid: f32,
    pub bandwidth: f32,
    pub rolloff: f32,
    pub flatness: f32,
}

/// librosa's `spectral_centroid`, `spectral_bandwidth` (p = 2), `spectral_rolloff` (on `|S|`)
/// and `spectral_flatness` (on `|S|^2`, `amin = 1e-10`). `magnitude` is scratch space.
pub fn spectral_shape(
    power: &[f32],
    magnitude: &mut [f32],
    frequencies: &[f32],
    roll_percent: f32,
) -> SpectralShape {
    let mut total = 0.0f64;
    let mut power_sum = 0.0f64;
    let mut log_sum = LogSum::default();
    for (m, &p) in magnitude.iter_mut().zip(power) {
        *m = p.sqrt();
        total += *m as f64;
        let floored = p.max(AMIN);
        log_sum.add(floored);
        power_sum += floored as f64;
    }
    let n = power.len() as f64;
    let flatness = ((log_sum.total() / n).exp() / (power_sum / n)) as f32;

    // librosa leaves an all-zero column unnormalized, which makes centroid and bandwidth 0.
    let norm = if total < f32::MIN_POSITIVE as f64 {
        1.0
    } else {
        total
    };
    let centroid: f64 = magnitude
        .iter()
        .zip(frequencies)
        .map(|(&m, &f)| f as f64 * m as f64)
        .sum::<f64>()
        / norm;
    let spread: f64 = magnitude
        .iter()
        .zip(frequencies)
        .map(|(&m, &f)| m as f64 * (f as f64 - centroid).powi(2))
        .sum::<f64>()
        / norm;

    // Sequential f32 cumulative sum, as numpy does, so the threshold crossing agrees.
    let threshold = roll_percent * magnitude.iter().sum::<f32>();
    let mut cumulative = 0.0f32;
    let mut rolloff = 0.0;
    for (&m, &f) in magnitude.iter().zip(frequencies) {
        cumulative += m;
        if cumulative >= threshold {
            rolloff = f;
            break;
        }
    }
    SpectralShape {
        centroid: centroid as f32,
        bandwidth: spread.sqrt() as f32,
        rolloff,
        flatness,
    }
}

/// Sum of natural logs of positive normal f32 values with one `ln` per 256 values: exponents
/// are summed as integers and mantissas multiplied in f64 (256 factors below 2 stay finite).
#[derive(Default)]
struct LogSum {
    exponents: i64,
    mantissas: f64,
    count: usize,
    logs: f64,
}

impl LogSum {
    fn add(&mut self, x: f32) {
        let bits = x.to_bits();
        self.exponents += ((bits >> 23) & 0xff) as i64 - 127;
        let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) as f64;
        self.mantissas = if self.count.is_multiple_of(256) {
            self.logs += if self.count > 0 {
                self.mantissas.ln()
            } else {
                0.0
            };
            mantissa
        } else {
            self.mantissas * mantissa
        };
        self.count += 1;
    }

    fn total(&self) -> f64 {
        let pending = if self.count > 0 {
            self.mantissas.ln()
        } else {
            0.0
        };
        self.exponents as f64 * std::f64::consts::LN_2 + self.logs + pending
    }
}

/// numpy's median (mean of the middle two for an even count); reorders `values`.
pub fn median(values: &mut [f32]) -> f32 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let mid = n / 2;
    let (lower_half, &mut upper, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = lower_half.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        (lower + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_gives_finite_librosa_values() {
        let power = vec![0.0; 1025];
        let mut mag = vec![0.0; 1025];
        let freqs: Vec<f32> = (0..1025).map(|k| k as f32 * 10.0).collect();
        let s = spectral_shape(&power, &mut mag, &freqs, 0.85);
        assert_eq!((s.centroid, s.bandwidth, s.rolloff), (0.0, 0.0, 0.0));
        assert!((s.flatness - 1.0).abs() < 1e-6);
        assert_eq!(power_to_db(0.0, f32::MIN), -100.0);
        assert_eq!(rms(&[0.0; 64]), 0.0);
    }

    #[test]
    fn single_bin_has_centroid_at_that_bin_and_no_spread() {
        let mut power = vec![0.0; 9];
        power[3] = 4.0;
        let freqs: Vec<f32> = (0..9).map(|k| k as f32 * 100.0).collect();
        let s = spectral_shape(&power, &mut [0.0; 9], &freqs, 0.85);
        assert_eq!((s.centroid, s.bandwidth, s.rolloff), (300.0, 0.0, 300.0));
    }

    #[test]
    fn log_sum_matches_ln() {
        let values: Vec<f32> = (0..1025)
            .map(|i| 1e-10 + (i as f32 * 0.37).sin().abs() * 1e3)
            .collect();
        let mut sum = LogSum::default();
        values.iter().for_each(|&v| sum.add(v));
        let want: f64 = values.iter().map(|&v| (v as f64).ln()).sum();
        assert!(
            (sum.total() - want).abs() < 1e-9 * want.abs(),
            "{} vs {want}",
            sum.total()
        );
    }

    #[test]
    fn median_matches_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn zero_crossings_count_only_real_sample_pairs() {
        let frame = [0.0, 0.0, 1.0, -1.0, 1.0, -1.0, 0.0, 0.0];
        // Pairs inside 2..6: (1,-1), (-1,1), (1,-1) → 3 crossings over 8 samples.
        assert_eq!(zero_crossing_rate(&frame, 2..6), 3.0 / 8.0);
        // Zero counts as positive: -1 → 0 is a crossing.
        assert_eq!(zero_crossing_rate(&frame, 2..7), 4.0 / 8.0);
    }
}

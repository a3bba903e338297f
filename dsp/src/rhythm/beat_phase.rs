//! Live tempo and beat phase from the onset envelope of the last ~8 s: the autocorrelation
//! (Hann-windowed, as librosa's tempogram) weighted by librosa's log-normal prior around
//! 120 BPM, refined to a fractional lag, then a comb over the envelope for the beat phase.

use crate::framing::window::hann_f64;
use crate::rhythm::tempo::log_normal_prior;

/// Tempo with how sure we are of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    pub bpm: f32,
    /// Normalized autocorrelation at the beat period, 0 (no periodicity) to 1.
    pub confidence: f32,
}

/// Where the beats fall: the latest beat on the envelope, and the period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatPhase {
    /// Frame index (analysis timeline) of the latest beat.
    pub last_beat_frame: f64,
    pub period_frames: f64,
}

/// Estimates tempo and phase from `envelope` (oldest first; the last value is frame
/// `last_index`) at `frame_rate` frames per second. Needs at least 3 s of envelope.
pub fn estimate(envelope: &[f32], frame_rate: f64, last_index: u64) -> Option<(Tempo, BeatPhase)> {
    let n = envelope.len();
    if (n as f64) < 3.0 * frame_rate {
        return None;
    }
    let window = hann_f64(n);
    let mean = envelope.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let x: Vec<f64> = envelope
        .iter()
        .zip(&window)
        .map(|(&e, w)| (e as f64 - mean) * w)
        .collect();
    let max_lag = n / 2;
    let ac: Vec<f64> = (0..max_lag)
        .map(|lag| x[lag..].iter().zip(&x).map(|(a, b)| a * b).sum())
        .collect();
    if ac[0] <= 1e-12 {
        return None;
    }
    // Score lags between 30 and 300 BPM like librosa's tempo: log1p of the normalized
    // autocorrelation plus a log-normal prior around 120 BPM.
    let bpm_of = |lag: f64| 60.0 * frame_rate / lag;
    let lags = (bpm_of(300.0).ceil() as usize).max(1)..(bpm_of(30.0) as usize).min(max_lag - 1);
    let best = lags
        .map(|lag| {
            let score =
                (1e6 * (ac[lag] / ac[0]).max(0.0)).ln_1p() + log_normal_prior(bpm_of(lag as f64));
            (lag, score)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    // Parabolic refinement of the peak to a fractional lag.
    let (l, c, r) = (ac[best - 1], ac[best], ac[best + 1]);
    let curvature = l - 2.0 * c + r;
    let shift = if curvature < 0.0 {
        (0.5 * (l - r) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let period = best as f64 + shift;
    let tempo = Tempo {
        bpm: bpm_of(period) as f32,
        confidence: (c / ac[0]).clamp(0.0, 1.0) as f32,
    };

    // Phase: the offset (from the newest frame back) whose comb of beats collects the most onset.
    let beats = ((n as f64 - 1.0) / period).floor() as usize;
    let phase = (0..period.round() as usize)
        .map(|offset| {
            let energy: f64 = (0..beats)
                .filter_map(|k| {
                    let back = offset as f64 + k as f64 * period;
                    envelope
                        .get(n - 1 - back.round() as usize)
                        .map(|&e| e as f64)
                })
                .sum();
            (offset, energy)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    Some((
        tempo,
        BeatPhase {
            last_beat_frame: last_index as f64 - phase as f64,
            period_frames: period,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulse_train_gives_its_tempo_and_phase() {
        let frame_rate = 22050.0 / 512.0;
        let period = frame_rate * 60.0 / 128.0;
        let n = 344;
        // Pulses at frames 5 + k * period.
        let envelope: Vec<f32> = (0..n)
            .map(|i| {
                let k = ((i as f64 - 5.0) / period).round();
                if (i as f64 - 5.0 - k * period).abs() < 0.5 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let (tempo, phase) = estimate(&envelope, frame_rate, 1000 + n as u64 - 1).unwrap();
        assert!((tempo.bpm - 128.0).abs() < 1.5, "{tempo:?}");
        assert!(tempo.confidence > 0.5);
        // The last pulse: the largest 5 + k * period below n.
        let k = ((n as f64 - 1.0 - 5.0) / period).floor();
        let want = 1000.0 + 5.0 + k * period;
        assert!(
            (phase.last_beat_frame - want).abs() <= 1.0,
            "{phase:?} vs {want}"
        );
        assert!(
            estimate(&envelope[..100], frame_rate, 99).is_none(),
            "too short"
        );
    }
}

//! When the models say nothing: a prediction on silence or on less audio than one patch is
//! noise presented as an answer (digital silence reads as "classical 58 %, Q2 tense", 0.1 s
//! of rock as "hiphop 50 %"), so the file path and the live view report why instead.

use crate::tagger::{HOP_LENGTH, PATCH_FRAMES, SAMPLE_RATE};

/// Audio shorter than this holds no full patch for the networks.
pub const MIN_SECONDS: f64 = (PATCH_FRAMES * HOP_LENGTH) as f64 / SAMPLE_RATE as f64;
/// Quieter than this (integrated, EBU R128) is silence or hiss, not music.
pub const MIN_LUFS: f64 = -60.0;

/// What the audio heard lacks for a prediction to mean anything, if anything: `seconds` of
/// it, at `lufs` integrated loudness (-inf when all of it is gated out as silence), of which
/// `non_finite` samples of `samples` were NaN or infinite.
pub fn not_enough_music(seconds: f64, lufs: f64, samples: u64, non_finite: u64) -> Option<String> {
    if samples > 0 && non_finite == samples {
        Some("not enough music: every sample is NaN or infinite".into())
    } else if seconds < MIN_SECONDS {
        Some(format!(
            "not enough music: {seconds:.2} s is shorter than one {MIN_SECONDS:.2} s model patch"
        ))
    } else if lufs.is_nan() || lufs < MIN_LUFS {
        Some(format!(
            "not enough music: silence (integrated loudness below {MIN_LUFS} LUFS)"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_short_clips_and_nan_abstain_and_music_does_not() {
        assert!(not_enough_music(30.0, -14.0, 100, 0).is_none());
        assert!(not_enough_music(30.0, f64::NEG_INFINITY, 100, 0)
            .unwrap()
            .contains("silence"));
        assert!(not_enough_music(30.0, -65.0, 100, 0).is_some());
        assert!(not_enough_music(30.0, f64::NAN, 100, 0).is_some());
        assert!(not_enough_music(0.1, -14.0, 100, 0)
            .unwrap()
            .contains("shorter"));
        assert!(not_enough_music(30.0, -14.0, 100, 100)
            .unwrap()
            .contains("NaN"));
    }
}

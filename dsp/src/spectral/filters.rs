//! Filterbanks and transforms, built once at construction: Slaney mel, librosa's chroma
//! filterbank and the orthonormal DCT-II used for MFCCs. Computed in f64 like librosa, stored in f32.

/// Frequencies of the `n_fft / 2 + 1` FFT bins (librosa `fft_frequencies`).
pub fn fft_frequencies(sample_rate: f64, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * sample_rate / n_fft as f64)
        .collect()
}

const MEL_F_SP: f64 = 200.0 / 3.0;
const MEL_MIN_LOG_HZ: f64 = 1000.0;
const MEL_MIN_LOG_MEL: f64 = MEL_MIN_LOG_HZ / MEL_F_SP;

fn mel_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Slaney's auditory mel scale (librosa `hz_to_mel`, `htk=False`).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MEL_MIN_LOG_HZ {
        MEL_MIN_LOG_MEL + (hz / MEL_MIN_LOG_HZ).ln() / mel_log_step()
    } else {
        hz / MEL_F_SP
    }
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MEL_MIN_LOG_MEL {
        MEL_MIN_LOG_HZ * (mel_log_step() * (mel - MEL_MIN_LOG_MEL)).exp()
    } else {
        MEL_F_SP * mel
    }
}

/// One filter of a filterbank, stored sparsely: weights for bins
/// `start..start + weights.len()` (the mel and the log-filtered spectrogram's bands).
#[derive(Debug, Clone)]
pub struct SparseBand {
    pub start: usize,
    pub weights: Vec<f32>,
}

/// librosa `filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm="slaney")`.
pub fn mel_filterbank(sample_rate: f64, n_fft: usize, n_mels: usize) -> Vec<SparseBand> {
    let fft_freqs = fft_frequencies(sample_rate, n_fft);
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|m| {
            let (lo, mid, hi) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
            let enorm = 2.0 / (hi - lo);
            let dense: Vec<f32> = fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - lo) / (mid - lo);
                    let upper = (hi - f) / (hi - mid);
                    (lower.min(upper).max(0.0) * enorm) as f32
                })
                .collect();
            let start = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
            let end = dense
                .iter()
                .rposition(|&w| w > 0.0)
                .map_or(start, |e| e + 1);
            SparseBand {
                start,
                weights: dense[start..end].to_vec(),
            }
        })
        .collect()
}

/// librosa `filters.chroma(sr, n_fft, n_chroma=12, tuning, ctroct=5, octwidth=2, norm=2, base_c=True)`,
/// row-major `[12][n_fft / 2 + 1]`.
pub fn chroma_filterbank(sample_rate: f64, n_fft: usize, tuning: f64) -> Vec<[f32; 12]> {
    const N_CHROMA: usize = 12;
    let n = N_CHROMA as f64;
    let a440 = 440.0 * 2f64.powf(tuning / n);
    let hz_to_octs = |f: f64| (f / (a440 / 16.0)).log2();
    // frqbins over the full FFT length (bins 1..n_fft), with bin 0 placed 1.5 octaves below bin 1.
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| n * hz_to_octs(k as f64 * sample_rate / n_fft as f64))
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * n);
    let binwidth: Vec<f64> = (0..n_fft)
        .map(|k| {
            if k + 1 < n_fft {
                (frqbins[k + 1] - frqbins[k]).max(1.0)
            } else {
                1.0
            }
        })
        .collect();
    let half = (n / 2.0).round();
    let n_bins = n_fft / 2 + 1;
    let mut columns = vec![[0f32; 12]; n_bins];
    for (k, column) in columns.iter_mut().enumerate() {
        let mut weights = [0f64; N_CHROMA];
        for (c, w) in weights.iter_mut().enumerate() {
            let d = (frqbins[k] - c as f64 + half + 10.0 * n).rem_euclid(n) - half;
            *w = (-0.5 * (2.0 * d / binwidth[k]).powi(2)).exp();
        }
        let norm = weights.iter().map(|w| w * w).sum::<f64>().sqrt();
        let octave_weight = (-0.5 * ((frqbins[k] / n - 5.0) / 2.0).powi(2)).exp();
        // base_c: roll by -3 so that row 0 is C rather than A.
        for c in 0..N_CHROMA {
            let w = if norm > 0.0 {
                weights[(c + 3) % N_CHROMA] / norm
            } else {
                0.0
            };
            column[c] = (w * octave_weight) as f32;
        }
    }
    columns
}

/// Rows of the orthonormal DCT-II (scipy `dct(type=2, norm="ortho")`), first `n_out` of `n_in`.
pub fn dct_ortho(n_out: usize, n_in: usize) -> Vec<Vec<f32>> {
    let n = n_in as f64;
    (0..n_out)
        .map(|k| {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            (0..n_in)
                .map(|i| {
                    (scale
                        * (std::f64::consts::PI * k as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n))
                            .cos()) as f32
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn dct_is_orthonormal() {
        let d = dct_ortho(8, 8);
        for a in 0..8 {
            for b in 0..8 {
                let dot: f32 = (0..8).map(|i| d[a][i] * d[b][i]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn mel_bands_cover_the_spectrum_in_order() {
        let bands = mel_filterbank(22050.0, 2048, 128);
        assert_eq!(bands.len(), 128);
        for pair in bands.windows(2) {
            assert!(pair[0].start <= pair[1].start);
        }
        assert!(bands.iter().all(|b| !b.weights.is_empty()));
    }
}

//! Key and mode with a linear classifier fitted to labelled music (`models/key/`): weights
//! over the tonality (chroma and bass chroma) turned to each tonic, fitted on GTZAN clips with
//! even ids (the odd ones evaluate it). `cargo xtask models key` refits them.

use std::sync::OnceLock;

use mirador_dsp::pitch::key::{estimate_key, Key, KeyWeights, Tonality};

const FITTED: &str = include_str!("../key/weights.json");

#[derive(serde::Deserialize)]
struct Fitted {
    major: [f32; 24],
    minor: [f32; 24],
    minor_bias: f32,
}

/// The shipped weights, read once.
pub fn weights() -> &'static KeyWeights {
    static WEIGHTS: OnceLock<KeyWeights> = OnceLock::new();
    WEIGHTS.get_or_init(|| {
        let f: Fitted = serde_json::from_str(FITTED).expect("the shipped key weights parse");
        KeyWeights {
            major: f.major,
            minor: f.minor,
            minor_bias: f.minor_bias,
        }
    })
}

/// The key of a tonality ([`mirador_dsp::pitch::key::TonalProfile`]), `None` when it is
/// flat.
pub fn key_of(tonality: &Tonality) -> Option<Key> {
    estimate_key(tonality, weights())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirador_dsp::pitch::key::Mode;

    #[test]
    fn the_fitted_weights_name_every_key_of_listeners_profiles() {
        // Krumhansl and Kessler's probe-tone profiles (listening experiments, not the
        // music the weights were fitted to), tonic first, with the tonic and its fifth in
        // the bass.
        let major = [
            6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
        ];
        let minor = [
            6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
        ];
        let bass = [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let turned = |v: &[f32; 12], tonic: usize| -> [f32; 12] {
            std::array::from_fn(|pc| v[(pc + 12 - tonic) % 12])
        };
        for (profile, mode) in [(major, Mode::Major), (minor, Mode::Minor)] {
            for tonic in 0..12 {
                let t = Tonality {
                    chroma: turned(&profile, tonic),
                    bass: turned(&bass, tonic),
                };
                let key = key_of(&t).unwrap();
                assert_eq!((key.tonic, key.mode), (tonic, mode), "{}", key.name());
            }
        }
    }
}

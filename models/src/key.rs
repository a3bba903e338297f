//! Key and mode with profiles fitted to labelled music (`models/key/`): the major and minor
//! profiles are the mean tonal profile of GTZAN clips in a known key, each turned to C and
//! standardized, over the clips with even ids (the odd ones evaluate it). `cargo xtask models
//! key` refits them.

use std::sync::OnceLock;

use mirador_dsp::pitch::key::{estimate_key, Key, KeyProfiles};

const FITTED: &str = include_str!("../key/profiles.json");

#[derive(serde::Deserialize)]
struct Fitted {
    major: [f32; 12],
    minor: [f32; 12],
}

/// The shipped profiles, read once.
pub fn profiles() -> &'static KeyProfiles {
    static PROFILES: OnceLock<KeyProfiles> = OnceLock::new();
    PROFILES.get_or_init(|| {
        let f: Fitted = serde_json::from_str(FITTED).expect("the shipped key profiles parse");
        KeyProfiles {
            major: f.major,
            minor: f.minor,
        }
    })
}

/// The key of a tonal profile ([`mirador_dsp::pitch::key::TonalProfile`]), `None` when it
/// is flat.
pub fn key_of(profile: &[f32; 12]) -> Option<Key> {
    estimate_key(profile, profiles())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirador_dsp::pitch::key::Mode;

    #[test]
    fn the_fitted_profiles_name_the_keys_of_scales() {
        // A major scale's pitch classes with the tonic triad stressed, in every key.
        let scale = [2.0, 0.0, 1.0, 0.0, 1.5, 1.0, 0.0, 1.5, 0.0, 1.0, 0.0, 1.0];
        for tonic in 0..12 {
            let profile: [f32; 12] = std::array::from_fn(|pc| scale[(pc + 12 - tonic) % 12]);
            let key = key_of(&profile).unwrap();
            assert_eq!(
                (key.tonic, key.mode),
                (tonic, Mode::Major),
                "{}",
                key.name()
            );
        }
        // Natural minor with its triad stressed.
        let minor = [2.0, 0.0, 1.0, 1.5, 0.0, 1.0, 0.0, 1.5, 1.0, 0.0, 1.0, 0.0];
        let key = key_of(&std::array::from_fn(|pc| minor[(pc + 3) % 12])).unwrap();
        assert_eq!((key.tonic, key.mode), (9, Mode::Minor), "{}", key.name());
    }
}

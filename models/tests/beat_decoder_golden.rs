//! The offline beat decoder against madmom's `DBNDownBeatTrackingProcessor` on BeatNet's
//! activations over whole real clips (4/4 disco, 3/4 jazz, classical), written by
//! models/training/beat_decoder_golden.py.

use mirador_models::beats::{BeatDecoder, TrackerConfig};

#[derive(serde::Deserialize)]
struct Golden {
    clips: Vec<Clip>,
}

#[derive(serde::Deserialize)]
struct Clip {
    clip: String,
    activations: Vec<[f32; 2]>,
    /// Frame and beat in bar.
    beats: Vec<(u64, u8)>,
}

#[test]
fn decodes_the_beats_madmom_decodes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/beatnet/decoder_golden.json");
    let golden: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(golden.clips.len(), 3);
    for clip in &golden.clips {
        let mut decoder = BeatDecoder::new(TrackerConfig::default());
        for &[beat, downbeat] in &clip.activations {
            decoder.push(beat, downbeat);
        }
        decoder.finish();
        let ours: Vec<(u64, u8)> = decoder
            .take_beats()
            .map(|b| (b.frame, b.beat_in_bar))
            .collect();
        println!(
            "{}: {} beats, madmom {}",
            clip.clip,
            ours.len(),
            clip.beats.len()
        );
        assert!(clip.beats.len() >= 15, "{}", clip.clip);
        assert_eq!(ours, clip.beats, "{}", clip.clip);
    }
}

//! What the fuzzers run, as plain functions: `cargo fuzz` drives them with libFuzzer
//! (`libfuzzer/`), and `tests/corpus.rs` replays the saved corpus through them on stable.
//! Each must return normally for any input; a panic or a broken invariant is a finding.

use mirador_app::decode::decode_bytes;
use mirador_dsp::config::MAX_BLOCK;
use mirador_dsp::{AnalyzerConfig, StreamingAnalyzer};

/// Format hints a file's extension would give, the first byte choosing one.
const HINTS: [Option<&str>; 10] = [
    None,
    Some("wav"),
    Some("flac"),
    Some("mp3"),
    Some("ogg"),
    Some("m4a"),
    Some("aac"),
    Some("aiff"),
    Some("caf"),
    Some("mkv"),
];

/// The decoder front end on arbitrary bytes: a clean error or whole frames, never a panic.
pub fn decode(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let hint = HINTS[pick as usize % HINTS.len()];
    match decode_bytes(bytes.to_vec(), hint) {
        Ok((info, samples)) => {
            assert!(info.channels > 0, "no channels: {info:?}");
            assert!(info.sample_rate > 0, "no rate: {info:?}");
            assert_eq!(samples.len() % info.channels, 0, "a partial frame");
        }
        // The message is what a user reads; it must render and say something.
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// At most this many input frames per run, so that one input stays fast at any rate.
const MAX_FRAMES: usize = 1 << 16;

/// The streaming analyzer with a rate, channel count and framing taken from the input, fed
/// blocks of changing size whose samples are the input's bytes as raw f32 (NaN, infinities
/// and denormals included): every frame it gives is finite and in order.
pub fn analyzer(data: &[u8]) {
    let mut input = Bytes(data);
    let mut config =
        AnalyzerConfig::new(1_000 + input.u32() % 767_001, 1 + input.u8() as usize % 8);
    let n_fft = 16 << (input.u8() % 9);
    config.analysis.n_fft = n_fft;
    config.analysis.hop_length = n_fft >> (input.u8() % 4);
    config.analysis.n_mels = 1 + input.u8() as usize % 128;
    config.analysis.n_mfcc = 1 + input.u8() as usize % config.analysis.n_mels;
    let Ok(mut analyzer) = StreamingAnalyzer::new(&config) else {
        return;
    };
    let channels = config.channels;
    let samples: Vec<f32> = input
        .0
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut last = None;
    let mut check = |frame: &mirador_dsp::Frame| {
        assert!(last < Some(frame.index), "frames out of order");
        last = Some(frame.index);
        let scalars = [
            frame.rms,
            frame.zero_crossing_rate,
            frame.centroid,
            frame.bandwidth,
            frame.rolloff,
            frame.flatness,
            frame.onset_strength,
            frame.onset_strength_median,
        ];
        let vectors = [&frame.power, &frame.mel, &frame.log_mel, &frame.mfcc];
        let finite = scalars.iter().chain(&frame.chroma).all(|x| x.is_finite())
            && vectors.iter().all(|v| v.iter().all(|x| x.is_finite()));
        assert!(finite, "a non-finite feature in frame {}", frame.index);
    };
    // Block sizes of 1 to 8192 frames, cycling through what the samples' bits give.
    let mut block = vec![0f32; MAX_BLOCK * channels];
    let (mut at, mut fed) = (0usize, 0usize);
    while fed < MAX_FRAMES {
        let frames = 1 + (samples.get(at).map_or(at, |s| s.to_bits() as usize) % MAX_BLOCK);
        for (i, x) in block[..frames * channels].iter_mut().enumerate() {
            *x = if samples.is_empty() {
                0.0
            } else {
                samples[(at + i) % samples.len()]
            };
        }
        analyzer.process_interleaved(&block[..frames * channels], &mut check);
        at += frames * channels;
        fed += frames;
        if samples.len() <= at {
            break;
        }
    }
    analyzer.flush(&mut check);
}

/// Reads parameters off the front of the input, zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

//! The bundled demo recording, so `mirador analyze --demo` shows real music with no files:
//! the first 30 s of "Vibe Ace" by Kevin MacLeod (CC BY 3.0; `app/assets/README.md`).

use std::path::PathBuf;

use mirador_dsp::clip::{Samples, TableStyle};

use mirador_models::clip::{analyze_clip, Models};

use crate::batch::Analysis;
use crate::decode::decode_bytes;

/// The recording as an Ogg Vorbis file.
pub const OGG: &[u8] = include_bytes!("../assets/demo.ogg");
/// The name it is reported under.
pub const FILE_NAME: &str = "vibe-ace-demo.ogg";
/// The attribution its licence asks for.
pub const CREDIT: &str = "\"Vibe Ace\" by Kevin MacLeod (CC BY 3.0, \
    https://creativecommons.org/licenses/by/3.0/), its first 30 s";

/// The demo analyzed like a file.
pub fn analysis(style: TableStyle, models: &Models) -> Result<Analysis, String> {
    let (info, samples) = decode_bytes(OGG, Some("ogg")).map_err(|e| e.to_string())?;
    let mut clip = Samples {
        samples: &samples,
        sample_rate: info.sample_rate,
        channels: info.channels,
    };
    let clip_analysis = analyze_clip(&mut clip, style, models)?;
    Ok(Analysis {
        path: PathBuf::from(FILE_NAME),
        frames: (samples.len() / info.channels) as u64,
        info,
        decoder: "symphonia",
        warnings: Vec::new(),
        clip: clip_analysis,
    })
}

//! The player thread: decodes the file, handles pause and seek, and hands blocks to an
//! [`Output`].

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{Output, PlayError, Transport, BLOCK_FRAMES, NO_SEEK};
use crate::decode::{DecodeError, Decoder};

pub(super) fn spawn(
    path: PathBuf,
    decoder: Decoder,
    mut output: impl Output + 'static,
    transport: Arc<Transport>,
) -> Result<(), PlayError> {
    std::thread::Builder::new()
        .name("mirador-player".into())
        .spawn(move || {
            if let Err(e) = run(path, decoder, &mut output, &transport) {
                transport.set_error(e.to_string());
                transport.finished.store(true, Ordering::Relaxed);
            }
        })
        .map_err(DecodeError::Open)?;
    Ok(())
}

fn run(
    path: PathBuf,
    mut decoder: Decoder,
    output: &mut impl Output,
    t: &Transport,
) -> Result<(), DecodeError> {
    let channels = decoder.info().channels;
    let block = BLOCK_FRAMES * channels;
    let mut position = 0u64;
    let mut pending: Vec<f32> = Vec::new();
    while !t.is_stopped() {
        let target = t.seek_to.swap(NO_SEEK, Ordering::Relaxed);
        if target != NO_SEEK {
            decoder = Decoder::open(&path)?;
            pending.clear();
            position = 0;
            // Decode up to the target; the samples before it are skipped, not analyzed.
            while position < target {
                let Some(samples) = decoder.next_block()? else {
                    break;
                };
                let frames = (samples.len() / channels) as u64;
                if position + frames > target {
                    let keep = ((position + frames - target) as usize) * channels;
                    pending.extend_from_slice(&samples[samples.len() - keep..]);
                    position = target;
                } else {
                    position += frames;
                }
            }
            output.restart(position, t);
            t.finished.store(false, Ordering::Relaxed);
            t.seeked.store(true, Ordering::Relaxed);
        }
        if t.is_paused() || t.is_finished() {
            std::thread::sleep(Duration::from_millis(10));
            output.idle(position, t);
            continue;
        }
        if pending.len() < block {
            match decoder.next_block()? {
                Some(samples) => pending.extend_from_slice(samples),
                None if pending.is_empty() => {
                    t.finished.store(true, Ordering::Relaxed);
                    continue;
                }
                None => {}
            }
        }
        let n = block.min(pending.len());
        output.write(&pending[..n], t);
        pending.drain(..n);
        position += (n / channels) as u64;
    }
    Ok(())
}

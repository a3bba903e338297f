//! Frames of a stream: frame `i` is centred on sample `i * hop`, padded before the signal and
//! after it by a [`Centering`] rule, and handed out as soon as its last sample is in. No
//! allocation after [`Framer::new`].

use std::ops::Range;

use crate::config::PadMode;

/// How the signal's ends are padded and how many frames a whole signal gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Centering {
    /// librosa `stft(center=True)`: `len / 2` samples of padding at both ends, zeros or
    /// numpy's reflection; a signal of `n` samples gives `1 + n / hop` frames.
    Librosa(PadMode),
    /// madmom `FramedSignal(origin=0)`: zeros before the signal and after it, until there are
    /// `ceil(n / hop)` frames.
    Madmom,
}

/// One frame, borrowed until the callback returns.
#[derive(Debug, Clone)]
pub struct FrameRef<'a> {
    /// Frame number since the start of the signal.
    pub index: u64,
    pub samples: &'a [f32],
    /// Where in `samples` the signal is (the rest is padding).
    pub signal: Range<usize>,
}

pub struct Framer {
    len: usize,
    hop: usize,
    centering: Centering,
    buffer: Vec<f32>,
    filled: usize,
    /// Reflect padding: the first `len / 2 + 1` samples, held until the mirror can be built.
    head: Vec<f32>,
    started: bool,
    /// The padding after the signal, built at `finish`.
    tail: Vec<f32>,
    samples: u64,
    frames: u64,
    ended: bool,
}

impl Framer {
    pub fn new(len: usize, hop: usize, centering: Centering) -> Self {
        assert!(
            0 < hop && hop <= len,
            "a hop between 1 and the frame length"
        );
        let half = len / 2;
        let mut framer = Self {
            len,
            hop,
            centering,
            buffer: vec![0.0; len],
            filled: 0,
            head: Vec::with_capacity(half + 1),
            started: false,
            tail: vec![0.0; len],
            samples: 0,
            frames: 0,
            ended: false,
        };
        framer.reset();
        framer
    }

    /// Starts a new signal.
    pub fn reset(&mut self) {
        // Frame 0 is centred on sample 0: `len / 2` samples of padding come first.
        self.buffer.fill(0.0);
        self.filled = self.len / 2;
        self.head.clear();
        self.started = self.centering != Centering::Librosa(PadMode::Reflect);
        self.samples = 0;
        self.frames = 0;
        self.ended = false;
    }

    pub fn frame_len(&self) -> usize {
        self.len
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Signal samples pushed so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Adds samples of the signal; ignored after [`Self::finish`] until [`Self::reset`].
    pub fn push(&mut self, mut samples: &[f32], out: &mut impl FnMut(FrameRef<'_>)) {
        if self.ended {
            return;
        }
        self.samples += samples.len() as u64;
        if !self.started {
            let n = (self.head.capacity() - self.head.len()).min(samples.len());
            self.head.extend_from_slice(&samples[..n]);
            samples = &samples[n..];
            if self.head.len() < self.head.capacity() {
                return;
            }
            self.start_reflected(out);
        }
        self.feed(samples, out);
    }

    /// Ends the signal: pads its end and hands out the frames that padding completes.
    pub fn finish(&mut self, out: &mut impl FnMut(FrameRef<'_>)) {
        if self.ended || self.samples == 0 {
            return;
        }
        if !self.started {
            // Shorter than the head: the mirror is built from what there is.
            self.start_reflected(out);
        }
        self.ended = true;
        let mut tail = std::mem::take(&mut self.tail);
        match self.centering {
            Centering::Librosa(pad) => {
                let half = self.len / 2;
                self.fill_tail(pad, &mut tail[..half]);
                self.feed(&tail[..half], out);
            }
            Centering::Madmom => {
                let total = self.samples.div_ceil(self.hop as u64);
                while self.frames < total {
                    let missing = self.len - self.filled;
                    self.feed(&tail[..missing], out);
                }
            }
        }
        self.tail = tail;
    }

    fn fill_tail(&self, pad: PadMode, tail: &mut [f32]) {
        match pad {
            PadMode::Constant => tail.fill(0.0),
            PadMode::Reflect => {
                // The last real samples are still in the buffer (it holds >= len / 2 + 1, or
                // the whole signal when shorter).
                let n = (self.samples as usize).min(self.filled);
                let last = &self.buffer[self.filled - n..self.filled];
                for (j, slot) in tail.iter_mut().enumerate() {
                    *slot = last[reflect_index((n + j) as i64, n)];
                }
            }
        }
    }

    /// Mirrors the held head around sample 0 (numpy "reflect": `x[2] x[1] | x[0] x[1] ...`).
    fn start_reflected(&mut self, out: &mut impl FnMut(FrameRef<'_>)) {
        let half = self.len / 2;
        let n = self.head.len();
        for (j, slot) in self.buffer[..half].iter_mut().enumerate() {
            *slot = self.head[reflect_index(j as i64 - half as i64, n)];
        }
        self.started = true;
        let head = std::mem::take(&mut self.head);
        self.feed(&head, out);
        self.head = head;
    }

    fn feed(&mut self, mut samples: &[f32], out: &mut impl FnMut(FrameRef<'_>)) {
        while !samples.is_empty() {
            let n = (self.len - self.filled).min(samples.len());
            self.buffer[self.filled..self.filled + n].copy_from_slice(&samples[..n]);
            self.filled += n;
            samples = &samples[n..];
            if self.filled == self.len {
                self.emit(out);
            }
        }
    }

    fn emit(&mut self, out: &mut impl FnMut(FrameRef<'_>)) {
        let start = (self.frames * self.hop as u64) as i64 - (self.len / 2) as i64;
        let signal_start = (-start).clamp(0, self.len as i64);
        let signal_end = (self.samples as i64 - start).clamp(signal_start, self.len as i64);
        out(FrameRef {
            index: self.frames,
            samples: &self.buffer,
            signal: signal_start as usize..signal_end as usize,
        });
        self.frames += 1;
        self.buffer.copy_within(self.hop.., 0);
        self.filled = self.len - self.hop;
    }
}

/// numpy "reflect" (no edge repeat) index into a signal of `len` samples.
fn reflect_index(index: i64, len: usize) -> usize {
    if len <= 1 {
        return 0;
    }
    let period = 2 * (len as i64 - 1);
    let i = index.rem_euclid(period);
    (if i >= len as i64 { period - i } else { i }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(centering: Centering, len: usize, hop: usize, signal: &[f32]) -> Vec<Vec<f32>> {
        let mut framer = Framer::new(len, hop, centering);
        let mut got = Vec::new();
        let mut out = |f: FrameRef<'_>| {
            assert_eq!(f.index as usize, got.len());
            got.push(f.samples.to_vec());
        };
        // Odd, changing block sizes.
        let mut rest = signal;
        for size in [1, 3, 2, 5].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let n = (*size).min(rest.len());
            framer.push(&rest[..n], &mut out);
            rest = &rest[n..];
        }
        framer.finish(&mut out);
        got
    }

    /// numpy's `np.pad(x, len // 2, mode)` cut into frames `hop` apart, as librosa does.
    fn librosa_frames(pad: PadMode, len: usize, hop: usize, x: &[f32]) -> Vec<Vec<f32>> {
        let half = len / 2;
        let padded: Vec<f32> = (-(half as i64)..(x.len() + half) as i64)
            .map(|i| match pad {
                PadMode::Constant => usize::try_from(i)
                    .ok()
                    .and_then(|i| x.get(i).copied())
                    .unwrap_or(0.0),
                PadMode::Reflect => x[reflect_index(i, x.len())],
            })
            .collect();
        (0..=(padded.len() - len) / hop)
            .map(|t| padded[t * hop..t * hop + len].to_vec())
            .collect()
    }

    #[test]
    fn librosa_centring_matches_numpy_padding_in_both_modes() {
        let x: Vec<f32> = (1..=23).map(|i| i as f32).collect();
        for pad in [PadMode::Constant, PadMode::Reflect] {
            for (len, hop) in [(8, 2), (8, 3), (6, 6), (4, 1)] {
                let got = frames(Centering::Librosa(pad), len, hop, &x);
                assert_eq!(
                    got,
                    librosa_frames(pad, len, hop, &x),
                    "{pad:?} {len}/{hop}"
                );
                assert_eq!(got.len(), 1 + x.len() / hop);
            }
        }
    }

    #[test]
    fn reflection_of_a_signal_shorter_than_the_head() {
        let x = [1.0, 2.0, 3.0];
        let got = frames(Centering::Librosa(PadMode::Reflect), 8, 2, &x);
        assert_eq!(got, librosa_frames(PadMode::Reflect, 8, 2, &x));
    }

    #[test]
    fn madmom_frames_are_zero_padded_to_ceil_len_over_hop() {
        let x: Vec<f32> = (1..=10).map(|i| i as f32).collect();
        let got = frames(Centering::Madmom, 5, 3, &x);
        assert_eq!(got.len(), 4);
        // Frame i covers samples i * hop - 2 ..= i * hop + 2.
        let expected: Vec<Vec<f32>> = (0..4i64)
            .map(|i| {
                (i * 3 - 2..=i * 3 + 2)
                    .map(|s| {
                        usize::try_from(s)
                            .ok()
                            .and_then(|s| x.get(s))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .collect()
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn signal_range_marks_the_padding() {
        let mut framer = Framer::new(8, 4, Centering::Librosa(PadMode::Constant));
        let mut ranges = Vec::new();
        let mut out = |f: FrameRef<'_>| ranges.push(f.signal.clone());
        framer.push(&[1.0; 10], &mut out);
        framer.finish(&mut out);
        assert_eq!(ranges, [4..8, 0..8, 0..6]);
    }

    #[test]
    fn reset_starts_a_new_signal() {
        let mut framer = Framer::new(4, 2, Centering::Madmom);
        let mut first = Vec::new();
        framer.push(&[1.0, 2.0, 3.0], &mut |f| first.push(f.samples.to_vec()));
        framer.reset();
        let mut again = Vec::new();
        framer.push(&[1.0, 2.0, 3.0], &mut |f| again.push(f.samples.to_vec()));
        assert_eq!(first, again);
        assert_eq!(framer.frames(), 1);
    }
}

//! Reference tracks: the library tracks nearest the last 30 s heard. The worker keeps those
//! seconds; every so often it hands a copy to this listener's own thread, which describes
//! them exactly as `mirador index` describes a file (`mirador_models::clip`, then the
//! library's facets) and searches the catalog. The worker never waits for it: while a
//! comparison runs, the next waits for the thread to be free, and nothing is queued.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mirador_dsp::clip::{Samples, TableStyle};
use mirador_library::{describe, Catalog, Description};
use mirador_models::clip::{analyze_clip, Models};
use mirador_models::SAMPLE_RATE;

use crate::listener::{Heard, Listener};
use crate::snapshot::{Reference, References};

/// Seconds of the newest audio compared with the library.
pub const WINDOW_SECONDS: f64 = 30.0;
/// Seconds heard before the first comparison.
const FIRST_AFTER_SECONDS: f64 = 10.0;
/// Seconds of new audio between comparisons.
pub const EVERY_SECONDS: f64 = 20.0;
/// Tracks listed.
const COUNT: usize = 8;

/// A stretch of audio to compare, with the generation (resets so far) it belongs to.
struct Job {
    samples: Vec<f32>,
    from: f64,
    until: f64,
    generation: u64,
}

pub struct ReferenceListener {
    recent: VecDeque<f32>,
    /// Samples in [`WINDOW_SECONDS`].
    window: usize,
    /// Whether a comparison was handed over since the last reset.
    compared: bool,
    /// Analysis-rate samples since the last comparison began (or the last reset).
    since_job: u64,
    /// Position just after the newest sample.
    end: u64,
    generation: u64,
    jobs: Sender<Job>,
    results: Receiver<(u64, References)>,
    newest: Option<Arc<References>>,
    changed: bool,
}

impl ReferenceListener {
    /// Starts the comparing thread; `models` are those the library was described with
    /// ([`Models::for_library`]).
    pub fn new(catalog: Arc<Catalog>, models: Models) -> std::io::Result<Self> {
        let (jobs, job_rx) = crossbeam_channel::bounded::<Job>(1);
        let (result_tx, results) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name("mirador-references".into())
            .spawn(move || {
                // Ends when the listener (the sender) is dropped.
                for job in job_rx {
                    let found = compare(&job.samples, (job.from, job.until), &catalog, &models);
                    if result_tx.send((job.generation, found)).is_err() {
                        return;
                    }
                }
            })?;
        let window = (WINDOW_SECONDS * SAMPLE_RATE as f64) as usize;
        Ok(Self {
            recent: VecDeque::with_capacity(window),
            window,
            compared: false,
            since_job: 0,
            end: 0,
            generation: 0,
            jobs,
            results,
            newest: None,
            changed: false,
        })
    }

    /// Hands the newest window to the thread when it is time and the thread is free.
    fn maybe_compare(&mut self) {
        let rate = SAMPLE_RATE as f64;
        let wait = if self.compared {
            EVERY_SECONDS
        } else {
            FIRST_AFTER_SECONDS
        };
        let due = self.since_job as f64 >= wait * rate;
        // Busy: tried again on the next block, without copying the window meanwhile.
        if !due || self.jobs.is_full() {
            return;
        }
        let until = self.end as f64 / rate;
        let job = Job {
            samples: self.recent.iter().copied().collect(),
            from: until - self.recent.len() as f64 / rate,
            until,
            generation: self.generation,
        };
        // Full cannot happen (only this thread sends); a thread that is gone is not asked again.
        if let Ok(()) | Err(TrySendError::Disconnected(_)) = self.jobs.try_send(job) {
            self.compared = true;
            self.since_job = 0;
        }
    }
}

/// Describes `samples` (mono, at the analysis rate, heard from `span.0` to `span.1` s) and
/// finds the library tracks nearest them.
pub fn compare(
    samples: &[f32],
    (from, until): (f64, f64),
    catalog: &Catalog,
    models: &Models,
) -> References {
    let mut found = References {
        from,
        until,
        tracks: Vec::new(),
        withheld: None,
    };
    let mut clip = Samples {
        samples,
        sample_rate: SAMPLE_RATE,
        channels: 1,
    };
    let clip = match analyze_clip(&mut clip, TableStyle::Gtzan, models) {
        Ok(clip) => clip,
        Err(e) => {
            found.withheld = Some(format!("cannot describe what was heard: {e}"));
            return found;
        }
    };
    if let Some(why) = clip.not_enough_music {
        found.withheld = Some(why);
        return found;
    }
    let vectors = describe(&Description {
        table: &clip.table,
        network: clip.network_output.as_ref(),
        beats: clip.beats.as_ref(),
    });
    let query = catalog.query(&vectors);
    for hit in catalog.nearest(&query, catalog.all(), COUNT, |_| true) {
        let t = &catalog.tracks[hit.index];
        found.tracks.push(Reference {
            id: t.id,
            path: t.path.clone(),
            title: t.title.clone().unwrap_or_else(|| t.path.clone()),
            artist: t.artist.clone(),
            genre: t.genre.as_ref().map(|g| g.0.clone()),
            tempo_bpm: t.tempo,
            key: t.key.clone(),
            score: hit.score,
            reasons: hit.reasons().iter().map(|f| f.name()).collect(),
        });
    }
    found
}

impl Listener for ReferenceListener {
    fn push(&mut self, block: &[f32], position: u64) {
        for &x in block {
            if self.recent.len() == self.window {
                self.recent.pop_front();
            }
            self.recent.push_back(x);
        }
        let n = block.len() as u64;
        self.since_job += n;
        self.end = position + n;
        self.maybe_compare();
    }

    /// A gap is joined over: the window is a sample of the music, not a timeline.
    fn discontinuity(&mut self, _position: u64) {}

    fn update(&mut self, heard: &mut Heard) {
        while let Ok((generation, found)) = self.results.try_recv() {
            if generation == self.generation {
                self.newest = Some(Arc::new(found));
                self.changed = true;
            }
        }
        if std::mem::take(&mut self.changed) {
            heard.references.clone_from(&self.newest);
        }
    }

    fn reset(&mut self) {
        self.recent.clear();
        self.compared = false;
        self.since_job = 0;
        self.generation += 1;
        self.newest = None;
        self.changed = true;
    }
}

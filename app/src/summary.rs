//! The terminal summary of `mirador analyze`: one aligned line per file with what a listener
//! asks first (genre, mood, tempo and meter, key, loudness, length). The columns are fixed
//! before the first file is done, so each line can be printed as soon as its file is.

/// Column widths: the file names', then fixed ones for the values.
const LENGTH: usize = 7;
const GENRE: usize = 15;
const MOOD: usize = 14;
const TEMPO: usize = 11;
const KEY: usize = 9;
const LOUDNESS: usize = 10;
/// File names longer than this are shortened in the middle.
const MAX_NAME: usize = 40;

/// ANSI styles, or none (not a terminal, or `NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct Colors {
    on: bool,
}

impl Colors {
    pub fn new(on: bool) -> Self {
        Self { on }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What one line shows, already formatted.
pub struct Line<'a> {
    pub name: &'a str,
    pub seconds: f64,
    /// Most probable genre and its probability.
    pub genre: Option<(&'a str, f64)>,
    pub mood: Option<(&'a str, f64)>,
    pub tempo_bpm: Option<f64>,
    pub beats_per_bar: Option<u8>,
    pub key: Option<String>,
    pub lufs: Option<f64>,
    /// Why there are no predictions, or what went wrong while decoding.
    pub note: Option<String>,
}

/// The width of the file column for these names.
pub fn name_width<'a>(names: impl IntoIterator<Item = &'a str>) -> usize {
    names
        .into_iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .clamp("file".len(), MAX_NAME)
}

pub fn header(name_width: usize, colors: Colors) -> String {
    let text = format!(
        "{:<name_width$}  {:>LENGTH$}  {:<GENRE$}  {:<MOOD$}  {:<TEMPO$}  {:<KEY$}  {:>LOUDNESS$}",
        "file", "length", "genre", "mood", "tempo", "key", "loudness"
    );
    colors.paint("1", text.trim_end())
}

pub fn line(l: &Line, name_width: usize, colors: Colors) -> String {
    let missing = |width: usize| colors.paint("2", &format!("{:<width$}", "-"));
    let cell = |value: Option<String>, width: usize| match value {
        Some(v) => format!("{v:<width$}"),
        None => missing(width),
    };
    let percent = |(label, p): (&str, f64)| format!("{label} {:.0}%", 100.0 * p);
    let genre = l.genre.map(|g| {
        let text = format!("{:<GENRE$}", percent(g));
        // An unsure genre is drawn faint: the listener should not take it as the answer.
        if g.1 < 0.5 {
            colors.paint("2", &text)
        } else {
            colors.paint("1", &text)
        }
    });
    let tempo = l.tempo_bpm.map(|bpm| match l.beats_per_bar {
        Some(n) => format!("{bpm:.0} BPM {n}/4"),
        None => format!("{bpm:.0} BPM"),
    });
    let loudness = match l.lufs {
        Some(lufs) => format!("{:>LOUDNESS$}", format!("{lufs:.1} LUFS")),
        None => colors.paint("2", &format!("{:>LOUDNESS$}", "-")),
    };
    let mut text = format!(
        "{:<name_width$}  {:>LENGTH$}  {}  {}  {}  {}  {}",
        shorten(l.name, name_width),
        clock(l.seconds),
        genre.unwrap_or_else(|| missing(GENRE)),
        cell(l.mood.map(percent), MOOD),
        cell(tempo, TEMPO),
        cell(l.key.clone(), KEY),
        loudness,
    );
    if let Some(note) = &l.note {
        text.push_str("  ");
        text.push_str(&colors.paint("33", note));
    }
    text
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `name` in at most `width` characters, shortened in the middle (the start and the
/// extension are what tell files apart).
fn shorten(name: &str, width: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= width {
        return name.to_string();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Line<'static> {
        Line {
            name: "rock.00000.flac",
            seconds: 30.01,
            genre: Some(("rock", 0.6)),
            mood: Some(("Q2 tense", 0.71)),
            tempo_bpm: Some(115.4),
            beats_per_bar: Some(4),
            key: Some("E minor".into()),
            lufs: Some(-14.23),
            note: None,
        }
    }

    #[test]
    fn columns_line_up_with_the_header() {
        let colors = Colors::new(false);
        let width = name_width(["rock.00000.flac", "a.wav"]);
        let header = header(width, colors);
        let line = line(&example(), width, colors);
        assert_eq!(
            line,
            "rock.00000.flac     0:30  rock 60%         Q2 tense 71%    115 BPM 4/4  E minor    -14.2 LUFS"
        );
        for column in ["length", "genre", "mood", "tempo", "key"] {
            let at = header.find(column).unwrap();
            let before = &line[..at];
            assert!(
                before.ends_with("  ") || column == "length",
                "{column} at {at}: {line}"
            );
        }
        assert_eq!(header.len(), line.len(), "{header}\n{line}");
    }

    #[test]
    fn missing_values_and_notes() {
        let colors = Colors::new(false);
        let silent = Line {
            genre: None,
            mood: None,
            tempo_bpm: None,
            beats_per_bar: None,
            key: None,
            lufs: None,
            note: Some("not enough music: silence".into()),
            ..example()
        };
        let text = line(&silent, 15, colors);
        assert!(text.ends_with("-  not enough music: silence"), "{text}");
        assert!(!text.contains('\x1b'));
        assert!(line(&silent, 15, Colors::new(true)).contains("\x1b[2m-"));
    }

    #[test]
    fn long_names_and_long_files() {
        assert_eq!(shorten("abcdefghij.flac", 9), "abcd…flac");
        assert_eq!(shorten("short.wav", 9), "short.wav");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(59.6), "1:00");
        assert_eq!(name_width(["x"]), 4);
    }
}

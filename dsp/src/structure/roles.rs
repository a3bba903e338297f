//! A guess at each section's role from what structure alone can tell: how often its
//! material comes back, where it stands, how long and how loud it is. Pop songs mostly
//! follow a few conventions (the chorus is the part that returns most and loudest, the
//! verse the other part that returns, the intro and outro stand at the ends and do not come
//! back, a bridge comes once late in the song); the confidence says how clearly a section
//! fits its convention. There is no voice detector behind this: "instrumental" is a part
//! that comes back but is neither chorus nor verse.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Intro,
    Verse,
    Chorus,
    Bridge,
    Instrumental,
    Outro,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Intro => "intro",
            Role::Verse => "verse",
            Role::Chorus => "chorus",
            Role::Bridge => "bridge",
            Role::Instrumental => "instrumental",
            Role::Outro => "outro",
        }
    }
}

/// What a role is guessed from: one section.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub start: f64,
    pub end: f64,
    pub label: usize,
    /// Mean loudness in dB.
    pub loudness: f32,
}

/// A role and its confidence (0 to 1) for each part, in order.
pub fn roles(parts: &[Part]) -> Vec<(Role, f32)> {
    let Some(last) = parts.last() else {
        return Vec::new();
    };
    let (song_start, song_end) = (parts[0].start, last.end);
    let song = (song_end - song_start).max(1e-9);
    let kinds = parts.iter().map(|p| p.label + 1).max().unwrap_or(0);
    let count = |label: usize| parts.iter().filter(|p| p.label == label).count();
    let mean_loudness = |label: usize| {
        let (sum, n) = parts
            .iter()
            .filter(|p| p.label == label)
            .fold((0.0, 0), |(s, n), p| (s + p.loudness, n + 1));
        sum / n.max(1) as f32
    };
    let song_loudness = parts.iter().map(|p| p.loudness).sum::<f32>() / parts.len() as f32;
    // Repeated material, the most repeated first, louder first among equals.
    let mut repeated: Vec<usize> = (0..kinds).filter(|&l| count(l) >= 2).collect();
    repeated.sort_by(|&a, &b| {
        count(b)
            .cmp(&count(a))
            .then(mean_loudness(b).total_cmp(&mean_loudness(a)))
    });
    // Of the two most repeated, the louder is the chorus.
    let (chorus, verse) = match repeated[..] {
        [] => (None, None),
        [only] => (Some(only), None),
        [a, b, ..] if mean_loudness(b) > mean_loudness(a) + 1.0 => (Some(b), Some(a)),
        [a, b, ..] => (Some(a), Some(b)),
    };
    let margin = match (chorus, verse) {
        (Some(c), Some(v)) => mean_loudness(c) - mean_loudness(v),
        _ => 0.0,
    };
    let sure = |x: f32| x.clamp(0.05, 0.95);
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let once = count(p.label) == 1;
            let share = ((p.end - p.start) / song) as f32;
            let quieter = song_loudness - p.loudness;
            let at_start = i == 0 && parts.len() > 1;
            let at_end = i == parts.len() - 1 && parts.len() > 1;
            if at_start && (once || share < 0.12) {
                (
                    Role::Intro,
                    sure(0.5 + 0.1 * quieter + if once { 0.2 } else { 0.0 }),
                )
            } else if at_end && (once || share < 0.12) {
                (
                    Role::Outro,
                    sure(0.5 + 0.1 * quieter + if once { 0.2 } else { 0.0 }),
                )
            } else if Some(p.label) == chorus {
                (
                    Role::Chorus,
                    sure(0.45 + 0.1 * margin + 0.05 * count(p.label) as f32),
                )
            } else if Some(p.label) == verse {
                (Role::Verse, sure(0.45 + 0.1 * margin))
            } else if once {
                let late = (p.start - song_start) / song > 0.4;
                if late {
                    (Role::Bridge, sure(0.5))
                } else {
                    (Role::Instrumental, sure(0.3))
                }
            } else {
                (Role::Instrumental, sure(0.35))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(labels: &[usize], loudness: &[f32]) -> Vec<Part> {
        labels
            .iter()
            .zip(loudness)
            .enumerate()
            .map(|(i, (&label, &loudness))| Part {
                start: i as f64 * 20.0,
                end: (i + 1) as f64 * 20.0,
                label,
                loudness,
            })
            .collect()
    }

    #[test]
    fn a_pop_form_gets_its_conventional_roles() {
        // intro verse chorus verse chorus bridge chorus outro
        let p = parts(
            &[0, 1, 2, 1, 2, 3, 2, 4],
            &[-24.0, -18.0, -12.0, -18.0, -12.0, -16.0, -12.0, -26.0],
        );
        let r: Vec<Role> = roles(&p).into_iter().map(|r| r.0).collect();
        use Role::*;
        assert_eq!(
            r,
            [Intro, Verse, Chorus, Verse, Chorus, Bridge, Chorus, Outro]
        );
    }

    #[test]
    fn one_part_and_none_are_fine() {
        assert!(roles(&[]).is_empty());
        let r = roles(&parts(&[0], &[-20.0]));
        assert_eq!(r.len(), 1);
        assert!((0.0..=1.0).contains(&r[0].1));
    }
}

//! Files people have decode completely: a real GTZAN recording converted by ffmpeg
//! (`scripts/setup.sh` installs it) into the formats and faults real collections hold, each
//! analyzed to its full length with the decoder named, and damage reported as a warning with
//! where it is rather than failing the file.

use std::path::Path;
use std::process::Command;

use mirador_tests::{data_dir, temp_dir};

fn ffmpeg(args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg {args:?}");
}

/// A copy of `from` with its bytes edited.
fn damage(from: &Path, to: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(from).unwrap();
    edit(&mut bytes);
    std::fs::write(to, bytes).unwrap();
}

#[test]
fn formats_and_damaged_files_decode_to_their_full_length() {
    let tmp = temp_dir("decode");
    let dir = tmp.path();
    let source = data_dir().join("gtzan/full/rock.00000.flac");
    let src = source.to_str().unwrap();
    let at = |name: &str| dir.join(name);
    // A 2.5 MB cover image of noise, embedded as ID3v2 APIC.
    let noise = "nullsrc=s=1024x1024,geq=random(1)*255:random(2)*255:random(3)*255";
    ffmpeg(
        &["-f", "lavfi", "-i", noise, "-frames:v", "1"],
        &at("noise.png"),
    );
    let cover = at("noise.png");
    let cover = cover.to_str().unwrap();
    let plain: &[(&str, &[&str])] = &[
        ("opus.opus", &["-c:a", "libopus"]),
        ("alac.m4a", &["-c:a", "alac"]),
        ("adts.aac", &["-c:a", "aac"]),
        ("aiff.aiff", &[]),
        ("rf64.wav", &["-rf64", "always"]),
        ("w64.w64", &[]),
        (
            "vbr-no-xing.mp3",
            &["-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0"],
        ),
        ("plain.mp3", &[]),
    ];
    for (name, args) in plain {
        let mut all = vec!["-i", src];
        all.extend_from_slice(args);
        ffmpeg(&all, &at(name));
    }
    ffmpeg(
        &[
            "-i",
            src,
            "-i",
            cover,
            "-map",
            "0",
            "-map",
            "1",
            "-c:v",
            "copy",
            "-id3v2_version",
            "3",
        ],
        &at("cover.mp3"),
    );
    // A WAV written to a pipe: its RIFF and data sizes are placeholders.
    let piped = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i", src, "-f", "wav", "-"])
        .output()
        .unwrap();
    std::fs::write(at("piped.wav"), &piped.stdout).unwrap();
    // The same with the RIFF and data sizes other writers leave: 0 and 0x7FFFFFFF.
    let data = piped.stdout.windows(4).position(|w| w == b"data").unwrap();
    for (name, size) in [("piped-zero.wav", 0u32), ("piped-7fff.wav", 0x7FFF_FFFF)] {
        damage(&at("piped.wav"), &at(name), |b| {
            b[4..8].copy_from_slice(&size.to_le_bytes());
            b[data + 4..data + 8].copy_from_slice(&size.to_le_bytes());
        });
    }
    // Two Ogg streams one after the other (10 s each).
    ffmpeg(&["-i", src, "-t", "10"], &at("a.ogg"));
    ffmpeg(&["-ss", "10", "-i", src, "-t", "10"], &at("b.ogg"));
    let mut chained = std::fs::read(at("a.ogg")).unwrap();
    chained.extend(std::fs::read(at("b.ogg")).unwrap());
    std::fs::write(at("chained.ogg"), chained).unwrap();
    std::fs::remove_file(at("a.ogg")).unwrap();
    std::fs::remove_file(at("b.ogg")).unwrap();
    // 2000 zeroed bytes in the middle of a FLAC; 50 kB of junk after an MP3's last frame.
    damage(&source, &at("damaged.flac"), |b| {
        let mid = b.len() / 2;
        b[mid..mid + 2000].fill(0);
    });
    damage(&at("plain.mp3"), &at("junk-after.mp3"), |b| {
        // xorshift noise: what a broken download or a concatenation leaves.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        b.extend((0..50_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        }));
    });
    std::fs::remove_file(cover).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args(["analyze", "--format", "json", "--no-beats"])
        .arg(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let files: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|f| f["filename"] == name)
            .unwrap_or_else(|| panic!("{name} not analyzed: {err}"))
    };
    let warnings = |f: &serde_json::Value| -> Vec<String> {
        f["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    };
    let full = 30.013;
    for (name, seconds, decoder) in [
        ("opus.opus", full, "ffmpeg"),
        ("alac.m4a", full, "symphonia"),
        ("adts.aac", full, "symphonia"),
        ("aiff.aiff", full, "symphonia"),
        ("rf64.wav", full, "ffmpeg"),
        ("w64.w64", full, "ffmpeg"),
        ("piped.wav", full, "symphonia"),
        ("cover.mp3", full, "symphonia"),
        ("plain.mp3", full, "symphonia"),
        ("vbr-no-xing.mp3", full, "symphonia+ffmpeg"),
        ("chained.ogg", 20.0, "symphonia+ffmpeg"),
        ("damaged.flac", full, "symphonia"),
        ("junk-after.mp3", full, "symphonia"),
    ] {
        let f = file(name);
        let got = f["duration_seconds"].as_f64().unwrap();
        // Lossy codecs add up to a frame of padding.
        assert!(
            (got - seconds).abs() < 0.1,
            "{name}: {got} s, not {seconds}: {f}"
        );
        assert_eq!(f["decoder"], decoder, "{name}");
        assert!(f["genre"].is_null() || f["genre"].is_object());
    }
    for name in [
        "opus.opus",
        "alac.m4a",
        "aiff.aiff",
        "piped.wav",
        "cover.mp3",
        "plain.mp3",
    ] {
        assert!(
            warnings(file(name)).is_empty(),
            "{name}: {:?}",
            warnings(file(name))
        );
    }
    let damaged = warnings(file("damaged.flac"));
    assert!(
        damaged
            .iter()
            .any(|w| w.starts_with("skipped damaged audio at 1")),
        "the time range of the damage: {damaged:?}"
    );
    let junk = warnings(file("junk-after.mp3"));
    assert!(
        junk.iter()
            .any(|w| w.starts_with("ignored what follows the audio at 30.01 s")),
        "{junk:?}"
    );
    let vbr = warnings(file("vbr-no-xing.mp3"));
    assert!(
        vbr.iter().any(|w| w.contains("declares no length")),
        "{vbr:?}"
    );
    // Each warning is also a line on the terminal, with its file.
    assert!(
        err.contains("damaged.flac: warning: skipped damaged audio"),
        "{err}"
    );
}

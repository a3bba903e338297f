//! `mirador analyze` as a user runs it: formats, channel counts and sample rates, bad files
//! (each named on one stderr line while the rest are still analyzed; a truncated one is
//! analyzed as far as it goes, with a warning), exit codes, output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mirador_tests::temp_dir;

fn mirador(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args(args)
        .output()
        .expect("run mirador")
}

/// A chord pulsing twice a second, `seconds` long. Band-limited (smooth envelope), so it is
/// the same music at every sample rate.
fn music(rate: u32, seconds: f32) -> Vec<f32> {
    (0..(rate as f32 * seconds) as usize)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let chord: f32 = [220.0f32, 277.18, 329.63]
                .iter()
                .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
                .sum();
            let pulse = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * 2.0 * t).cos();
            0.2 * chord * (0.2 + 0.8 * pulse)
        })
        .collect()
}

fn write_wav(path: &Path, rate: u32, channels: u16, float: bool, seconds: f32) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: if float { 32 } else { 16 },
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for x in music(rate, seconds) {
        for _ in 0..channels {
            if float {
                writer.write_sample(x).unwrap();
            } else {
                writer.write_sample((x * 32767.0) as i16).unwrap();
            }
        }
    }
    writer.finalize().unwrap();
}

/// The `filename` column of a CSV output, header left out.
fn csv_filenames(csv: &str) -> Vec<&str> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_files(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .expect("valid JSON")
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn csv_has_exactly_the_gtzan_columns() {
    let tmp = temp_dir("cli-columns");
    let dir = tmp.path();
    write_wav(&dir.join("a.wav"), 22050, 1, false, 3.0);
    let out = mirador(&["analyze", "--features-only", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let gtzan = "filename,length,chroma_stft_mean,chroma_stft_var,rms_mean,rms_var,\
spectral_centroid_mean,spectral_centroid_var,spectral_bandwidth_mean,spectral_bandwidth_var,\
rolloff_mean,rolloff_var,zero_crossing_rate_mean,zero_crossing_rate_var,harmony_mean,\
harmony_var,perceptr_mean,perceptr_var,tempo";
    let mfccs: String = (1..=20)
        .map(|i| format!(",mfcc{i}_mean,mfcc{i}_var"))
        .collect();
    assert_eq!(header, format!("{gtzan}{mfccs}"));
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[0], "a.wav");
    assert_eq!(row[1], "66150");
    assert!(row[2..]
        .iter()
        .all(|v| v.parse::<f64>().unwrap().is_finite()));
}

#[test]
fn channels_rates_and_formats_all_analyze_alike() {
    let tmp = temp_dir("cli-formats");
    let dir = tmp.path();
    // Float files carry the same music at every rate; 16-bit ones add rate-dependent noise.
    write_wav(&dir.join("mono22.wav"), 22050, 1, true, 4.0);
    write_wav(&dir.join("stereo44.wav"), 44100, 2, true, 4.0);
    write_wav(&dir.join("int48.wav"), 48000, 1, false, 4.0);
    write_wav(&dir.join("six96.wav"), 96000, 6, true, 4.0);
    write_wav(&dir.join("phone8.wav"), 8000, 1, false, 4.0);
    let out = mirador(&["analyze", "--format", "json", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = json_files(&out);
    assert_eq!(files.len(), 5);
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["filename"] == name)
            .unwrap()
            .clone()
    };
    let six = by_name("six96.wav");
    assert_eq!(six["channels"], 6);
    assert_eq!(six["sample_rate"], 96000);
    assert_eq!(six["codec"], "pcm_f32le");
    assert!((six["duration_seconds"].as_f64().unwrap() - 4.0).abs() < 1e-9);
    assert_eq!(by_name("int48.wav")["codec"], "pcm_s16le");

    // The same music at other rates and channel counts: same table within resampling error.
    let reference = by_name("mono22.wav")["features"].clone();
    for name in ["stereo44.wav", "six96.wav"] {
        let features = by_name(name)["features"].clone();
        for column in [
            "rms_mean",
            "spectral_centroid_mean",
            "chroma_stft_mean",
            "mfcc1_mean",
            "mfcc2_mean",
        ] {
            let (got, want) = (
                features[column].as_f64().unwrap(),
                reference[column].as_f64().unwrap(),
            );
            assert!(
                (got - want).abs() <= 1e-2 * want.abs(),
                "{name} {column}: {got} vs {want}"
            );
        }
        assert_eq!(features["length"], reference["length"], "{name}");
    }
    // 8 kHz holds nothing above 4 kHz, but it analyzes, at the same length.
    assert_eq!(
        by_name("phone8.wav")["features"]["length"],
        reference["length"]
    );
}

#[test]
fn bad_files_are_named_and_the_rest_still_analyzed() {
    let tmp = temp_dir("cli-bad");
    let dir = tmp.path();
    write_wav(&dir.join("good.wav"), 44100, 2, false, 2.0);
    std::fs::write(dir.join("empty.wav"), b"").unwrap();
    std::fs::write(
        dir.join("noise.mp3"),
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    // A WAV header promising 2 s, cut after 0.5 s.
    write_wav(&dir.join("full.wav"), 22050, 1, false, 2.0);
    let bytes = std::fs::read(dir.join("full.wav")).unwrap();
    std::fs::write(dir.join("truncated.wav"), &bytes[..44 + 22050]).unwrap();
    std::fs::remove_file(dir.join("full.wav")).unwrap();
    // A valid header with no samples.
    write_wav(&dir.join("silent-header.wav"), 22050, 1, false, 0.0);
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not audio").unwrap();
    let missing = dir.join("missing.flac");

    let out = mirador(&[
        "analyze",
        dir.to_str().unwrap(),
        text.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code says some files failed"
    );
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    for (name, reason) in [
        ("empty.wav", "unknown or unsupported format"),
        ("noise.mp3", ""),
        // Analyzed: what is there, with a warning.
        (
            "truncated.wav",
            "warning: truncated? decoded 0.50 s, the container declares 2.00 s",
        ),
        ("silent-header.wav", "no audio samples"),
        ("notes.txt", "unknown or unsupported format"),
        ("missing.flac", "No such file"),
    ] {
        let matching: Vec<_> = lines.iter().filter(|l| l.contains(name)).collect();
        assert_eq!(matching.len(), 1, "one line for {name} in:\n{err}");
        assert!(matching[0].contains(reason), "{name}: {}", matching[0]);
    }
    assert!(err.contains("5 of 7 files failed"), "{err}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let names = csv_filenames(&csv);
    assert_eq!(names, ["good.wav", "truncated.wav"], "{csv}");
}

#[test]
fn output_file_and_usage_errors() {
    let tmp = temp_dir("cli-output");
    let dir = tmp.path();
    write_wav(&dir.join("a.wav"), 22050, 1, false, 1.0);
    let target = dir.join("table.csv");
    let out = mirador(&[
        "analyze",
        "-o",
        target.to_str().unwrap(),
        dir.join("a.wav").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&target).unwrap().lines().count(), 2);

    let out = mirador(&[
        "analyze",
        "-o",
        "/nonexistent-dir/x.csv",
        dir.join("a.wav").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot create"));
    assert_eq!(
        mirador(&["analyze"]).status.code(),
        Some(2),
        "no paths is a usage error"
    );
}

#[test]
fn folders_links_streams_and_outputs_are_handled_safely() {
    let tmp = temp_dir("cli-paths");
    let dir = tmp.path();
    let music = dir.join("music");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(music.join(sub)).unwrap();
        write_wav(&music.join(sub).join("song.wav"), 22050, 1, false, 1.0);
    }
    // A dangling link and a loop back to the folder, listed before the songs.
    std::os::unix::fs::symlink(dir.join("gone.wav"), music.join("0-dangling.wav")).unwrap();
    std::os::unix::fs::symlink(&music, music.join("0-loop")).unwrap();
    let out = mirador(&["analyze", music.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("0-dangling.wav"), "{err}");
    assert!(err.contains("symlink loop"), "{err}");
    assert!(err.contains("2 of 4 files failed"), "{err}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let names = csv_filenames(&csv);
    // Both songs analyzed, told apart by their paths.
    let expected: Vec<String> = ["a", "b"]
        .iter()
        .map(|s| music.join(s).join("song.wav").display().to_string())
        .collect();
    assert_eq!(names, expected, "{csv}");

    // A folder of other files says so.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "x").unwrap();
    let out = mirador(&["analyze", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no audio files here (1 other files"),
        "{}",
        stderr(&out)
    );

    // A FIFO and `-` are refused at once instead of waiting for a stream.
    let fifo = dir.join("stream.wav");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for input in [fifo.to_str().unwrap(), "-"] {
        let out = mirador(&["analyze", input]);
        assert_eq!(out.status.code(), Some(1), "{input}");
        assert!(
            stderr(&out).contains("regular file"),
            "{input}: {}",
            stderr(&out)
        );
    }

    // `-o` naming an input, or an audio file in an input folder, is refused before anything
    // is written; the audio stays as it was.
    let song = music.join("a").join("song.wav");
    let before = std::fs::read(&song).unwrap();
    for input in [&song, &music] {
        let out = mirador(&[
            "analyze",
            "-o",
            song.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("one of the inputs"),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::read(&song).unwrap(), before);
    }

    // Far more jobs than files start no more workers than there are files.
    let out = mirador(&["analyze", "--jobs", "100000", song.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn silence_and_clips_shorter_than_a_patch_get_no_prediction() {
    let tmp = temp_dir("cli-abstain");
    let dir = tmp.path();
    write_wav(&dir.join("music.wav"), 22050, 1, false, 4.0);
    write_wav(&dir.join("short.wav"), 22050, 1, false, 0.1);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(dir.join("silence.wav"), spec).unwrap();
    for _ in 0..22050 * 10 {
        writer.write_sample(0i16).unwrap();
    }
    writer.finalize().unwrap();
    let out = mirador(&[
        "analyze",
        "--format",
        "json",
        "--model",
        "cnn",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = json_files(&out);
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["filename"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    for (name, reason) in [
        ("silence.wav", "silence"),
        ("short.wav", "shorter than one"),
    ] {
        let f = by_name(name);
        let why = f["not_enough_music"].as_str().unwrap_or_default();
        assert!(why.contains(reason), "{name}: {f}");
        for field in ["genre", "mood", "tags", "key", "rhythm"] {
            assert!(f[field].is_null(), "{name}: {field} in {f}");
        }
        // The song map still says something sensible: one section (and no chord in
        // silence; the short clip is a tone).
        let sections = f["sections"].as_array().expect("sections");
        assert_eq!(sections.len(), 1, "{name}: {f}");
        assert_eq!(sections[0]["start"], 0.0, "{name}");
        assert_eq!(sections[0]["label"], "A", "{name}");
        assert!(sections[0]["end"].as_f64().unwrap() > 0.0, "{name}");
        let chords = f["chords"].as_array().expect("chords");
        assert!(
            name != "silence.wav" || chords.iter().all(|c| c["label"] == "N"),
            "{name}: {chords:?}"
        );
    }
    let music = by_name("music.wav");
    assert!(music["not_enough_music"].is_null(), "{music}");
    assert!(music["genre"]["label"].is_string(), "{music}");
}

#[test]
fn rows_are_written_as_files_finish_and_ctrl_c_keeps_them() {
    let tmp = temp_dir("cli-streaming");
    let dir = tmp.path();
    for i in 0..12 {
        write_wav(&dir.join(format!("{i:02}.wav")), 22050, 1, false, 20.0);
    }
    for (format, out_name) in [
        ("jsonl", "out.jsonl"),
        ("json", "out.json"),
        ("csv", "out.csv"),
    ] {
        let out_path = dir.join(out_name);
        let child = Command::new(env!("CARGO_BIN_EXE_mirador"))
            .args(["analyze", "--jobs", "1", "--format", format, "-o"])
            .arg(&out_path)
            .arg(dir)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Interrupt once the first file is in the output.
        let started = std::time::Instant::now();
        let has_a_file = |text: &str| match format {
            "csv" => text.lines().count() >= 2,
            "json" => text.contains("\n}"),
            _ => text.lines().count() >= 1,
        };
        while !has_a_file(&std::fs::read_to_string(&out_path).unwrap_or_default()) {
            assert!(started.elapsed().as_secs() < 60, "{format}: no output");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(130), "{format}: {err}");
        let text = std::fs::read_to_string(&out_path).unwrap();
        let done = match format {
            "jsonl" => {
                for line in text.lines() {
                    serde_json::from_str::<serde_json::Value>(line).expect("a JSON line");
                }
                text.lines().count()
            }
            "json" => serde_json::from_str::<Vec<serde_json::Value>>(&text)
                .expect("a closed JSON array")
                .len(),
            _ => text.lines().count() - 1,
        };
        assert!((1..12).contains(&done), "{format}: {done} files written");
        assert!(
            err.contains(&format!("interrupted: {done} of 12 files written")),
            "{format}: {err}"
        );
    }
}

#[test]
fn demo_is_the_bundled_recording_analyzed_like_a_file() {
    let out = mirador(&["analyze", "--demo", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Kevin MacLeod (CC BY 3.0"),
        "{}",
        stderr(&out)
    );
    let demo = &json_files(&out)[0];
    // The same recording as a file on disk gives the same answers.
    let tmp = temp_dir("cli-demo");
    let dir = tmp.path();
    let file = dir.join("demo.ogg");
    std::fs::write(&file, std::fs::read("assets/demo.ogg").unwrap()).unwrap();
    let out = mirador(&["analyze", "--format", "json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let on_disk = &json_files(&out)[0];
    for field in [
        "features",
        "genre",
        "mood",
        "key",
        "loudness",
        "rhythm",
        "duration_seconds",
    ] {
        assert_eq!(demo[field], on_disk[field], "{field}");
    }
    assert!((demo["duration_seconds"].as_f64().unwrap() - 30.0).abs() < 0.1);
    // What a terminal shows (the same summary when asked for in a pipe): a header and one
    // aligned line, no colours outside a terminal.
    let out = mirador(&["analyze", "--demo", "--format", "summary"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("file") && lines[0].ends_with("loudness"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("vibe-ace-demo.ogg") && lines[1].ends_with("LUFS"),
        "{text}"
    );
    assert!(
        lines[1].contains(" BPM ") && !text.contains('\x1b'),
        "{text}"
    );
    assert_eq!(lines[0].len(), lines[1].len(), "{text}");
}

#[test]
fn a_terminal_gets_the_summary_in_colour_unless_no_color() {
    // `script` runs mirador on a pseudo-terminal, as a user's shell would.
    let on_terminal = |no_color: &str| {
        let command = format!(
            "{} analyze --demo --no-beats",
            env!("CARGO_BIN_EXE_mirador")
        );
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("NO_COLOR", no_color)
            .output()
            .expect("run script (util-linux)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_terminal("");
    assert!(coloured.contains("\x1b[1mfile"), "{coloured}");
    assert!(coloured.contains("vibe-ace-demo.ogg"), "{coloured}");
    let plain = on_terminal("1");
    assert!(
        !plain.contains('\x1b') && plain.contains("vibe-ace-demo.ogg"),
        "{plain}"
    );
    // Piped, the default stays CSV with GTZAN's columns and a label.
    let out = mirador(&["analyze", "--demo", "--no-beats"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("filename,length,"), "{csv}");
    assert!(csv.lines().next().unwrap().ends_with(",label"), "{csv}");
    let out = mirador(&["analyze", "--demo", "--features-only"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines().next().unwrap().ends_with(",mfcc20_var"),
        "{csv}"
    );
}

#[test]
fn completions_and_manual_pages_follow_the_options() {
    let out = mirador(&["completions", "bash"]);
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("--features-only") && script.contains("analyze"));
    let tmp = temp_dir("cli-man");
    let dir = tmp.path();
    let out = mirador(&["man", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dir.join("mirador-analyze.1")).unwrap();
    assert!(page.contains(".TH mirador-analyze"), "{page}");
    assert!(page.contains("features\\-only"), "{page}");
    let out = mirador(&["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("mirador "));
}

/// 30 s of a C-major chord under a 120 BPM kick with off-beat hi-hats (what `--demo` used
/// to synthesize), mono at 22.05 kHz.
fn write_kick_pattern(path: &Path) {
    use std::f32::consts::PI;
    let (rate, beat) = (22050u32, 0.5f32);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let mut noise_state = 0x1234_5678u32;
    for i in 0..rate * 30 {
        let t = i as f32 / rate as f32;
        let chord: f32 = [261.63f32, 329.63, 392.0]
            .iter()
            .flat_map(|f| [(1.0, *f), (0.4, 2.0 * f), (0.2, 3.0 * f)])
            .map(|(a, f)| a * (2.0 * PI * f * t).sin())
            .sum();
        let since_beat = t % beat;
        let kick = (-since_beat * 25.0).exp()
            * (2.0 * PI * (60.0 + 80.0 * (-since_beat * 40.0).exp()) * since_beat).sin();
        noise_state ^= noise_state << 13;
        noise_state ^= noise_state >> 17;
        noise_state ^= noise_state << 5;
        let noise = noise_state as f32 / u32::MAX as f32 * 2.0 - 1.0;
        let hat = (-((t + beat / 2.0) % beat) * 120.0).exp() * noise;
        writer
            .write_sample(0.08 * chord + 0.5 * kick + 0.15 * hat)
            .unwrap();
    }
    writer.finalize().unwrap();
}

#[test]
fn a_120_bpm_pattern_reads_as_120_bpm() {
    let tmp = temp_dir("cli-kick");
    let dir = tmp.path();
    let file = dir.join("kick-120.wav");
    write_kick_pattern(&file);
    let out = mirador(&["analyze", "--format", "json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let analysis = &json_files(&out)[0];
    let tempo = analysis["features"]["tempo"].as_f64().unwrap();
    assert!(
        (tempo - 120.0).abs() < 3.0,
        "a 120 BPM pattern, read {tempo}"
    );
    // BeatNet tracks it too, streaming: beats half a second apart once it has locked on.
    let rhythm = &analysis["rhythm"];
    let bpm = rhythm["tempo_bpm"].as_f64().expect("a tempo");
    assert!((bpm - 120.0).abs() < 5.0, "{rhythm}");
    let beats: Vec<f64> = rhythm["beats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    let late: Vec<f64> = beats
        .windows(2)
        .filter(|w| w[0] > 10.0)
        .map(|w| w[1] - w[0])
        .collect();
    assert!(late.len() > 30, "{rhythm}");
    assert!(late.iter().all(|d| (d - 0.5).abs() < 0.05), "{rhythm}");
    assert!(
        !rhythm["downbeats"].as_array().unwrap().is_empty(),
        "{rhythm}"
    );
}

/// Decoding streams packet by packet: a 100 MB file is analyzed in far less memory.
#[test]
fn memory_stays_flat_for_a_large_file() {
    let tmp = temp_dir("cli-large");
    let dir = tmp.path();
    let path = dir.join("long.wav");
    // 9.5 minutes of 44.1 kHz stereo 16-bit: 100 MB.
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    let second = music(44100, 1.0);
    for _ in 0..570 {
        for &x in &second {
            let s = (x * 32767.0) as i16;
            writer.write_sample(s).unwrap();
            writer.write_sample(s).unwrap();
        }
    }
    writer.finalize().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 100_000_000);

    let big = peak_memory_mib(&path);
    std::fs::remove_file(&path).unwrap();
    // The same analysis (models included) of 10 s: what the file's length adds.
    let short = dir.join("short.wav");
    write_wav(&short, 44100, 2, false, 10.0);
    let small = peak_memory_mib(&short);
    // About 40 MiB whatever the length (19 of them BeatNet's optimized graph in tract). What
    // grows is whole-file decoding's per-frame records, at most 24 MiB an hour (README):
    // under 4 MiB for these 9.5 minutes, and the allocator's peak wanders by a few MiB from
    // run to run (8.2 MiB apart has been seen with nothing changed).
    let size_mib = size as f64 / (1024.0 * 1024.0);
    assert!(
        big < 0.6 * size_mib,
        "peak {big} MiB for a {size_mib:.0} MiB file"
    );
    let allowed = 24.0 * 570.0 / 3600.0 + 6.0;
    assert!(
        big - small < allowed,
        "peak {big} MiB against {small} MiB for 10 s"
    );
}

fn peak_memory_mib(path: &Path) -> f64 {
    let out = mirador(&["analyze", "--stats", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    println!("{err}");
    err.split("peak memory ")
        .nth(1)
        .and_then(|rest| rest.split(" MiB").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {err}"))
}

#[test]
fn sound_device_errors_are_clear() {
    // Lists whatever the machine has (CI machines: ALSA's null device, or none).
    let out = mirador(&["live", "--list-devices"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("input devices") && listing.contains("output devices"),
        "{listing}"
    );

    let tmp = temp_dir("cli-devices");
    let dir = tmp.path();
    let wav = dir.join("music.wav");
    write_wav(&wav, 44_100, 2, false, 1.0);
    let out = mirador(&[
        "play",
        "--device",
        "no-such-device-xyz",
        wav.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no output device named \"no-such-device-xyz\"") && err.contains("--no-audio"),
        "{err}"
    );
    // One line that names the problem and the way out, without alsa-lib's own chatter.
    let out = mirador(&["live", "--device", "no-such-device-xyz"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no input device named") && err.contains("--list-devices"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = mirador(&["live", "--list-devices"]);
    assert!(!stderr(&out).contains("ALSA lib"), "{}", stderr(&out));
    // The default input: where the machine has none that records (CI), the same one line.
    let out = mirador(&["live", "--exit-after", "1"]);
    let err = stderr(&out);
    if err.contains("sound device") {
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--list-devices"), "{err}");
    }
    let out = mirador(&["play", "--no-audio", "--device", "x", wav.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--device conflicts with --no-audio"
    );
}

#[test]
fn play_and_live_options_are_checked_before_anything_starts() {
    let tmp = temp_dir("cli-play-options");
    let dir = tmp.path();
    let wav = dir.join("music.wav");
    write_wav(&wav, 22_050, 1, false, 1.0);
    for bad in ["nan", "-1", "0", "inf", "1e12"] {
        let exit_after = format!("--exit-after={bad}");
        let out = mirador(&["play", "--no-audio", &exit_after, wav.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{exit_after}");
        assert!(stderr(&out).contains("--exit-after"), "{}", stderr(&out));
    }
    let unwritable = "/nonexistent-dir/report.json";
    for args in [
        vec![
            "play",
            "--no-audio",
            "--report",
            unwritable,
            wav.to_str().unwrap(),
        ],
        vec!["live", "--report", unwritable],
    ] {
        let out = mirador(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("--report /nonexistent-dir/report.json"),
            "{err}"
        );
    }
    let out = mirador(&["play", "--no-audio", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a folder"), "{}", stderr(&out));
    // An OSC target that names no address is refused before any window opens.
    for target in ["nowhere.invalid:9000", "127.0.0.1", "300.1.1.1:5"] {
        let osc = format!("--osc={target}");
        let out = mirador(&["play", "--no-audio", &osc, wav.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{target}");
        let err = stderr(&out);
        assert!(err.contains("--osc") && err.contains("HOST:PORT"), "{err}");
    }
    // MIDI beat notes are two note numbers, and only with --midi-out.
    for (args, says) in [
        (
            vec!["--midi-out", "--midi-beat-notes", "42"],
            "BEAT,DOWNBEAT",
        ),
        (
            vec!["--midi-out", "--midi-beat-notes", "42,200"],
            "0 to 127",
        ),
        (vec!["--midi-beat-notes", "42,36"], "--midi-out"),
        (vec!["--midi-out", "--midi-channel", "17"], "--midi-channel"),
    ] {
        let mut all = vec!["play", "--no-audio"];
        all.extend(&args);
        all.push(wav.to_str().unwrap());
        let out = mirador(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // The MIDI ports are listed, or the missing MIDI system named (here, without an ALSA
    // sequencer).
    let out = mirador(&["live", "--list-midi"]);
    let err = stderr(&out);
    assert!(
        out.status.success() || err.contains("no MIDI system"),
        "{err}"
    );
}

#[test]
fn every_classic_model_predicts_a_genre() {
    for model in ["knn", "logreg", "svm", "nn", "xgb"] {
        let out = mirador(&["analyze", "--demo", "--format", "json", "--model", model]);
        assert!(out.status.success(), "{}", stderr(&out));
        let genre = &json_files(&out)[0]["genre"];
        assert_eq!(genre["model"], model);
        let probabilities = genre["probabilities"].as_object().unwrap();
        assert_eq!(probabilities.len(), 10);
        let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{genre}");
        let label = genre["label"].as_str().unwrap();
        let top = probabilities
            .iter()
            .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
            .unwrap()
            .0;
        assert_eq!(label, top);
    }
    let out = mirador(&["analyze", "--demo", "--model", "xgb"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines().next().unwrap().ends_with(",mfcc20_var,label"),
        "{csv}"
    );
    let out = mirador(&["analyze", "--demo", "--model", "forest"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn patch_networks_predict_genre_mood_and_tags() {
    for model in ["cnn", "musicnn"] {
        patch_network_predicts_genre_mood_and_tags(model);
    }
}

fn patch_network_predicts_genre_mood_and_tags(model: &str) {
    let out = mirador(&["analyze", "--demo", "--format", "json", "--model", model]);
    assert!(out.status.success(), "{}", stderr(&out));
    let demo = &json_files(&out)[0];
    let genre = &demo["genre"];
    assert_eq!(genre["model"], model);
    let sum: f64 = genre["probabilities"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-6, "{genre}");
    let mood = &demo["mood"];
    assert!(
        mood["quadrant"].as_str().unwrap().starts_with('Q'),
        "{mood}"
    );
    for axis in ["valence", "arousal"] {
        let v = mood[axis].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&v), "{mood}");
    }
    assert_eq!(demo["tags"].as_array().unwrap().len(), 5);
}

#[test]
fn explain_draws_the_map_and_names_what_the_prediction_rests_on() {
    let tmp = temp_dir("cli-explain");
    let dir = tmp.path();
    let pictures = dir.join("pictures");
    let out = mirador(&[
        "analyze",
        "--demo",
        "--format",
        "json",
        "--explain",
        "--explain-dir",
        pictures.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let demo = &json_files(&out)[0];
    let e = &demo["explanation"];
    let seconds = demo["duration_seconds"].as_f64().unwrap();
    assert_eq!(e["bands_hz"].as_array().unwrap().len(), 8);
    for (head, said) in [
        ("genre", &demo["genre"]["label"]),
        ("mood", &demo["mood"]["quadrant"]),
    ] {
        let map = &e[head];
        assert_eq!(&map["class"], said, "{map}");
        let cells = map["cells"].as_array().unwrap();
        // Six 0.5 s cells per 3 s patch, each with eight bands.
        assert_eq!(cells.len(), 6 * (seconds / 2.992).floor() as usize);
        assert!(cells
            .iter()
            .all(|c| c["saliency"].as_array().unwrap().len() == 8));
        let (start, end) = (
            map["evidence"]["start"].as_f64().unwrap(),
            map["evidence"]["end"].as_f64().unwrap(),
        );
        assert!(0.0 <= start && start < end && end <= seconds, "{map}");
    }
    // The picture: two panels of 96 mel bands, one column per mel frame up to 1600.
    let picture = PathBuf::from(e["picture"].as_str().unwrap());
    assert_eq!(picture, pictures.join("vibe-ace-demo.ogg.explain.png"));
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&picture).unwrap(),
    ));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (1600, 404));

    // The summary says where the evidence is and where the picture went.
    let out = mirador(&[
        "analyze",
        "--demo",
        "--format",
        "summary",
        "--explain",
        "--explain-dir",
        pictures.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("why: ") && text.contains(" most from 0:"),
        "{text}"
    );

    // Only the patch networks can be explained; the directory needs --explain.
    let out = mirador(&["analyze", "--demo", "--explain", "--model", "svm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--explain needs --model cnn or musicnn"));
    let out = mirador(&["analyze", "--demo", "--explain-dir", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn notes_come_as_json_and_as_midi_files_on_the_beat_grid() {
    let tmp = temp_dir("cli-notes");
    let dir = tmp.path();
    let short = dir.join("short.wav");
    write_wav(&short, 44_100, 2, false, 0.1);
    let midi = dir.join("midi");
    let out = mirador(&[
        "analyze",
        "--demo",
        short.to_str().unwrap(),
        "--format",
        "json",
        "--midi",
        midi.to_str().unwrap(),
        "--quantize",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = json_files(&out);
    assert_eq!(files.len(), 2);
    let demo = &files[0];
    let notes = demo["notes"].as_array().unwrap();
    // Vibe Ace's first 30 s: keys, bass and drums.
    assert!(notes.len() > 100, "{} notes", notes.len());
    let seconds = demo["duration_seconds"].as_f64().unwrap();
    for n in notes {
        let (start, end) = (n["start"].as_f64().unwrap(), n["end"].as_f64().unwrap());
        assert!(0.0 <= start && start < end && end <= seconds, "{n}");
        assert!((21..=108).contains(&n["pitch"].as_u64().unwrap()), "{n}");
        assert!((1..=127).contains(&n["velocity"].as_u64().unwrap()), "{n}");
        // One bend per 11.6 ms frame of the note.
        let frames = n["bends"].as_array().unwrap().len() as f64;
        assert!(
            (frames * 256.0 / 22_050.0 - (end - start)).abs() < 0.1,
            "{n}"
        );
    }
    // A 0.1 s clip has no notes, which is an answer, not an error.
    assert_eq!(files[1]["notes"], serde_json::json!([]));

    // The MIDI file has the same notes, quantized to sixteenths, and the beats' tempo map:
    // each tracked beat is a quarter note.
    let path = PathBuf::from(demo["midi_file"].as_str().unwrap());
    assert_eq!(path, midi.join("vibe-ace-demo.mid"));
    let bytes = std::fs::read(&path).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let midly::Timing::Metrical(per_quarter) = smf.header.timing else {
        panic!("timing {:?}", smf.header.timing)
    };
    let per_quarter = u64::from(per_quarter.as_int());
    let mut now = 0;
    let (mut ons, mut tempi) = (Vec::new(), 0);
    for event in &smf.tracks[0] {
        now += u64::from(event.delta.as_int());
        match event.kind {
            midly::TrackEventKind::Midi {
                message: midly::MidiMessage::NoteOn { .. },
                ..
            } => ons.push(now),
            midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(_)) => tempi += 1,
            _ => {}
        }
    }
    assert_eq!(ons.len(), notes.len());
    assert!(ons.iter().all(|t| t % (per_quarter / 4) == 0));
    let beats = demo["rhythm"]["beats"].as_array().unwrap().len();
    assert_eq!(
        tempi, beats,
        "a tempo from 0 s and at every beat but the last"
    );
    assert!(midi.join("short.mid").exists());
}

#[test]
fn the_melody_track_agrees_with_the_notes_of_a_trumpet() {
    let trumpet =
        mirador_tests::data_dir().join("librosa_examples/sorohanro_-_solo-trumpet-06.ogg");
    let out = mirador(&[
        "analyze",
        trumpet.to_str().unwrap(),
        "--format",
        "json",
        "--notes",
        "--f0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = &json_files(&out)[0];
    let f0 = &file["f0"];
    let hop = f0["hop_seconds"].as_f64().unwrap();
    let hz: Vec<Option<f64>> = f0["hz"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64())
        .collect();
    let seconds = file["duration_seconds"].as_f64().unwrap();
    assert_eq!(hz.len(), 1 + (seconds / hop) as usize);
    assert_eq!(f0["confidence"].as_array().unwrap().len(), hz.len());
    // Two models, one trumpet: in the middle of each note basic-pitch hears, CREPE's pitch is
    // that note.
    let notes = file["notes"].as_array().unwrap();
    assert!(notes.len() >= 8, "{} notes", notes.len());
    let agreeing = notes
        .iter()
        .filter(|n| {
            let middle = (n["start"].as_f64().unwrap() + n["end"].as_f64().unwrap()) / 2.0;
            hz[(middle / hop).round() as usize].is_some_and(|hz| {
                let midi = 69.0 + 12.0 * (hz / 440.0).log2();
                (midi - n["pitch"].as_f64().unwrap()).abs() < 0.5
            })
        })
        .count();
    assert!(
        agreeing * 10 >= notes.len() * 9,
        "{agreeing} of {} notes",
        notes.len()
    );
    // The summary names the range the trumpet played in, which holds most of its notes.
    let out = mirador(&[
        "analyze",
        trumpet.to_str().unwrap(),
        "--format",
        "summary",
        "--f0",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let range = text
        .split("melody ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("no melody range: {text}"));
    // "A#4": the pitch class's letters, then a one-digit octave.
    let midi = |name: &str| -> i64 {
        let (class, octave) = name.split_at(name.len() - 1);
        let names = [
            "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
        ];
        let class = names.iter().position(|c| *c == class).unwrap() as i64;
        12 * (octave.parse::<i64>().unwrap() + 1) + class
    };
    let (low, high) = range.split_once('-').unwrap();
    let inside = notes
        .iter()
        .filter(|n| (midi(low)..=midi(high)).contains(&n["pitch"].as_i64().unwrap()))
        .count();
    assert!(
        inside * 10 >= notes.len() * 7,
        "{range}: {inside} of {} notes inside",
        notes.len()
    );
}

//! `mirador play --no-audio` as a user sees it: under a virtual X server, on a generated file
//! with known content (a C-major chord over a 120 BPM kick), the window opens, a screenshot is
//! taken, and the snapshot it published reads 120 BPM in C major with chroma peaks on C, E, G.
//! A real recording (GTZAN's `metal.00000`) reads as metal and tense, as `mirador analyze`
//! says of the same file, and with `--why` the view explains the genre. At 2x scale (as on a HiDPI screen) the same window covers twice the
//! pixels. With a library of three real recordings, the window playing one of them names it
//! as the nearest library track once 10 s have been heard.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mirador_tests::{data_dir, temp_dir};

/// `mirador play --no-audio` of `music` for `seconds` under Xvfb, with `options`: the report
/// it wrote and a screenshot a second before it closed.
fn play_in_window(
    dir: &Path,
    music: &Path,
    seconds: u32,
    options: &str,
) -> (serde_json::Value, u64) {
    let (report, shot) = (dir.join("report.json"), dir.join("shot.png"));
    let script = format!(
        "'{bin}' play --no-audio {options} --exit-after {seconds} --report '{report}' '{music}' & \
         sleep {shot_at}; import -window root '{shot}'; wait",
        bin = env!("CARGO_BIN_EXE_mirador"),
        report = report.display(),
        music = music.display(),
        shot = shot.display(),
        shot_at = seconds - 2,
    );
    let out = under_xvfb("1280x800", &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shot_size = std::fs::metadata(&shot).expect("a screenshot").len();
    if let Some(keep) = std::env::var_os("MIRADOR_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    let report = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    (report, shot_size)
}

/// Runs the shell `script` on a virtual X server whose screen is `size` pixels.
fn under_xvfb(size: &str, script: &str) -> std::process::Output {
    let screen = format!("-screen 0 {size}x24");
    Command::new("xvfb-run")
        .args(["-a", "-s", &screen, "sh", "-c", script])
        // No library panel, whatever the user's data directory holds (a test gives one).
        .env("MIRADOR_LIBRARY", "/nonexistent/mirador-gui-test.db")
        .output()
        .expect("xvfb-run (scripts/setup.sh installs it)")
}

fn write_music(path: &Path) {
    let rate = 44100;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..rate * 20 {
        let t = i as f32 / rate as f32;
        let chord: f32 = [261.63f32, 329.63, 392.0]
            .iter()
            .flat_map(|f| [(1.0, *f), (0.4, 2.0 * f), (0.2, 3.0 * f)])
            .map(|(a, f)| a * (2.0 * std::f32::consts::PI * f * t).sin())
            .sum();
        let since = t % 0.5;
        let kick = (-since * 25.0).exp()
            * (2.0 * std::f32::consts::PI * (60.0 + 80.0 * (-since * 40.0).exp()) * since).sin();
        let sample = ((0.08 * chord + 0.5 * kick) * 32767.0) as i16;
        writer.write_sample(sample).unwrap();
        writer.write_sample(sample).unwrap();
    }
    writer.finalize().unwrap();
}

/// Every OSC packet that reaches `socket` until `quiet` passes without one (after the first).
fn receive_osc(socket: std::net::UdpSocket, quiet: Duration) -> Vec<rosc::OscPacket> {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut packets = Vec::new();
    let mut last = Instant::now();
    let mut buf = [0u8; 4096];
    // The window takes a few seconds to open before anything is sent.
    while packets.is_empty() && last.elapsed() < Duration::from_secs(60) || last.elapsed() < quiet {
        if let Ok(n) = socket.recv(&mut buf) {
            let (_, packet) = rosc::decoder::decode_udp(&buf[..n]).expect("valid OSC");
            packets.push(packet);
            last = Instant::now();
        }
    }
    packets
}

#[test]
fn play_shows_the_live_view_reads_known_music_and_sends_it_over_osc() {
    let tmp = temp_dir("gui-osc");
    let dir = tmp.path();
    let music = dir.join("c-major-120.wav");
    write_music(&music);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let osc = format!(
        "--notes --osc 127.0.0.1:{}",
        socket.local_addr().unwrap().port()
    );
    let receiver = std::thread::spawn(move || receive_osc(socket, Duration::from_secs(3)));
    let (report, shot_size) = play_in_window(dir, &music, 13, &osc);
    let packets = receiver.join().unwrap();
    assert!(
        shot_size > 50_000,
        "a drawn window, not a blank screen ({shot_size} bytes)"
    );
    let bpm = report["tempo_bpm"].as_f64().expect("a tempo");
    assert!((bpm - 120.0).abs() < 2.0, "{report}");
    assert_eq!(report["key"], "C major", "{report}");
    let chroma: Vec<f64> = report["mean_chroma"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| chroma[b].total_cmp(&chroma[a]));
    let mut top3 = order[..3].to_vec();
    top3.sort();
    assert_eq!(top3, vec![0, 4, 7], "{report}");
    assert!(
        report["frames_received"].as_u64().unwrap() > 300,
        "about 12 s analyzed: {report}"
    );
    // The distilled CNN listens live: after 3 s it publishes a genre and a mood.
    assert!(report["genre"].is_string(), "{report}");
    assert!(report["mood"].is_string(), "{report}");
    // BeatNet listens frame by frame: by now its beats are the rhythm shown, at the kick's
    // 120 BPM.
    assert_eq!(report["rhythm_source"], "beat model", "{report}");
    assert!(report["beats_per_bar"].is_u64(), "{report}");
    assert!(report["last_beat_time"].as_f64().unwrap() > 8.0, "{report}");
    let lufs = report["short_term_lufs"].as_f64().unwrap();
    assert!((-30.0..-5.0).contains(&lufs), "{report}");
    check_osc(&packets, &report);
}

/// What `--osc` sent while the known music played: one message per bundle, each address
/// with its argument types, the beats on the kicks and the same as the view's, C major, and
/// the chord's notes.
fn check_osc(packets: &[rosc::OscPacket], report: &serde_json::Value) {
    use rosc::{OscPacket, OscType};
    let kinds = |args: &[OscType]| -> String {
        args.iter()
            .map(|a| match a {
                OscType::Int(_) => 'i',
                OscType::Float(_) => 'f',
                OscType::String(_) => 's',
                _ => '?',
            })
            .collect()
    };
    let mut beats = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for packet in packets {
        let OscPacket::Bundle(bundle) = packet else {
            panic!("a bare message: {packet:?}")
        };
        let [OscPacket::Message(m)] = &bundle.content[..] else {
            panic!("one message per bundle: {bundle:?}")
        };
        let expected = match m.addr.as_str() {
            "/mirador/beat" => "iif",
            "/mirador/downbeat" => "i",
            "/mirador/tempo" => "f",
            "/mirador/key" | "/mirador/chord" | "/mirador/section" => "s",
            "/mirador/genre" => "sf",
            "/mirador/mood" => "sfff",
            "/mirador/loudness" => "ff",
            "/mirador/note" => "ii",
            other => panic!("unknown address {other}"),
        };
        assert_eq!(kinds(&m.args), expected, "{m:?}");
        let time = f64::from(bundle.timetag.seconds)
            + f64::from(bundle.timetag.fractional) / 4_294_967_296.0;
        if m.addr == "/mirador/beat" {
            beats.push((time, m.args.clone()));
        }
        seen.entry(m.addr.clone())
            .or_insert_with(Vec::new)
            .push(m.args.clone());
    }
    for address in [
        "beat", "downbeat", "tempo", "key", "chord", "genre", "mood", "loudness", "note",
    ] {
        assert!(
            seen.contains_key(&format!("/mirador/{address}")),
            "no {address}: {seen:?}"
        );
    }
    assert!(seen["/mirador/key"].contains(&vec![OscType::String("C major".into())]));
    // The transcriber hears the chord's three notes start (velocity above 0).
    for pitch in [60, 64, 67] {
        assert!(
            seen["/mirador/note"]
                .iter()
                .any(|args| args[0] == OscType::Int(pitch) && args[1] != OscType::Int(0)),
            "no note {pitch}: {:?}",
            seen["/mirador/note"]
        );
    }
    assert!(
        seen["/mirador/chord"].contains(&vec![OscType::String("C:maj".into())]),
        "{:?}",
        seen["/mirador/chord"]
    );
    // Beats counted from 1 in order, timetagged on the timeline: from the beat model, on the
    // kicks (every 0.5 s), and the view showed one of the newest two.
    assert!(beats.len() > 10, "{beats:?}");
    for (i, (time, args)) in beats.iter().enumerate() {
        assert_eq!(args[0], OscType::Int(i as i32 + 1));
        if *time > 5.0 {
            let off = (time + 0.25).rem_euclid(0.5) - 0.25;
            assert!(off.abs() < 0.08, "beat at {time} s");
            let OscType::Float(bpm) = args[2] else {
                unreachable!()
            };
            assert!((bpm - 120.0).abs() < 3.0, "{bpm} BPM");
        }
    }
    // The view shows the newest beat sent, or the one before when the window closed between
    // a snapshot's OSC and its drawing (on a loaded machine).
    let shown = report["last_beat_time"].as_f64().unwrap();
    let sent: Vec<f64> = beats.iter().rev().take(2).map(|(time, _)| *time).collect();
    assert!(
        sent.iter().any(|time| (time - shown).abs() < 1e-6),
        "OSC {sent:?} s, view {shown} s"
    );
}

#[test]
fn play_names_the_genre_and_mood_of_real_music_as_analyze_does() {
    let tmp = temp_dir("gui-real");
    let dir = tmp.path();
    let music = data_dir().join("gtzan/full/metal.00000.flac");
    let (live, _) = play_in_window(dir, &music, 12, "--why");
    let out = Command::new(env!("CARGO_BIN_EXE_mirador"))
        .args([
            "analyze",
            "--format",
            "json",
            "--model",
            "cnn",
            "--no-beats",
        ])
        .arg(&music)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let batch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let batch = &batch[0];
    // GTZAN files it under metal; a listener hears it as tense (high arousal, negative
    // valence). The live view, on the last seconds it heard, says what the whole file says.
    assert_eq!(batch["genre"]["label"], "metal", "{batch}");
    assert_eq!(batch["mood"]["quadrant"], "Q2 tense", "{batch}");
    assert_eq!(live["genre"], batch["genre"]["label"], "{live}");
    assert_eq!(live["mood"], batch["mood"]["quadrant"], "{live}");
    assert!(live["model_error"].is_null(), "{live}");
    // With "why" on from the start, the view shows what the genre rests on: 0.5 s cells
    // from the first patch (3 s in) on.
    assert_eq!(live["why"]["class"], "metal", "{live}");
    assert!(live["why"]["cells"].as_u64().unwrap() >= 12, "{live}");
}

/// Mean brightness (0..1) of a region of a PNG, by ImageMagick.
fn mean_brightness(png: &Path, geometry: &str) -> f64 {
    let out = Command::new("convert")
        .arg(png)
        .args(["-crop", geometry, "-format", "%[fx:mean]", "info:"])
        .output()
        .expect("imagemagick (scripts/setup.sh installs it)");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn the_window_finds_what_it_plays_in_the_library() {
    let tmp = temp_dir("gui-library");
    let dir = tmp.path();
    let (library, report, shot) = (
        dir.join("library.db"),
        dir.join("report.json"),
        dir.join("shot.png"),
    );
    let clips: Vec<_> = ["disco", "jazz", "metal"]
        .iter()
        .map(|g| data_dir().join(format!("gtzan/full/{g}.00000.flac")))
        .collect();
    let indexed = Command::new(env!("CARGO_BIN_EXE_mirador"))
        .arg("index")
        .args(&clips)
        .arg("--library")
        .arg(&library)
        .output()
        .unwrap();
    assert!(
        indexed.status.success(),
        "{}",
        String::from_utf8_lossy(&indexed.stderr)
    );
    let script = format!(
        "'{bin}' play --no-audio --exit-after 14 --library '{library}' --report '{report}' \
         '{music}' & sleep 12; import -window root '{shot}'; wait",
        bin = env!("CARGO_BIN_EXE_mirador"),
        library = library.display(),
        report = report.display(),
        music = clips[0].display(),
        shot = shot.display(),
    );
    let out = under_xvfb("1600x900", &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let found = report["references"].as_array().expect("reference tracks");
    assert_eq!(found.len(), clips.len(), "{found:?}");
    let played = clips[0].canonicalize().unwrap();
    assert_eq!(
        found[0]["path"],
        played.to_string_lossy().as_ref(),
        "{found:?}"
    );
    // The panel is drawn: the window's right part, beyond the view's 1100 points, is not
    // the black of an empty screen.
    assert!(mean_brightness(&shot, "300x400+1120+200") > 0.03);
}

#[test]
fn view_scales_to_2x() {
    let tmp = temp_dir("gui-2x");
    let dir = tmp.path();
    let (music, shot) = (dir.join("music.wav"), dir.join("shot.png"));
    write_music(&music);
    let script = format!(
        "WINIT_X11_SCALE_FACTOR=2 '{bin}' play --no-audio --exit-after 6 '{music}' & sleep 5; \
         import -window root '{shot}'; wait",
        bin = env!("CARGO_BIN_EXE_mirador"),
        music = music.display(),
        shot = shot.display(),
    );
    let out = under_xvfb("2400x1600", &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The window asks for 1100x720 points: at 2x it reaches past x = 1100 and y = 720 pixels
    // (where at 1x the screen would stay black), and stops at 2200x1440.
    let beyond_1x = mean_brightness(&shot, "1000x600+1150+760");
    let beyond_2x = mean_brightness(&shot, "150x1600+2250+0");
    assert!(beyond_1x > 0.03, "nothing drawn beyond 1x: {beyond_1x}");
    assert!(beyond_2x < 0.01, "drawn beyond 2x: {beyond_2x}");
}

#[test]
fn ctrl_c_closes_the_window_and_writes_the_report() {
    let tmp = temp_dir("gui-int");
    let dir = tmp.path();
    let (music, report) = (dir.join("music.wav"), dir.join("report.json"));
    write_music(&music);
    // No --exit-after: only the interrupt ends it.
    let script = format!(
        "'{bin}' play --no-audio --report '{report}' '{music}' & pid=$!; sleep 5; \
         kill -INT $pid; wait $pid; echo \"exit $?\"",
        bin = env!("CARGO_BIN_EXE_mirador"),
        report = report.display(),
        music = music.display(),
    );
    let out = under_xvfb("1280x800", &script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("exit 130"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("a report")).unwrap();
    assert!(report["frames_received"].as_u64().unwrap() > 50, "{report}");
}

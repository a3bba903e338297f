//! OSC out (`--osc HOST:PORT`): what the engine announces ([`Event`]), one OSC bundle per
//! event over UDP (the `rosc` crate), each bundle's timetag the event's time on the audio
//! timeline. A thread of its own drains the engine's bounded event queue, so nothing waits
//! on the network: a full queue drops events (counted in `EventSource::dropped`) and a
//! datagram the socket will not take now is dropped.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::thread::JoinHandle;

use mirador_engine::{Event, EventSource};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};

/// Where `--osc` sends when given without a value.
pub const DEFAULT_TARGET: &str = "127.0.0.1:9000";

/// `HOST:PORT` resolved to the first address it names (`--osc`'s parser).
pub fn target(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text} ({e}); give HOST:PORT"))?
        .next()
        .ok_or_else(|| format!("{text} names no address"))
}

/// The address and arguments of `event`'s message (the README's table).
pub fn message(event: &Event) -> OscMessage {
    let (name, args) = match event {
        Event::Beat {
            index,
            beat_in_bar,
            tempo_bpm,
            ..
        } => (
            "beat",
            vec![
                OscType::Int(*index as i32),
                OscType::Int(i32::from(*beat_in_bar)),
                OscType::Float(*tempo_bpm),
            ],
        ),
        Event::Downbeat { bar, .. } => ("downbeat", vec![OscType::Int(*bar as i32)]),
        Event::Tempo { bpm, .. } => ("tempo", vec![OscType::Float(*bpm)]),
        Event::Key { name, .. } => ("key", vec![OscType::String(name.clone())]),
        Event::Chord { name, .. } => ("chord", vec![OscType::String(name.clone())]),
        Event::Section { label, .. } => ("section", vec![OscType::String(label.clone())]),
        Event::Genre {
            class, probability, ..
        } => (
            "genre",
            vec![OscType::String(class.clone()), OscType::Float(*probability)],
        ),
        Event::Mood {
            class,
            probability,
            valence,
            arousal,
            ..
        } => (
            "mood",
            vec![
                OscType::String(class.clone()),
                OscType::Float(*probability),
                OscType::Float(*valence),
                OscType::Float(*arousal),
            ],
        ),
        Event::Loudness {
            momentary_lufs,
            short_term_lufs,
            ..
        } => (
            "loudness",
            vec![
                OscType::Float(*momentary_lufs),
                OscType::Float(*short_term_lufs),
            ],
        ),
        Event::Note {
            pitch, velocity, ..
        } => (
            "note",
            vec![
                OscType::Int(i32::from(*pitch)),
                OscType::Int(i32::from(*velocity)),
            ],
        ),
    };
    OscMessage {
        addr: format!("/mirador/{name}"),
        args,
    }
}

/// `seconds` on the audio timeline as an OSC timetag: whole seconds and a 2^-32 fraction
/// (not wall-clock NTP time; receivers take a past timetag as "now").
pub fn timetag(seconds: f64) -> OscTime {
    let s = seconds.max(0.0);
    OscTime {
        seconds: s.floor() as u32,
        fractional: (s.fract() * 4_294_967_296.0) as u32,
    }
}

/// `event` as the bundle that carries it.
pub fn bundle(event: &Event) -> OscPacket {
    OscPacket::Bundle(OscBundle {
        timetag: timetag(event.time()),
        content: vec![OscPacket::Message(message(event))],
    })
}

/// Sends `source`'s events to `target` until the engine is gone. A datagram the socket
/// will not take now (a full buffer, an unreachable network) is dropped.
pub fn spawn(target: SocketAddr, source: EventSource) -> std::io::Result<JoinHandle<()>> {
    let local: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    socket.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("mirador-osc".into())
        .spawn(move || {
            for event in source.events.iter() {
                if let Ok(bytes) = rosc::encoder::encode(&bundle(&event)) {
                    let _ = socket.send_to(&bytes, target);
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timetags_keep_the_audio_time() {
        for t in [0.0, 0.5, 12.345_678, 3600.25] {
            let tag = timetag(t);
            let back = f64::from(tag.seconds) + f64::from(tag.fractional) / 4_294_967_296.0;
            assert!((back - t).abs() < 1e-9, "{t} {back}");
        }
        assert_eq!(timetag(-1.0).seconds, 0);
    }

    #[test]
    fn a_bundle_round_trips_through_rosc() {
        let event = Event::Beat {
            time: 2.5,
            index: 5,
            beat_in_bar: 1,
            beats_per_bar: 4,
            tempo_bpm: 120.0,
        };
        let bytes = rosc::encoder::encode(&bundle(&event)).unwrap();
        let (_, packet) = rosc::decoder::decode_udp(&bytes).unwrap();
        let OscPacket::Bundle(b) = packet else {
            panic!("not a bundle")
        };
        assert_eq!(b.timetag, timetag(2.5));
        assert_eq!(
            b.content,
            vec![OscPacket::Message(OscMessage {
                addr: "/mirador/beat".into(),
                args: vec![OscType::Int(5), OscType::Int(1), OscType::Float(120.0)],
            })]
        );
    }

    #[test]
    fn hosts_resolve_or_say_why() {
        assert_eq!(target("127.0.0.1:9000").unwrap().port(), 9000);
        assert!(target("127.0.0.1").unwrap_err().contains("HOST:PORT"));
        assert!(target("localhost:57120").is_ok());
    }
}

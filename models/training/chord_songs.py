#!/usr/bin/env python3
"""Development material for chords: songs whose chords are known by construction.

Usage: chord_songs.py OUT_DIR [COUNT [FIRST_SEED]]

Writes COUNT (default 24) songs from seeds FIRST_SEED (default 1000, the evaluation's songs)
on; other seeds make other songs (5000 on: the songs choices were tried on, kept apart from
the evaluation's), each `song_NN.wav` (22 050 Hz mono, rendered by FluidSynth
with the FluidR3 General MIDI soundfont of Debian's `fluid-soundfont-gm`) with its truth
`song_NN.lab` (start, end, Harte label). Every song draws, from a fixed seed, a key, a tempo
(66-144 BPM), a progression (common pop, jazz and modal ones, transposed, with qualities
from Mirador's whole vocabulary: maj, min, 7, maj7, min7, dim, aug, sus2, sus4), chord
lengths of 2 to 8 beats, a chord instrument (piano, electric piano, guitars, organ, strings,
choir, pads) in varied voicings and inversions, often a bass line on the root and a drum
kit, and a level. Nothing here is tuned to Mirador's recognizer: the truth is what was
played. The songs are rendered with real instrument samples, so each note has the attack,
partials and decay of the instrument it stands for.
"""

import random
import subprocess
import sys
from pathlib import Path

import mido

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 22_050
TICKS = 480

QUALITIES = {
    "maj": [0, 4, 7],
    "min": [0, 3, 7],
    "7": [0, 4, 7, 10],
    "maj7": [0, 4, 7, 11],
    "min7": [0, 3, 7, 10],
    "dim": [0, 3, 6],
    "aug": [0, 4, 8],
    "sus2": [0, 2, 7],
    "sus4": [0, 5, 7],
}
NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]

# Progressions as (degree in semitones above the key, quality).
PROGRESSIONS = [
    [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],  # I V vi IV
    [(0, "maj"), (9, "min"), (5, "maj"), (7, "7")],  # I vi IV V7
    [(2, "min7"), (7, "7"), (0, "maj7"), (0, "maj7")],  # ii7 V7 Imaj7
    [(0, "min"), (10, "maj"), (8, "maj"), (7, "maj")],  # i bVII bVI V
    [(0, "min7"), (5, "min7"), (10, "7"), (3, "maj7")],  # minor ii-V
    [(0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")],  # I IV I V
    [(0, "sus4"), (0, "maj"), (5, "sus2"), (5, "maj")],  # suspensions resolving
    [(0, "maj"), (0, "aug"), (9, "min"), (2, "7")],  # chromatic line
    [(11, "dim"), (0, "maj"), (2, "min"), (7, "7")],  # leading-tone diminished
    [(0, "min"), (7, "7"), (0, "min"), (5, "min")],  # i V7 i iv
    [(0, "maj7"), (5, "maj7"), (4, "min7"), (9, "min7")],  # Imaj7 IVmaj7 iii7 vi7
    [(0, "7"), (5, "7"), (0, "7"), (7, "7")],  # twelve-bar blues, condensed
]
# General MIDI programs for the chords.
CHORD_PROGRAMS = [0, 1, 4, 5, 16, 19, 24, 25, 27, 48, 49, 52, 89]
BASS_PROGRAMS = [32, 33, 34, 38]


def chord_notes(root, quality, rng):
    """A voicing: the chord's tones over one or two octaves from around middle C, in a
    random inversion."""
    pcs = [(root + i) % 12 for i in QUALITIES[quality]]
    base = 48 + rng.randrange(0, 12)
    notes = []
    for pc in pcs:
        n = base + (pc - base) % 12
        notes.append(n)
    if rng.random() < 0.4:
        notes.append(min(notes) + 12)
    return sorted(notes)


def song(index, seed, out_dir):
    rng = random.Random(seed)
    key = rng.randrange(12)
    bpm = rng.randrange(66, 145)
    progression = rng.choice(PROGRESSIONS)
    program = rng.choice(CHORD_PROGRAMS)
    bass = rng.random() < 0.7
    drums = rng.random() < 0.6
    velocity = rng.randrange(60, 110)
    beat = 60.0 / bpm
    midi = mido.MidiFile(ticks_per_beat=TICKS)
    tracks = {name: mido.MidiTrack() for name in ["chords", "bass", "drums"]}
    for t in tracks.values():
        midi.tracks.append(t)
    tracks["chords"].append(mido.MetaMessage("set_tempo", tempo=int(beat * 1e6)))
    tracks["chords"].append(mido.Message("program_change", program=program, channel=0))
    tracks["bass"].append(mido.Message("program_change", program=rng.choice(BASS_PROGRAMS), channel=1))
    events = {name: [] for name in tracks}  # (tick, message)
    truth = []
    tick = TICKS  # one beat of silence first
    total_beats = 0
    style = rng.choice(["block", "arpeggio", "strum"])
    while total_beats < 64:
        for degree, quality in progression:
            beats = rng.choice([2, 4, 4, 4, 8])
            root = (key + degree) % 12
            notes = chord_notes(root, quality, rng)
            start, end = tick, tick + beats * TICKS
            truth.append((start, end, f"{NAMES[root]}:{quality}"))
            if style == "block":
                for n in notes:
                    events["chords"].append((start, mido.Message("note_on", note=n, velocity=velocity, channel=0)))
                    events["chords"].append((end - 10, mido.Message("note_off", note=n, channel=0)))
            else:
                step = TICKS // 2 if style == "arpeggio" else TICKS
                t = start
                i = 0
                while t < end:
                    if style == "arpeggio":
                        group = [notes[i % len(notes)]]
                    else:
                        group = notes
                    for n in group:
                        events["chords"].append((t, mido.Message("note_on", note=n, velocity=velocity, channel=0)))
                        events["chords"].append((min(t + step * 2, end) - 10, mido.Message("note_off", note=n, channel=0)))
                    t += step
                    i += 1
            if bass:
                b = 36 + root
                for k in range(beats // 2):
                    t = start + k * 2 * TICKS
                    events["bass"].append((t, mido.Message("note_on", note=b, velocity=velocity, channel=1)))
                    events["bass"].append((t + 2 * TICKS - 20, mido.Message("note_off", note=b, channel=1)))
            if drums:
                for k in range(beats):
                    t = start + k * TICKS
                    drum = 36 if k % 2 == 0 else 38
                    events["drums"].append((t, mido.Message("note_on", note=drum, velocity=90, channel=9)))
                    events["drums"].append((t + 60, mido.Message("note_off", note=drum, channel=9)))
                    events["drums"].append((t + TICKS // 2, mido.Message("note_on", note=42, velocity=60, channel=9)))
                    events["drums"].append((t + TICKS // 2 + 30, mido.Message("note_off", note=42, channel=9)))
            tick = end
            total_beats += beats
    for name, track in tracks.items():
        now = 0
        for t, message in sorted(events[name], key=lambda e: (e[0], e[1].type == "note_on")):
            message.time = t - now
            now = t
            track.append(message)
    stem = out_dir / f"song_{index:02d}"
    midi.save(f"{stem}.mid")
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", f"{stem}.stereo.wav", SOUNDFONT, f"{stem}.mid"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", f"{stem}.stereo.wav", "-ac", "1", "-ar", str(RATE), f"{stem}.wav"],
        check=True,
    )
    Path(f"{stem}.stereo.wav").unlink()
    seconds = lambda ticks: ticks / TICKS * beat
    with open(f"{stem}.lab", "w") as lab:
        lab.write(f"0.000\t{seconds(TICKS):.3f}\tN\n")
        for start, end, label in truth:
            lab.write(f"{seconds(start):.3f}\t{seconds(end):.3f}\t{label}\n")


def main():
    out_dir = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    first_seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    out_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        song(i, first_seed + i, out_dir)
    print(f"chord_songs: {count} songs in {out_dir}")


if __name__ == "__main__":
    main()

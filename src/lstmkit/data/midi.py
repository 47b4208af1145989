"""Piano rolls as Standard MIDI Files, through mido (the ``music`` extra, imported when a file is written).

A roll (T, 88) has a row per step and column i for MIDI note 21 + i. A key that sounds in consecutive steps is
one held note (JSB Chorales' rolls are quantized to quarter notes and do not tell a held note from a repeated
one); each step lasts one beat, ``tempo`` beats per minute.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from lstmkit.errors import ParameterError
from lstmkit.files import write_atomically

LOWEST_NOTE = 21  # column 0: A0
TICKS_PER_BEAT = 480


def require_mido():
    """The mido module, or a ParameterError that says how to install it."""
    try:
        import mido
    except ImportError:
        raise ParameterError(
            "writing MIDI files needs mido: pip install 'lstmkit[music]' (or pip install mido)"
        ) from None
    return mido


def note_events(roll: np.ndarray) -> list[tuple[int, int, int]]:
    """(start step, end step (exclusive), MIDI note) of every held note of ``roll`` (T, 88), by start then note."""
    padded = np.pad(np.asarray(roll, dtype=np.int8), ((1, 1), (0, 0)))  # (T + 2, 88): silence either side
    change = np.diff(padded, axis=0)  # (T + 1, 88): +1 where a note starts, -1 where it ends
    notes = []
    for key in range(roll.shape[1]):
        starts, ends = np.flatnonzero(change[:, key] == 1), np.flatnonzero(change[:, key] == -1)
        notes += [(int(s), int(e), LOWEST_NOTE + key) for s, e in zip(starts, ends, strict=True)]
    return sorted(notes)


def midi_bytes(roll: np.ndarray, tempo: float = 100.0, program: int = 19, velocity: int = 80) -> bytes:
    """A one-track Standard MIDI File of ``roll`` (``program``: General MIDI instrument, 19 = church organ)."""
    mido = require_mido()
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    events = []  # (tick, order, message): note_off (0) before note_on (1) at the same tick
    for start, end, note in note_events(roll):
        events.append((start * TICKS_PER_BEAT, 1, "note_on", note))
        events.append((end * TICKS_PER_BEAT, 0, "note_off", note))
    now = 0
    for tick, _, kind, note in sorted(events):
        track.append(mido.Message(kind, note=note, velocity=velocity if kind == "note_on" else 0, time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(roll: np.ndarray, path: str | Path, tempo: float = 100.0) -> Path:
    """Write ``roll`` as a MIDI file at ``path`` (atomically)."""
    return write_atomically(path, midi_bytes(roll, tempo))


def read_midi_roll(path: str | Path) -> np.ndarray:
    """(T, 88) the roll of a MIDI file written by ``write_midi`` (one step per beat): its inverse."""
    mido = require_mido()
    midi = mido.MidiFile(str(path))
    sounding: dict[int, int] = {}
    notes, now = [], 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = now
        elif message.type in ("note_on", "note_off") and message.note in sounding:
            notes.append((sounding.pop(message.note) // midi.ticks_per_beat, now // midi.ticks_per_beat, message.note))
    roll = np.zeros((max((end for _, end, _ in notes), default=0), 88), dtype=np.uint8)
    for start, end, note in notes:
        roll[start:end, note - LOWEST_NOTE] = 1
    return roll

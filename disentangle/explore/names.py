"""Names, not indices: a pitch is a note name ("C4"), an item its file name."""
from __future__ import annotations

from pathlib import PurePosixPath

from disentangle.data.schema import Item

_NOTES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(midi: int) -> str:
    """MIDI note number -> scientific pitch name (60 -> "C4")."""
    return f"{_NOTES[int(midi) % 12]}{int(midi) // 12 - 1}"


def value_text(label: str, value: str) -> str:
    """A label value as a listener reads it: pitches as note names, unknown as "?"."""
    if value == "":
        return "?"
    if label == "pitch":
        try:
            return note_name(int(float(value)))
        except ValueError:
            return value
    return value


def item_name(item: Item) -> str:
    """The file name without folder and extension."""
    return PurePosixPath(item.path).stem


__all__ = ["item_name", "note_name", "value_text"]

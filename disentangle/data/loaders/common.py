"""What the real-corpus loaders share: the result type, label mappings, durations.

Loaders never abort on a bad entry (a missing file, a name that does not
parse): they leave it out, list it in `LoadedCorpus.skipped` and warn once
with the count.
"""
from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..schema import Corpus
from ..soundfont import frame_rms

#: Audio file types `load_folder` picks up (lower-case suffixes).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")

#: Dynamics markings folded into the three classes the models use. Softer
#: than mf goes to pp and louder to ff (as Dal Ri 2025 does with TinySOL's p);
#: mp counts as mf.
DYNAMICS_MAP = {"ppp": "pp", "pp": "pp", "p": "pp", "mp": "mf", "mf": "mf",
                "f": "ff", "ff": "ff", "fff": "ff"}

_NOTE = re.compile(r"^([A-Ga-g])([#b♯♭]?)(-?\d)$")
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


@dataclass
class LoadedCorpus(Corpus):
    """A `Corpus` plus the entries a loader had to leave out: (path, reason)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)


def finish(root: Path, items: list, skipped: list[tuple[str, str]], name: str) -> LoadedCorpus:
    """Wrap a loader's result and warn once about skipped entries."""
    if skipped:
        first, why = skipped[0]
        warnings.warn(f"{name} at {root}: skipped {len(skipped)} of {len(items) + len(skipped)} "
                      f"entries (first: {first}: {why}); see corpus.skipped", stacklevel=3)
    return LoadedCorpus(root=root, items=items, name=name, skipped=skipped)


def note_to_midi(name: str) -> int:
    """'A4' / 'C#3' / 'Bb1' / 'A#0' -> MIDI number (A4 = 69). Raises ValueError."""
    m = _NOTE.match(name.strip())
    if not m:
        raise ValueError(f"not a note name: {name!r}")
    letter, accidental, octave = m.groups()
    shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    return 12 * (int(octave) + 1) + _STEPS[letter.lower()] + shift


def parse_pitch(value: str) -> int:
    """A MIDI number ('69', '69.0') or a note name ('A4') -> MIDI; '' -> -1."""
    value = (value or "").strip()
    if not value:
        return -1
    try:
        return round(float(value))
    except ValueError:
        return note_to_midi(value)


def parse_dynamics(value: str) -> str:
    """A dynamics marking -> pp / mf / ff ('' when empty). Raises ValueError for others."""
    value = (value or "").strip().lower()
    if not value:
        return ""
    if value not in DYNAMICS_MAP:
        raise ValueError(f"unknown dynamics {value!r} (expected one of {sorted(DYNAMICS_MAP)})")
    return DYNAMICS_MAP[value]


def duration_class(seconds: float) -> str:
    """A length in seconds quantised to 250 ms bins, e.g. 0.6 -> "0.50" (at least "0.25")."""
    return f"{max(1, round(seconds / 0.25)) * 0.25:.2f}"


def snake(name: str) -> str:
    """'Trumpet in C' -> 'trumpet_in_c'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def header_seconds(path: Path) -> float:
    """Length of an audio file from its header (0.0 when unreadable)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return info.frames / float(info.samplerate)
    except Exception:  # noqa: BLE001  (an unreadable header counts as no audio; the loader reports it)
        return 0.0


def sounding_span(audio: np.ndarray, top_db: float, frame_length: int = 2048, hop_length: int = 512) -> int:
    """Samples from the first to the last frame within `top_db` of the loudest frame.

    The rule of librosa.effects.split/trim (frames of 2048, hop 512), so the
    lengths match what Dal Ri 2025 measured. (N,) -> sample count (0 if silent).
    """
    rms = frame_rms(audio, frame_length, hop_length)
    peak = float(rms.max()) if rms.size else 0.0
    if peak <= 0.0:
        return 0
    loud = np.flatnonzero(20 * np.log10(np.maximum(rms, 1e-10) / peak) > -top_db)
    return int(min(len(audio), (loud[-1] + 1) * hop_length) - loud[0] * hop_length)


def sounding_seconds(root: Path, rel_paths: Iterable[str], top_db: float,
                     progress: bool = False) -> dict[str, float]:
    """Non-silent length of each file (first to last sample within `top_db` of the peak).

    Decoding every file is slow, so results are cached in
    `<root>/.cache/durations-<top_db>.json` keyed by path, size and mtime
    (silently skipped when the folder is read-only). Unreadable files -> 0.0.
    """
    import soundfile as sf
    from tqdm.auto import tqdm

    cache_path = root / ".cache" / f"durations-{top_db:g}.json"
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    out, dirty = {}, False
    for rel in tqdm(list(rel_paths), desc="measuring durations", disable=not progress, leave=False):
        path = root / rel
        try:
            st = path.stat()
        except OSError:
            out[rel] = 0.0
            continue
        key = f"{rel}|{st.st_size}|{int(st.st_mtime)}"
        if key not in cache:
            try:
                audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
                cache[key] = sounding_span(audio.mean(axis=1), top_db) / sr
            except Exception:  # noqa: BLE001  (an undecodable file sounds for 0 s; the loader reports it)
                cache[key] = 0.0
            dirty = True
        out[rel] = cache[key]
    if dirty:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache))
            tmp.replace(cache_path)
        except OSError:
            pass
    return out

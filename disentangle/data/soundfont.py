"""Offline SoundFont rendering: single notes and event lists (`synths` plays them).

The default SoundFont is `TimGM6mb.sf2`, a General MIDI bank shipped inside the
`pretty_midi` package, so every machine that installs the project can render
the default corpora without downloading anything. Any `.sf2`/`.sf3` file works.

Facts this relies on (measured with tinysoundfont 0.3.7, see environment.md):
velocity changes the level (30/80/120 gave RMS ratios of about 1 : 2.7 : 4),
pitch bend spans +/-2 semitones by default, CC 11 (expression) scales the level.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .synths import Synth, SynthError, open_synth

#: One 16-bit step: samples below this quantise to zero in the written wav.
SILENCE = 1.0 / 32768.0


class SoundFontError(ValueError):
    """A SoundFont that cannot be used; the message names the file and why."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def default_soundfont() -> Path:
    """The General MIDI SoundFont shipped by `pretty_midi` (TimGM6mb.sf2)."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise SoundFontError(path, "pretty_midi is installed but its TimGM6mb.sf2 is missing; "
                                   "pass a SoundFont path explicitly")
    return path


def resolve_soundfont(soundfont: str | Path | None) -> Path:
    """Check that `soundfont` (or the default when None) is a readable .sf2/.sf3 file."""
    if soundfont is None:
        return default_soundfont()
    path = Path(soundfont).expanduser()
    if not path.exists():
        raise SoundFontError(path, "SoundFont file not found")
    if path.is_dir():
        raise SoundFontError(path, "is a folder, not a SoundFont file (.sf2 or .sf3)")
    if path.suffix.lower() not in (".sf2", ".sf3", ".sfo"):
        raise SoundFontError(path, f"unexpected extension {path.suffix!r}; expected a .sf2 or .sf3 SoundFont")
    if not os.access(path, os.R_OK):
        raise SoundFontError(path, "SoundFont file is not readable (permissions)")
    if path.stat().st_size == 0:
        raise SoundFontError(path, "SoundFont file is empty (0 bytes)")
    return path


@dataclass(frozen=True)
class Event:
    """One timed MIDI event on the renderer's single channel.

    kind: "on" (value = velocity, key = MIDI note), "off" (key), "bend"
      (value = bend in semitones, within +/- the bend range), "cc"
      (key = controller number, value = 0-127).
    """

    time: float
    kind: str
    key: int = 0
    value: float = 0.0


class SoundFontRenderer:
    """Renders notes and event lists from one SoundFont, mono float32 at `sample_rate`.

    Each render starts from a clean channel (all sounds off, controllers and
    bend reset), so the output of one call never depends on a previous call:
    corpora are reproducible whatever order or process renders them in.
    engine: the synthesizer that plays the SoundFont (`synths.ENGINES`).
    """

    def __init__(self, soundfont: str | Path | None = None, sample_rate: int = 22050,
                 gain_db: float = 0.0, bend_range: float = 2.0, engine: str = "tinysoundfont"):
        self.path = resolve_soundfont(soundfont)
        self.sample_rate = int(sample_rate)
        self.bend_range = float(bend_range)
        self.engine = engine
        try:
            self._synth: Synth = open_synth(engine, self.path, self.sample_rate, gain_db)
        except SynthError as exc:
            raise SoundFontError(self.path, str(exc)) from None
        self._program: int | None = None

    # -- presets ---------------------------------------------------------------
    def preset_name(self, program: int, bank: int = 0) -> str | None:
        """The preset's name in the SoundFont, or None when it has none."""
        return self._synth.preset_name(program, bank)

    def has_preset(self, program: int, bank: int = 0) -> bool:
        return self.preset_name(program, bank) is not None

    def _reset(self, program: int, bank: int = 0) -> None:
        synth = self._synth
        # sounds_off() may only start a quick release: render it away until the
        # output is exactly zero, so no earlier note leaks into this render.
        synth.sounds_off()
        for _ in range(400):
            if not np.any(self._generate(256)):
                break
        if self.preset_name(program, bank) is None:
            # TinySoundFont would silently fall back to another preset.
            raise SoundFontError(self.path, f"has no preset {program} in bank {bank}")
        try:
            synth.select(program, bank)
        except SynthError as exc:
            raise SoundFontError(self.path, str(exc)) from None
        synth.bend_range(self.bend_range)
        synth.bend(8192)
        synth.cc(11, 127)
        synth.cc(7, 100)
        self._program = program

    def _generate(self, n: int) -> np.ndarray:
        if n <= 0:
            return np.zeros(0, np.float32)
        return self._synth.generate(int(n))

    # -- rendering -------------------------------------------------------------
    def render_note(self, program: int, pitch: int, velocity: int, hold_s: float,
                    max_release_s: float = 2.0, bank: int = 0) -> np.ndarray:
        """One note held for `hold_s` seconds, then its release until silence.

        The release is rendered for at most `max_release_s` seconds and the
        result is trimmed of trailing digital silence (samples under one 16-bit
        step). Returns: (n_samples,) float32 mono.
        """
        self._reset(program, bank)
        self._synth.note_on(int(pitch), int(velocity))
        held = self._generate(round(hold_s * self.sample_rate))
        self._synth.note_off(int(pitch))
        tail = self._generate(round(max_release_s * self.sample_rate))
        return trim_trailing_silence(np.concatenate([held, tail]))

    def render_events(self, program: int, events: Iterable[Event], duration_s: float,
                      control: Sequence[tuple[str, int, np.ndarray]] = (),
                      block: int = 128, bank: int = 0) -> np.ndarray:
        """Render `events` over exactly `duration_s` seconds.

        control: continuous curves sampled once per `block` samples, each
          `(kind, key, values)` with kind "bend" (semitones) or "cc" (0-127)
          and `values` of length ceil(n_samples / block); they are applied at
          the start of each block (vibrato and expression curves).
        Discrete events are applied at their exact sample. Returns:
        (round(duration_s * sample_rate),) float32 mono.
        """
        self._reset(program, bank)
        n_total = round(duration_s * self.sample_rate)
        todo = sorted(events, key=lambda e: (e.time, e.kind != "off"))
        pending = [(round(e.time * self.sample_rate), e) for e in todo]
        out = np.zeros(n_total, np.float32)
        pos, k = 0, 0
        while pos < n_total:
            block_i = pos // block
            if pos % block == 0:
                for kind, key, values in control:
                    self._apply(Event(0.0, kind, key, float(values[min(block_i, len(values) - 1)])))
            while k < len(pending) and pending[k][0] <= pos:
                self._apply(pending[k][1])
                k += 1
            nxt = min(n_total, (block_i + 1) * block)
            if k < len(pending):
                nxt = min(nxt, max(pending[k][0], pos + 1))
            out[pos:nxt] = self._generate(nxt - pos)
            pos = nxt
        return out

    def _apply(self, e: Event) -> None:
        synth = self._synth
        if e.kind == "on":
            synth.note_on(int(e.key), int(e.value))
        elif e.kind == "off":
            synth.note_off(int(e.key))
        elif e.kind == "bend":
            # 14-bit wheel: 8192 is centre, +/-8192 spans +/- bend_range semitones.
            wheel = 8192 + round(8192 * float(e.value) / self.bend_range)
            synth.bend(int(min(16383, max(0, wheel))))
        elif e.kind == "cc":
            synth.cc(int(e.key), int(min(127, max(0, round(e.value)))))
        else:
            raise ValueError(f"unknown event kind {e.kind!r}")


def trim_trailing_silence(audio: np.ndarray, threshold: float = SILENCE) -> np.ndarray:
    """Drop trailing samples whose magnitude is below `threshold`. (N,) -> (M,), M <= N."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    return audio[: loud[-1] + 1] if loud.size else audio[:0]


def frame_rms(audio: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """RMS over `frame_length` samples centred on every `hop_length`-th sample (zero padded).

    The framing of librosa.feature.rms(center=True), in numpy so that corpus
    builds and loaders do not pay librosa's start-up cost.
    (N,) -> (1 + N // hop_length,) float64.
    """
    padded = np.pad(np.asarray(audio, dtype=np.float64), frame_length // 2)
    if len(padded) < frame_length:
        padded = np.pad(padded, (0, frame_length - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    return np.sqrt(np.mean(frames ** 2, axis=1))[: 1 + len(audio) // hop_length]


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit PCM atomically (temp file, then rename) so a crash never leaves half a file."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    sf.write(str(tmp), np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    tmp.replace(path)

"""The two synthesizers a SoundFont is played with: TinySoundFont and FluidSynth.

`SoundFontRenderer` drives one `Synth` on a single MIDI channel; the engine is
a property of the sample source (`sources.SampleSource.engine`):

- "tinysoundfont" (the default; pip only): every training bank.
- "fluidsynth" (the Debian `libfluidsynth3`, through `pyfluidsynth`): the
  MuseScore banks. TinySoundFont 0.3.7 plays MuseScore General Lite's piano
  without its pitch above about E5 (measured: share of the first 0.5 s's
  energy within 50 cents of the first 8 harmonics, 0.00-0.28 on 64 of its 264
  piano notes, all pitches 75-108; 0.87-1.00 from FluidR3 Mono, the bank it
  builds on, and 0.92-0.99 from FluidSynth 2.3.1 at mf/ff). No other note of
  the 9,105 pitched notes of the five default sources scored under 0.3.

Both produce float32 stereo that is averaged to mono; neither adds reverb or
chorus, so a render holds the bank's samples and envelopes only.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
from pathlib import Path
from typing import Any, Protocol

import numpy as np

ENGINES: tuple[str, ...] = ("tinysoundfont", "fluidsynth")

#: FluidSynth's output gain (linear; its default is 0.2), set so that a note at
#: velocity 80 has TinySoundFont's level on the same bank. Measured at 0.2 on
#: MuseScore General Lite (8 instruments x 5 pitches 48-72, first 0.5 s, notes
#: both engines play with their pitch): median RMS ratio FluidSynth /
#: TinySoundFont -8.1 dB at velocity 80 (FluidR3 Mono -8.8, FluidR3 -9.4), so
#: 0.2 * 10^(8.1/20) = 0.51. The engines' velocity curves differ: the same
#: ratio is -13.8 dB at velocity 30 and -5.7 dB at 120 (FluidSynth applies the
#: SoundFont 2 default velocity modulators), so a FluidSynth source spans a
#: wider range of levels than a TinySoundFont one.
FLUID_GAIN = 0.51


class SynthError(RuntimeError):
    """A synthesizer that cannot be used here (not installed, or a SoundFont it refuses)."""


class Synth(Protocol):
    """One SoundFont loaded into a synthesizer; MIDI channel 0 only."""

    def preset_name(self, program: int, bank: int) -> str | None: ...
    def select(self, program: int, bank: int) -> None: ...
    def sounds_off(self) -> None: ...
    def note_on(self, key: int, velocity: int) -> None: ...
    def note_off(self, key: int) -> None: ...
    def bend(self, wheel: int) -> None:
        """14-bit pitch wheel, 8192 = centre."""
    def bend_range(self, semitones: float) -> None: ...
    def cc(self, controller: int, value: int) -> None: ...
    def generate(self, n: int) -> np.ndarray:
        """The next n samples: (n,) float32 mono."""


class TinySynth:
    """TinySoundFont through the `tinysoundfont` package."""

    def __init__(self, path: Path, sample_rate: int, gain_db: float = 0.0):
        import tinysoundfont

        self._synth = tinysoundfont.Synth(gain=gain_db, samplerate=sample_rate)
        try:
            self._sfid = self._synth.sfload(str(path))
        except Exception as exc:  # noqa: BLE001  (tinysoundfont raises bare RuntimeErrors)
            raise SynthError(f"not a readable SoundFont ({exc})") from None

    def preset_name(self, program: int, bank: int) -> str | None:
        try:
            return self._synth.sfpreset_name(self._sfid, bank, program)
        except Exception:  # noqa: BLE001  (no preset: tinysoundfont raises a bare error)
            return None

    def select(self, program: int, bank: int) -> None:
        try:
            self._synth.program_select(0, self._sfid, bank, program)
        except Exception as exc:  # noqa: BLE001  (as above)
            raise SynthError(f"cannot select preset {program} in bank {bank} ({exc})") from None

    def sounds_off(self) -> None:
        self._synth.sounds_off()

    def note_on(self, key: int, velocity: int) -> None:
        self._synth.noteon(0, key, velocity)

    def note_off(self, key: int) -> None:
        self._synth.noteoff(0, key)

    def bend(self, wheel: int) -> None:
        self._synth.pitchbend(0, wheel)

    def bend_range(self, semitones: float) -> None:
        self._synth.pitchbend_range(0, semitones)

    def cc(self, controller: int, value: int) -> None:
        self._synth.control_change(0, controller, value)

    def generate(self, n: int) -> np.ndarray:
        stereo = np.frombuffer(self._synth.generate(int(n)), dtype=np.float32).reshape(-1, 2)
        return stereo.mean(axis=1)


@functools.cache
def _fluid_lib() -> ctypes.CDLL:
    """libfluidsynth with the two calls pyfluidsynth does not wrap declared (once per process)."""
    try:
        import fluidsynth
    except ImportError as exc:  # pyfluidsynth raises ImportError when libfluidsynth is missing
        raise SynthError(f"FluidSynth is not available ({exc}; `apt-get install libfluidsynth3`, "
                         "`pip install pyfluidsynth`)") from None
    lib = ctypes.CDLL(fluidsynth.lib)
    lib.fluid_synth_write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                            ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.fluid_synth_pitch_wheel_sens.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    return lib


class FluidSynth:
    """FluidSynth (libfluidsynth through `pyfluidsynth`), reverb and chorus off, float output.

    `sounds_off` starts a new synthesizer: a reused one keeps state between
    notes (probably its voices' filters), so the same note rendered after
    another differed by up to 0.003 (first render of a synthesizer against
    later ones; 1e-6 between later ones), and a resumed build would not
    equal a whole one. Samples load per preset on selection
    (`synth.dynamic-sample-loading`) and stay in FluidSynth's cache while a
    synthesizer holds them, so the previous synthesizer lives until the next
    start: a MuseScore General Lite note then renders in ~0.045 s (the corpus
    plan goes instrument by instrument), against ~0.34 s when every new
    synthesizer loaded its preset afresh and 0.08 s per synthesizer with
    every sample preloaded.
    """

    def __init__(self, path: Path, sample_rate: int, gain_db: float = 0.0):
        self._lib = _fluid_lib()
        self._path, self._rate, self._gain = str(path), float(sample_rate), FLUID_GAIN * 10 ** (gain_db / 20)
        self._fs: Any = None  # fluidsynth.Synth (the package has no type hints)
        self._previous: Any = None
        self._start()

    def _new(self) -> Any:
        import fluidsynth

        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.cpu-cores": 1,
                    "synth.polyphony": 64, "synth.dynamic-sample-loading": 1}
        fs = fluidsynth.Synth(gain=self._gain, samplerate=self._rate, channels=16, **settings)
        self._sfid = fs.sfload(self._path)
        if self._sfid < 0:
            fs.delete()
            raise SynthError("not a readable SoundFont (FluidSynth refused it)")
        return fs

    def _start(self) -> None:
        # The synthesizer before stays alive until the next start: it holds the
        # samples of the preset it played, so the new one finds them cached.
        new = self._new()
        if self._previous is not None:
            self._previous.delete()
        self._previous, self._fs = self._fs, new

    def preset_name(self, program: int, bank: int) -> str | None:
        return self._fs.sfpreset_name(self._sfid, bank, program)

    def select(self, program: int, bank: int) -> None:
        if self._fs.program_select(0, self._sfid, bank, program) != 0:
            raise SynthError(f"cannot select preset {program} in bank {bank}")

    def sounds_off(self) -> None:
        self._start()

    def note_on(self, key: int, velocity: int) -> None:
        self._fs.noteon(0, key, velocity)

    def note_off(self, key: int) -> None:
        self._fs.noteoff(0, key)

    def bend(self, wheel: int) -> None:
        self._fs.pitch_bend(0, wheel - 8192)  # pyfluidsynth takes it centred on 0

    def bend_range(self, semitones: float) -> None:
        if semitones != round(semitones):
            raise SynthError(f"FluidSynth bends by whole semitones only, not {semitones}")
        self._lib.fluid_synth_pitch_wheel_sens(self._fs.synth, 0, int(semitones))

    def cc(self, controller: int, value: int) -> None:
        self._fs.cc(0, controller, value)

    def generate(self, n: int) -> np.ndarray:
        left, right = np.zeros(int(n), np.float32), np.zeros(int(n), np.float32)
        if n > 0:
            self._lib.fluid_synth_write_float(self._fs.synth, int(n), left.ctypes.data, 0, 1,
                                              right.ctypes.data, 0, 1)
        return (left + right) * np.float32(0.5)

    def __del__(self) -> None:
        for fs in (getattr(self, "_fs", None), getattr(self, "_previous", None)):
            if fs is not None:
                # At interpreter exit pyfluidsynth's globals may be gone already.
                with contextlib.suppress(Exception):
                    fs.delete()


def open_synth(engine: str, path: Path, sample_rate: int, gain_db: float = 0.0) -> Synth:
    """A synthesizer of kind `engine` (one of `ENGINES`) with the SoundFont at `path` loaded."""
    if engine == "tinysoundfont":
        return TinySynth(path, sample_rate, gain_db)
    if engine == "fluidsynth":
        return FluidSynth(path, sample_rate, gain_db)
    raise ValueError(f"unknown synthesizer {engine!r}; choose from {list(ENGINES)}")

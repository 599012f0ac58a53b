"""Does a rendered note sound at its labelled pitch? A check on a synthesizer's output.

A SoundFont render can be wrong without being silent: TinySoundFont 0.3.7
plays MuseScore General Lite's piano above about E5 as a low thud with no
energy at the labelled pitch (see `synths`). Such a note carries a pitch label
no model can read, so the builders measure every pitched note and list the
ones under `WEAK_SHARE` in their report.
"""
from __future__ import annotations

import numpy as np

#: A pitched note with less of its energy than this at its harmonics is flagged.
#: Measured over the 9,105 pitched notes of the five default sources: the 64
#: broken MuseScore piano renders (TinySoundFont) scored 0.00-0.28 and every
#: other note 0.3 or more (docs/results.md, session 14).
WEAK_SHARE = 0.3


def harmonic_share(audio: np.ndarray, sample_rate: int, midi: int, seconds: float = 0.5,
                   harmonics: int = 8, cents: float = 50.0) -> float:
    """Share of the energy of the first `seconds` that lies within `cents` of the note's harmonics.

    audio: (n_samples,) mono; midi: the labelled MIDI note (A4 = 69 = 440 Hz).
    The segment is Hann-windowed and zero-padded 8x; a band is at least the
    window's main lobe wide (+-2 / duration Hz), which is wider than 50 cents
    below ~E3's fundamental. Returns a value in [0, 1]; 0 for silence.
    """
    seg = np.asarray(audio, dtype=np.float64)[: int(seconds * sample_rate)]
    if seg.size < 16:
        return 0.0
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size), n=8 * seg.size)) ** 2
    total = float(spectrum.sum())
    if total <= 0.0:
        return 0.0
    freqs = np.fft.rfftfreq(8 * seg.size, 1.0 / sample_rate)
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12.0)
    ratio = 2.0 ** (cents / 1200.0)
    lobe = 2.0 * sample_rate / seg.size
    near = np.zeros(freqs.shape, dtype=bool)
    for k in range(1, harmonics + 1):
        half = max(k * f0 * (ratio - 1.0), lobe)
        near |= np.abs(freqs - k * f0) < half
    return float(spectrum[near].sum() / total)

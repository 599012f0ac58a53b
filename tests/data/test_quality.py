"""The pitch check on rendered notes."""
from __future__ import annotations

import numpy as np

from disentangle.data.quality import WEAK_SHARE, harmonic_share

SR = 22050


def tone(midi: float, seconds: float = 0.6, partials: int = 6) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1) if k * f0 < SR / 2)


def test_a_note_at_its_label_passes_and_a_mislabelled_one_fails():
    for midi in (28, 60, 100):
        assert harmonic_share(tone(midi), SR, midi) > 0.9
    assert harmonic_share(tone(61), SR, 60) < WEAK_SHARE  # a semitone off
    assert harmonic_share(tone(45), SR, 100) < WEAK_SHARE  # the thud of a broken render


def test_silence_noise_and_short_clips():
    assert harmonic_share(np.zeros(SR), SR, 60) == 0.0
    assert harmonic_share(np.zeros(4), SR, 60) == 0.0
    noise = np.random.default_rng(0).standard_normal(SR)
    assert harmonic_share(noise, SR, 60) < WEAK_SHARE

"""Resampling keeps a tone's pitch and level and gives the expected length."""
from __future__ import annotations

import numpy as np
import pytest

from disentangle.audio.resample import resample


def test_tone_survives_resampling():
    sr, target = 22050, 16000
    t = np.arange(sr) / sr
    tone = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 1000 * t)]).astype(np.float32)
    out = resample(tone, sr, target)
    assert out.shape == (2, target) and out.dtype == np.float32
    for row, freq, amp in zip(out, (440, 1000), (0.5, 0.2)):
        spectrum = np.abs(np.fft.rfft(row[1000:-1000]))
        peak_hz = np.argmax(spectrum) * target / len(row[1000:-1000])
        assert peak_hz == pytest.approx(freq, abs=2)
        assert np.sqrt(np.mean(row[1000:-1000] ** 2)) == pytest.approx(amp / np.sqrt(2), rel=0.02)


def test_same_rate_is_untouched_and_bad_rates_refused():
    x = np.ones(10, np.float32)
    assert resample(x, 16000, 16000) is not None and np.array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ValueError, match="positive"):
        resample(x, 0, 16000)

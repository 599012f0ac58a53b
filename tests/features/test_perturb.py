"""Perturbations: seeded determinism, correct pitch, sane level for every effect."""
from __future__ import annotations

import numpy as np
import pytest

from disentangle.features.perturb import (
    EFFECTS,
    _make_effect,
    match_level,
    pitch_shift,
    random_pitch_shift,
    random_timbre_distortion,
    timbre_distortion,
)

SR = 22050


def _f0(x: np.ndarray) -> float:
    """Frequency of the strongest peak of a long FFT (tones here have a strong f0)."""
    spec = np.abs(np.fft.rfft(x[:16384] * np.hanning(16384)))
    return float(np.argmax(spec) * SR / 16384)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_same_seed_same_perturbation(tone):
    x = tone(330.0, 1.0)
    for fn in (random_pitch_shift, random_timbre_distortion):
        a = fn(x, SR, np.random.default_rng(7))
        b = fn(x, SR, np.random.default_rng(7))
        np.testing.assert_array_equal(a, b)
        assert a.shape == x.shape and a.dtype == np.float32
    # different seeds differ (for at least one of a few seeds)
    outs = [random_timbre_distortion(x, SR, np.random.default_rng(s)) for s in range(3)]
    assert any(not np.allclose(outs[0], o) for o in outs[1:])


def test_pitch_shift_moves_f0(tone):
    x = tone(440.0, 1.0, decay=0.5)
    for semis in (-7, -3, 4, 7):
        y = pitch_shift(x, SR, semis)
        expected = 440.0 * 2 ** (semis / 12)
        assert _f0(y) == pytest.approx(expected, rel=0.02)
    np.testing.assert_array_equal(pitch_shift(x, SR, 0), x)


def test_random_shift_range_is_integers_in_plus_minus_7(tone):
    x = tone(440.0, 0.75, decay=0.5)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        y = random_pitch_shift(x, SR, rng)
        semis = 12 * np.log2(_f0(y) / 440.0)
        assert abs(semis - round(semis)) < 0.25 and -7 <= round(semis) <= 7
        seen.add(round(semis))
    assert len(seen) >= 4


@pytest.mark.parametrize("name", EFFECTS)
def test_every_effect_keeps_level_and_finite(name, tone):
    x = tone(196.0, 1.0)
    for seed in range(3):
        y = timbre_distortion(x, SR, [_make_effect(name, np.random.default_rng(seed), SR)])
        assert y.shape == x.shape and np.isfinite(y).all()
        assert np.max(np.abs(y)) <= 1.0
        assert _rms(y) > 0.1 * _rms(x)  # not silenced
        assert _rms(y) < 1.05 * _rms(x)  # no gain blow-up


def test_two_distinct_effects_and_pitch_kept(tone):
    x = tone(330.0, 1.0, decay=0.5)
    y = random_timbre_distortion(x, SR, np.random.default_rng(1), n_effects=2)
    assert np.isfinite(y).all() and _rms(y) > 0.1 * _rms(x)
    with pytest.raises(ValueError):
        random_timbre_distortion(x, SR, np.random.default_rng(1), n_effects=len(EFFECTS) + 1)


def test_match_level_handles_nan_and_silence():
    ref = np.full(100, 0.5, np.float32)
    out = np.full(100, 5.0, np.float32)
    out[3] = np.nan
    fixed = match_level(out, ref)
    assert np.isfinite(fixed).all() and _rms(fixed) <= _rms(ref) + 1e-6
    assert np.all(match_level(np.zeros(100, np.float32), ref) == 0)

"""Random spectral EQ: bounded, per item, silence kept, reproducible, and in dB of the features."""
from __future__ import annotations

import torch

from disentangle.features.augment import SpectralEQ
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser


def _batch() -> torch.Tensor:
    x = torch.full((4, 32, 10), -1.0)
    x[:, :, 2:8] = torch.linspace(-0.6, 0.4, 32)[None, :, None]  # a sounding part; the rest silent
    return x


def test_curves_are_bounded_and_differ_per_item():
    eq = SpectralEQ(tilt_db=6.0, bumps_db=3.0, units_per_db=1.0)
    c = eq.curves(8, 32, torch.Generator().manual_seed(0))
    assert c.shape == (8, 32) and c.abs().max() <= 9.0 + 1e-5
    assert not torch.allclose(c[0], c[1])


def test_silence_stays_silent_and_output_in_range():
    eq = SpectralEQ(tilt_db=6.0, bumps_db=3.0, units_per_db=0.05)
    x = _batch()
    y = eq(x, torch.Generator().manual_seed(1))
    assert torch.equal(y[:, :, :2], x[:, :, :2]) and torch.equal(y[:, :, 8:], x[:, :, 8:])
    assert not torch.equal(y[:, :, 2:8], x[:, :, 2:8]) and y.abs().max() <= 1.0
    # The same generator seed gives the same curves (resume replays them).
    assert torch.equal(y, eq(x, torch.Generator().manual_seed(1)))


def test_units_follow_the_feature_scale_and_normaliser():
    norm = Normaliser("minmax", lo=0.0, hi=1.0)
    db = SpectralEQ.for_features(6.0, 0.0, FeatureConfig(scale="db"), norm)
    assert abs(db.units_per_db - 2.0 / 80.0) < 1e-9  # 1 dB = 1/80 scaled unit, x2 for [-1, 1]
    log = SpectralEQ.for_features(6.0, 0.0, FeatureConfig(scale="log"), None)
    assert abs(log.units_per_db - 0.11512925) < 1e-6
    assert not SpectralEQ.for_features(0.0, 0.0, FeatureConfig(), norm).active

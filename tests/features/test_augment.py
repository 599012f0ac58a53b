"""Random spectral EQ and random gain: bounded, per item, silence kept, reproducible, in dB of the features."""
from __future__ import annotations

import torch

from disentangle.features.augment import RandomGain, SpectralEQ
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


def test_gain_on_the_db_scale_is_what_the_features_of_louder_audio_are():
    """The view equals the features of the same audio at that gain (the floor moves too)."""
    from disentangle.features.spectrogram import audio_to_features

    cfg = FeatureConfig(n_mels=24, n_frames=12)
    t = torch.arange(cfg.n_samples) / cfg.sample_rate
    audio = (0.1 * torch.sin(2 * torch.pi * 440 * t) * torch.exp(-3 * t)).numpy()
    norm = Normaliser("minmax", lo=-0.5, hi=1.5)
    gain = RandomGain.for_features(12.0, cfg, norm)
    assert gain.exact and gain.active
    x = torch.as_tensor(norm(audio_to_features(audio, cfg)))[None]
    g = torch.Generator().manual_seed(3)
    view = gain(x, g)
    db = float((view - x).mean() / gain.units_per_db)  # the gain this item was given
    assert 0 < abs(db) <= 12.0
    louder = torch.as_tensor(norm(audio_to_features(audio * 10 ** (db / 20), cfg)))[None]
    assert torch.allclose(view, louder, atol=1e-4)
    assert torch.equal(view, gain(x, torch.Generator().manual_seed(3)))


def test_gain_on_the_log_scale_keeps_silence():
    gain = RandomGain(max_db=10.0, units_per_db=0.05, exact=False)
    x = _batch()
    y = gain(x, torch.Generator().manual_seed(0))
    assert torch.equal(y[:, :, :2], x[:, :, :2]) and torch.equal(y[:, :, 8:], x[:, :, 8:])
    shift = (y - x)[:, 0, 2]
    assert (shift.abs() <= 0.5 + 1e-6).all() and len(set(shift.tolist())) == 4
    assert not RandomGain.for_features(0.0, FeatureConfig(), None).active

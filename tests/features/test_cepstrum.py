"""Cepstral liftering: exact split, smooth envelope, harmonics in the fine structure."""
from __future__ import annotations

import pytest
import torch

from disentangle.features.cepstrum import lifter, real_cepstrum
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import audio_to_features, prepare_audio


def _log_spec(tone, f0: float) -> torch.Tensor:
    cfg = FeatureConfig(kind="stft", scale="log", n_frames=20)
    return audio_to_features(prepare_audio(tone(f0, 1.0), cfg), cfg)  # (513, 20)


def test_envelope_plus_fine_is_original(tone):
    x = torch.stack([_log_spec(tone, 220.0), _log_spec(tone, 523.0)])  # (2, 513, 20)
    env, fine = lifter(x, cutoff=100)
    assert env.shape == fine.shape == x.shape
    torch.testing.assert_close(env + fine, x, atol=1e-4, rtol=0)
    # any leading batch shape, and affine rescaling commutes with liftering
    env2, _ = lifter(3.0 * x[0] + 2.0, cutoff=100)
    torch.testing.assert_close(env2, 3.0 * env[0] + 2.0, atol=1e-3, rtol=0)


def test_envelope_is_smooth_and_fine_holds_harmonics(tone):
    x = _log_spec(tone, 220.0)
    env, fine = lifter(x, cutoff=30)
    # total variation along frequency: the envelope is far smoother
    tv = lambda a: (a[1:] - a[:-1]).abs().sum(0).mean()
    assert tv(env) < 0.2 * tv(x)
    # the fine structure peaks at the partials (bin of k * 220 Hz)
    frame = fine[:, 8]
    bin_hz = 22050 / 1024
    partials = [round(k * 220.0 / bin_hz) for k in range(1, 6)]
    between = [round((k + 0.5) * 220.0 / bin_hz) for k in range(1, 6)]
    assert float(frame[partials].mean()) > float(frame[between].mean()) + 2.0


def test_cutoff_extremes(tone):
    x = _log_spec(tone, 330.0)
    env_all, fine_none = lifter(x, cutoff=x.shape[0])
    torch.testing.assert_close(env_all, x, atol=1e-4, rtol=0)
    assert float(fine_none.abs().max()) < 1e-4
    env_mean, _ = lifter(x, cutoff=1)  # only quefrency 0: each frame's mean
    torch.testing.assert_close(env_mean, x.mean(0, keepdim=True).expand_as(x), atol=1e-2, rtol=0)
    assert real_cepstrum(x).shape == (1024, 20)
    with pytest.raises(ValueError):
        lifter(x, cutoff=0)

"""Feature front-end: exact frame counts, agreement with librosa, normaliser round trips."""
from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import (
    Normaliser,
    audio_to_features,
    features_to_magnitude,
    normalise_amplitude,
    prepare_audio,
    stft_magnitude,
)

SR = 22050


@pytest.mark.parametrize("kind", ["mel", "stft"])
@pytest.mark.parametrize("scale", ["log", "db"])
@pytest.mark.parametrize("n_frames,hop", [(64, 512), (43, 512), (17, 256)])
def test_exact_frames_and_shapes(kind, scale, n_frames, hop, tone):
    cfg = FeatureConfig(kind=kind, scale=scale, n_frames=n_frames, hop_length=hop, n_mels=40)
    audio = prepare_audio(tone(330.0, 2.0), cfg)
    assert audio.shape == (cfg.n_samples,)
    single = audio_to_features(audio, cfg)
    assert single.shape == (cfg.n_bins, n_frames)
    batch = audio_to_features(np.stack([audio, audio * 0.5]), cfg)
    assert batch.shape == (2, cfg.n_bins, n_frames)
    assert torch.allclose(batch[0], single, atol=1e-5)
    assert torch.isfinite(batch).all()
    # a wrong length is cropped/padded rather than giving another frame count
    assert audio_to_features(audio[:1000], cfg).shape == (cfg.n_bins, n_frames)


def test_prepare_audio_trims_crops_pads(tone):
    cfg = FeatureConfig(n_frames=32, trim_db=60.0)
    note = tone(440.0, 0.3)
    padded = np.concatenate([np.zeros(5000, np.float32), note, np.zeros(3000, np.float32)])
    out = prepare_audio(padded, cfg)
    assert out.shape == (cfg.n_samples,)
    # leading silence removed: the note starts within one frame of sample 0
    assert np.argmax(np.abs(out) > 1e-3) < cfg.n_fft
    long = prepare_audio(tone(440.0, 3.0, decay=0.0), cfg)
    assert long.shape == (cfg.n_samples,)
    assert abs(long[-1]) < 1e-3  # faded out where it was cut
    untrimmed = prepare_audio(padded, FeatureConfig(n_frames=32, trim_db=None))
    assert np.all(untrimmed[:5000] == 0)


def test_mean_amplitude_one(tone):
    cfg = FeatureConfig(n_frames=32, amplitude="mean_one")
    for level in (0.01, 0.5):
        audio = prepare_audio(tone(440.0, 1.0) * level, cfg)
        mean = float(stft_magnitude(torch.from_numpy(audio), cfg).mean())
        assert mean == pytest.approx(1.0, rel=1e-4)
    assert np.all(normalise_amplitude(np.zeros(4096, np.float32), cfg) == 0)


def test_db_mel_matches_librosa(tone):
    cfg = FeatureConfig(kind="mel", scale="db", n_mels=64, n_frames=40)
    audio = prepare_audio(tone(261.6, 1.5), cfg)
    mel = librosa.feature.melspectrogram(y=audio, sr=SR, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                         n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, power=2.0,
                                         center=True, pad_mode="constant")
    ref = (librosa.power_to_db(mel, ref=1.0, top_db=80.0) + 80) / 80
    ours = audio_to_features(audio, cfg).numpy()
    assert np.abs(ours - ref).max() < 1e-3


def test_log_stft_matches_librosa(tone):
    cfg = FeatureConfig(kind="stft", scale="log", n_frames=40)
    audio = prepare_audio(tone(261.6, 1.5), cfg)
    ref = np.log(1e-5 + np.abs(librosa.stft(audio, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                            center=True, pad_mode="constant")))
    ours = audio_to_features(audio, cfg).numpy()
    # near the eps floor float32 rounding of the two FFTs dominates: compare
    # everything above it
    audible = ref > np.log(1e-3)
    assert audible.mean() > 0.3
    assert np.abs(ours - ref)[audible].max() < 1e-3


@pytest.mark.parametrize("mode", ["minmax", "mean", "none"])
def test_normaliser_round_trip(mode):
    cfg = FeatureConfig(normalise=mode)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 16, 12)).astype(np.float32) * 3 + rng.normal(size=(8, 1, 1)).astype(np.float32)
    norm = Normaliser.fit(x, cfg)
    y = norm(x)
    if mode != "none":
        assert y.min() == pytest.approx(-1.0, abs=1e-5) and y.max() == pytest.approx(1.0, abs=1e-5)
    back = norm.inverse(y)
    if mode == "mean":
        # the item mean is not recoverable; inverse restores the corpus-average level
        expected = x - x.mean(axis=(1, 2), keepdims=True) + norm.offset
    else:
        expected = x
    np.testing.assert_allclose(back, expected, atol=1e-4)
    # tensors work too and a dict round trip keeps the mapping
    again = Normaliser.from_dict(norm.to_dict())
    assert again == norm
    torch.testing.assert_close(again(torch.from_numpy(x)), torch.from_numpy(np.asarray(y)), atol=1e-5, rtol=0)


def test_features_to_magnitude_inverts(tone):
    audio = prepare_audio(tone(330.0, 1.5), FeatureConfig(n_frames=40))
    for scale in ("log", "db"):
        cfg = FeatureConfig(kind="stft", scale=scale, n_frames=40)
        mag = stft_magnitude(torch.from_numpy(audio), cfg)
        back = features_to_magnitude(audio_to_features(audio, cfg).unsqueeze(0), cfg)[0]
        assert back.shape == (cfg.n_fft // 2 + 1, 40)
        loud = mag > mag.max() * 1e-3  # below top_db the db scale clips by design
        rel = (back[loud] - mag[loud]).abs() / mag[loud]
        assert rel.max() < 1e-3


@pytest.mark.parametrize("n_mels", [64, 128])
def test_mel_inverse_as_good_as_librosa(n_mels, tone):
    """The gelsd least-squares inverse (rank-deficient at 128 bands) is as close
    to the true magnitude as librosa's NNLS mel_to_stft."""
    cfg = FeatureConfig(kind="mel", scale="log", n_mels=n_mels, n_frames=30)
    audio = prepare_audio(tone(196.0, 1.0), cfg)
    mag = stft_magnitude(torch.from_numpy(audio), cfg).numpy()
    ours = features_to_magnitude(audio_to_features(audio, cfg), cfg).numpy()
    assert ours.min() >= 0 and np.isfinite(ours).all()
    fb = librosa.filters.mel(sr=SR, n_fft=cfg.n_fft, n_mels=n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    ref = librosa.feature.inverse.mel_to_stft(fb @ mag, sr=SR, n_fft=cfg.n_fft, power=1.0,
                                              fmin=cfg.fmin, fmax=cfg.fmax)
    err_ours = np.linalg.norm(ours - mag) / np.linalg.norm(mag)
    err_ref = np.linalg.norm(ref - mag) / np.linalg.norm(mag)
    assert err_ours <= err_ref * 1.05


def test_trim_bounds_match_librosa():
    from disentangle.features.spectrogram import trim_bounds

    rng = np.random.default_rng(0)
    for _ in range(5):
        x = np.concatenate([np.zeros(rng.integers(0, 9000)), rng.normal(size=rng.integers(100, 30000)),
                            1e-5 * rng.normal(size=rng.integers(0, 9000))]).astype(np.float32)
        ref = librosa.effects.trim(x, top_db=60, frame_length=1024, hop_length=512)[1]
        assert trim_bounds(x, 60, 1024, 512) == tuple(int(v) for v in ref)
    assert trim_bounds(np.zeros(5000, np.float32), 60, 1024, 512) == (0, 0)

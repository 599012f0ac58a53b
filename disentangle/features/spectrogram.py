"""Audio -> spectrogram features -> back, in batched, device-agnostic torch.

The pipeline every model input goes through:

    audio --prepare_audio--> (n_samples,) --audio_to_features--> scaled (F, T)
          --Normaliser--> normalised (F, T)  (the model's input/output space)

and the way back for listening:

    normalised --Normaliser.inverse--> scaled --features_to_magnitude-->
    linear magnitude (n_fft//2+1, T) --griffin_lim--> audio

Conventions (all from `FeatureConfig`):
- STFT: periodic Hann window, `center=True` with zero padding, so exactly
  `n_samples = (n_frames - 1) * hop_length` samples give `n_frames` frames.
- kind "mel": the mel filterbank of `librosa.filters.mel` (Slaney norm) applied
  to |STFT| for scale "log" and to |STFT|^2 for scale "db" (as
  `librosa.feature.melspectrogram(power=1 | 2)` would); kind "stft" keeps all
  n_fft//2+1 bins.
- scale "log": log(LOG_EPS + magnitude); scale "db": power_to_db(ref=1,
  amin=1e-10, top_db=80) per item, then (x + 80) / 80 (Dal Ri 2025).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .config import FeatureConfig

#: Floor inside log(eps + magnitude) for scale "log".
LOG_EPS = 1e-5
#: Floor and dynamic range of scale "db" (librosa.power_to_db defaults used by Dal Ri).
DB_AMIN = 1e-10
TOP_DB = 80.0
#: Fade applied where prepare_audio cuts a long clip, so the crop is not a click.
FADE_SECONDS = 0.05


# --------------------------------------------------------------------------
# audio-level preparation
# --------------------------------------------------------------------------
def normalise_amplitude(audio: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Scale a clip so the mean of its linear STFT magnitude is one.

    This is Tanaka et al.'s "normalised such that the average amplitude of each
    spectrogram was one", done on the audio: the STFT is linear, so scaling the
    waveform by c scales every magnitude by c. A silent clip is returned as is.

    audio: (N,) float. Returns (N,) float32.
    """
    audio = np.asarray(audio, dtype=np.float32)
    mag = stft_magnitude(torch.from_numpy(audio), cfg)
    mean = float(mag.mean())
    if not np.isfinite(mean) or mean <= 1e-12:
        return audio
    return (audio / mean).astype(np.float32)


def trim_bounds(audio: np.ndarray, top_db: float, frame_length: int, hop_length: int
                ) -> tuple[int, int]:
    """(start, end) samples of the non-silent part, as `librosa.effects.trim`.

    A frame is silent when its mean-square level is more than `top_db` below
    the loudest frame's (frames centred, zero-padded). Written in numpy
    because librosa's version costs seconds of JIT compilation on the first
    call of every process, i.e. of every DataLoader worker.

    audio: (N,). Returns (0, 0) for all-zero audio.
    """
    pad = frame_length // 2
    padded = np.pad(np.asarray(audio, dtype=np.float64), (pad, pad))
    n_frames = 1 + (padded.size - frame_length) // hop_length
    if n_frames < 1:
        return 0, audio.size
    # mean square per frame from a cumulative sum: O(N) whatever the frame size
    csum = np.concatenate([[0.0], np.cumsum(padded ** 2)])
    starts = np.arange(n_frames) * hop_length
    ms = (csum[starts + frame_length] - csum[starts]) / frame_length
    peak = ms.max()
    if peak <= 0:
        return 0, 0
    loud = np.flatnonzero(10 * np.log10(np.maximum(ms, 1e-10) / peak) > -top_db)
    start = int(loud[0] * hop_length)
    end = int(min(audio.size, (loud[-1] + 1) * hop_length))
    return start, end


def prepare_audio(audio: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Trim silence, then crop or zero-pad to exactly `cfg.n_samples`.

    Leading/trailing parts quieter than `cfg.trim_db` below the peak are
    removed (librosa.effects.trim); a clip still longer than `n_samples` is
    cut and gets a short raised-cosine fade-out (FADE_SECONDS) so that the cut
    does not add a broadband click to the last frames; a shorter one is
    zero-padded at the end. With `cfg.amplitude == "mean_one"` the result is
    rescaled by `normalise_amplitude`.

    audio: (N,) float mono at `cfg.sample_rate`. Returns (cfg.n_samples,) float32.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = cfg.n_samples
    if cfg.trim_db is not None and audio.size:
        start, end = trim_bounds(audio, cfg.trim_db, cfg.n_fft, cfg.hop_length)
        audio = audio[start:end]
    if audio.size > n:
        audio = audio[:n].copy()
        fade = min(int(FADE_SECONDS * cfg.sample_rate), n // 4)
        if fade > 1:
            audio[-fade:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, fade, dtype=np.float32)))
    elif audio.size < n:
        audio = np.pad(audio, (0, n - audio.size))
    if cfg.amplitude == "mean_one":
        audio = normalise_amplitude(audio, cfg)
    return np.ascontiguousarray(audio, dtype=np.float32)


# --------------------------------------------------------------------------
# spectrograms
# --------------------------------------------------------------------------
def _as_tensor(audio: np.ndarray | Tensor) -> Tensor:
    if isinstance(audio, Tensor):
        return audio.float()
    return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))


def hann_window(cfg: FeatureConfig, device: torch.device | str | None = None) -> Tensor:
    """The periodic Hann window of length n_fft (as librosa's "hann")."""
    return torch.hann_window(cfg.n_fft, periodic=True, device=device)


def stft(audio: Tensor, cfg: FeatureConfig) -> Tensor:
    """Complex STFT. audio: (..., N) -> (..., n_fft//2+1, 1 + N // hop) complex64."""
    shape = audio.shape[:-1]
    flat = audio.reshape(-1, audio.shape[-1])
    spec = torch.stft(flat, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                      window=hann_window(cfg, audio.device), center=True,
                      pad_mode="constant", return_complex=True)
    return spec.reshape(*shape, *spec.shape[-2:])


def stft_magnitude(audio: Tensor, cfg: FeatureConfig) -> Tensor:
    """|STFT|. audio: (..., N) -> (..., n_fft//2+1, 1 + N // hop)."""
    return stft(audio, cfg).abs()


@functools.lru_cache(maxsize=16)
def _mel_basis_cpu(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> Tensor:
    import librosa

    fb = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return torch.from_numpy(fb.astype(np.float32))


def mel_basis(cfg: FeatureConfig, device: torch.device | str | None = None) -> Tensor:
    """librosa's mel filterbank as a tensor: (n_mels, n_fft//2+1)."""
    fb = _mel_basis_cpu(cfg.sample_rate, cfg.n_fft, cfg.n_mels, float(cfg.fmin), float(cfg.fmax))
    return fb.to(device) if device is not None else fb


@functools.lru_cache(maxsize=16)
def _mel_pinv_cpu(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> Tensor:
    # Least-squares (minimum-norm) inverse of the filterbank. The filterbank is
    # rank-deficient for many bands (empty low bands at n_fft 1024), where the
    # default lstsq driver fails; "gelsd" (SVD-based) handles it. Done once,
    # in float64 on the CPU, then reused as a matrix product on any device.
    fb = _mel_basis_cpu(sample_rate, n_fft, n_mels, fmin, fmax).double()
    eye = torch.eye(n_mels, dtype=torch.float64)
    pinv = torch.linalg.lstsq(fb, eye, driver="gelsd").solution  # (K, M)
    return pinv.float()


def mel_pseudo_inverse(cfg: FeatureConfig, device: torch.device | str | None = None) -> Tensor:
    """Minimum-norm least-squares inverse of `mel_basis`: (n_fft//2+1, n_mels)."""
    pinv = _mel_pinv_cpu(cfg.sample_rate, cfg.n_fft, cfg.n_mels, float(cfg.fmin), float(cfg.fmax))
    return pinv.to(device) if device is not None else pinv


def _fit_length(audio: Tensor, n: int) -> Tensor:
    """Crop or zero-pad the last axis to n samples."""
    if audio.shape[-1] > n:
        return audio[..., :n]
    if audio.shape[-1] < n:
        return torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
    return audio


def _power_to_db(power: Tensor) -> Tensor:
    """librosa.power_to_db(ref=1, amin=1e-10, top_db=80), per item. (B, F, T)."""
    db = 10.0 * torch.log10(power.clamp_min(DB_AMIN))
    peak = db.amax(dim=(-2, -1), keepdim=True)
    return torch.maximum(db, peak - TOP_DB)


def audio_to_features(audio: np.ndarray | Tensor, cfg: FeatureConfig) -> Tensor:
    """Scaled (not yet normalised) features of prepared audio.

    Audio whose length differs from `cfg.n_samples` is cropped or zero-padded
    first (no trimming; call `prepare_audio` for that), so the output always
    has exactly `cfg.n_frames` frames. Runs on the device of a tensor input.

    audio: (N,) or (B, N) float. Returns (F, T) or (B, F, T) float32 with
    F = cfg.n_bins and T = cfg.n_frames.
    """
    x = _as_tensor(audio)
    single = x.dim() == 1
    if single:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise ValueError(f"audio must be (N,) or (B, N), got shape {tuple(x.shape)}")
    x = _fit_length(x, cfg.n_samples)
    mag = stft_magnitude(x, cfg)  # (B, K, T)
    if cfg.scale == "db":
        power = mag.square()
        if cfg.kind == "mel":
            power = mel_basis(cfg, x.device) @ power
        feats = (_power_to_db(power) + TOP_DB) / TOP_DB
    elif cfg.scale == "log":
        if cfg.kind == "mel":
            mag = mel_basis(cfg, x.device) @ mag
        feats = torch.log(LOG_EPS + mag)
    else:
        raise ValueError(f"unknown feature scale {cfg.scale!r} (expected 'log' or 'db')")
    assert feats.shape[-1] == cfg.n_frames, (feats.shape, cfg.n_frames)
    return feats[0] if single else feats


def features_to_magnitude(scaled: Tensor, cfg: FeatureConfig, clamp: bool = True) -> Tensor:
    """Undo the scale (and the mel projection): linear STFT magnitude.

    Mel bands are mapped back with the least-squares inverse of the filterbank
    (`mel_pseudo_inverse`), clamped at zero, in the domain the filterbank was
    applied in (magnitude for "log", power for "db"). Bins above `fmax` or
    below `fmin` come back near zero: the mel features hold no information
    about them.

    scaled: (B, F, T) or (F, T). Returns (B, n_fft//2+1, T) or (n_fft//2+1, T).
    """
    x = _as_tensor(scaled)
    if cfg.scale == "db":
        lin = torch.pow(10.0, (x * TOP_DB - TOP_DB) / 10.0)  # power
    elif cfg.scale == "log":
        lin = (torch.exp(x) - LOG_EPS).clamp_min(0.0)  # magnitude
    else:
        raise ValueError(f"unknown feature scale {cfg.scale!r}")
    if cfg.kind == "mel":
        lin = mel_pseudo_inverse(cfg, x.device) @ lin
        if clamp:
            lin = lin.clamp_min(0.0)
    return lin.clamp_min(0.0).sqrt() if cfg.scale == "db" else lin


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------
Array = np.ndarray | Tensor


def _item_mean(x: Array) -> Array:
    if isinstance(x, Tensor):
        return x.mean(dim=(-2, -1), keepdim=True)
    return x.mean(axis=(-2, -1), keepdims=True)


@dataclass
class Normaliser:
    """Maps scaled features to the model's range and back.

    mode "minmax": x -> 2 (x - lo) / (hi - lo) - 1, with lo/hi the corpus
    minimum/maximum, so the training corpus spans [-1, 1] (Luo 2019).
    mode "mean": the same after subtracting each item's own mean over (F, T)
    (the GMVAE reference). The item mean cannot be recovered from the
    normalised features, so `inverse` adds `offset`, the corpus-average item
    mean, which puts decoded features at a typical level.
    mode "none": identity.
    Works on numpy arrays and tensors of shape (..., F, T).
    """

    mode: Literal["minmax", "mean", "none"] = "minmax"
    lo: float = 0.0
    hi: float = 1.0
    offset: float = 0.0

    @classmethod
    def fit(cls, x: Array, cfg: FeatureConfig) -> Normaliser:
        """Fit on scaled training features x: (N, F, T); mode from cfg.normalise."""
        mode = cfg.normalise
        if mode == "none":
            return cls("none", 0.0, 1.0, 0.0)
        if mode not in ("minmax", "mean"):
            raise ValueError(f"unknown normalisation {mode!r} (expected minmax, mean or none)")
        offset = 0.0
        if mode == "mean":
            means = _item_mean(x)
            offset = float(means.mean())
            x = x - means
        lo, hi = float(x.min()), float(x.max())
        if not hi > lo:  # a constant corpus: avoid dividing by zero
            hi = lo + 1.0
        return cls(mode, lo, hi, offset)

    def __call__(self, x: Array) -> Array:
        """Scaled (..., F, T) -> normalised (..., F, T)."""
        if self.mode == "none":
            return x
        if self.mode == "mean":
            x = x - _item_mean(x)
        return 2.0 * (x - self.lo) / (self.hi - self.lo) - 1.0

    def inverse(self, x: Array) -> Array:
        """Normalised (..., F, T) -> scaled (..., F, T)."""
        if self.mode == "none":
            return x
        x = (x + 1.0) * 0.5 * (self.hi - self.lo) + self.lo
        return x + self.offset if self.mode == "mean" else x

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Normaliser:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

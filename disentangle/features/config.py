"""Feature settings: what a model expects as input, stored in every checkpoint."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes a model input of shape (n_bins, n_frames).

    kind: "mel" (log-mel, `n_mels` bins) or "stft" (log-magnitude, n_fft//2+1 bins).
    scale: "log" is log(eps + magnitude); "db" is power_to_db(top_db=80) then
      (x + 80) / 80, so values lie in [0, 1] (Dal Ri 2025).
    normalise: "minmax" maps the corpus minimum/maximum to [-1, 1] (Luo 2019);
      "mean" subtracts each item's mean first, then corpus min-max (the GMVAE
      reference); "none" keeps the scaled values.
    n_frames: every item is cropped or zero-padded (in amplitude) to this many
      frames; clip length in seconds is n_frames * hop_length / sample_rate.
    trim_db: leading/trailing silence below this many dB under the peak is
      removed before cropping (librosa.effects.trim); None keeps it.
    amplitude: "mean_one" rescales each clip so that the mean of its linear
      STFT magnitude is one (Tanaka 2022/2025: "the average amplitude of each
      spectrogram was one"), removing loudness before the features; "none"
      keeps the recorded level.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    fmin: float = 27.5
    fmax: float = 11025.0
    kind: Literal["mel", "stft"] = "mel"
    scale: Literal["log", "db"] = "db"
    normalise: Literal["minmax", "mean", "none"] = "minmax"
    n_frames: int = 64
    trim_db: float | None = 60.0
    amplitude: Literal["none", "mean_one"] = "none"

    @property
    def n_bins(self) -> int:
        return self.n_mels if self.kind == "mel" else self.n_fft // 2 + 1

    @property
    def n_samples(self) -> int:
        """Audio samples that give exactly `n_frames` centred STFT frames."""
        return (self.n_frames - 1) * self.hop_length

    @property
    def seconds(self) -> float:
        return self.n_samples / self.sample_rate

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def key(self) -> str:
        """A short stable hash of the settings, for cache keys."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]

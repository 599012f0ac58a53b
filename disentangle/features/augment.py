"""Random equalisation of log-spectrogram batches: what a sample bank changes, not the instrument.

Two SoundFonts' violins differ mostly in their recordings' colour (microphone,
room, filtering), which on a log-spectrogram is an additive curve over
frequency. Training on copies of each note under random gentle EQ curves
(a tilt plus a few smooth bumps, a few dB) asks the timbre space to ignore
that colour. It is cheap enough for every batch (no audio re-rendering), and
it keeps labels: a violin through a gentle EQ is still a violin.

The curve is added only to bins above an item's own floor, so silence and
zero padding stay silent, and the result is clamped to [-1, 1] (the range of
the models' tanh outputs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser

#: dB of magnitude per unit of log(magnitude) (`scale: log`) and of scaled dB (`scale: db`).
_DB_PER_UNIT = {"log": 20.0 / math.log(10.0), "db": 80.0}


def units_per_db(features: FeatureConfig, normaliser: Normaliser | None) -> float:
    """Normalised units per dB of `features` after `normaliser` (None: no normalisation)."""
    span = 2.0 / (normaliser.hi - normaliser.lo) if normaliser and normaliser.mode != "none" else 1.0
    return span / _DB_PER_UNIT[features.scale]


def sounding(x: Tensor) -> Tensor:
    """(B, F, T) mask (x's dtype) of the bins above each item's own floor (silence and padding: 0)."""
    floor = x.amin(dim=(1, 2), keepdim=True)
    return (x > floor + 1e-3).to(x.dtype)


@dataclass(frozen=True)
class SpectralEQ:
    """Random per-item EQ curves on normalised (B, F, T) log-spectrograms.

    tilt_db: the curve's linear tilt from the lowest to the highest bin is
      uniform in [-tilt_db, tilt_db]. bumps_db: three cosine terms over the
      bins with amplitudes uniform in [-bumps_db, bumps_db] / 3 each.
    units_per_db: normalised units per dB (`for_features`).
    """

    tilt_db: float
    bumps_db: float
    units_per_db: float

    @classmethod
    def for_features(cls, tilt_db: float, bumps_db: float, features: FeatureConfig,
                     normaliser: Normaliser | None) -> SpectralEQ:
        """An EQ in the units of `features` after `normaliser` (None: no normalisation)."""
        return cls(tilt_db, bumps_db, units_per_db(features, normaliser))

    @property
    def active(self) -> bool:
        return self.tilt_db > 0 or self.bumps_db > 0

    def curves(self, batch: int, bins: int, generator: torch.Generator) -> Tensor:
        """(batch, bins) random EQ curves in dB."""
        pos = torch.linspace(0.0, 1.0, bins)
        tilt = (torch.rand(batch, 1, generator=generator) * 2 - 1) * self.tilt_db * (pos - 0.5) * 2
        amp = (torch.rand(batch, 3, 1, generator=generator) * 2 - 1) * self.bumps_db / 3
        phase = torch.rand(batch, 3, 1, generator=generator) * 2 * math.pi
        k = torch.arange(1, 4, dtype=torch.float32)[None, :, None]
        bumps = (amp * torch.cos(math.pi * k * pos[None, None, :] + phase)).sum(1)
        return tilt + bumps

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """x: (B, F, T) normalised -> (B, F, T), each item under its own curve."""
        if not self.active:
            return x
        eq = self.curves(x.shape[0], x.shape[1], generator).to(x.device, x.dtype) * self.units_per_db
        return (x + eq[:, :, None] * sounding(x)).clamp(-1.0, 1.0)


@dataclass(frozen=True)
class RandomGain:
    """A second view of normalised (B, F, T) log-spectrograms at a random recording level.

    A sample bank, a microphone or a user's upload sets a note's level; the
    instrument and the pitch do not change with it. The session-4 GMVAE's
    timbre space did: 12 dB more gain on the unseen bank's notes moved its
    timbre 1-NN accuracy from 0.72 to 0.60. Models that keep a
    dynamics space cannot simply normalise the level away (it is what that
    space reads), so they are shown the same batch at another level and asked
    to give the other spaces the same codes (`batch["x_view"]`).

    On the "db" scale a gain is exactly an additive constant (the floor is
    relative to each item's peak, so it moves too); on the "log" scale it is
    additive where the magnitude is above the floor, so only sounding bins
    move, as in `SpectralEQ`. max_db: gains are uniform in [-max_db, max_db].
    """

    max_db: float
    units_per_db: float
    exact: bool

    @classmethod
    def for_features(cls, max_db: float, features: FeatureConfig,
                     normaliser: Normaliser | None) -> RandomGain:
        """A gain in the units of `features` after `normaliser` (None: no normalisation)."""
        return cls(max_db, units_per_db(features, normaliser), features.scale == "db")

    @property
    def active(self) -> bool:
        return self.max_db > 0

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """x: (B, F, T) normalised -> (B, F, T), each item at its own random gain."""
        gain = (torch.rand(x.shape[0], 1, 1, generator=generator) * 2 - 1) * self.max_db
        shift = (gain * self.units_per_db).to(x.device, x.dtype)
        return x + shift if self.exact else x + shift * sounding(x)

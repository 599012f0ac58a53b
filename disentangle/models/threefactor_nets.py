"""Building blocks of the three-factor VAE (Tanaka 2022/2025).

- `BiGRUStack`: L bidirectional GRU layers; an optional conditioning sequence
  is concatenated to the input of the LAST layer only (how the papers feed the
  tiled z_t, and z_v, to the variation and conditional pitch encoders).
- `GaussianHead`: two linear maps to a mean and a softplus variance.
- `GlobalEncoder` (BiGRU stack, time average, head) and `LocalEncoder`
  (BiGRU stack, per-frame head).
- `GRUDecoder`: BiGRU stack on the latents concatenated per frame, linear to F.
- `CepstralSplit`: spectral envelope / fine structure of (B, F, T) features.
- `CyclicalKL`: the KL weight schedule of Fu et al. 2019 (0 -> max every period).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from disentangle.features.cepstrum import lifter
from disentangle.models.base import Posterior

#: softplus(SOFTPLUS_ONE) == 1: variance heads start at unit variance.
SOFTPLUS_ONE = math.log(math.e - 1.0)
#: Floor of the posterior variance (softplus can underflow to 0 -> log(0)).
MIN_VAR = 1e-6


class BiGRUStack(nn.Module):
    """(B, T, in_dim) [+ cond (B, T, cond_dim)] -> (B, T, 2 * hidden)."""

    def __init__(self, in_dim: int, hidden: int, layers: int, cond_dim: int = 0):
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.cond_dim = cond_dim
        self.lower = (nn.GRU(in_dim, hidden, num_layers=layers - 1, batch_first=True, bidirectional=True)
                      if layers > 1 else None)
        last_in = (2 * hidden if layers > 1 else in_dim) + cond_dim
        self.last = nn.GRU(last_in, hidden, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = self.lower(x)[0] if self.lower is not None else x
        if self.cond_dim:
            if cond is None:
                raise ValueError("this stack is conditioned: pass cond of shape (B, T, cond_dim)")
            h = torch.cat([h, cond], dim=-1)
        return self.last(h)[0]


class GaussianHead(nn.Module):
    """(..., in_dim) -> Posterior over (..., D): linear mean, softplus variance."""

    def __init__(self, in_dim: int, latent: int):
        super().__init__()
        self.mean = nn.Linear(in_dim, latent)
        self.var = nn.Linear(in_dim, latent)
        # Start every posterior near N(., 1): large initial variances make the
        # first KL terms and samples explode on un-normalised GRU outputs.
        nn.init.zeros_(self.var.weight)
        nn.init.constant_(self.var.bias, SOFTPLUS_ONE)

    def forward(self, h: Tensor) -> Posterior:
        var = F.softplus(self.var(h)) + MIN_VAR
        return Posterior(self.mean(h), var.log())


class GlobalEncoder(nn.Module):
    """(B, F, T) -> Posterior over (B, D): BiGRUs, average over time, head.

    pool "mean" averages every frame (the papers). "level" weights frame t by
    its mean level above the floor of min-max features, relu(mean_f x + 1):
    silent frames (all -1) weigh nothing. Why: notes padded with silence to a
    fixed length otherwise carry their duration in the silent fraction of the
    average (the sessions 5-17 three-factor timbre space read duration at
    5-NN 0.906, instrument at 0.850, valid split). Measured in session 17 it
    removes most of that (0.631) but gains no instrument identity (0.847),
    so the configs keep "mean" (docs/results.md). A clip with no level
    above the floor falls back to the plain mean (every weight gets a tiny
    constant).
    """

    def __init__(self, n_bins: int, hidden: int, layers: int, latent: int,
                 pool: Literal["mean", "level"] = "mean"):
        super().__init__()
        if pool not in ("mean", "level"):
            raise ValueError(f"pool must be 'mean' or 'level', not {pool!r}")
        self.pool = pool
        self.rnn = BiGRUStack(n_bins, hidden, layers)
        self.head = GaussianHead(2 * hidden, latent)

    def forward(self, x: Tensor) -> Posterior:
        h = self.rnn(x.transpose(1, 2))  # (B, T, 2H)
        if self.pool == "mean":
            return self.head(h.mean(dim=1))
        w = F.relu(x.mean(dim=1) + 1.0) + 1e-6  # (B, T)
        return self.head((h * w.unsqueeze(-1)).sum(dim=1) / w.sum(dim=1, keepdim=True))


class LocalEncoder(nn.Module):
    """(B, F, T) [+ cond (B, T, C)] -> Posterior over (B, T, D), one per frame."""

    def __init__(self, n_bins: int, hidden: int, layers: int, latent: int, cond_dim: int = 0):
        super().__init__()
        self.rnn = BiGRUStack(n_bins, hidden, layers, cond_dim)
        self.head = GaussianHead(2 * hidden, latent)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Posterior:
        return self.head(self.rnn(x.transpose(1, 2), cond))


class GRUDecoder(nn.Module):
    """(B, T, latent) -> (B, F, T): BiGRUs and a linear layer (no output squashing:
    the Gaussian likelihood has a fixed variance around an unbounded mean)."""

    def __init__(self, latent: int, hidden: int, layers: int, n_bins: int):
        super().__init__()
        self.rnn = BiGRUStack(latent, hidden, layers)
        self.out = nn.Linear(2 * hidden, n_bins)

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.rnn(z)).transpose(1, 2)


def dct_matrix(n: int) -> Tensor:
    """Orthonormal DCT-II matrix (n, n): row q is the q-th cosine basis vector."""
    k = torch.arange(n, dtype=torch.float64)
    m = torch.cos(math.pi / n * (k[None, :] + 0.5) * k[:, None])
    m[0] *= 1.0 / math.sqrt(2.0)
    return (m * math.sqrt(2.0 / n)).float()


class CepstralSplit(nn.Module):
    """Split (B, F, T) log features into (envelope, fine), envelope + fine == x.

    kind "stft": the real cepstrum of the linear-frequency log spectrum is
    liftered at `cutoff` (Tanaka: 100 at 44.1 kHz; `disentangle.features.cepstrum`).
    kind "mel": a log-mel spectrum has no periodic harmonic comb to lifter, so
    the envelope is the first `cutoff` coefficients of its DCT (the MFCC
    smoothing) and the fine structure the rest: an approximation of the
    paper's split on a warped frequency axis. Both maps are linear, so any
    affine normalisation of the features commutes with them (the constant
    goes to the envelope), and gradients pass through (re-entry needs that).
    """

    def __init__(self, kind: Literal["mel", "stft"], n_bins: int, cutoff: int):
        super().__init__()
        if cutoff < 1:
            raise ValueError(f"cepstrum cutoff must be >= 1, got {cutoff}")
        self.kind, self.cutoff = kind, int(cutoff)
        if kind == "mel":
            d = dct_matrix(n_bins)
            w = (torch.arange(n_bins) < cutoff).float()
            # envelope = D^T diag(w) D x; a buffer, not a parameter, and not saved.
            self.register_buffer("smooth", d.T @ (w[:, None] * d), persistent=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.kind == "mel":
            env = torch.einsum("gf,bft->bgt", self.smooth, x)
            return env, x - env
        return lifter(x, self.cutoff)


@dataclass(frozen=True)
class CyclicalKL:
    """KL weight of epoch e: rises linearly from 0 to `value` over the first
    `ramp` fraction of every `period` epochs, then holds (Fu et al. 2019).

    period <= 0 means no annealing (always `value`). With period 10 and ramp
    0.5: epochs 0-4 of each cycle get 0, .2, .4, .6, .8 and epochs 5-9 get 1.
    """

    period: int = 10
    ramp: float = 0.5
    value: float = 1.0

    def __call__(self, epoch: int) -> float:
        if self.period <= 0:
            return float(self.value)
        tau = (epoch % self.period) / self.period
        return float(self.value) * min(1.0, tau / max(self.ramp, 1e-9))

"""Encoder trunk, descriptor-shaped sub-encoders and decoder of the MD-GMVAE (Dal Ri 2025).

Spectrograms enter as images (B, 1, F, T): height is frequency, width is time.
Widths scale with `width` (32 in the paper): trunk c -> (2c | 2c) -> 8c -> 16c.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

from disentangle.nn import ResBlock2d


def _conv(c_in: int, c_out: int, stride: int | tuple[int, int] = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation),
                         nn.BatchNorm2d(c_out), nn.SiLU())


class Trunk(nn.Module):
    """Shared feature extractor phi: (B, 1, F, T) -> (B, 16c, ~F/8, ~T/8).

    A stride-2 conv, then a stride-2 and a dilated stride-2 conv side by side
    (two receptive fields), concatenated, a stride-2 conv and a last conv.

    freq_strides: frequency strides of the three strided stages (the paper's
    (2, 2, 2)); time strides are always 2. A small input (64 mel bands) keeps
    more pitch resolution with a 1 in the last stage.
    """

    def __init__(self, width: int, dropout: float = 0.1, freq_strides: tuple[int, ...] = (2, 2, 2)):
        super().__init__()
        c = width
        f1, f2, f3 = freq_strides
        self.freq_strides = (f1, f2, f3)
        self.stem = _conv(1, c, (f1, 2))
        self.plain = _conv(c, 2 * c, (f2, 2))
        self.dilated = _conv(c, 2 * c, (f2, 2), dilation=2)
        self.tail = nn.Sequential(_conv(4 * c, 8 * c, (f3, 2)), _conv(8 * c, 16 * c), nn.Dropout(dropout))
        self.out_channels = 16 * c

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x)
        return self.tail(torch.cat([self.plain(h), self.dilated(h)], dim=1))

    @staticmethod
    def out_size(n: int, strides: tuple[int, ...] = (2, 2, 2)) -> int:
        for s in strides:
            n = (n - 1) // s + 1  # kernel 3, padding = dilation
        return n


class SubEncoder(nn.Module):
    """One descriptor's variational encoder: trunk features -> (mu, logvar), each (B, D).

    shape "freq" keeps frequency and collapses time (pitch); "time" keeps time
    and collapses frequency (dynamics, duration); "square" uses a strided 3x3
    kernel (timbre).
    """

    def __init__(self, shape: str, in_channels: int, fh: int, ft: int, channels: int,
                 hidden: int, latent: int):
        super().__init__()
        if shape == "freq":
            conv = nn.Conv2d(in_channels, channels, (3, ft), padding=(1, 0))
            flat = channels * fh
        elif shape == "time":
            conv = nn.Conv2d(in_channels, channels, (fh, 3), padding=(0, 1))
            flat = channels * ft
        elif shape == "square":
            conv = nn.Conv2d(in_channels, channels, 3, stride=2, padding=1)
            flat = channels * ((fh - 1) // 2 + 1) * ((ft - 1) // 2 + 1)
        else:
            raise ValueError(f"unknown kernel shape {shape!r}")
        self.body = nn.Sequential(conv, nn.BatchNorm2d(channels), nn.SiLU(), nn.Flatten(),
                                  nn.Linear(flat, hidden), nn.BatchNorm1d(hidden), nn.SiLU())
        self.head = nn.Linear(hidden, 2 * latent)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.head(self.body(h)).chunk(2, dim=-1)
        return mu, logvar


class Decoder(nn.Module):
    """(B, latent) -> (B, F, T): Linear -> Linear -> (C0, h0, w0) -> stride-2 ConvTranspose + ResBlock per
    doubling -> 1 channel, tanh; cropped to (F, T).

    The number of doublings puts the smallest side at ~4 cells, as the
    reference's 4x4 -> 256x256 (six doublings) does.
    """

    def __init__(self, latent: int, n_bins: int, n_frames: int, width: int, hidden: int):
        super().__init__()
        self.n_bins, self.n_frames = n_bins, n_frames
        n_up = max(1, round(math.log2(min(n_bins, n_frames) / 4)))
        self.h0, self.w0 = -(-n_bins // 2 ** n_up), -(-n_frames // 2 ** n_up)
        chans = [max(width, 16 * width // 2 ** i) for i in range(n_up + 1)]
        self.c0 = chans[0]
        self.fc = nn.Sequential(
            nn.Linear(latent, hidden), nn.BatchNorm1d(hidden), nn.SiLU(),
            nn.Linear(hidden, self.c0 * self.h0 * self.w0), nn.BatchNorm1d(self.c0 * self.h0 * self.w0),
            nn.SiLU())
        ups: list[nn.Module] = []
        for a, b in itertools.pairwise(chans):
            ups += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.SiLU(), ResBlock2d(b)]
        self.up = nn.Sequential(*ups)
        self.out = nn.Sequential(nn.Conv2d(chans[-1], 1, 3, padding=1), nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, self.c0, self.h0, self.w0)
        return self.out(self.up(h))[:, 0, : self.n_bins, : self.n_frames]

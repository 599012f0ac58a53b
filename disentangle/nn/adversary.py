"""Removers (Dal Ri 2025): classifiers that try to read a label from the *other* latents.

They are trained on detached latents with their own optimizer; the encoder is
then pushed to make their prediction uniform (KL(uniform || softmax)).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from disentangle.nn.blocks import mlp


def uniform_kl(logits: Tensor) -> Tensor:
    """KL(uniform || softmax(logits)) per row: (B, C) -> (B,)."""
    c = logits.shape[-1]
    return -F.log_softmax(logits, dim=-1).mean(-1) - math.log(c)


class Removers(nn.Module):
    """One MLP per target label, each reading the concatenation of its source spaces.

    targets: {remover name: (label column, number of classes, [source space names])}.
    """

    def __init__(self, targets: dict[str, tuple[str, int, list[str]]], space_sizes: dict[str, int],
                 hidden: tuple[int, ...] = (128, 64)):
        super().__init__()
        self.targets = {k: (col, n, list(src)) for k, (col, n, src) in targets.items()}
        self.nets = nn.ModuleDict({
            k: mlp([sum(space_sizes[s] for s in src), *hidden, n])
            for k, (col, n, src) in self.targets.items()
        })
        for m in self.modules():
            if isinstance(m, nn.Linear):  # Kaiming, as the reference does for its MLP heads
                nn.init.kaiming_uniform_(m.weight, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)

    def forward(self, z: dict[str, Tensor]) -> dict[str, Tensor]:
        """{space: (B, D)} -> {remover name: logits (B, C)}."""
        return {k: self.nets[k](torch.cat([z[s] for s in src], dim=-1))
                for k, (col, n, src) in self.targets.items()}

    def ce(self, logits: dict[str, Tensor], labels: dict[str, Tensor]) -> dict[str, Tensor]:
        """Cross-entropy of each remover on its known labels: {name: scalar}."""
        out = {}
        for k, (col, n, src) in self.targets.items():
            y = labels[col]
            known = y >= 0
            out[k] = (F.cross_entropy(logits[k][known], y[known]) if known.any()
                      else logits[k].sum() * 0.0)
        return out

    def confusion(self, logits: dict[str, Tensor], labels: dict[str, Tensor]) -> dict[str, Tensor]:
        """KL(uniform || remover softmax) on items with a known label: {name: scalar}."""
        out = {}
        for k, (col, n, src) in self.targets.items():
            known = labels[col] >= 0
            out[k] = uniform_kl(logits[k][known]).mean() if known.any() else logits[k].sum() * 0.0
        return out

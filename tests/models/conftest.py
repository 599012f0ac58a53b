"""Tiny feature settings, label maps and batches shared by the model tests."""
from __future__ import annotations

import pytest
import torch

from disentangle.features.config import FeatureConfig

N_CLASSES = {"instrument": 3, "family": 2, "pitch": 5, "dynamics": 3, "duration": 4}



@pytest.fixture
def features() -> FeatureConfig:
    return FeatureConfig(n_mels=16, n_frames=16)


@pytest.fixture
def label_maps() -> dict[str, list[str]]:
    return {col: [f"{col}{i}" for i in range(n)] for col, n in N_CLASSES.items()}


def make_batch(features: FeatureConfig, b: int = 6, seed: int = 0, unknown: bool = True) -> dict:
    """Random normalised spectrograms and labels; the last item's labels are unknown (-1)."""
    g = torch.Generator().manual_seed(seed)
    labels = {col: torch.randint(0, n, (b,), generator=g) for col, n in N_CLASSES.items()}
    if unknown:
        for y in labels.values():
            y[-1] = -1
    x = torch.rand(b, features.n_bins, features.n_frames, generator=g) * 2 - 1
    return {"x": x, "labels": labels, "index": torch.arange(b)}


@pytest.fixture
def batch(features: FeatureConfig) -> dict:
    return make_batch(features)

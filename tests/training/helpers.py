"""Tiny corpus, tiny model and tiny run configs for the training tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile as sf
import torch
from torch import Tensor, nn

from disentangle.data.schema import Item, write_metadata
from disentangle.features.config import FeatureConfig
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, register

REPO = Path(__file__).resolve().parents[2]
#: 16 mel bins x 8 frames at 8 kHz: a 0.1 s clip, features in milliseconds.
FEATURES = {"sample_rate": 8000, "n_fft": 256, "hop_length": 128, "n_mels": 16, "n_frames": 8,
            "fmax": 4000.0, "trim_db": None}


def make_corpus(root: Path, n: int = 24, seed: int = 0) -> Path:
    """Short decaying sines/squares with instrument+pitch labels; 16/4/4 split."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wav").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    sr = FEATURES["sample_rate"]
    t = np.arange(int(0.15 * sr)) / sr
    items = []
    for i in range(n):
        inst = ("sine", "square")[i % 2]
        pitch = 60 + (i // 2) % 4
        f = 440.0 * 2 ** ((pitch - 69) / 12)
        wave = np.sin(2 * np.pi * f * t)
        if inst == "square":
            wave = 0.5 * np.sign(wave)
        y = (wave * np.exp(-4 * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
        path = f"wav/{i:03d}.wav"
        sf.write(root / path, y, sr)
        split = "train" if i < int(n * 2 / 3) else ("valid" if i < int(n * 5 / 6) else "test")
        items.append(Item(path=path, split=split, instrument=inst, family=inst, pitch=pitch,
                          dynamics="mf", duration="0.25", duration_s=0.15))
    write_metadata(root / "metadata.csv", items)
    return root


@dataclass
class TinyConfig(ModelConfig):
    """A linear VAE with BatchNorm and dropout: exercises buffers and RNG."""

    latent: int = 3
    hidden: int = 8
    dropout: float = 0.1


@register
class TinyModel(DisentangleModel):
    """One global latent; reparameterised sampling draws from the global RNG."""

    name = "tiny_test"
    config_class = TinyConfig

    def __init__(self, config: TinyConfig, features: FeatureConfig, label_maps: dict):
        super().__init__(config, features, label_maps)
        d = features.n_bins * features.n_frames
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(d, config.hidden),
                                 nn.BatchNorm1d(config.hidden), nn.ReLU(),
                                 nn.Dropout(config.dropout), nn.Linear(config.hidden, 2 * config.latent))
        self.dec = nn.Linear(config.latent, d)

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        return (LatentSpace("z", self.config.latent),)

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        return {"z": Posterior(mu, logvar)}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        f = self.features
        return self.dec(z["z"]).view(-1, f.n_bins, f.n_frames)

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        post = self.encode(batch["x"])["z"]
        recon = self.decode({"z": post.sample()})
        mse = ((recon - batch["x"]) ** 2).sum(dim=(1, 2)).mean()
        kl = 0.5 * (post.mean ** 2 + post.logvar.exp() - 1 - post.logvar).sum(-1).mean()
        return {"loss": mse + kl, "recon/mse": mse, "kl/z": kl}


def tiny_config_dict(**train) -> dict:
    """A run config (as a dict) for the tiny model."""
    return {"model": "tiny_test", "model_config": {"latent": 3, "hidden": 8},
            "features": dict(FEATURES),
            "train": {"epochs": 2, "batch_size": 4, "lr": 1e-2, "evaluate": False, **train}}


def gmvae_config_dict(**train) -> dict:
    """The real GMVAE at tiny capacity, with removers (two optimizers)."""
    return {"model": "gmvae",
            "model_config": {"timbre_dim": 2, "pitch_dim": 2, "channels": 4, "hidden": 8,
                             "adversary_weight": 0.1},
            "features": dict(FEATURES),
            "train": {"epochs": 1, "batch_size": 4, "evaluate": False, **train}}


def state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@dataclass
class TinyPerturbedConfig(TinyConfig):
    perturb_cache: int = 2
    semitones: int = 3
    n_effects: int = 1


@register
class TinyPerturbedModel(TinyModel):
    """Records which batch keys it saw, to check the trainer feeds perturbed copies."""

    name = "tiny_perturbed_test"
    config_class = TinyPerturbedConfig
    wants_perturbed_audio = True
    seen: ClassVar[list] = []  # shared on purpose: tests read what every instance saw

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        TinyPerturbedModel.seen.append((self.training, sorted(batch)))
        terms = super().loss(batch, epoch)
        if "x_pitch" in batch:
            # uses the perturbed copies, so they must have the input's shape
            terms["loss"] = terms["loss"] + 0.0 * (batch["x_pitch"] - batch["x_timbre"]).sum()
            terms["pert/diff"] = (batch["x_pitch"] - batch["x"]).abs().mean()
        return terms

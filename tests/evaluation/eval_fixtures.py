"""Tiny models and synthetic corpora whose disentanglement is known by construction.

Each item is a (16, 8) "spectrogram": the lower 8 bins hold the pattern of
its instrument, the upper 8 bins the pattern of its pitch, constant over time,
plus a little noise. The oracle model's timbre space reads the lower bins and
its pitch space the upper bins, so each space is informative of exactly one
label; variants break that on purpose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from disentangle.data.schema import Item
from disentangle.evaluation.classifiers import ClassifierConfig
from disentangle.features.config import FeatureConfig
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, PriorComponents

N_BINS, N_FRAMES, HALF = 16, 8, 8
INSTRUMENTS = ["cello", "flute", "horn", "oboe"]
PITCHES = ["60", "62", "64", "65", "67"]
NOISE = 0.1


@dataclass
class Synthetic:
    """x: (N, 16, 8) float32; items with labels and splits; the generating patterns."""

    x: np.ndarray
    items: list[Item]
    timbre_patterns: np.ndarray  # (4, 8)
    pitch_patterns: np.ndarray   # (5, 8)


def make_synthetic(n_per_pair: int = 8, seed: int = 0) -> Synthetic:
    rng = np.random.default_rng(seed)
    tp = rng.normal(0.0, 1.0, (len(INSTRUMENTS), HALF)).astype(np.float32)
    pp = rng.normal(0.0, 1.0, (len(PITCHES), HALF)).astype(np.float32)
    xs, items = [], []
    for i, inst in enumerate(INSTRUMENTS):
        for p, pitch in enumerate(PITCHES):
            for r in range(n_per_pair):
                frame = np.concatenate([tp[i], pp[p]])[:, None]
                xs.append(frame + NOISE * rng.standard_normal((N_BINS, N_FRAMES)))
                split = "test" if r % 4 == 0 else "train"
                items.append(Item(path=f"{inst}-{pitch}-{r}.wav", split=split, instrument=inst,
                                  pitch=int(pitch), dynamics="mf"))
    return Synthetic(np.stack(xs).astype(np.float32), items, tp, pp)


class OracleModel(DisentangleModel):
    """timbre = mean over time of the lower bins, pitch = of the upper bins.

    mode: "oracle" (both spaces as above), "noise" (timbre is random, not a
    function of x), "deaf" (the decoder ignores timbre), "local" (pitch is a
    per-frame space). priors: give mixture components from the generating
    patterns (else the model has none, like a plain-VAE baseline).
    """

    name = "oracle-test"

    def __init__(self, data: Synthetic, mode: str = "oracle", priors: bool = True):
        features = FeatureConfig(n_mels=N_BINS, n_frames=N_FRAMES)
        super().__init__(ModelConfig(), features, {"instrument": INSTRUMENTS, "pitch": PITCHES})
        self.mode, self.with_priors, self.data = mode, priors, data
        self.scale = torch.nn.Parameter(torch.ones(()))  # gives the model a device
        self.normaliser = None

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        pitch_scope = "local" if self.mode == "local" else "global"
        return (LatentSpace("timbre", HALF, "global", "instrument"),
                LatentSpace("pitch", HALF, pitch_scope, "pitch"))

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        timbre = x[:, :HALF].mean(-1) * self.scale
        if self.mode == "noise":
            timbre = torch.randn_like(timbre)
        pitch = x[:, HALF:].transpose(1, 2) if self.mode == "local" else x[:, HALF:].mean(-1)
        return {"timbre": Posterior(timbre, torch.zeros_like(timbre)),
                "pitch": Posterior(pitch, torch.zeros_like(pitch))}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        timbre = z["timbre"]
        if self.mode == "deaf":
            timbre = torch.zeros_like(timbre)
        pitch = z["pitch"]
        pitch = pitch.transpose(1, 2) if pitch.dim() == 3 else pitch[:, :, None].expand(-1, -1, N_FRAMES)
        return torch.cat([timbre[:, :, None].expand(-1, -1, N_FRAMES), pitch], dim=1)

    def priors(self) -> dict[str, PriorComponents]:
        if not self.with_priors:
            return {}
        tp, pp = torch.from_numpy(self.data.timbre_patterns), torch.from_numpy(self.data.pitch_patterns)
        return {"timbre": PriorComponents(tp, torch.full_like(tp, 0.05), list(INSTRUMENTS)),
                "pitch": PriorComponents(pp, torch.full_like(pp, 0.05), list(PITCHES))}

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        return {"loss": ((self.reconstruct(batch["x"]) - batch["x"]) ** 2).mean()}


#: Classifier settings of the tests: small, but enough steps to learn the toy labels,
#: at a constant learning rate (the one-cycle schedule's lower mean rate leaves
#: the toy judge too unsure for the transfer test's probability floor).
JUDGES = ClassifierConfig(channels=32, epochs=20, one_cycle=False)

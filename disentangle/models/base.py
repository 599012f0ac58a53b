"""The one interface every model speaks: latent spaces, encode, decode, priors.

Scripts, evaluation and the app only use what is defined here; they never
import a model class. A model is built from a typed config dataclass plus the
feature settings and label maps of its corpus, and all three travel in its
checkpoint (see `disentangle.checkpoint`).
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import torch
from torch import Tensor, nn

from disentangle.features.config import FeatureConfig

if TYPE_CHECKING:  # a plain dataclass, never a module: it adds nothing to the state dict
    from disentangle.features.spectrogram import Normaliser


@dataclass(frozen=True)
class LatentSpace:
    """One latent space of a model.

    name: "timbre", "pitch", "dynamics", "duration", "variation", ...
    size: number of dimensions.
    scope: "global" (one vector per item, (B, D)) or "local" (one per frame,
      (B, T', D)).
    label: the label column it is meant to capture ("instrument", "pitch",
      ...), or None when it has no single target.
    """

    name: str
    size: int
    scope: Literal["global", "local"] = "global"
    label: str | None = None


@dataclass
class Posterior:
    """A diagonal Gaussian q(z|x): mean and log-variance of the same shape."""

    mean: Tensor
    logvar: Tensor

    def sample(self) -> Tensor:
        return self.mean + torch.randn_like(self.mean) * (0.5 * self.logvar).exp()


@dataclass
class PriorComponents:
    """The mixture components of one space's prior.

    means, stds: (K, D). labels: K class names (e.g. instrument names), the
    class each component stands for.
    """

    means: Tensor
    stds: Tensor
    labels: list[str]


@dataclass
class ModelConfig:
    """Fields every model config has; each model subclasses this."""

    seed: int = 0


#: The config type of a model: `class GMVAE(DisentangleModel[GMVAEConfig])` reads
#: `self.config.timbre_dim` typed, without casts.
C = TypeVar("C", bound=ModelConfig)


class DisentangleModel(nn.Module, Generic[C], metaclass=ABCMeta):
    """Base class of every model in the library, generic over its config type `C`.

    Subclasses set `name` (the registry key) and `config_class`, build their
    modules in `__init__(config, features, label_maps)`, and implement
    `spaces`, `encode`, `decode` and `loss`. Input features are normalised
    spectrograms of shape (B, F, T) with F = features.n_bins and
    T = features.n_frames.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    #: True: the trainer feeds training batches with "x_pitch" / "x_timbre"
    #: (randomly pitch-shifted / timbre-distorted copies of "x", from audio;
    #: see `disentangle.training.perturbed`) instead of cached features only.
    wants_perturbed_audio: ClassVar[bool] = False

    def __init__(self, config: C, features: FeatureConfig,
                 label_maps: dict[str, list[str]]):
        super().__init__()
        self.config: C = config
        self.features = features
        #: label column -> class names; class index i is label_maps[col][i].
        self.label_maps = {k: list(v) for k, v in label_maps.items()}
        # What a checkpoint carries beside the weights, set by the trainer and
        # by `disentangle.load_model`; declared here so every reader gets a
        # typed attribute instead of `getattr(model, ..., default)`. None of
        # them is a tensor or a module, so the state dict is unchanged.
        #: maps scaled features to the model's input range (None: identity).
        self.normaliser: Normaliser | None = None
        #: evaluation metrics stored in the checkpoint (e.g. "probe_f1").
        self.report: dict[str, Any] = {}
        #: per-epoch training metrics.
        self.history: list[Any] = []
        #: facts about the checkpoint ("created", "git_commit", "corpus", ...).
        self.meta: dict[str, Any] = {}
        #: the file the model was loaded from (None for a model built in memory).
        self.checkpoint_path: Path | None = None

    # --- what the app and evaluation use -------------------------------
    @property
    @abstractmethod
    def spaces(self) -> tuple[LatentSpace, ...]:
        """The model's latent spaces, in a fixed order."""

    @abstractmethod
    def encode(self, x: Tensor) -> dict[str, Posterior]:
        """x: (B, F, T) -> {space name: Posterior}, means (B, D) or (B, T', D)."""

    @abstractmethod
    def decode(self, z: dict[str, Tensor]) -> Tensor:
        """{space name: (B, D) or (B, T', D)} -> features (B, F, T)."""

    def priors(self) -> dict[str, PriorComponents]:
        """Mixture components per space, for spaces that have them."""
        return {}

    # --- what training uses ---------------------------------------------
    @abstractmethod
    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """Training objective on a batch; must contain "loss" (a scalar).

        batch: {"x": (B, F, T), "labels": {column: (B,) long, -1 unknown},
        "index": (B,) long item indices}. Other keys are namespaced terms
        ("recon/mse", "kl/timbre", ...) logged as they are.
        """

    def make_optimizers(self, lr: float, weight_decay: float = 0.0) -> dict[str, torch.optim.Optimizer]:
        """The optimizers `train_step` uses, by name (saved for resuming)."""
        return {"main": torch.optim.Adam(self.parameters(), lr=lr, weight_decay=weight_decay)}

    def train_step(self, batch: dict, optimizers: dict[str, torch.optim.Optimizer],
                   epoch: int, grad_clip: float | None = None) -> dict[str, float]:
        """One optimisation step; models with adversaries override this."""
        opt = optimizers["main"]
        opt.zero_grad(set_to_none=True)
        terms = self.loss(batch, epoch)
        terms["loss"].backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(self.parameters(), grad_clip)
        opt.step()
        return {k: float(v.detach()) for k, v in terms.items()}

    # --- conveniences built on the interface ----------------------------
    def space(self, name: str) -> LatentSpace:
        for s in self.spaces:
            if s.name == name:
                return s
        raise KeyError(f"model {self.name!r} has no latent space {name!r}; "
                       f"it has {[s.name for s in self.spaces]}")

    @torch.inference_mode()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Decode the posterior means: (B, F, T) -> (B, F, T)."""
        return self.decode({k: p.mean for k, p in self.encode(x).items()})

    def describe(self) -> dict:
        """A JSON-able summary (spaces, labels), for reports and the app."""
        return {
            "model": self.name,
            "spaces": [s.__dict__ for s in self.spaces],
            "labels": {k: len(v) for k, v in self.label_maps.items()},
            "parameters": sum(p.numel() for p in self.parameters()),
        }


#: name -> model class; filled by `register`.
REGISTRY: dict[str, type[DisentangleModel]] = {}


def register(cls: type[DisentangleModel]) -> type[DisentangleModel]:
    """Class decorator: make a model loadable by its `name`."""
    REGISTRY[cls.name] = cls
    return cls

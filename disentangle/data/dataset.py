"""torch Datasets over cached features, and over audio with on-the-fly perturbation.

- `make_label_maps` / `encode_labels`: label columns -> class-name lists ->
  integer tensors (-1 where unknown), the `label_maps` a model is built with.
- `SpectrogramDataset`: rows of a normalised feature tensor; the default
  collate turns its items into the batch dict `DisentangleModel.loss` takes.
- `PerturbedAudioDataset`: loads audio per item and returns the features of
  the clean clip, a randomly pitch-shifted copy and a randomly timbre-distorted
  copy (Tanaka 2022/2025). The randomness of item i in epoch e comes from a
  generator seeded with (seed, e, i), so batches do not depend on the number
  of DataLoader workers or on which worker loads which item.
"""
from __future__ import annotations

import multiprocessing
import random
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..features.config import FeatureConfig
from ..features.perturb import random_pitch_shift, random_timbre_distortion
from ..features.spectrogram import Normaliser, audio_to_features, mel_basis, prepare_audio
from .schema import UNKNOWN, Corpus, Item


def make_label_maps(items: Sequence[Item], columns: Sequence[str]) -> dict[str, list[str]]:
    """Sorted known class names per label column (pitch sorted numerically)."""
    maps: dict[str, list[str]] = {}
    for col in columns:
        values = {it.label(col) for it in items} - {UNKNOWN}
        key = (lambda v: int(v)) if col == "pitch" else (lambda v: v)
        maps[col] = sorted(values, key=key)
    return maps


def encode_labels(items: Sequence[Item], label_maps: dict[str, list[str]]) -> dict[str, Tensor]:
    """Class indices per column: {column: (N,) long}, -1 for unknown or unmapped."""
    out: dict[str, Tensor] = {}
    for col, classes in label_maps.items():
        index = {c: i for i, c in enumerate(classes)}
        out[col] = torch.tensor([index.get(it.label(col), -1) for it in items], dtype=torch.long)
    return out


class SpectrogramDataset(Dataset):
    """Items {"x": (F, T) float, "labels": {col: () long}, "index": () long}.

    x_normalised: (N, F, T) tensor (or array); labels: {col: (N,) long};
    indices: the rows this dataset exposes (default all). "index" is the row
    in x_normalised, so results can be mapped back to items.
    """

    def __init__(self, x_normalised: Tensor | np.ndarray, labels: dict[str, Tensor],
                 indices: Sequence[int] | np.ndarray | Tensor | None = None):
        x = torch.as_tensor(x_normalised, dtype=torch.float32)
        if x.dim() != 3:
            raise ValueError(f"x_normalised must be (N, F, T), got shape {tuple(x.shape)}")
        for col, lab in labels.items():
            if len(lab) != len(x):
                raise ValueError(f"labels[{col!r}] has {len(lab)} entries for {len(x)} items")
        self.x = x
        self.labels = {k: torch.as_tensor(v, dtype=torch.long) for k, v in labels.items()}
        self.indices = list(range(len(x))) if indices is None else [int(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        row = self.indices[i]
        return {"x": self.x[row],
                "labels": {k: v[row] for k, v in self.labels.items()},
                "index": torch.tensor(row, dtype=torch.long)}


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seed numpy/random from torch's per-worker
    seed, and use one thread per worker so 2 workers do not fight over 2 cores."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
    torch.set_num_threads(1)


class PerturbedAudioDataset(Dataset):
    """Clean and perturbed features of audio items, perturbed afresh per epoch.

    Items: {"x": (F, T) clean, "x_pitch": (F, T) randomly pitch-shifted,
    "x_timbre": (F, T) randomly timbre-distorted (all normalised by
    `normaliser`), "labels": {col: () long}, "index": () long}.

    corpus: its items are loaded with `load_audio` on every access; pass the
      items that loaded (`Corpus(root, feature_set.items)`), since a bad file
      raises `AudioError` here.
    indices: rows of corpus.items exposed (default all).
    seed, set_epoch(e): item i in epoch e is perturbed with
      `np.random.default_rng([seed, e, i])`. The epoch lives in shared memory,
      so `set_epoch` reaches persistent DataLoader workers too.
    semitones, n_effects: ranges of the two perturbations.
    """

    def __init__(self, corpus: Corpus, cfg: FeatureConfig, normaliser: Normaliser,
                 label_maps: dict[str, list[str]] | None = None,
                 indices: Sequence[int] | None = None, seed: int = 0,
                 semitones: int = 7, n_effects: int = 2):
        self.corpus, self.cfg, self.normaliser = corpus, cfg, normaliser
        self.labels = encode_labels(corpus.items, label_maps or {})
        self.indices = list(range(len(corpus.items))) if indices is None else [int(i) for i in indices]
        self.seed, self.semitones, self.n_effects = int(seed), int(semitones), int(n_effects)
        # A shared int rather than an attribute: DataLoader workers hold copies
        # of the dataset, and persistent ones would never see a plain update.
        self._epoch = multiprocessing.Value("q", 0, lock=False)
        if cfg.kind == "mel":
            # Build the (cached) filterbank here, in the parent: forked workers
            # inherit it instead of each paying librosa's seconds-long first call.
            mel_basis(cfg)

    @property
    def epoch(self) -> int:
        return int(self._epoch.value)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.value = int(epoch)

    def __len__(self) -> int:
        return len(self.indices)

    def rng(self, row: int) -> np.random.Generator:
        """The generator that perturbs corpus row `row` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, int(row)])

    def audio(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(clean, pitch-shifted, timbre-distorted) prepared audio, each (n_samples,)."""
        from ..audio.io import load_audio

        cfg = self.cfg
        item = self.corpus.items[row]
        clean = prepare_audio(load_audio(self.corpus.audio_path(item), cfg.sample_rate), cfg)
        rng = self.rng(row)
        shifted = random_pitch_shift(clean, cfg.sample_rate, rng, self.semitones)
        distorted = random_timbre_distortion(clean, cfg.sample_rate, rng, self.n_effects)
        return clean, shifted, distorted

    def __getitem__(self, i: int) -> dict:
        row = self.indices[i]
        clean, shifted, distorted = self.audio(row)
        # no_grad rather than inference_mode: inference tensors could not be
        # used in the model's autograd graph afterwards.
        with torch.no_grad():
            feats = self.normaliser(audio_to_features(np.stack([clean, shifted, distorted]), self.cfg))
        return {"x": feats[0], "x_pitch": feats[1], "x_timbre": feats[2],
                "labels": {k: v[row] for k, v in self.labels.items()},
                "index": torch.tensor(row, dtype=torch.long)}

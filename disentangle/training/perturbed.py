"""Training data with random perturbations, for models that set `wants_perturbed_audio`.

Two ways to give every training item its pitch-shifted ("x_pitch") and
timbre-distorted ("x_timbre") copies (Tanaka 2022/2025):

- on the fly (`model.config.perturb_cache == 0`, paper-faithful): a
  `PerturbedAudioDataset` over the train items, fresh perturbations every
  epoch (`set_epoch`). pedalboard's pitch shift costs ~0.15 s per 4 s clip
  here, so an epoch of 1,200 phrases takes minutes on 2 cores.
- cached (`perturb_cache = K > 0`, for CPU-scale runs): K perturbed variants
  per item are computed once, stored under `<corpus root>/.cache/`, and each
  epoch every item draws one of them (seeded by (seed, epoch, row)). Variant k
  of row i is exactly what the on-the-fly dataset gives row i in epoch k.

Validation and test batches stay clean (no "x_pitch" / "x_timbre"): the
models then feed the clean input to every encoder, as at inference.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from disentangle.atomic import save_npy
from disentangle.data.dataset import PerturbedAudioDataset, seed_worker
from disentangle.data.schema import Corpus
from disentangle.features.config import FeatureConfig
from disentangle.features.perturb import random_pitch_shift, random_timbre_distortion
from disentangle.features.spectrogram import Normaliser, audio_to_features, prepare_audio
from disentangle.models.base import DisentangleModel


class _VariantDataset(Dataset):
    """Item j -> scaled (2, F, T) features (pitch-shifted, distorted) of row
    rows[j // K], variant j % K, drawn as `PerturbedAudioDataset` would in epoch k."""

    def __init__(self, corpus: Corpus, cfg: FeatureConfig, rows: Sequence[int], k: int,
                 seed: int, semitones: int, n_effects: int):
        self.corpus, self.cfg, self.rows, self.k = corpus, cfg, list(rows), int(k)
        self.seed, self.semitones, self.n_effects = seed, semitones, n_effects

    def __len__(self) -> int:
        return len(self.rows) * self.k

    def __getitem__(self, j: int) -> Tensor:
        from disentangle.audio.io import load_audio

        row, variant = self.rows[j // self.k], j % self.k
        cfg = self.cfg
        clean = prepare_audio(load_audio(self.corpus.audio_path(self.corpus.items[row]), cfg.sample_rate), cfg)
        rng = np.random.default_rng([self.seed, variant, int(row)])
        shifted = random_pitch_shift(clean, cfg.sample_rate, rng, self.semitones)
        distorted = random_timbre_distortion(clean, cfg.sample_rate, rng, self.n_effects)
        with torch.no_grad():
            return audio_to_features(np.stack([shifted, distorted]), cfg).half()


def variant_cache_path(corpus: Corpus, cfg: FeatureConfig, rows: Sequence[int], k: int, seed: int,
                       semitones: int, n_effects: int) -> Path:
    """Where the K variants of these rows live: keyed by the corpus fingerprint,
    the feature settings, the rows' paths and the perturbation settings."""
    h = hashlib.sha1(json.dumps({"corpus": corpus.fingerprint(), "features": cfg.key(),
                                 "paths": [corpus.items[r].path for r in rows], "k": k, "seed": seed,
                                 "semitones": semitones, "n_effects": n_effects}).encode())
    return Path(corpus.root) / ".cache" / f"perturbed-{h.hexdigest()[:16]}.npy"


def build_variants(corpus: Corpus, cfg: FeatureConfig, rows: Sequence[int], k: int, seed: int = 0,
                   semitones: int = 7, n_effects: int = 2, num_workers: int = 0,
                   progress: bool = True) -> np.ndarray:
    """Load or compute the cached variants: (len(rows), K, 2, F, T) float16 scaled
    features ([:, :, 0] pitch-shifted, [:, :, 1] timbre-distorted).

    Written atomically (temp file + rename), so an interrupted build is redone.
    """
    path = variant_cache_path(corpus, cfg, rows, k, seed, semitones, n_effects)
    if path.is_file():
        return np.load(path, mmap_mode=None)
    ds = _VariantDataset(corpus, cfg, rows, k, seed, semitones, n_effects)
    from tqdm import tqdm

    # Its own generator: a loader without one draws its workers' base seed from the
    # global RNG, so a cold cache would shift the training noise of a warm one.
    loader = DataLoader(ds, batch_size=8, num_workers=num_workers, worker_init_fn=seed_worker,
                        generator=torch.Generator().manual_seed(seed))
    chunks = []
    with tqdm(total=len(loader), desc=f"perturbing {len(rows)} items x {k}", leave=False,
              disable=not progress) as bar:  # a counter: wrapping would call iter() twice
        for chunk in loader:
            chunks.append(chunk)
            bar.update(1)
    out = torch.cat(chunks).view(len(rows), k, 2, cfg.n_bins, cfg.n_frames).numpy()
    save_npy(path, out)
    return out


class CachedPerturbationDataset(Dataset):
    """Items {"x", "x_pitch", "x_timbre": (F, T) normalised, "labels", "index"}
    where the perturbed copies are one of K cached variants, drawn per epoch.

    x_normalised: (N, F, T) clean features of every item; labels: {col: (N,)};
    rows: the rows exposed; variants: (len(rows), K, 2, F, T) scaled features.
    """

    def __init__(self, x_normalised: Tensor, labels: dict[str, Tensor], rows: Sequence[int],
                 variants: np.ndarray, normaliser: Normaliser, seed: int = 0):
        self.x, self.labels, self.rows = x_normalised, labels, [int(r) for r in rows]
        if len(variants) != len(self.rows):
            raise ValueError(f"{len(variants)} variant sets for {len(self.rows)} rows")
        self.variants, self.normaliser, self.seed = variants, normaliser, int(seed)
        self._epoch = multiprocessing.Value("q", 0, lock=False)  # reaches DataLoader workers

    def set_epoch(self, epoch: int) -> None:
        self._epoch.value = int(epoch)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        k = int(np.random.default_rng([self.seed, int(self._epoch.value), row]).integers(len(self.variants[i])))
        pert = self.normaliser(torch.from_numpy(np.asarray(self.variants[i, k], dtype=np.float32)))
        return {"x": self.x[row], "x_pitch": pert[0], "x_timbre": pert[1],
                "labels": {c: v[row] for c, v in self.labels.items()},
                "index": torch.tensor(row, dtype=torch.long)}


def perturbed_train_dataset(data, model: DisentangleModel, seed: int, num_workers: int = 0,
                            progress: bool = True) -> Dataset:
    """The training dataset for a model with `wants_perturbed_audio`.

    data: a `TrainData`. Settings come from the model config: `perturb_cache`
    (K; 0 = on the fly), `semitones`, `n_effects`. The returned dataset has
    `set_epoch(epoch)`, which the trainer calls before every epoch.
    """
    mc = model.config
    k = int(getattr(mc, "perturb_cache", 0) or 0)
    semitones, n_effects = int(getattr(mc, "semitones", 7)), int(getattr(mc, "n_effects", 2))
    rows = [int(r) for r in data.splits["train"]]
    # Rows index data.items (the items that loaded), not the full corpus.
    corpus = Corpus(data.corpus.root, list(data.items), data.corpus.name)
    if k <= 0:
        return PerturbedAudioDataset(corpus, model.features, data.normaliser, data.label_maps,
                                     indices=rows, seed=seed, semitones=semitones, n_effects=n_effects)
    variants = build_variants(corpus, model.features, rows, k, seed, semitones, n_effects,
                              num_workers=num_workers, progress=progress)
    return CachedPerturbationDataset(data.x, data.labels, rows, variants, data.normaliser, seed)


__all__ = ["CachedPerturbationDataset", "build_variants", "perturbed_train_dataset", "variant_cache_path"]

"""From a corpus folder to normalised tensors, label indices and split indices.

The normaliser is fitted on the training split only (no test statistics leak
into the model); label maps are built over the whole corpus so a class has
the same index in every split and every run on that corpus.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from disentangle.data.schema import Corpus, load_corpus
from disentangle.features.config import FeatureConfig

#: split names accepted for validation, in order of preference.
VALID_NAMES = ("valid", "validation", "val", "dev")


@dataclass
class TrainData:
    """Everything the loop needs; x and labels cover every loaded item.

    x: (N, F, T) float32 normalised features. labels: {column: (N,) long},
    -1 where unknown. splits: {"train"|"valid"|"test": int64 indices into x}.
    """

    corpus: Corpus
    items: list
    normaliser: Any
    label_maps: dict[str, list[str]]
    x: Tensor
    labels: dict[str, Tensor]
    splits: dict[str, np.ndarray]
    skipped: list

    def dataset(self, split: str, indices: np.ndarray | None = None):
        """A `SpectrogramDataset` over one split (or the given indices)."""
        from disentangle.data.dataset import SpectrogramDataset

        idx = self.splits[split] if indices is None else indices
        return SpectrogramDataset(self.x, self.labels, indices=torch.as_tensor(idx, dtype=torch.long))


def open_any_corpus(data_dir: str | Path) -> Corpus:
    """A folder with a metadata.csv, else whatever `open_corpus` recognises."""
    path = Path(data_dir)
    if (path / "metadata.csv").is_file():
        return load_corpus(path)
    from disentangle.data.loaders import open_corpus

    return open_corpus(data_dir)


def split_indices(items: list, valid_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Indices of the train, valid and test items.

    Without a validation split in the corpus, a seeded `valid_fraction` of the
    training items is held out instead (at least one item), so best-checkpoint
    selection never looks at the test split.
    """
    names = np.array([str(getattr(i, "split", "train")).lower() for i in items])
    train = np.flatnonzero(names == "train")
    valid = np.flatnonzero(np.isin(names, VALID_NAMES))
    test = np.flatnonzero(names == "test")
    if len(valid) == 0 and len(train) > 1 and valid_fraction > 0:
        rng = np.random.default_rng(seed)
        n_valid = max(1, round(valid_fraction * len(train)))
        chosen = np.sort(rng.choice(train, size=n_valid, replace=False))
        train = np.setdiff1d(train, chosen)
        valid = chosen
    if len(train) == 0:
        raise ValueError("the corpus has no items in its 'train' split")
    return {"train": train.astype(np.int64), "valid": valid.astype(np.int64),
            "test": test.astype(np.int64)}


def prepare_data(data_dir: str | Path, features: FeatureConfig, label_columns: list[str],
                 valid_fraction: float = 0.1, seed: int = 0, progress: bool = True) -> TrainData:
    """Load a corpus and its (cached) features; fit the normaliser on train.

    Raises ValueError when no item could be loaded or the train split is empty.
    """
    from disentangle.data.dataset import encode_labels, make_label_maps
    from disentangle.features.cache import load_features
    from disentangle.features.spectrogram import Normaliser

    corpus = open_any_corpus(data_dir)
    fs = load_features(corpus, features, progress=progress)
    if len(fs.items) == 0:
        raise ValueError(f"{data_dir}: none of the {len(corpus)} items could be loaded "
                         f"(first problems: {fs.skipped[:3]})")
    splits = split_indices(fs.items, valid_fraction, seed)
    x_scaled = torch.from_numpy(np.ascontiguousarray(fs.x, dtype=np.float32))
    normaliser = Normaliser.fit(x_scaled[torch.from_numpy(splits["train"])], features)
    x = torch.as_tensor(normaliser(x_scaled)).float().contiguous()
    label_maps = make_label_maps(corpus.items, list(label_columns))
    labels = encode_labels(fs.items, label_maps)
    return TrainData(corpus, list(fs.items), normaliser, label_maps, x, labels, splits,
                     list(fs.skipped))

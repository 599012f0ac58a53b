"""Deterministic train/valid/test splits, stratified by a label and spread over pitch."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .schema import Item

SPLITS = ("train", "valid", "test")


#: The split of items from a held-out sample source (cross-source evaluation).
UNSEEN = "unseen"


def split_by_source(items: Sequence[Item], holdout: Sequence[str], seed: int = 0) -> None:
    """Items of `holdout` sources -> "unseen"; the rest 80/10/10 within every (instrument, source)."""
    held = set(holdout)
    for item in items:
        if item.source in held:
            item.split = UNSEEN
    assign_splits([i for i in items if i.source not in held], seed=seed, stratify=("instrument", "source"))


def assign_splits(items: Sequence[Item], seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                  stratify: str | tuple[str, ...] = "instrument") -> None:
    """Set `item.split` in place: 80/10/10 (by default) within every `stratify` class.

    Inside a class the items are ordered by (pitch, dynamics, duration, path)
    and dealt out in consecutive blocks of ten, each block shuffled by `seed`,
    so valid and test sample every instrument's whole pitch range rather than
    one random corner of it. Classes with fewer than 3 items go to train.
    `stratify` may name several labels: classes are then their combinations.
    Same items + same seed -> same splits.
    """
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {fractions}")
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        key = (stratify,) if isinstance(stratify, str) else stratify
        groups["|".join(item.label(k) for k in key)].append(item)
    rng = np.random.default_rng(seed)
    block = 10
    # Slots per block of ten, e.g. 8 train, 1 valid, 1 test.
    counts = [round(f * block) for f in fractions]
    counts[0] = block - sum(counts[1:])
    pattern = np.array([s for s, c in zip(SPLITS, counts) for _ in range(c)])
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda i: (i.pitch, i.dynamics, i.duration, i.path))
        if len(members) < 3:
            for item in members:
                item.split = "train"
            continue
        for start in range(0, len(members), block):
            chunk = members[start:start + block]
            labels = pattern[rng.permutation(block)][: len(chunk)]
            for item, split in zip(chunk, labels):
                item.split = str(split)
        # A small class might draw no valid/test item at all: give it one of each.
        for need in SPLITS[1:]:
            if not any(i.split == need for i in members):
                train = [i for i in members if i.split == "train"]
                if len(train) > 1:
                    train[int(rng.integers(len(train)))].split = need

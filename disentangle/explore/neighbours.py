"""Nearest neighbours of a point in one latent space, or in all spaces at once.

Because the spaces are disentangled, neighbours in the timbre space are "the
same instrument, any pitch" and neighbours in the pitch space "the same pitch,
any instrument". "All spaces" joins every space after standardising each
dimension over the corpus and weighting each space by 1/sqrt(D), so every
space counts alike whatever its size. Exact search with scikit-learn's
`NearestNeighbors` (a few thousand points: milliseconds).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors

from disentangle.explore.entry import ModelEntry
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

#: The pseudo-space that joins every latent space.
ALL_SPACES = "all spaces"


@dataclass(frozen=True)
class Neighbour:
    """A corpus item near the query: its reference, rank (1 = nearest) and distance."""

    ref: Ref
    rank: int
    distance: float


class NeighbourIndex:
    """Fitted exact indexes of one model's corpus latents, one per space (built on first use)."""

    def __init__(self, entry: ModelEntry):
        self.entry = entry
        self._fitted: dict[str, NearestNeighbors] = {}
        self._lock = threading.Lock()
        # Per-dimension mean and spread over the corpus, for the joint search.
        self._stats = {s: (entry.flat[s].mean(0), entry.flat[s].std(0) + 1e-6) for s in entry.space_names}

    def vectors(self, space: str) -> np.ndarray:
        """The corpus vectors searched in `space` (M, D), or (M, sum D) for ALL_SPACES."""
        if space != ALL_SPACES:
            return self.entry.flat[self.entry.check_space(space)]
        return np.concatenate([self._joint_part(s, self.entry.flat[s]) for s in self.entry.space_names], 1)

    def _joint_part(self, space: str, v: np.ndarray) -> np.ndarray:
        mean, std = self._stats[space]
        return ((v - mean) / std / np.sqrt(v.shape[-1])).astype(np.float32)

    def query_vector(self, ref: Ref, space: str, session: Session) -> np.ndarray:
        """The query (D,) of a reference in `space` (or all spaces)."""
        if space != ALL_SPACES:
            return self.entry.vector(ref, space, session)
        return np.concatenate([self._joint_part(s, self.entry.vector(ref, s, session)[None])[0]
                               for s in self.entry.space_names])

    def _index(self, space: str) -> NearestNeighbors:
        with self._lock:
            if space not in self._fitted:
                self._fitted[space] = NearestNeighbors().fit(self.vectors(space))
            return self._fitted[space]

    def nearest(self, ref: Ref, space: str, k: int, session: Session) -> list[Neighbour]:
        """The k corpus items nearest to `ref` in `space`, the item itself left out."""
        if not 1 <= int(k) <= 100:
            raise ValueError("ask for between 1 and 100 neighbours")
        index = self._index(space)
        q = self.query_vector(ref, space, session)[None]
        n = min(len(self.entry.rows), int(k) + 1)
        dist, idx = index.kneighbors(q, n_neighbors=n)
        out: list[Neighbour] = []
        for d, i in zip(dist[0], idx[0]):
            row = int(self.entry.rows[i])
            if ref.kind == "corpus" and row == ref.index:
                continue
            out.append(Neighbour(Ref.corpus(row), len(out) + 1, float(d)))
        return out[: int(k)]

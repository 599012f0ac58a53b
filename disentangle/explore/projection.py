"""2-D projections of latent vectors (UMAP, t-SNE, PCA) and placing new points on them.

New points (mixture-component means, the user's own sounds) are placed
exactly by PCA. t-SNE has no transform, and UMAP is fitted on a precomputed
k-NN graph (see `fit_projection`), which leaves it none either; there a new
point goes to the distance-weighted average of the map positions of its k
nearest corpus points in latent space, the same whether the map was just
fitted or read from the disk cache. `Projection.placement` says which was
used so the UI can tell the user.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from disentangle.atomic import save_npy, write_text

Method = Literal["umap", "tsne", "pca"]
#: Above this many points UMAP / t-SNE are fitted on a random sample of this
#: size and the other points placed by their neighbours (`place_by_neighbours`):
#: scikit-learn's t-SNE did not finish 100,000 points in 15 minutes here, and
#: UMAP took ~2 minutes; t-SNE's cost grows faster, hence its smaller sample.
FIT_SAMPLE = {"umap": 20_000, "tsne": 10_000}
#: Points whose neighbours are looked up at once when placing.
PLACE_BLOCK = 8192
#: progress(items done, items in all, what) of a fit.
FitProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ProjectionParams:
    """What a map is made with; every field is part of the cache key.

    pcs: the two principal components plotted (1-based), for PCA.
    """

    method: Method = "umap"
    n_neighbors: int = 15
    min_dist: float = 0.1
    perplexity: float = 30.0
    pcs: tuple[int, int] = (1, 2)
    seed: int = 0

    def relevant(self) -> dict[str, Any]:
        """Only the parameters the method uses (so PCA maps ignore UMAP settings)."""
        keep = {"umap": ("n_neighbors", "min_dist", "seed"), "tsne": ("perplexity", "seed"),
                "pca": ("pcs",)}[self.method]
        d = asdict(self)
        return {"method": self.method, **{k: d[k] for k in keep}}

    def key(self) -> str:
        return hashlib.sha1(json.dumps(self.relevant(), sort_keys=True).encode()).hexdigest()[:12]

    def label(self) -> str:
        """Human-readable, e.g. 'UMAP (n_neighbors=15, min_dist=0.1)'."""
        rel = {k: v for k, v in self.relevant().items() if k not in ("method", "seed")}
        inner = ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in rel.items())
        return f"{ {'umap': 'UMAP', 'tsne': 't-SNE', 'pca': 'PCA'}[self.method]} ({inner})"


@dataclass
class Projection:
    """A fitted 2-D map of N latent vectors.

    coords: (N, 2) float32 map positions. reference: (N, D) the vectors it was
    fitted on (for neighbour placement). pca_mean (D,), pca_axes (2, D): the
    exact linear map for PCA.
    seconds: fitting time (0 when loaded from disk).
    """

    params: ProjectionParams
    coords: np.ndarray
    reference: np.ndarray
    pca_mean: np.ndarray | None = None
    pca_axes: np.ndarray | None = None
    seconds: float = 0.0
    from_cache: bool = False
    explained: list[float] = field(default_factory=list)

    @property
    def placement(self) -> str:
        """How new points are placed: 'exact' (PCA) or 'neighbours' (t-SNE, UMAP)."""
        return "exact" if self.params.method == "pca" else "neighbours"

    def transform(self, x: np.ndarray, k: int = 10) -> np.ndarray:
        """New vectors (M, D) -> map positions (M, 2); see `placement`."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.reference.shape[1])
        if len(x) == 0:
            return np.zeros((0, 2), np.float32)
        if self.params.method == "pca":
            if self.pca_mean is None or self.pca_axes is None:  # what `x - None` raised before this check
                raise TypeError("a PCA projection without its mean and axes cannot place new points")
            return ((x - self.pca_mean) @ self.pca_axes.T).astype(np.float32)
        return place_by_neighbours(self.reference, self.coords, x, k=k)

    # --- disk cache: coords .npy + meta .json (no pickles) ---------------
    def save(self, stem: Path) -> None:
        """Write `<stem>.npy` (coords) and `<stem>.json` (params, PCA axes), atomically."""
        save_npy(stem.with_suffix(".npy"), self.coords.astype(np.float32))
        meta = {"params": {**asdict(self.params), "pcs": list(self.params.pcs)},
                "seconds": self.seconds, "explained": self.explained,
                "pca_mean": None if self.pca_mean is None else self.pca_mean.tolist(),
                "pca_axes": None if self.pca_axes is None else self.pca_axes.tolist()}
        write_text(stem.with_suffix(".json"), json.dumps(meta))

    @classmethod
    def load(cls, stem: Path, reference: np.ndarray) -> Projection | None:
        """Read a saved projection; None when absent, unreadable or of the wrong length."""
        try:
            meta = json.loads(stem.with_suffix(".json").read_text())
            coords = np.load(stem.with_suffix(".npy"), allow_pickle=False)
        except (OSError, ValueError):
            return None
        if coords.shape != (len(reference), 2):
            return None
        p = dict(meta["params"])
        p["pcs"] = tuple(p["pcs"])
        arr = (lambda v: None if v is None else np.asarray(v, dtype=np.float32))
        return cls(ProjectionParams(**p), coords, reference, arr(meta["pca_mean"]), arr(meta["pca_axes"]),
                   0.0, True, list(meta.get("explained", [])))


def place_by_neighbours(reference: np.ndarray, coords: np.ndarray, x: np.ndarray, k: int = 10,
                        progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Place new vectors x (M, D) at the inverse-distance-weighted mean position
    of their k nearest reference vectors (N, D) whose positions are coords (N, 2).

    Neighbours come from a tree (scikit-learn), PLACE_BLOCK queries at a time,
    so placing 80,000 points never builds an (M, N) distance matrix;
    `progress(done, total)` after each block.
    """
    from sklearn.neighbors import NearestNeighbors

    k = max(1, min(k, len(reference)))
    index = NearestNeighbors(n_neighbors=k).fit(reference)
    out = np.empty((len(x), 2), np.float32)
    for start in range(0, len(x), PLACE_BLOCK):
        dk, idx = index.kneighbors(x[start:start + PLACE_BLOCK])
        w = 1.0 / (dk + 1e-6)
        w /= w.sum(1, keepdims=True)
        out[start:start + PLACE_BLOCK] = (coords[idx] * w[..., None]).sum(1)
        if progress is not None:
            progress(min(len(x), start + PLACE_BLOCK), len(x))
    return out


def _pca(x: np.ndarray, pcs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """PCA by SVD: returns (coords (N, 2), mean (D,), axes (2, D), explained variance ratios)."""
    mean = x.mean(0)
    centred = x - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    ratio = (var / max(var.sum(), 1e-12)).tolist()
    n = vt.shape[0]
    picks = [min(max(int(p), 1), n) - 1 for p in pcs]
    axes = vt[picks]
    # A deterministic sign: the largest loading of each axis is positive, so
    # a refit on the same data never mirrors the map.
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(1)])
    axes = axes * np.where(signs == 0, 1, signs)[:, None]
    return (centred @ axes.T).astype(np.float32), mean.astype(np.float32), axes.astype(np.float32), \
        [ratio[i] for i in picks]


def fit_projection(x: np.ndarray, params: ProjectionParams, progress: FitProgress | None = None) -> Projection:
    """Fit a 2-D map of x (N, D) -> `Projection` with coords (N, 2).

    Fewer points or dimensions than a method needs fall back gracefully: t-SNE
    perplexity is capped below N, UMAP neighbours below N, and 1-D latents are
    plotted against zero. Above FIT_SAMPLE[method] points the method is fitted
    on a seeded random sample and the rest are placed by their neighbours.
    progress(done, total, what): items mapped so far (0 while a fit runs, the
    sample size after it, then up to N as the rest are placed).
    """
    x = np.asarray(x, dtype=np.float32)
    n, d = x.shape
    start = time.perf_counter()
    say = progress or (lambda done, total, what: None)
    x_fit = np.concatenate([x, np.zeros_like(x)], 1) if d == 1 else x
    mean = axes = None
    explained: list[float] = []
    if params.method == "pca" or n < 5:
        coords, mean, axes, explained = _pca(x_fit, params.pcs)
        if d == 1:
            axes = axes[:, :1]
            mean = mean[:1]
        if params.method != "pca":  # too few points for a neighbour graph
            params = ProjectionParams("pca", pcs=(1, 2), seed=params.seed)
    elif params.method in ("tsne", "umap"):
        limit = FIT_SAMPLE[params.method]
        sample = (np.sort(np.random.default_rng(params.seed).choice(n, limit, replace=False))
                  if n > limit else np.arange(n))
        say(0, n, f"fitting {params.label()} on {len(sample):,} of {n:,} items")
        fitted = (_tsne if params.method == "tsne" else _umap)(x_fit[sample], params)
        say(len(sample), n, f"{params.label()} fitted on {len(sample):,} items")
        if len(sample) == n:
            coords = fitted
        else:
            rest = np.setdiff1d(np.arange(n), sample)
            coords = np.empty((n, 2), np.float32)
            coords[sample] = fitted
            coords[rest] = place_by_neighbours(
                x_fit[sample], fitted, x_fit[rest],
                progress=lambda done, total: say(len(sample) + done, n, f"placing {done:,}/{total:,} items"))
    else:
        raise ValueError(f"unknown projection method {params.method!r}; use umap, tsne or pca")
    return Projection(params, coords, x, mean, axes, time.perf_counter() - start, False, explained)


def _tsne(x: np.ndarray, params: ProjectionParams) -> np.ndarray:
    from sklearn.manifold import TSNE

    n = len(x)
    perplexity = float(min(params.perplexity, max(1.0, (n - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=params.seed,
                learning_rate="auto").fit_transform(x).astype(np.float32)


def _umap(x: np.ndarray, params: ProjectionParams) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap warns that a seed disables parallelism
        import umap
        from sklearn.neighbors import NearestNeighbors

        # Below 4,096 points UMAP finds neighbours through sklearn with a
        # Python-level metric callback (~30 s for 3,600 points here);
        # sklearn's own exact search gives the same graph in ~0.1 s. The
        # price is UMAP.transform, which needs UMAP's own index.
        k = int(min(params.n_neighbors, len(x) - 1))
        dists, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
        return umap.UMAP(n_neighbors=k, min_dist=float(params.min_dist), n_components=2,
                         random_state=params.seed, precomputed_knn=(idx, dists, None)
                         ).fit_transform(x).astype(np.float32)

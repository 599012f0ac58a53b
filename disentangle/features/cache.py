"""Features of a whole corpus, computed once and cached on disk.

`load_features(corpus, cfg)` decodes every item (`load_audio`), prepares it
(`prepare_audio`), computes scaled features in batches and stores them under
`<corpus.root>/.cache/features-<corpus fingerprint>-<cfg.key()>.npz`. The
fingerprint covers item paths, sizes and mtimes, so editing the corpus or the
settings gives a new cache file; the same corpus and settings read it back.

Files that cannot be used (`AudioError`: empty, undecodable, NaN, silent...)
are skipped with one warning giving their count, listed in
`FeatureSet.skipped`, and remembered in the cache, so a second run neither
recomputes nor re-decodes them. The cache is a plain `.npz` (no pickle),
written to a temporary file and renamed, so an interrupted run never leaves a
half-written cache behind.
"""
from __future__ import annotations

import hashlib
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_write
from ..audio import io as audio_io
from ..data.schema import Corpus, Item
from .config import FeatureConfig
from .spectrogram import audio_to_features, prepare_audio

#: Items whose features are computed together (one batched STFT).
BATCH = 64
#: Bump when the cached layout or the feature maths change.
CACHE_VERSION = 1


@dataclass
class FeatureSet:
    """Scaled features of the items of a corpus that loaded.

    x: (N, F, T) float32 scaled features (not normalised), row i for items[i].
    items: the corpus items that loaded, in corpus order.
    skipped: (path relative to the corpus root, reason) of those that did not.
    """

    x: np.ndarray
    items: list[Item]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def split(self, name: str) -> FeatureSet:
        """The rows whose item is in split `name`."""
        rows = [i for i, it in enumerate(self.items) if it.split == name]
        return FeatureSet(self.x[rows], [self.items[i] for i in rows], [])


def cache_path(corpus: Corpus, cfg: FeatureConfig, cache_dir: str | Path | None = None) -> Path:
    """Where `load_features` keeps the features of `corpus` under `cfg`."""
    folder = Path(cache_dir) if cache_dir is not None else Path(corpus.root) / ".cache"
    key = hashlib.sha1(f"v{CACHE_VERSION}|{corpus.fingerprint()}|{cfg.key()}".encode()).hexdigest()[:16]
    return folder / f"features-{key}.npz"


def _save(path: Path, x: np.ndarray, rows: list[int], paths: list[str],
          skipped: list[tuple[str, str]]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, x=x, rows=np.asarray(rows, dtype=np.int64),
                     paths=np.asarray(paths, dtype=np.str_),
                     skipped_paths=np.asarray([p for p, _ in skipped], dtype=np.str_),
                     skipped_reasons=np.asarray([r for _, r in skipped], dtype=np.str_),
                     version=np.asarray(CACHE_VERSION))

    atomic_write(path, write)


def _load(path: Path, corpus: Corpus) -> FeatureSet | None:
    """The cached FeatureSet, or None if the file is unreadable or stale."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION:
                return None
            x, rows, paths = z["x"], z["rows"].tolist(), z["paths"].tolist()
            skipped = list(zip(z["skipped_paths"].tolist(), z["skipped_reasons"].tolist()))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # a corrupt cache: recompute
        warnings.warn(f"{path}: unreadable feature cache ({type(exc).__name__}: {exc}); recomputing")
        return None
    if any(r >= len(corpus.items) or corpus.items[r].path != p for r, p in zip(rows, paths)):
        return None
    return FeatureSet(x, [corpus.items[r] for r in rows], skipped)


def _warn_skipped(skipped: list[tuple[str, str]], total: int, corpus: Corpus) -> None:
    if not skipped:
        return
    shown = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
    more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    warnings.warn(f"skipped {len(skipped)} of {total} audio files in {corpus.root} that could not "
                  f"be used ({shown}{more}); see FeatureSet.skipped", stacklevel=3)


def compute_features(corpus: Corpus, cfg: FeatureConfig, progress: bool = True
                     ) -> tuple[np.ndarray, list[int], list[tuple[str, str]]]:
    """Features of every usable item, without any cache.

    Returns (x (N, F, T) float32, corpus row of each, skipped (path, reason)).
    """
    from tqdm.auto import tqdm

    chunks: list[np.ndarray] = []
    rows: list[int] = []
    skipped: list[tuple[str, str]] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            with torch.inference_mode():
                chunks.append(audio_to_features(np.stack(batch), cfg).numpy())
            batch.clear()

    bar = tqdm(corpus.items, desc=f"features {corpus.name}", unit="item",
               disable=not progress, leave=False)
    for row, item in enumerate(bar):
        try:
            # Looked up on the module so tests (and callers) can substitute it.
            audio = audio_io.load_audio(corpus.audio_path(item), cfg.sample_rate)
            audio = prepare_audio(audio, cfg)
        except audio_io.AudioError as exc:
            skipped.append((item.path, exc.reason))
            continue
        batch.append(audio)
        rows.append(row)
        if len(batch) == BATCH:
            flush()
    flush()
    x = np.concatenate(chunks) if chunks else np.zeros((0, cfg.n_bins, cfg.n_frames), np.float32)
    return x.astype(np.float32, copy=False), rows, skipped


def load_features(corpus: Corpus, cfg: FeatureConfig, cache_dir: str | Path | None = None,
                  progress: bool = True) -> FeatureSet:
    """Scaled features of `corpus` under `cfg`, from the cache when it has them.

    cache_dir: defaults to `<corpus.root>/.cache`. Never raises for bad audio
    files: they are skipped, counted in one warning and listed in `skipped`.
    Returns a `FeatureSet` with x (N, F, T) float32.
    """
    path = cache_path(corpus, cfg, cache_dir)
    if path.is_file():
        cached = _load(path, corpus)
        if cached is not None:
            _warn_skipped(cached.skipped, len(corpus.items), corpus)
            return cached
    x, rows, skipped = compute_features(corpus, cfg, progress=progress)
    try:
        _save(path, x, rows, [corpus.items[r].path for r in rows], skipped)
    except OSError as exc:  # e.g. a read-only corpus: features are still usable
        warnings.warn(f"could not write feature cache {path}: {exc}")
    _warn_skipped(skipped, len(corpus.items), corpus)
    return FeatureSet(x, [corpus.items[r] for r in rows], skipped)

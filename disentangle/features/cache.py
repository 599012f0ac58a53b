"""Features of a whole corpus, computed once and cached on disk.

`load_features(corpus, cfg)` decodes every item (`load_audio`), prepares it
(`prepare_audio`), computes scaled features in batches and stores them under
`<corpus.root>/.cache/features-<key>.npy` (the array) and `.json` (which
corpus rows it holds and what was skipped). The key covers the corpus
fingerprint (item paths, sizes, mtimes) and the settings, so editing the
corpus or the settings gives a new cache; the same corpus and settings read
it back.

Memory stays bounded by one batch: rows go straight into a preallocated
`.npy` on disk (`store.RowWriter`), and a cached set comes back as a
copy-on-write memory map, so a caller only pays for the rows it reads
(`FeatureSet.rows(start, stop)` reads a slice without mapping the file).

Files that cannot be used (`AudioError`: empty, undecodable, NaN, silent...)
are skipped with one warning giving their count, listed in
`FeatureSet.skipped`, and remembered in the cache, so a second run neither
recomputes nor re-decodes them. The array is written to a temporary file and
renamed, and the `.json` (written last, atomically) is what makes a cache
valid, so an interrupted run never leaves a half-written cache behind.
`features.shard` computes the same cache in pieces, one per process.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import write_text
from ..audio import io as audio_io
from ..data.schema import Corpus, Item
from .config import FeatureConfig
from .spectrogram import audio_to_features, prepare_audio
from .store import RowWriter, open_rows, read_rows

#: Items whose features are computed together (one batched STFT). Extracting the default
#: corpus's gmvae features raised the peak RSS by 385 MB in batches of 64 (18.5 s) and by
#: 260-281 MB in batches of 16 (13.3-13.4 s); ~225 MB of it is there at any batch size.
BATCH = 16
#: Bump when the cached layout or the feature maths change.
CACHE_VERSION = 2


@dataclass
class FeatureSet:
    """Scaled features of the items of a corpus that loaded.

    x: (N, F, T) float32 scaled features (not normalised), row i for items[i];
      a read-only-on-disk memory map when it came from the cache.
    items: the corpus items that loaded, in corpus order.
    skipped: (path relative to the corpus root, reason) of those that did not.
    path: the cache file holding x (None for an in-memory set).
    """

    x: np.ndarray
    items: list[Item]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.items)

    def split(self, name: str) -> FeatureSet:
        """The rows whose item is in split `name`."""
        rows = [i for i, it in enumerate(self.items) if it.split == name]
        return FeatureSet(self.x[rows], [self.items[i] for i in rows], [])

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as a new (B, F, T) array, read from disk without a memory map."""
        if self.path is not None:
            return read_rows(self.path, start, min(stop, len(self.x)))
        return np.array(self.x[start:stop], dtype=np.float32)


def cache_path(corpus: Corpus, cfg: FeatureConfig, cache_dir: str | Path | None = None) -> Path:
    """Where `load_features` keeps the features of `corpus` under `cfg` (`.npy`; meta `.json` beside)."""
    folder = Path(cache_dir) if cache_dir is not None else Path(corpus.root) / ".cache"
    key = hashlib.sha1(f"v{CACHE_VERSION}|{corpus.fingerprint()}|{cfg.key()}".encode()).hexdigest()[:16]
    return folder / f"features-{key}.npy"


def temp_path(path: Path, tag: str = "") -> Path:
    """A temp file beside `path` that `atomic.remove_stale_temps` recognises."""
    return path.with_name(f".{path.name}.{tag}{os.getpid()}.tmp")


def finish_cache(tmp: Path, path: Path, rows: Sequence[int], corpus: Corpus,
                 skipped: Sequence[tuple[str, str]]) -> None:
    """Move a finished array `tmp` into place at `path`, then write its `.json` (which makes it valid)."""
    os.replace(tmp, path)
    meta = {"version": CACHE_VERSION, "rows": [int(r) for r in rows],
            "paths": [corpus.items[r].path for r in rows], "skipped": [list(s) for s in skipped]}
    write_text(path.with_suffix(".json"), json.dumps(meta))


def _load(path: Path, corpus: Corpus, cfg: FeatureConfig) -> FeatureSet | None:
    """The cached FeatureSet, or None if the files are unreadable or stale."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        x = open_rows(path)
    except (OSError, ValueError, EOFError) as exc:  # a corrupt cache: recompute
        warnings.warn(f"{path}: unreadable feature cache ({type(exc).__name__}: {exc}); recomputing")
        return None
    if meta.get("version") != CACHE_VERSION:
        return None
    rows, paths = meta["rows"], meta["paths"]
    if x.shape != (len(rows), cfg.n_bins, cfg.n_frames) or x.dtype != np.float32:
        return None
    if any(r >= len(corpus.items) or corpus.items[r].path != p for r, p in zip(rows, paths)):
        return None
    skipped = [(str(p), str(r)) for p, r in meta["skipped"]]
    return FeatureSet(x, [corpus.items[r] for r in rows], skipped, path)


def _warn_skipped(skipped: list[tuple[str, str]], total: int, corpus: Corpus) -> None:
    if not skipped:
        return
    shown = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
    more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    warnings.warn(f"skipped {len(skipped)} of {total} audio files in {corpus.root} that could not "
                  f"be used ({shown}{more}); see FeatureSet.skipped", stacklevel=3)


def iter_features(corpus: Corpus, cfg: FeatureConfig, rows: Sequence[int] | None = None,
                  skipped: list[tuple[str, str]] | None = None, progress: bool = True,
                  desc: str | None = None) -> Iterator[tuple[np.ndarray, list[int]]]:
    """Features of the items at corpus `rows` (default: all), in batches.

    Yields (x (B, F, T) float32 scaled features, corpus row of each); items
    that cannot be used are appended to `skipped` as (path, reason).
    """
    from tqdm.auto import tqdm

    rows = range(len(corpus.items)) if rows is None else rows
    skipped = [] if skipped is None else skipped
    audio: list[np.ndarray] = []
    done: list[int] = []
    bar = tqdm(rows, desc=desc or f"features {corpus.name}", unit="item", disable=not progress,
               leave=False, mininterval=2.0)
    for row in bar:
        item = corpus.items[row]
        try:
            # Looked up on the module so tests (and callers) can substitute it.
            clip = audio_io.load_audio(corpus.audio_path(item), cfg.sample_rate)
            audio.append(prepare_audio(clip, cfg))
        except audio_io.AudioError as exc:
            skipped.append((item.path, exc.reason))
            continue
        done.append(int(row))
        if len(audio) == BATCH:
            with torch.inference_mode():
                yield audio_to_features(np.stack(audio), cfg).numpy().astype(np.float32, copy=False), done
            audio, done = [], []
    if audio:
        with torch.inference_mode():
            yield audio_to_features(np.stack(audio), cfg).numpy().astype(np.float32, copy=False), done


def write_features(corpus: Corpus, cfg: FeatureConfig, path: Path, rows: Sequence[int] | None = None,
                   progress: bool = True, desc: str | None = None,
                   on_batch: Callable[[np.ndarray, list[int]], None] | None = None
                   ) -> tuple[list[int], list[tuple[str, str]]]:
    """Compute the features of corpus `rows` (default all) into a `.npy` at `path`.

    Returns (corpus row of each array row, skipped (path, reason)). Memory:
    one batch. `on_batch(x, rows)` sees every batch (e.g. to encode it).
    """
    wanted = list(range(len(corpus.items)) if rows is None else rows)
    writer = RowWriter(path, (cfg.n_bins, cfg.n_frames), len(wanted))
    done: list[int] = []
    skipped: list[tuple[str, str]] = []
    try:
        for x, batch_rows in iter_features(corpus, cfg, wanted, skipped, progress, desc):
            writer.write(x)
            done.extend(batch_rows)
            if on_batch is not None:
                on_batch(x, batch_rows)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return done, skipped


def compute_features(corpus: Corpus, cfg: FeatureConfig, progress: bool = True
                     ) -> tuple[np.ndarray, list[int], list[tuple[str, str]]]:
    """Features of every usable item in memory, without any cache.

    Returns (x (N, F, T) float32, corpus row of each, skipped (path, reason)).
    """
    x = np.empty((len(corpus.items), cfg.n_bins, cfg.n_frames), np.float32)
    rows: list[int] = []
    skipped: list[tuple[str, str]] = []
    for batch, batch_rows in iter_features(corpus, cfg, None, skipped, progress):
        x[len(rows):len(rows) + len(batch)] = batch
        rows.extend(batch_rows)
    return x[:len(rows)], rows, skipped


def load_features(corpus: Corpus, cfg: FeatureConfig, cache_dir: str | Path | None = None,
                  progress: bool = True) -> FeatureSet:
    """Scaled features of `corpus` under `cfg`, from the cache when it has them.

    cache_dir: defaults to `<corpus.root>/.cache`. Never raises for bad audio
    files: they are skipped, counted in one warning and listed in `skipped`.
    Returns a `FeatureSet` with x (N, F, T) float32 (a memory map of the cache).
    """
    path = cache_path(corpus, cfg, cache_dir)
    if path.is_file():
        cached = _load(path, corpus, cfg)
        if cached is not None:
            _warn_skipped(cached.skipped, len(corpus.items), corpus)
            return cached
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(path)
        rows, skipped = write_features(corpus, cfg, tmp, progress=progress)
        finish_cache(tmp, path, rows, corpus, skipped)
    except OSError as exc:  # e.g. a read-only corpus: compute in memory, still usable
        warnings.warn(f"could not write feature cache {path}: {exc}")
        x, rows, skipped = compute_features(corpus, cfg, progress=progress)
        _warn_skipped(skipped, len(corpus.items), corpus)
        return FeatureSet(x, [corpus.items[r] for r in rows], skipped)
    _warn_skipped(skipped, len(corpus.items), corpus)
    return FeatureSet(open_rows(path), [corpus.items[r] for r in rows], skipped, path)

"""The explorer's shared state: the corpus, one `ModelEntry` per model, the 2-D maps.

One `Explorer` serves every user of the app. After `build()` it is read-only
apart from memo caches (projections, rendered clips) filled under locks that
never hold anything user-specific; per-user state lives in a `Session`.
Presentation (prose, figures, CSV) is elsewhere: `describe`, `mapview`,
`export`.
"""
from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from disentangle.data.schema import LABELS, Corpus
from disentangle.explore.cache import LatentCache, model_key
from disentangle.explore.entry import ModelEntry, NormalisedRows
from disentangle.explore.fit_worker import FitWorker
from disentangle.explore.memo import LRU
from disentangle.explore.neighbours import NeighbourIndex
from disentangle.explore.projection import FitProgress, Projection, ProjectionParams, fit_projection
from disentangle.explore.refs import Ref
from disentangle.explore.search import MAX_HITS, item_keys, search
from disentangle.explore.session import Session
from disentangle.features.cache import FeatureSet
from disentangle.interface import Interface
from disentangle.memory import release_free_heap
from disentangle.models.base import DisentangleModel

Progress = Callable[[float, str], None]
#: Maps kept in memory (LRU) and per model cache folder on disk (least recently used
#: deleted first). The parameters come from fixed sets, so these bound a finite space.
MAX_MAPS_IN_MEMORY = 48
MAX_MAPS_ON_DISK = 64
#: Label columns a map can be coloured, filtered and searched by (when the corpus has them).
MAP_LABELS = (*LABELS, "source")


def _quiet(_f: float, _t: str) -> None:
    return None


def _share_of(progress: Progress, start: float, share: float, name: str) -> Progress:
    """The progress of one model's step: its fraction f -> `start + share * f` of the whole."""
    return lambda f, t: progress(start + share * f, f"{t} with {name}")


def _items_mapped(progress: Progress, at: float) -> FitProgress:
    """A map fit's progress (items mapped so far) as a line at fraction `at` of the whole."""
    return lambda d, t, what: progress(at, f"{what} ({d:,}/{t:,} mapped)")


def touch(stem: Path) -> None:
    """Mark a stored map as just used (its files' mtime orders `prune_maps`)."""
    for suffix in (".npy", ".json"):
        try:
            stem.with_suffix(suffix).touch(exist_ok=True)
        except OSError:
            pass


def prune_maps(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` most recently used stored maps of `folder`; return the stems deleted."""
    def used(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:  # deleted meanwhile by another process
            return 0.0

    stems = sorted(folder.glob("proj_*.npy"), key=used, reverse=True)
    gone = []
    for npy in stems[keep:]:
        for suffix in (".npy", ".json"):
            npy.with_suffix(suffix).unlink(missing_ok=True)
        gone.append(npy.with_suffix(""))
    return gone


def _non_finite_weights(model: DisentangleModel) -> str | None:
    """Why the model cannot be served (NaN/inf parameters or buffers), or None."""
    bad = [n for n, t in model.state_dict().items()
           if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    return None if not bad else (f"{len(bad)} weight tensor(s) are not finite (first: {bad[0]}); "
                                 "the checkpoint diverged")


def _non_finite_latents(latents: Mapping[str, np.ndarray]) -> str | None:
    """Why the latents cannot be mapped (NaN/inf values), or None."""
    for space, z in latents.items():
        n = int((~np.isfinite(z)).any(axis=tuple(range(1, z.ndim))).sum()) if z.size else 0
        if n:
            return f"latents of {space} are not finite for {n} of {len(z)} items"
    return None


class Explorer:
    """Corpus + model entries + projections, shared by all sessions.

    models: display name -> model (loaded with `disentangle.load_model`, so its
    normaliser is set). cache_root: where latents and projections go
    (default `<corpus.root>/.cache/explore`). fit_worker: where UMAP and
    t-SNE maps are fitted (None: in this process; the app passes one shared
    `FitWorker`, so that no fit holds its GIL).
    """

    def __init__(self, models: Mapping[str, DisentangleModel], corpus: Corpus,
                 cache_root: str | Path | None = None, gl_iters: int = 16, device: str | None = None,
                 fit_worker: FitWorker | None = None):
        if not models:
            raise ValueError("no models to explore: pass at least one checkpoint")
        self.corpus = corpus
        self.cache_root = Path(cache_root) if cache_root else Path(corpus.root) / ".cache" / "explore"
        self.models_in = dict(models)
        self.gl_iters = gl_iters
        self.device = device
        self.fit_worker = fit_worker
        self.entries: dict[str, ModelEntry] = {}
        #: display name -> why the model was left out (e.g. a diverged checkpoint)
        self.skipped: dict[str, str] = {}
        self._projections: LRU[Projection] = LRU(MAX_MAPS_IN_MEMORY)
        self._proj_lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        # One fit (t-SNE/UMAP, 5-35 s) at a time, on one thread: a flood of map
        # requests queues here instead of taking every core from the clicks.
        self._fit_slot = threading.Lock()
        self.labels = [c for c in MAP_LABELS if any(i.label(c) for i in corpus.items)]
        self._neighbours: dict[str, NeighbourIndex] = {}
        self._search_keys: list[tuple[str, set[str]]] | None = None

    # --- building --------------------------------------------------------
    def build(self, progress: Progress | None = None, params: ProjectionParams | None = None,
              say: Callable[[str], None] = print) -> Explorer:
        """Features, latents (cached on disk) and, if `params`, the first map of every model.

        A model with non-finite weights or latents (a diverged checkpoint) is left
        out with one line to `say` and recorded in `skipped`; the others are served.
        Raises ValueError when no model is left.
        """
        from disentangle.explore.extract import encode_features
        from disentangle.features.cache import load_features

        progress = progress or _quiet
        fingerprint = self.corpus.fingerprint()
        by_cfg: dict[str, FeatureSet] = {}
        row_index = {item.path: n for n, item in enumerate(self.corpus.items)}
        for n, (name, model) in enumerate(self.models_in.items()):
            done, share = n / len(self.models_in), 1 / len(self.models_in)
            cfg = model.features
            if cfg.key() not in by_cfg:
                progress(done, f"features of {len(self.corpus)} items ({name})")
                by_cfg[cfg.key()] = load_features(self.corpus, cfg, progress=True)
                release_free_heap()  # the feature extraction's temporaries
            fs = by_cfg[cfg.key()]
            interface = Interface(model, device=self.device, gl_iters=self.gl_iters)
            if cfg.amplitude != "none":
                interface.estimate_playback_gain(self._some_clips(cfg.sample_rate, [i.path for i in fs.items]))
            # Normalised on the fly, a row (a click) or a block (encoding) at a time:
            # a normalised copy of a 100k-item corpus alone was 3.3 GB.
            x = NormalisedRows(fs, interface.normalise)
            rows = np.array([row_index[i.path] for i in fs.items], dtype=np.int64)
            cache = LatentCache(self.cache_root, model_key(model), fingerprint, cfg.key())
            paths = [i.path for i in fs.items]
            problem = _non_finite_weights(model)
            latents: dict[str, np.ndarray] = {}
            if problem is None:
                cached = cache.load(paths, [s.name for s in model.spaces])
                if cached is None:
                    progress(done, f"encoding {len(paths):,} items with {name}")
                    latents = encode_features(interface, fs, progress=_share_of(progress, done, share, name))
                    problem = _non_finite_latents(latents)
                    if problem is None:  # never cache what would be skipped
                        cache.save(paths, latents)
                    # The encoder's freed temporaries, before the next model's features and
                    # encoding pile theirs on top (cold start on the default corpus: see
                    # disentangle/memory.py).
                    release_free_heap()
                else:
                    latents = cached
                    problem = _non_finite_latents(latents)
            if problem is not None:
                self.skipped[name] = problem
                say(f"skipping checkpoint {name}: {problem}")
                continue
            entry = ModelEntry(name, model, interface, self.corpus, cache.folder.name, rows, x, latents, cache,
                               list(fs.skipped))
            self.entries[name] = entry
            try:
                entry.warm_up()
            except Exception as exc:  # noqa: BLE001 (a broken first file must not stop the app; clicks report it)
                warnings.warn(f"warm-up of {name} failed: {exc}")
            if params is not None and entry.space_names:
                progress(done, f"{params.label()} map of {name}/{entry.space_names[0]}")
                self.projection(name, entry.space_names[0], params, _items_mapped(progress, done))
        if not self.entries:
            raise ValueError("none of the checkpoints can be served: "
                             + "; ".join(f"{n}: {p}" for n, p in self.skipped.items()))
        progress(1.0, "ready")
        return self

    def _some_clips(self, sample_rate: int, paths: list[str], n: int = 24) -> list[np.ndarray]:
        from disentangle.audio.io import AudioError, load_audio

        clips = []
        for path in paths[:: max(1, len(paths) // n)][:n]:
            try:
                clips.append(load_audio(Path(self.corpus.root) / path, sample_rate))
            except AudioError:
                continue
        return clips

    # --- lookups ---------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        return list(self.entries)

    def entry(self, model: str) -> ModelEntry:
        try:
            return self.entries[model]
        except KeyError:
            raise ValueError(f"unknown model {model!r}; available: {self.model_names}") from None

    def space_names(self, model: str) -> list[str]:
        return self.entry(model).space_names

    def classes(self, label: str) -> list[str]:
        """Distinct known values of a label column, in their natural order."""
        if label not in self.labels:
            return []
        if label in ("instrument", "family", "pitch", "dynamics", "duration"):
            return self.corpus.classes(label)
        return sorted({i.label(label) for i in self.corpus.items} - {""})

    def neighbours(self, model: str) -> NeighbourIndex:
        """The neighbour index of a model's corpus latents (built on first use)."""
        index = self._neighbours.get(model)
        if index is None:
            index = self._neighbours.setdefault(model, NeighbourIndex(self.entry(model)))
        return index

    def search(self, query: str, limit: int = MAX_HITS) -> list[Ref]:
        """Corpus items matching a file-name fragment or label values (see `search.search`)."""
        if self._search_keys is None:
            self._search_keys = item_keys(self.corpus, self.labels)
        return [Ref.corpus(r) for r in search(self._search_keys, query, limit)]

    # --- projections -----------------------------------------------------
    def projection(self, model: str, space: str, params: ProjectionParams,
                   progress: FitProgress | None = None, background: bool = False) -> Projection:
        """The 2-D map of `space` (memory, then disk cache, then fitted and stored).

        progress(done, total, what): items mapped so far while a fit runs.
        background: nobody waits for it (`precompute`): the fit worker may pause it.
        """
        entry = self.entry(model)
        entry.check_space(space)
        mem_key = (model, space, params.key())
        proj = self._projections.get(mem_key)
        if proj is not None:
            return proj
        with self._proj_lock:  # a short global lock; fitting holds only this map's own lock
            key_lock = self._key_locks.setdefault(mem_key, threading.Lock())
        if not background and self.fit_worker is not None and key_lock.locked():
            self.fit_worker.urgent()  # a background fit of this very map: someone waits for it now
        try:
            with key_lock:
                proj = self._projections.get(mem_key)
                if proj is not None:
                    return proj
                stem = entry.cache.projection_stem(space, params.key())
                proj = Projection.load(stem, entry.flat[space])
                if proj is not None:
                    touch(stem)
                else:
                    proj = self._fit(entry.flat[space], params, progress, background)
                    proj.save(stem)
                    prune_maps(stem.parent, MAX_MAPS_ON_DISK)
                self._projections.put(mem_key, proj)
                return proj
        finally:
            with self._proj_lock:
                self._key_locks.pop(mem_key, None)

    def _fit(self, x: np.ndarray, params: ProjectionParams, progress: FitProgress | None = None,
             background: bool = False) -> Projection:
        if params.method == "pca":  # milliseconds: never waits behind a slow fit
            return fit_projection(x, params, progress)
        from threadpoolctl import threadpool_limits

        if not background and self.fit_worker is not None:
            self.fit_worker.urgent()  # a paused background fit ahead of this one must not hold it up
        with self._fit_slot:
            if self.fit_worker is not None:
                return self.fit_worker.fit(x, params, progress, background)
            with threadpool_limits(1):
                return fit_projection(x, params, progress)

    def has_projection(self, model: str, space: str, params: ProjectionParams) -> bool:
        """True when the map is in memory or on disk (no fitting needed)."""
        if self._projections.get((model, space, params.key())) is not None:
            return True
        return self.entry(model).cache.projection_stem(space, params.key()).with_suffix(".npy").is_file()

    def precompute(self, params: ProjectionParams, stop: threading.Event | None = None,
                   progress: Progress | None = None) -> None:
        """Fit (or load) the map of every space of every model, e.g. in a background thread."""
        jobs = [(m, s) for m in self.entries for s in self.space_names(m)]
        for n, (model, space) in enumerate(jobs):
            if stop is not None and stop.is_set():
                return
            if progress is not None:
                progress(n / len(jobs), f"{params.label()} map of {model}/{space}")
            self.projection(model, space, params, background=True)

    def point_xy(self, model: str, space: str, params: ProjectionParams, ref: Ref | None,
                 session: Session) -> tuple[float, float] | None:
        """Where a reference sits on a map (None if it is not on it)."""
        if ref is None or (ref.kind == "component" and ref.space != space):
            return None
        entry = self.entry(model)
        proj = self.projection(model, space, params)
        if ref.kind == "corpus":
            i = entry.row_of.get(ref.index)
            return None if i is None else (float(proj.coords[i, 0]), float(proj.coords[i, 1]))
        try:
            xy = proj.transform(entry.vector(ref, space, session)[None])[0]
        except ValueError:
            return None
        return float(xy[0]), float(xy[1])

"""The explorer's shared state: models, the corpus, its latents, projections and maps.

One `Explorer` serves every user of the app. After `build()` it is read-only
apart from memo caches (projections, rendered clips) that are filled under a
lock and never hold anything user-specific; per-user state lives in the
session dict (see `session.py`). Corpus rows are referenced by their index in
`corpus.items` ("c:<row>"), so a selection survives switching models.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from disentangle.data.schema import LABELS, Corpus
from disentangle.explore.cache import LatentCache, encode_all, model_key
from disentangle.explore.figures import MapPoints, latent_map
from disentangle.explore.projection import Projection, ProjectionParams, fit_projection
from disentangle.explore.session import Session
from disentangle.interface import Interface, pooled
from disentangle.models.base import DisentangleModel

Progress = Callable[[float, str], None]


def _quiet(_f: float, _t: str) -> None:
    return None


class LRU:
    """A small thread-safe least-recently-used memo (shared, holds no user state)."""

    def __init__(self, size: int):
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


@dataclass
class ModelEntry:
    """One model with its corpus latents.

    rows: corpus row of each feature row (M,). x: normalised features (M, F, T).
    latents: {space: (M, D) or (M, T', D)}; flat: {space: (M, D)} one vector
    per item (local spaces averaged over time) for maps.
    """

    name: str
    model: DisentangleModel
    interface: Interface
    key: str
    rows: np.ndarray
    x: torch.Tensor
    latents: dict[str, np.ndarray]
    flat: dict[str, np.ndarray]
    cache: LatentCache
    row_of: dict[int, int] = field(default_factory=dict)  # corpus row -> feature row
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Explorer:
    """Models + corpus + latents + projections, shared by all sessions.

    models: display name -> model (each with `normaliser` set, as
    `disentangle.load_model` does). cache_root: where latents/projections go
    (default `<corpus.root>/.cache/explore`).
    """

    def __init__(self, models: Mapping[str, DisentangleModel], corpus: Corpus,
                 cache_root: str | Path | None = None, gl_iters: int = 16, device: str | None = None):
        if not models:
            raise ValueError("no models to explore: pass at least one checkpoint")
        self.corpus = corpus
        self.cache_root = Path(cache_root) if cache_root else Path(corpus.root) / ".cache" / "explore"
        self.models_in = dict(models)
        self.gl_iters = gl_iters
        self.device = device
        self.entries: dict[str, ModelEntry] = {}
        self._projections: dict[tuple, Projection] = {}
        self._proj_lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self.clips = LRU(4096)     # corpus row -> prepared original clip, per sample rate
        self.renders = LRU(1024)   # (model, ref) -> reconstruction audio
        self.labels = [c for c in LABELS if any(i.label(c) for i in corpus.items)]
        self.hover = [self._hover_text(i) for i in range(len(corpus.items))]

    # --- building --------------------------------------------------------
    def build(self, progress: Progress | None = None, params: ProjectionParams | None = None) -> Explorer:
        """Features, latents (cached on disk) and, if `params`, the first map of every model."""
        from disentangle.features.cache import load_features

        progress = progress or _quiet
        fingerprint = self.corpus.fingerprint()
        by_cfg: dict[str, object] = {}
        row_index = {item.path: n for n, item in enumerate(self.corpus.items)}
        for n, (name, model) in enumerate(self.models_in.items()):
            cfg = model.features
            if cfg.key() not in by_cfg:
                progress(n / len(self.models_in), f"features of {len(self.corpus)} items ({name})")
                by_cfg[cfg.key()] = load_features(self.corpus, cfg, progress=True)
            fs = by_cfg[cfg.key()]
            interface = Interface(model, device=self.device, gl_iters=self.gl_iters)
            if getattr(cfg, "amplitude", "none") != "none":
                interface.estimate_playback_gain(self._some_clips(cfg.sample_rate, [i.path for i in fs.items]))
            x = interface.normalise(torch.from_numpy(np.asarray(fs.x)))
            rows = np.array([row_index[i.path] for i in fs.items], dtype=np.int64)
            key = model_key(model)
            cache = LatentCache(self.cache_root, key, fingerprint, cfg.key())
            spaces = [s.name for s in model.spaces]
            paths = [i.path for i in fs.items]
            latents = cache.load(paths, spaces)
            if latents is None:
                progress(n / len(self.models_in), f"encoding {len(paths)} items with {name}")
                latents = encode_all(interface, x, progress=lambda f, t, n=n: progress(n / len(self.models_in), t))
                cache.save(paths, latents)
            flat = {s: pooled(torch.from_numpy(v)).numpy() for s, v in latents.items()}
            entry = ModelEntry(name, model, interface, key, rows, x, latents, flat, cache,
                               {int(r): i for i, r in enumerate(rows)}, list(getattr(fs, "skipped", [])))
            self.entries[name] = entry
            self._warm_up(entry)
            if params is not None and spaces:
                progress(n / len(self.models_in), f"{params.label()} map of {name}/{spaces[0]}")
                self.projection(name, spaces[0], params)
        progress(1.0, "ready")
        return self

    def _warm_up(self, entry: ModelEntry) -> None:
        """Run one decode + Griffin-Lim and one audio read now, so that the first
        click does not pay for kernel set-up, the mel pseudo-inverse and librosa's JIT."""
        if not len(entry.rows):
            return
        from disentangle.explore.actions import original_clip, render_point

        try:
            render_point(self, entry.name, f"c:{int(entry.rows[0])}", {"user": []})
            original_clip(self, entry.name, f"c:{int(entry.rows[-1])}", {"user": []})
        except Exception as exc:  # noqa: BLE001 - a broken first file must not stop the app; clicks report it
            import warnings

            warnings.warn(f"warm-up of {entry.name} failed: {exc}")

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
        return [s.name for s in self.entry(model).model.spaces]

    def classes(self, label: str) -> list[str]:
        return self.corpus.classes(label) if label in self.labels else []

    def _hover_text(self, row: int) -> str:
        item = self.corpus.items[row]
        labs = " ".join(f"{c}={item.label(c)}" for c in LABELS if item.label(c))
        return f"{item.path}<br>{labs}"

    def describe_ref(self, ref: str | None, session: Session | None = None) -> str:
        """A one-line description of a reference, for the UI."""
        if not ref:
            return "nothing"
        kind, _, rest = ref.partition(":")
        if kind == "c":
            item = self.corpus.items[int(rest)]
            labs = ", ".join(f"{c} {item.label(c)}" for c in LABELS if item.label(c))
            return f"`{item.path}` ({labs})"
        if kind == "u":
            users = (session or {}).get("user", [])
            j = int(rest)
            return f"your sound '{users[j]['name']}'" if j < len(users) else f"your sound #{j}"
        space, _, k = rest.rpartition(":")
        return f"mixture component {k} of {space}"

    # --- projections -----------------------------------------------------
    def projection(self, model: str, space: str, params: ProjectionParams) -> Projection:
        """The 2-D map of `space` (memory, then disk cache, then fitted and stored)."""
        entry = self.entry(model)
        if space not in entry.flat:
            raise ValueError(f"model {model!r} has no latent space {space!r}; it has {list(entry.flat)}")
        mem_key = (model, space, params.key())
        with self._proj_lock:  # a short global lock; fitting holds only this map's own lock
            proj = self._projections.get(mem_key)
            if proj is not None:
                return proj
            key_lock = self._key_locks.setdefault(mem_key, threading.Lock())
        with key_lock:
            proj = self._projections.get(mem_key)
            if proj is not None:
                return proj
            stem = entry.cache.projection_stem(space, params.key())
            proj = Projection.load(stem, entry.flat[space])
            if proj is None:
                proj = fit_projection(entry.flat[space], params)
                proj.save(stem)
            with self._proj_lock:
                self._projections[mem_key] = proj
            return proj

    def has_projection(self, model: str, space: str, params: ProjectionParams) -> bool:
        """True when the map is in memory or on disk (no fitting needed)."""
        if (model, space, params.key()) in self._projections:
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
            self.projection(model, space, params)

    def component_refs(self, model: str, space: str) -> tuple[np.ndarray, list[str], list[str]]:
        """Mixture means of a space: (K, D) means, K labels, K refs ("k:<space>:<k>")."""
        comps = self.entry(model).interface.prior(space)
        if comps is None:
            return np.zeros((0, 0), np.float32), [], []
        means = comps.means.detach().float().numpy()
        return means, list(comps.labels), [f"k:{space}:{k}" for k in range(len(means))]

    def point_xy(self, model: str, space: str, params: ProjectionParams, ref: str | None,
                 session: Session) -> tuple[float, float] | None:
        """Where a reference sits on a map (None if it is not on it)."""
        if not ref:
            return None
        entry = self.entry(model)
        proj = self.projection(model, space, params)
        kind, _, rest = ref.partition(":")
        if kind == "c":
            i = entry.row_of.get(int(rest))
            return None if i is None else tuple(map(float, proj.coords[i]))
        if kind == "u":
            from disentangle.explore.actions import user_latents

            z = user_latents(self, model, session, int(rest))
            return tuple(map(float, proj.transform(pooled(z[space]).numpy())[0]))
        k_space, _, k = rest.rpartition(":")
        if k_space != space:
            return None
        means, _, _ = self.component_refs(model, space)
        return tuple(map(float, proj.transform(means[int(k):int(k) + 1])[0]))

    def map_figure(self, model: str, space: str, params: ProjectionParams, colour_by: str | None,
                   session: Session, filter_label: str | None = None,
                   filter_values: list[str] | None = None, show_components: bool = True):
        """The map of one space: (plotly Figure, caption markdown)."""
        from disentangle.explore.actions import user_latents

        entry = self.entry(model)
        proj = self.projection(model, space, params)
        items = [self.corpus.items[r] for r in entry.rows]
        labels = {c: [i.label(c) for i in items] for c in self.labels}
        visible = np.ones(len(items), dtype=bool)
        if filter_label and filter_values and filter_label in labels:
            wanted = set(map(str, filter_values))
            visible = np.array([v in wanted for v in labels[filter_label]], dtype=bool)
        points = MapPoints(proj.coords, [f"c:{r}" for r in entry.rows], labels,
                           [self.hover[r] for r in entry.rows], visible)
        components = None
        notes = []
        if show_components:
            means, names, refs = self.component_refs(model, space)
            if len(means):
                components = {"xy": proj.transform(means), "labels": names, "refs": refs}
                notes.append(self._placement_note(proj, "mixture means"))
        extras = []
        for j, sound in enumerate(session.get("user", [])):
            z = user_latents(self, model, session, j)
            xy = proj.transform(pooled(z[space]).numpy())[0]
            extras.append({"xy": (float(xy[0]), float(xy[1])), "name": sound["name"], "ref": f"u:{j}"})
        if extras:
            notes.append(self._placement_note(proj, "your sounds"))
        selected = {slot: self.point_xy(model, space, params, session.get(slot), session) for slot in ("A", "B")}
        scope = entry.model.space(space).scope
        title = f"{model} / {space} ({scope}{', time-averaged' if scope == 'local' else ''}) - {params.label()}"
        fig = latent_map(points, colour_by, title, components, extras, selected,
                         uirevision=f"{model}/{space}/{params.key()}")
        timing = "from cache" if proj.from_cache else f"fitted in {proj.seconds:.1f} s"
        caption = (f"{int(visible.sum())} of {len(items)} items shown; map {timing}."
                   + (f" Explained variance: {', '.join(f'{v:.0%}' for v in proj.explained)}." if proj.explained else "")
                   + (" " + " ".join(notes) if notes else ""))
        return fig, caption

    @staticmethod
    def _placement_note(proj: Projection, what: str) -> str:
        what = what[0].upper() + what[1:]
        return {"exact": f"{what} are projected with the fitted PCA.",
                "neighbours": f"{what} are placed by averaging the positions of their 10 nearest "
                              f"corpus points in latent space ({proj.params.label().split(' ')[0]} "
                              f"has no transform for new points here)."
                }[proj.placement]

    def export_csv(self, model: str, space: str, params: ProjectionParams, session: Session, path: Path) -> Path:
        """Write the current map (x, y, path and labels of every point) as CSV."""
        import csv

        from disentangle.explore.actions import user_latents

        entry = self.entry(model)
        proj = self.projection(model, space, params)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["x", "y", "kind", "path", *self.labels])
            for (x, y), r in zip(proj.coords, entry.rows):
                item = self.corpus.items[r]
                w.writerow([f"{x:.5f}", f"{y:.5f}", "corpus", item.path, *[item.label(c) for c in self.labels]])
            for j, sound in enumerate(session.get("user", [])):
                z = user_latents(self, model, session, j)
                x, y = proj.transform(pooled(z[space]).numpy())[0]
                w.writerow([f"{x:.5f}", f"{y:.5f}", "yours", sound["name"], *[""] * len(self.labels)])
            means, names, _ = self.component_refs(model, space)
            if len(means):
                for (x, y), name in zip(proj.transform(means), names):
                    w.writerow([f"{x:.5f}", f"{y:.5f}", "mixture mean", name, *[""] * len(self.labels)])
        return path

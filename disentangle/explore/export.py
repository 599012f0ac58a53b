"""Files the user takes away: the map as CSV, latents as CSV/NPY, a selection as CSV or WAVs.

Presentation over the core: every row is named by its file (and labels), never
by an internal index.
"""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from disentangle.explore.describe import item_name
from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session


def map_csv(ex: Explorer, model: str, space: str, params: ProjectionParams, session: Session, path: Path) -> Path:
    """The current map (x, y, kind, path and labels of every point) as CSV."""
    entry = ex.entry(model)
    proj = ex.projection(model, space, params)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y", "kind", "path", *ex.labels])
        for (x, y), r in zip(proj.coords, entry.rows):
            item = ex.corpus.items[r]
            w.writerow([f"{x:.5f}", f"{y:.5f}", "corpus", item.path, *[item.label(c) for c in ex.labels]])
        for j, sound in enumerate(session.user):
            x, y = proj.transform(entry.vector(Ref.user(j), space, session)[None])[0]
            w.writerow([f"{x:.5f}", f"{y:.5f}", "yours", sound.name, *[""] * len(ex.labels)])
        comps = entry.components(space)
        if len(comps.means):
            for (x, y), name in zip(proj.transform(comps.means), comps.labels):
                w.writerow([f"{x:.5f}", f"{y:.5f}", "mixture mean", name, *[""] * len(ex.labels)])
    return path


def _rows(ex: Explorer, model: str, refs: list[Ref] | None) -> np.ndarray:
    """Feature rows of the chosen corpus refs (all readable items when None)."""
    entry = ex.entry(model)
    if refs is None:
        return np.arange(len(entry.rows))
    return np.array([entry.feature_row(r) for r in refs if r.kind == "corpus"], dtype=np.int64)


def latents_csv(ex: Explorer, model: str, path: Path, refs: list[Ref] | None = None) -> Path:
    """One row per item: path, labels, then every dimension of every space
    (local spaces averaged over time), columns "<space>_<d>"."""
    entry = ex.entry(model)
    rows = _rows(ex, model, refs)
    spaces = entry.space_names
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "name", *ex.labels,
                    *[f"{s}_{d}" for s in spaces for d in range(entry.flat[s].shape[1])]])
        for i in rows:
            item = ex.corpus.items[entry.rows[i]]
            vec = [f"{v:.6g}" for s in spaces for v in entry.flat[s][i]]
            w.writerow([item.path, item_name(item), *[item.label(c) for c in ex.labels], *vec])
    return path


def latents_npz(ex: Explorer, model: str, path: Path, refs: list[Ref] | None = None) -> Path:
    """An .npz of NPY arrays: "paths" (N,), and per space its latents (N, D) or (N, T', D)."""
    entry = ex.entry(model)
    rows = _rows(ex, model, refs)
    arrays = {s: entry.latents[s][rows] for s in entry.space_names}
    paths = np.array([ex.corpus.items[entry.rows[i]].path for i in rows], dtype=str)
    np.savez(path, paths=paths, **arrays)
    return path


def selection_csv(ex: Explorer, refs: list[Ref], path: Path) -> Path:
    """Names and labels of the selected corpus items."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "name", *ex.labels])
        for r in refs:
            if r.kind == "corpus" and r.index < len(ex.corpus.items):
                item = ex.corpus.items[r.index]
                w.writerow([item.path, item_name(item), *[item.label(c) for c in ex.labels]])
    return path


def selection_zip(ex: Explorer, refs: list[Ref], path: Path) -> Path:
    """The selected corpus items' audio files in a zip, under their own names."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for r in refs:
            if r.kind == "corpus" and r.index < len(ex.corpus.items):
                item = ex.corpus.items[r.index]
                z.write(ex.corpus.audio_path(item), item.path)
    return path

"""Disk caches of the explorer: corpus latents and projections under `<corpus>/.cache/explore/`.

Keys: the checkpoint (content hash + mtime of its file, or a hash of the
weights for a model built in memory), the corpus fingerprint (paths, sizes,
mtimes) and the feature settings; projections add the space and the
projection parameters. Everything is .npy + .json (no pickles), written
atomically so a crash never leaves a half file behind.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from disentangle.atomic import save_npy, write_text
from disentangle.models.base import DisentangleModel


def file_key(path: str | Path) -> str:
    """sha1 of a file's content, size and mtime (first 16 hex digits)."""
    path = Path(path)
    st = path.stat()
    h = hashlib.sha1(f"{st.st_size}|{int(st.st_mtime)}".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def model_key(model: DisentangleModel) -> str:
    """A key for a model's weights: its checkpoint file if it has one, else its tensors."""
    path = model.checkpoint_path
    if path is not None and Path(path).is_file():
        return f"{model.name}-{file_key(path)}"
    h = hashlib.sha1(model.name.encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return f"{model.name}-{h.hexdigest()[:16]}"


class LatentCache:
    """Posterior means of every corpus item for one model, stored per space.

    folder: `<root>/<model key>_<corpus fingerprint>_<feature key>/` holding
    `<space>.npy` ((N, D) global or (N, T', D) local) and `items.json` (the
    item paths, in row order, to check the rows still match). `load` returns
    float32 memory maps.
    """

    def __init__(self, root: Path, model_key: str, corpus_fp: str, feature_key: str):
        self.folder = Path(root) / f"{model_key}_{corpus_fp}_{feature_key}"

    def load(self, paths: list[str], spaces: list[str]) -> dict[str, np.ndarray] | None:
        """The cached latents, or None when missing or stale."""
        try:
            meta = json.loads((self.folder / "items.json").read_text())
            if meta.get("paths") != paths:
                return None
            # Copy-on-write maps: pages are read when a map or a click needs them.
            out = {s: np.load(self.folder / f"{s}.npy", mmap_mode="c", allow_pickle=False) for s in spaces}
        except (OSError, ValueError):
            return None
        if any(len(v) != len(paths) for v in out.values()):
            return None
        return out

    def save(self, paths: list[str], latents: dict[str, np.ndarray]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for space, array in latents.items():
            save_npy(self.folder / f"{space}.npy", np.ascontiguousarray(array, dtype=np.float32))
        write_text(self.folder / "items.json", json.dumps({"paths": paths}))

    def projection_stem(self, space: str, params_key: str) -> Path:
        """Where a projection of `space` with parameters `params_key` is stored (no suffix)."""
        return self.folder / f"proj_{space}_{params_key}"


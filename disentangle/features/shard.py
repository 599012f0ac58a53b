"""The feature cache computed in pieces: one shard per process, joined by rank 0.

Under `torchrun` (see `disentangle/cli/extract.py`) every rank computes the
features of its contiguous block of corpus rows (`shard_rows`) into
`<shard folder>/shard-<rank>-of-<world>.npy` + `.json`; after a barrier rank 0
copies the shards, in order, block by block into the very cache file
`load_features` reads (`cache_path`), so the app and training find it
without knowing it was computed in parallel. The shard folder must be one
the ranks share (a network file system across nodes).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_text
from ..data.schema import Corpus
from .cache import FeatureSet, cache_path, finish_cache, temp_path, write_features
from .config import FeatureConfig
from .store import RowWriter, npy_shape, open_rows, read_rows

#: Rows copied at once when joining (bounded memory: ~32 MB of default features).
JOIN_BLOCK = 1024


def shard_rows(n: int, rank: int, world: int) -> range:
    """The corpus rows of shard `rank` of `world`: contiguous, sizes differing by at most one."""
    if not 0 <= rank < world:
        raise ValueError(f"rank {rank} outside a world of {world}")
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


def shard_stem(folder: str | Path, rank: int, world: int) -> Path:
    """`<folder>/shard-<rank>-of-<world>` (add `.npy` / `.json`)."""
    return Path(folder) / f"shard-{rank:04d}-of-{world:04d}"


def write_shard(corpus: Corpus, cfg: FeatureConfig, folder: str | Path, rank: int, world: int,
                progress: bool = True, on_batch=None) -> Path:
    """Compute the features of shard `rank` into `<shard stem>.npy` and `.json`; return the stem.

    on_batch(x (B, F, T), corpus rows): called on every batch (to encode it on the way).
    """
    stem = shard_stem(folder, rank, world)
    npy = stem.with_suffix(".npy")
    tmp = temp_path(npy)
    rows, skipped = write_features(corpus, cfg, tmp, shard_rows(len(corpus.items), rank, world),
                                   progress=progress, desc=f"features rank {rank}/{world}",
                                   on_batch=on_batch)
    tmp.replace(npy)
    write_text(stem.with_suffix(".json"), json.dumps({"rows": rows, "skipped": [list(s) for s in skipped],
                                                      "fingerprint": corpus.fingerprint(),
                                                      "features": cfg.key()}))
    return stem


def join_shards(corpus: Corpus, cfg: FeatureConfig, folder: str | Path, world: int,
                cache_dir: str | Path | None = None, remove: bool = True) -> FeatureSet:
    """Join the `world` shards in `folder` into the cache `load_features` reads; return that set.

    Raises FileNotFoundError for a missing shard and ValueError for one of
    another corpus or other settings. Memory: JOIN_BLOCK rows.
    """
    metas, fingerprint = [], corpus.fingerprint()
    for rank in range(world):
        stem = shard_stem(folder, rank, world)
        meta = json.loads(stem.with_suffix(".json").read_text())
        if meta.get("fingerprint") != fingerprint or meta.get("features") != cfg.key():
            raise ValueError(f"{stem}: a shard of another corpus or other feature settings")
        metas.append((stem, meta))
    path = cache_path(corpus, cfg, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path, "join")
    rows: list[int] = [r for _, m in metas for r in m["rows"]]
    skipped = [(str(p), str(r)) for _, m in metas for p, r in m["skipped"]]
    writer = RowWriter(tmp, (cfg.n_bins, cfg.n_frames), len(rows))
    try:
        for stem, meta in metas:
            npy = stem.with_suffix(".npy")
            n = npy_shape(npy)[0][0]
            if n != len(meta["rows"]):
                raise ValueError(f"{npy}: {n} rows, its .json lists {len(meta['rows'])}")
            for start in range(0, n, JOIN_BLOCK):
                writer.write(read_rows(npy, start, start + JOIN_BLOCK))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    finish_cache(tmp, path, rows, corpus, skipped)
    if remove:
        for stem, _ in metas:
            for suffix in (".npy", ".json"):
                stem.with_suffix(suffix).unlink(missing_ok=True)
    return FeatureSet(open_rows(path), [corpus.items[r] for r in rows], skipped, path)


"""Features and latents of a corpus for the explorer, in one process or sharded across many.

`encode_features` is the explorer's one corpus encoder: it reads scaled
features from the cache block by block, normalises each block on the fly and
keeps only the posterior means, so memory holds one block of features plus
the (small) latents. `extract` runs the same steps for one rank of a
`torchrun` job (see `disentangle/cli/extract.py`): each rank computes and
encodes its shard, rank 0 joins the shards into the feature cache
(`features.shard.join_shards`) and the latent cache (`LatentCache`) that
`Explorer.build` reads, so the app starts without computing anything.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from disentangle.data.schema import Corpus
from disentangle.explore.cache import LatentCache, model_key
from disentangle.features.cache import FeatureSet
from disentangle.features.config import FeatureConfig
from disentangle.features.shard import join_shards, shard_stem, write_shard
from disentangle.features.store import open_rows
from disentangle.interface import Interface
from disentangle.models.base import DisentangleModel

#: Feature rows read, normalised and encoded at once (~2 MB of default features). Encoding
#: the default corpus raised the peak RSS (gmvae / threefactor, whose 116 MB of latents are
#: kept) by 243 / 300 MB in blocks of 1,024 rows (3.8 / 8.0 s), 124 / 250 MB in blocks of 256
#: (3.8 / 9.5 s) and 48 / 157 MB in blocks of 64 (4.1 / 12.2 s); one run each, 2 threads.
ENCODE_BLOCK = 64
#: Progress is said every this many rows (and at the end), whatever the block.
REPORT_ROWS = 1024
Progress = Callable[[float, str], None]


def encode_features(interface: Interface, fs: FeatureSet, progress: Progress | None = None,
                    block: int = ENCODE_BLOCK) -> dict[str, np.ndarray]:
    """Posterior means of every row of `fs`: {space: (N, D) or (N, T', D)} float32.

    Rows are read `block` at a time (`FeatureSet.rows`), normalised with the
    model's normaliser and encoded; `progress(fraction, "encoding i/N")` every REPORT_ROWS rows.
    """
    n = int(fs.x.shape[0])
    out: dict[str, np.ndarray] = {}
    for start in range(0, n, block):
        stop = min(n, start + block)
        x = interface.normalise(torch.from_numpy(fs.rows(start, stop)))
        for space, z in interface.encode(x).items():
            if space not in out:
                out[space] = np.empty((n, *z.shape[1:]), np.float32)
            out[space][start:stop] = z.numpy()
        if progress is not None and (stop == n or stop // REPORT_ROWS != start // REPORT_ROWS):
            progress(stop / n, f"encoding {stop:,}/{n:,}")
    if n == 0:
        for space, z in interface.encode(torch.zeros(1, interface.cfg.n_bins, interface.cfg.n_frames)).items():
            out[space] = np.zeros((0, *z.shape[1:]), np.float32)
    return out


def latent_cache(model: DisentangleModel, corpus: Corpus, cache_root: str | Path | None) -> LatentCache:
    """The latent cache `Explorer.build` reads for `model` on `corpus`."""
    root = Path(cache_root) if cache_root else Path(corpus.root) / ".cache" / "explore"
    return LatentCache(root, model_key(model), corpus.fingerprint(), model.features.key())


def extract(corpus: Corpus, cfg: FeatureConfig, models: Mapping[str, DisentangleModel], *,
            rank: int = 0, world: int = 1, shard_dir: str | Path | None = None,
            feature_cache: str | Path | None = None, explore_cache: str | Path | None = None,
            barrier: Callable[[], object] = lambda: None, say: Callable[[str], None] = print) -> FeatureSet | None:
    """This rank's part of computing the caches: features of `cfg` and latents of every model.

    Every model must use `cfg`. Rank r computes shard r and encodes it with
    each model; after `barrier()` rank 0 joins features and latents and
    returns the joined FeatureSet (other ranks return None). shard_dir:
    a folder every rank can reach (default `<corpus>/.cache/shards`).
    """
    for name, model in models.items():
        if model.features.key() != cfg.key():
            raise ValueError(f"model {name} uses other feature settings than the ones extracted")
    folder = Path(shard_dir) if shard_dir else Path(corpus.root) / ".cache" / "shards"
    stem = write_shard(corpus, cfg, folder, rank, world, progress=rank == 0)
    shard = FeatureSet(open_rows(stem.with_suffix(".npy")), [], [], stem.with_suffix(".npy"))
    say(f"rank {rank}/{world}: features of {len(shard.x):,} items")
    for name, model in models.items():
        z = encode_features(Interface(model), shard)
        for space, v in z.items():
            np.save(_latent_shard(stem, name, space), v, allow_pickle=False)
        say(f"rank {rank}/{world}: encoded with {name}")
    barrier()
    if rank != 0:
        return None
    fs = join_shards(corpus, cfg, folder, world, feature_cache)
    paths = [i.path for i in fs.items]
    for name, model in models.items():
        joined = {s.name: np.concatenate([np.load(_latent_shard(shard_stem(folder, r, world), name, s.name))
                                          for r in range(world)]) for s in model.spaces}
        latent_cache(model, corpus, explore_cache).save(paths, joined)
    for r in range(world):
        for name, model in models.items():
            for s in model.spaces:
                _latent_shard(shard_stem(folder, r, world), name, s.name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
    say(f"joined {world} shard(s): {len(fs):,} items, {len(fs.skipped):,} skipped")
    return fs


def _latent_shard(stem: Path, model: str, space: str) -> Path:
    return stem.with_name(f"{stem.name}-{model}-{space}.npy")

"""Sharded extraction: shards joined by rank 0 equal the single-process caches."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tiny_world

from disentangle.data.schema import Item, load_corpus, write_metadata
from disentangle.explore.extract import encode_features, extract, latent_cache
from disentangle.features.cache import cache_path, load_features
from disentangle.features.shard import shard_rows
from disentangle.interface import Interface

REPO = Path(__file__).resolve().parents[2]
WORKER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{repo!r}, {here!r}]
    import tiny_world  # registers the tiny model class
    from disentangle.cli.extract import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(corpus with one unreadable file, checkpoint path)."""
    root = tmp_path_factory.mktemp("extract")
    corpus = tiny_world.make_corpus(root / "corpus")
    (corpus.root / "audio" / "broken.wav").write_bytes(b"")
    corpus.items.insert(5, Item(path="audio/broken.wav", instrument="sine"))
    write_metadata(corpus.root / "metadata.csv", corpus.items)
    corpus = load_corpus(corpus.root, "tiny")
    return corpus, tiny_world.make_checkpoint(root / "tiny.pt", corpus)


def test_shard_rows_partition_the_corpus():
    for n, world in ((0, 2), (5, 3), (37, 4), (3, 5)):
        parts = [shard_rows(n, r, world) for r in range(world)]
        assert [i for p in parts for i in p] == list(range(n))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError):
        shard_rows(4, 2, 2)


def _single(corpus, ckpt, tmp_path):
    from disentangle import load_model

    model = load_model(ckpt)
    with pytest.warns(UserWarning, match="skipped 1 of 37"):
        fs = load_features(corpus, tiny_world.FEATURES, cache_dir=tmp_path / "single", progress=False)
    return model, fs, encode_features(Interface(model), fs)


def _check_joined(corpus, model, fs, z, feature_dir, explore_dir):
    with pytest.warns(UserWarning, match="skipped 1 of 37"):
        joined = load_features(corpus, tiny_world.FEATURES, cache_dir=feature_dir, progress=False)
    assert joined.path == cache_path(corpus, tiny_world.FEATURES, feature_dir)
    assert [i.path for i in joined.items] == [i.path for i in fs.items]
    assert joined.skipped == fs.skipped == [("audio/broken.wav", joined.skipped[0][1])]
    np.testing.assert_allclose(joined.x, fs.x, atol=1e-6)
    latents = latent_cache(model, corpus, explore_dir).load([i.path for i in fs.items],
                                                            [s.name for s in model.spaces])
    assert latents is not None and set(latents) == set(z)
    for space in z:
        np.testing.assert_allclose(latents[space], z[space], atol=1e-5)


def test_three_shards_in_one_process_equal_the_single_run(tiny, tmp_path):
    corpus, ckpt = tiny
    model, fs, z = _single(corpus, ckpt, tmp_path)
    shards = tmp_path / "shards"
    for rank in (1, 2, 0):  # rank 0 joins last, as after the barrier
        out = extract(corpus, tiny_world.FEATURES, {"tiny": model}, rank=rank, world=3, shard_dir=shards,
                      feature_cache=tmp_path / "f", explore_cache=tmp_path / "e", say=lambda m: None)
        assert (out is None) == (rank != 0)
    assert not shards.exists()  # shards removed once joined
    _check_joined(corpus, model, fs, z, tmp_path / "f", tmp_path / "e")


@pytest.mark.slow
def test_torchrun_two_gloo_processes(tiny, tmp_path):
    corpus, ckpt = tiny
    model, fs, z = _single(corpus, ckpt, tmp_path)
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(repo=str(REPO), here=str(Path(__file__).parent)))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), "--data", str(corpus.root), "--checkpoint", str(ckpt),
                           "--feature-cache", str(tmp_path / "f"), "--cache", str(tmp_path / "e"),
                           "--shards", str(tmp_path / "shards")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rank 1/2: features of" in proc.stdout and "joined 2 shard(s): 36 items, 1 skipped" in proc.stdout
    _check_joined(corpus, model, fs, z, tmp_path / "f", tmp_path / "e")


def test_any_block_gives_the_same_latents_and_progress_every_report_rows(tiny, tmp_path, monkeypatch):
    import disentangle.explore.extract as extract_module

    corpus, ckpt = tiny
    model, fs, z = _single(corpus, ckpt, tmp_path)
    monkeypatch.setattr(extract_module, "REPORT_ROWS", 10)
    said: list[str] = []
    z3 = encode_features(Interface(model), fs, lambda f, text: said.append(text), block=3)
    for space in z:
        np.testing.assert_allclose(z3[space], z[space], atol=1e-5)
    n = len(fs.items)
    assert n == 36
    # blocks end at 3, 6, ...: said once a block crosses a multiple of 10 rows, and at the end
    assert said == [f"encoding {s:,}/{n:,}" for s in (12, 21, 30, 36)]

"""Shared fixtures: a tiny corpus, a tiny checkpoint and a built Explorer."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_world


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """(corpus, checkpoint path) in a session-wide temporary folder."""
    root = tmp_path_factory.mktemp("explore_world")
    corpus = tiny_world.make_corpus(root / "corpus")
    return corpus, tiny_world.make_checkpoint(root / "tiny.pt", corpus)


@pytest.fixture(scope="session")
def explorer(world):
    from disentangle import load_model
    from disentangle.explore.explorer import Explorer
    from disentangle.explore.projection import ProjectionParams

    corpus, ckpt = world
    return Explorer({"tiny": load_model(ckpt)}, corpus, gl_iters=8).build(None, ProjectionParams("pca"))

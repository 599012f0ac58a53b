"""Fixtures of the evaluation tests: the synthetic corpus of `eval_fixtures`."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from eval_fixtures import Synthetic, make_synthetic


@pytest.fixture(scope="session")
def synthetic() -> Synthetic:
    return make_synthetic()


@pytest.fixture(scope="session")
def feature_set(synthetic: Synthetic) -> SimpleNamespace:
    """A stand-in for `FeatureSet` (x scaled features, items)."""
    return SimpleNamespace(x=synthetic.x, items=synthetic.items, skipped=[])


@pytest.fixture(scope="session")
def judge_cache(tmp_path_factory):
    """One classifier cache for the session: the same judges are trained once.

    test_classifiers and test_runner train on identical inputs with
    `eval_fixtures.JUDGES`, so they hit the same cache entries.
    """
    return tmp_path_factory.mktemp("judges")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run these tiny models on one thread, restored after each module.

    On a shared 2-core machine intra-op threads only contend for tiny tensors:
    training a judge took ~0.7 s on one thread and 7-25 s on two under load.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

"""Fixtures of the evaluation tests: the synthetic corpus of `eval_fixtures`."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
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


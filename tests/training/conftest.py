"""Shared fixtures: one tiny corpus per session, its features cached once."""
from __future__ import annotations

import pytest

from .helpers import FEATURES, make_corpus


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    """A 24-item corpus folder with metadata.csv and a warm feature cache."""
    from disentangle.data.schema import load_corpus
    from disentangle.features.cache import load_features
    from disentangle.features.config import FeatureConfig

    root = make_corpus(tmp_path_factory.mktemp("corpus") / "tiny")
    load_features(load_corpus(root), FeatureConfig(**FEATURES), progress=False)
    return root

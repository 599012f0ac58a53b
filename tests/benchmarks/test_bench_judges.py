"""bench.py judges --features: parsed as train.py --set, naming what is wrong."""
from __future__ import annotations

import pytest

from disentangle.benchmarks.judges import override_features
from disentangle.features.config import FeatureConfig


def test_override_casts_to_the_field_type():
    base = FeatureConfig(n_mels=128, fmax=11025.0)
    changed = override_features(base, ["n_mels=256", "fmax=8000"])
    assert changed.n_mels == 256 and isinstance(changed.n_mels, int) and changed.fmax == 8000.0
    assert override_features(base, []) == base


@pytest.mark.parametrize("pair, problem", [("n_mels", "KEY=VALUE"), ("mels=256", "KEY=VALUE"),
                                           ("n_mels=many", "KEY=VALUE.*expected an integer")])
def test_bad_overrides_are_named(pair, problem):
    with pytest.raises(SystemExit, match=problem):
        override_features(FeatureConfig(), [pair])

"""Cross-source evaluation: read-outs fitted on one corpus, scored zero-shot on another."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from eval_fixtures import JUDGES, OracleModel, make_synthetic

from disentangle.data.schema import Item
from disentangle.evaluation.cross_source import cross_source, cross_source_markdown, held_split
from disentangle.evaluation.runner import EvalConfig
from disentangle.features.cache import FeatureSet

CFG = EvalConfig(classifier=JUDGES)


def _held(seed: int = 1) -> FeatureSet:
    """Items of a 'new source': the same patterns, new noise, split unseen, one unknown instrument."""
    data = make_synthetic(n_per_pair=4, seed=0)
    rng = np.random.default_rng(seed)
    x = data.x + 0.05 * rng.standard_normal(data.x.shape).astype(np.float32)
    items = [dataclasses.replace(i, split="unseen", source="other") for i in data.items]
    items += [Item("kazoo.wav", "unseen", "kazoo", pitch=60, source="other")]
    x = np.concatenate([x, x[:1]])
    return FeatureSet(x.astype(np.float32), items)


def test_oracle_transfers_and_unknown_classes_are_counted():
    data = make_synthetic()
    train = FeatureSet(data.x, [dataclasses.replace(i, source="mine") for i in data.items])
    cs = cross_source(OracleModel(data), train, _held(), cfg=CFG)
    assert cs["held_split"] == "unseen" and cs["held_sources"] == ["other"] and cs["sources_in_both"] == []
    assert cs["left_out"]["instrument"] == 1 and cs["n_held"] == len(_held().items)
    assert cs["probe_f1"]["timbre"]["instrument"] > 0.95 and cs["nn1_acc"]["timbre"]["instrument"] > 0.95
    assert cs["probe_f1"]["pitch"]["pitch"] > 0.95
    assert cs["recon_mse"]["ratio"] == pytest.approx(1.0, abs=0.5)
    assert cs["judges"]["instrument"]["acc_recon"] > 0.9
    md = "\n".join(cross_source_markdown({"other": cs}))
    assert "Cross-source: `other`" in md and "kazoo" not in md and "instrument': 1" in md


def test_a_space_that_does_not_transfer_scores_low():
    data = make_synthetic()
    cs = cross_source(OracleModel(data, mode="noise"), FeatureSet(data.x, data.items), _held(), cfg=CFG)
    assert cs["probe_f1"]["timbre"]["instrument"] < 0.6 and cs["nn1_acc"]["timbre"]["instrument"] < 0.6
    deaf = cross_source(OracleModel(data, mode="deaf"), FeatureSet(data.x, data.items), _held(), cfg=CFG)
    assert deaf["judges"]["instrument"]["acc_recon"] < 0.6 and deaf["judges"]["instrument"]["acc_real"] > 0.9
    assert deaf["recon_mse"]["ratio"] == pytest.approx(1.0, abs=0.5)


def test_held_split_prefers_unseen():
    assert held_split([Item("a", "test"), Item("b", "unseen")]) == "unseen"
    assert held_split([Item("a", "test"), Item("b", "train")]) == "test"

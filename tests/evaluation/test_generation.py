"""Controllable synthesis follows Luo 2019 Sec. 4.3: the targets are the evaluated items."""
from __future__ import annotations

import numpy as np
import torch
from eval_fixtures import HALF, INSTRUMENTS, PITCHES, OracleModel

from disentangle.evaluation.generation import space_components, synthesis_scores

MAPS = {"instrument": list(INSTRUMENTS), "pitch": list(PITCHES)}


class NearestPattern:
    """A judge that needs no training: the class whose pattern is nearest to
    the decoded bins (timbre: the lower half, pitch: the upper half). Counts
    how many spectrograms it was shown."""

    def __init__(self, patterns: np.ndarray, lower: bool):
        self.patterns, self.lower, self.seen = torch.from_numpy(patterns), lower, 0

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        self.seen += len(x)
        v = (x[:, :HALF] if self.lower else x[:, HALF:]).mean(-1)
        return torch.softmax(-torch.cdist(v, self.patterns), dim=-1)


def _setup(synthetic):
    model = OracleModel(synthetic)
    train = {"timbre": synthetic.timbre_patterns[[0, 1]], "pitch": synthetic.pitch_patterns[[0, 1]]}
    labels = {"instrument": np.array([0, 1]), "pitch": np.array([0, 1])}
    comps = space_components(model, train, labels, MAPS)
    judges = (NearestPattern(synthetic.timbre_patterns, True), NearestPattern(synthetic.pitch_patterns, False))
    return model, comps, train, labels, judges


def test_targets_are_the_evaluated_items_and_unknowns_are_counted(synthetic):
    model, comps, train, labels, (ji, jp) = _setup(synthetic)
    targets = {"instrument": np.array([0, 3, 2, -1, 1]), "pitch": np.array([4, 0, 1, 2, -1])}
    out = synthesis_scores(model, comps, train, labels, MAPS, ji, jp, targets,
                           spreads=(0.0, 1.0), repeats=4)
    assert out["targets"] == 3 and out["left_out"] == 2 and out["repeats"] == 4
    # One decode per target at w = 0 (every repeat would be the same code), `repeats` at w > 0.
    assert ji.seen == 3 + 3 * 4
    assert out["w=0"] == {"instrument_f1": 1.0, "pitch_f1": 1.0}


def test_a_decoder_deaf_to_timbre_fails_the_instrument_judge(synthetic):
    _, comps, train, labels, (ji, jp) = _setup(synthetic)
    deaf = OracleModel(synthetic, mode="deaf")
    targets = {"instrument": np.repeat(np.arange(4), 5), "pitch": np.tile(np.arange(5), 4)}
    out = synthesis_scores(deaf, comps, train, labels, MAPS, ji, jp, targets, spreads=(0.0,))
    assert out["w=0"]["pitch_f1"] == 1.0 and out["w=0"]["instrument_f1"] < 0.3


def test_max_targets_draws_a_seeded_subset(synthetic):
    model, comps, train, labels, (ji, jp) = _setup(synthetic)
    targets = {"instrument": np.repeat(np.arange(4), 5), "pitch": np.tile(np.arange(5), 4)}
    a = synthesis_scores(model, comps, train, labels, MAPS, ji, jp, targets, spreads=(0.0,), max_targets=7)
    assert a["targets"] == 7 and ji.seen == 7
    assert a == synthesis_scores(model, comps, train, labels, MAPS, ji, jp, targets, spreads=(0.0,),
                                 max_targets=7)

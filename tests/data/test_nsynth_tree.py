"""The NSynth loader end to end on a generated NSynth-layout tree (examples.json + audio/)."""
from __future__ import annotations

import json

import pytest

from disentangle.benchmarks.nsynth import make_nsynth_tree
from disentangle.data.loaders import open_corpus
from disentangle.data.loaders.nsynth import FAMILIES, velocity_to_dynamics


@pytest.mark.slow
def test_generated_tree_reads_back_entry_by_entry(tmp_path):
    root = make_nsynth_tree(tmp_path / "nsynth-train", 300, distinct=12)
    examples = json.loads((root / "examples.json").read_text())
    assert len(examples) == 300 and len(list((root / "audio").glob("*.wav"))) == 300
    assert (root / "audio" / f"{next(iter(examples))}.wav").stat().st_nlink >= 2  # hard links
    corpus = open_corpus(root)
    assert len(corpus) == 300 and not corpus.skipped
    assert {i.split for i in corpus.items} == {"train"}  # from the folder name
    by_path = {i.path: i for i in corpus.items}
    for key, ex in examples.items():
        item = by_path[f"audio/{key}.wav"]
        assert item.pitch == ex["pitch"] and item.velocity == ex["velocity"]
        assert item.instrument == ex["instrument_family_str"] and item.family == FAMILIES[item.instrument]
        assert item.dynamics == velocity_to_dynamics(ex["velocity"])
        assert item.extra["instrument_str"] == ex["instrument_str"]
    assert set(corpus.classes("instrument")) == set(FAMILIES)
    # a second tree in a folder of another name gets a stratified split; a missing wav is skipped
    other = make_nsynth_tree(tmp_path / "mine", 60, distinct=4)
    (other / "audio" / f"{list(json.loads((other / 'examples.json').read_text()))[-1]}.wav").unlink()
    with pytest.warns(UserWarning, match="skipped 1 of 60"):
        mine = open_corpus(other)
    assert len(mine) == 59 and {i.split for i in mine.items} == {"train", "valid", "test"}

"""bench.py perturb: times the variant cache in-process and with workers, without touching the corpus."""
from __future__ import annotations

import argparse

import pytest

from disentangle.benchmarks import perturb
from disentangle.data.notes import build_notes_corpus


def test_times_both_settings_and_leaves_the_corpus_alone(tmp_path):
    corpus = build_notes_corpus(tmp_path / "c", instruments=["flute"], pitches=[60, 64, 67, 72], progress=False)
    for it in corpus.items:
        it.split = "train"
    from disentangle.data.schema import write_metadata
    write_metadata(tmp_path / "c" / "metadata.csv", corpus.items)
    args = argparse.Namespace(config="threefactor-notes-cpu", data=str(tmp_path / "c"), rows=2, workers=2, repeats=1)
    out = perturb.run(args)
    assert set(out["per_item"]) == {0, 2} and out["ratio"] > 0
    assert not (tmp_path / "c" / ".cache").exists()  # the cache went to a temp folder
    with pytest.raises(SystemExit, match="need rows"):
        perturb.run(argparse.Namespace(**{**vars(args), "rows": 100}))
    with pytest.raises(SystemExit, match="no perturb_cache"):
        perturb.run(argparse.Namespace(**{**vars(args), "config": "gmvae-cpu"}))

"""`make run` shows note models on data/notes; phrase models wait for data/phrases."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from disentangle.explore.corpus_match import matching_models, trained_on


def ckpt(kind):
    return SimpleNamespace(meta={"corpus": {"name": kind}} if kind else {})


def test_models_open_on_the_corpus_kind_they_were_trained_on():
    models = {"gmvae": ckpt("notes"), "jdsae": ckpt("phrases"), "old": ckpt(None)}
    told = []
    assert sorted(matching_models(models, "notes", say=told.append)) == ["gmvae", "old"]
    assert len(told) == 1 and "jdsae" in told[0] and "data/phrases" in told[0]
    assert sorted(matching_models(models, "phrases", say=told.append)) == ["jdsae", "old"]
    assert sorted(matching_models(models, "my_wavs")) == ["gmvae", "jdsae", "old"]  # any other corpus: all
    assert trained_on(models["old"]) is None


def test_no_model_left_is_a_clear_exit():
    with pytest.raises(SystemExit, match="notes"):
        matching_models({"jdsae": ckpt("phrases")}, "notes", say=lambda m: None)

"""Note models open on notes corpora, phrase models on phrase corpora, whatever
the folders are called."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from disentangle.data.kind import corpus_kind, recorded_kind
from disentangle.data.schema import Corpus, Item
from disentangle.explore.corpus_match import matching_models, trained_on


def ckpt(name=None, kind=None):
    corpus = {k: v for k, v in (("name", name), ("kind", kind)) if v}
    return SimpleNamespace(meta={"corpus": corpus} if corpus else {})


def corpus(root, n=3, annotated=False, build=None):
    root.mkdir(parents=True, exist_ok=True)
    if build is not None:
        (root / "build.json").write_text(json.dumps(build))
    items = [Item(path=f"{i}.wav", split="train", instrument="flute",
                  extra={"annotations": f"{i}.npz"} if annotated else {}) for i in range(n)]
    return Corpus(root, items, root.name)


def test_models_open_on_the_corpus_kind_they_were_trained_on():
    models = {"gmvae": ckpt("notes"), "jdsae": ckpt("phrases"), "old": ckpt(None),
              "new": ckpt("my-notes-v2", kind="phrases")}
    told = []
    assert sorted(matching_models(models, "notes", say=told.append)) == ["gmvae", "old"]
    assert len(told) == 2 and "jdsae" in told[0] and "data/phrases" in told[0]
    assert sorted(matching_models(models, "phrases", say=told.append)) == ["jdsae", "new", "old"]
    assert sorted(matching_models(models, None)) == ["gmvae", "jdsae", "new", "old"]  # any other corpus: all
    assert trained_on(models["old"]) is None
    assert trained_on(ckpt("notes-copy")) is None  # an unknown folder name is no kind


def test_the_kind_comes_from_the_record_not_the_folder_name(tmp_path):
    copy = corpus(tmp_path / "notes-copy", build={"corpus": "notes", "sources": []})
    assert corpus_kind(copy) == "notes"
    models = {"gmvae": ckpt("notes"), "jdsae": ckpt("phrases"), "reentry": ckpt("phrases")}
    assert list(matching_models(models, corpus_kind(copy), say=lambda m: None)) == ["gmvae"]
    # a folder called "notes" that holds phrases (annotated items, no record)
    assert corpus_kind(corpus(tmp_path / "notes", annotated=True)) == "phrases"
    # the record wins over the schema; a user's folder has no kind
    assert corpus_kind(corpus(tmp_path / "p", annotated=True, build={"corpus": "notes"})) == "notes"
    assert corpus_kind(corpus(tmp_path / "phrases")) is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "build.json").write_text("{not json")
    assert recorded_kind(tmp_path / "bad") is None
    assert corpus_kind(corpus(tmp_path / "odd", build={"corpus": "drums"})) is None


def test_no_model_left_is_a_clear_exit():
    with pytest.raises(SystemExit, match="notes"):
        matching_models({"jdsae": ckpt("phrases")}, "notes", say=lambda m: None)


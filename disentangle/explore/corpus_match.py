"""Which checkpoints a corpus is shown with: note-level models on notes, phrase-level on phrases.

Note-level (1-2 s notes) and phrase-level (4 s phrases) models expect
different clips, so on a corpus of one of the built-in kinds
(`disentangle.data.kind`: what the corpus records or its item schema, never
its folder name) the explorer opens only the checkpoints trained on that
kind; on any other corpus every checkpoint opens.

A checkpoint's kind is `meta["corpus"]["kind"]` (recorded by the trainer);
checkpoints written before that record are known by the folder they were
trained on, which was then always `data/notes` or `data/phrases`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from disentangle.data.kind import KINDS
from disentangle.models.base import DisentangleModel

M = TypeVar("M", bound="DisentangleModel")


def trained_on(model: DisentangleModel) -> str | None:
    """The kind of corpus a checkpoint was trained on ("notes", "phrases"), if known."""
    corpus = model.meta.get("corpus") or {}
    kind = corpus.get("kind") or corpus.get("name")
    return kind if kind in KINDS else None


def trained_corpus(model: DisentangleModel) -> str | None:
    """The name of the corpus folder a checkpoint was trained on, if recorded."""
    return (model.meta.get("corpus") or {}).get("name")


def matching_models(models: Mapping[str, M], corpus_kind: str | None,
                    say: Callable[[str], None] = print) -> dict[str, M]:
    """The models that suit a corpus of kind `corpus_kind` (None: not a built-in
    kind, so all of them); `say` is told about each one left out.
    Raises SystemExit when none is left."""
    kept = {}
    for name, model in models.items():
        kind = trained_on(model)
        if corpus_kind in KINDS and kind in KINDS and kind != corpus_kind:
            say(f"not opening {name} (trained on a {kind} corpus) on a {corpus_kind} corpus: "
                f"pass a {kind} corpus with --data (e.g. data/{kind}), or name it with --checkpoint")
            continue
        kept[name] = model
    if not kept:
        raise SystemExit(f"none of the checkpoints was trained on a {corpus_kind} corpus: "
                         "pass --checkpoint PATH")
    return kept

"""Which checkpoints a corpus is shown with: note-level models on notes, phrase-level on phrases.

A checkpoint records the corpus it was trained on (`meta["corpus"]["name"]`).
Note-level (1-2 s notes) and phrase-level (4 s phrases) models expect
different clips, so on the two built-in corpora (`notes`, `phrases`) the
explorer opens only the checkpoints trained on that kind; on any other corpus
every checkpoint opens.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

BUILTIN = ("notes", "phrases")
M = TypeVar("M")


def trained_on(model) -> str | None:
    """The name of the corpus a checkpoint was trained on (its `meta`), if recorded."""
    corpus = (getattr(model, "meta", None) or {}).get("corpus") or {}
    return corpus.get("name")


def matching_models(models: Mapping[str, M], corpus_name: str,
                    say: Callable[[str], None] = print) -> dict[str, M]:
    """The models that suit a corpus called `corpus_name` (see module docstring);
    `say` is told about each one left out. Raises SystemExit when none is left."""
    kept = {}
    for name, model in models.items():
        kind = trained_on(model)
        if corpus_name in BUILTIN and kind in BUILTIN and kind != corpus_name:
            say(f"not opening {name} (trained on the {kind!r} corpus) on a {corpus_name!r} corpus: "
                f"pass --data data/{kind}, or name it with --checkpoint")
            continue
        kept[name] = model
    if not kept:
        raise SystemExit(f"none of the checkpoints was trained on a {corpus_name!r} corpus: "
                         "pass --checkpoint PATH")
    return kept

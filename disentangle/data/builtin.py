"""The built-in corpora as `make data` / `make phrases` and the app render them.

One place decides what "the default corpus" is, so the script, the Makefile
and the app (which renders a missing default corpus on first start) agree.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .build import BuildReport
from .schema import Corpus
from .sources import DEFAULT_SOURCES, HOLDOUT_SOURCES

KINDS = ("notes", "phrases")


def default_holdout(sources: Sequence[str] | None) -> list[str]:
    """Held-out sources when none are named: the default one with the default mix, else none."""
    return list(HOLDOUT_SOURCES) if sources is None else []


def build_builtin(kind: str, out: str | Path, *, sources: Sequence[str] | None = None,
                  holdout: Sequence[str] | None = None, progress: bool = True, seed: int = 0,
                  report: BuildReport | None = None, **options: object) -> Corpus:
    """Render the `kind` corpus ("notes" or "phrases") into `out`.

    sources None: the default mix (`sources.DEFAULT_SOURCES`) with
    `HOLDOUT_SOURCES` held out as "unseen". The notes corpus has the GM
    drums; with several sources it renders one held length per (pitch,
    dynamics) and source, and the phrases corpus 25 phrases per instrument
    and source; with one source, 2 lengths and 100 phrases. `options` go to
    the builder and override these.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown corpus kind {kind!r}; choose from {KINDS}")
    held = default_holdout(sources) if holdout is None else list(holdout)
    names = list(DEFAULT_SOURCES) if sources is None else list(sources)
    several = len(names) > 1
    if kind == "notes":
        from .notes import build_notes_corpus

        kw: dict = {"lengths_per_note": 1 if several else 2, "percussion": True, **options}
        return build_notes_corpus(out, sources=names, holdout=held, progress=progress, seed=seed,
                                  report=report, **kw)
    from .phrases import build_phrases_corpus

    kw = {"per_instrument": 25 if several else 100, **options}
    return build_phrases_corpus(out, sources=names, holdout=held, progress=progress, seed=seed,
                                report=report, **kw)

"""The built-in corpora as `make data` / `make phrases` and the app render them.

One place decides what "the default corpus" is, so the script, the Makefile
and the app (which renders a missing default corpus on first start) agree.
The app's first start renders the notes corpus in two stages
(`build_first_part`, then `finish_staged`): a part it serves at once, then
the rest in the background.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .build import BuildReport
from .schema import Corpus, write_metadata
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


# --- staged rendering (the app's first start on an empty data root) -----------
#: Pitched notes per source in the first part of the notes corpus that the app
#: serves while the rest renders: evenly spaced over the plan, which runs
#: instrument by instrument, so every instrument and dynamics is in it.
FIRST_PART_PER_SOURCE = 120
#: Drums per source in the first part: the plan runs drum by drum, so 12 evenly
#: spaced notes are one of each of the 12 GM drums.
FIRST_PART_DRUMS_PER_SOURCE = 12
#: A corpus folder holding this file is a first part, not the finished corpus.
PARTIAL_MARK = ".partial"


def is_partial(out: str | Path) -> bool:
    """True when `out` holds only the first part of a staged build (the rest still to render)."""
    return (Path(out) / PARTIAL_MARK).is_file()


def build_first_part(out: str | Path, per_source: int = FIRST_PART_PER_SOURCE,
                     drums_per_source: int = FIRST_PART_DRUMS_PER_SOURCE, *,
                     sources: Sequence[str] | None = None, progress: bool = True, **options: Any) -> Corpus:
    """Render a first part of the notes corpus into `out`, marked partial (`is_partial`).

    Its notes are a subset of exactly those `build_builtin("notes", out, ...)`
    renders (an evenly spaced part of the same plan), so `finish_staged` keeps
    their files and renders only the rest. The mark is written first: a start
    stopped at any point after it leaves a folder that is known to be unfinished.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / PARTIAL_MARK).write_text("a first part: the rest of the corpus is still to be rendered\n")
    return build_builtin("notes", out, sources=sources, progress=progress,
                         **{**options, "max_notes": per_source, "max_percussion": drums_per_source})


def finish_staged(out: str | Path, first: Corpus, *, sources: Sequence[str] | None = None,
                  progress: bool = True, **options: Any) -> Corpus:
    """Render the rest of the notes corpus begun by `build_first_part` and remove the partial mark.

    The finished corpus lists the first part's items first, in their order, so a
    corpus row ("c:12") seen while the first part was served names the same
    note after the switch. The metadata is written before the mark goes, so a
    stop in between only means rendering nothing on the next start.
    """
    out = Path(out)
    full = build_builtin("notes", out, sources=sources, progress=progress, **options)
    by_path = {item.path: item for item in full.items}
    head = [by_path[i.path] for i in first.items if i.path in by_path]
    seen = {i.path for i in head}
    items = head + [i for i in full.items if i.path not in seen]
    write_metadata(out / "metadata.csv", items)
    (out / PARTIAL_MARK).unlink(missing_ok=True)
    return Corpus(out, items, full.name)

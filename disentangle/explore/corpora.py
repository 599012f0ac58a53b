"""Which corpus the explorer opens: a corpus folder, a built-in one (rendered on request), or a typo.

A built-in corpus (`data/notes`, `data/phrases`) is rendered when it is the
default path or the user asks (`build=True`); any other missing path is an
error that names close matches, because rendering a 286 MB corpus under a
mistyped name is worse than a one-line message.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from disentangle.data.schema import Corpus
from disentangle.paths import data_root

DATA = data_root()
BUILTIN = {"notes": "notes", "phrases": "phrases"}


class CorpusNotFound(FileNotFoundError):
    """A corpus path that does not exist; the message suggests close matches."""


def builtin_kind(path: Path) -> str | None:
    """"notes" or "phrases" when `path` is the repository's built-in folder of that name."""
    try:
        resolved = path.expanduser().resolve()
    except OSError:
        return None
    for name in BUILTIN:
        if resolved == (DATA / name).resolve():
            return name
    return None


def first_start(path: Path) -> bool:
    """True when `path` is the built-in notes folder without a finished corpus in it.

    That is a fresh Space (no data/ at all), or a first start stopped before
    its corpus was finished (the partial mark of `data.builtin.build_first_part`
    is still there, or no metadata.csv was written yet): the app then serves a
    first part and renders the rest in the background, resuming what is on disk.
    """
    from disentangle.data.builtin import is_partial

    if builtin_kind(path) != "notes":
        return False
    return not (path / "metadata.csv").is_file() or is_partial(path)


def suggestions(path: Path) -> list[str]:
    """Existing corpus folders whose names are close to `path`'s (beside it and under data/)."""
    names: dict[str, str] = {}
    for base in (path.expanduser().parent, DATA):  # beside the typo first
        if base.is_dir():
            for child in base.iterdir():
                if child.is_dir() and not child.name.startswith("."):
                    shown = child.as_posix() if base != DATA else f"data/{child.name}"
                    names.setdefault(child.name, shown)
    for name in BUILTIN:
        names.setdefault(name, f"data/{name}")
    close = difflib.get_close_matches(path.name, list(names), n=3, cutoff=0.6)
    return [names[c] for c in close]


def open_data(path: str | Path, build: bool = False, say=print) -> Corpus:
    """The corpus at `path`.

    A missing built-in corpus is rendered (once) when `build` or when `path`
    is the default `data/notes`; anything else missing raises `CorpusNotFound`
    naming the path and what the user may have meant.
    """
    from disentangle.data.loaders import open_corpus

    folder = Path(path)
    if folder.exists():
        return open_corpus(folder)
    kind = builtin_kind(folder)
    if kind is not None and (build or kind == "notes"):
        from disentangle.data.builtin import build_builtin

        say(f"{folder} has no corpus yet: rendering the {kind} corpus there (once)...")
        return build_builtin(kind, folder, progress=True)
    close = suggestions(folder)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    if kind is not None:
        hint = f"; render it with --build (or make {kind})"
    raise CorpusNotFound(f"no such corpus: {folder}{hint}")

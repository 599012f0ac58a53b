"""What kind of corpus a folder holds ("notes" or "phrases"), whatever it is called.

The builders record the kind in `build.json` (`{"corpus": "notes", ...}`), so a
copy or a renamed folder keeps it. A folder without that record is recognised
by its item schema: phrase items carry frame annotations (`annotations`, a
`.npz` beside the wav), notes do not. Anything else (a folder of the user's
own wavs) has no kind.
"""
from __future__ import annotations

import json
from pathlib import Path

from .schema import Corpus

#: The kinds the builders make; each model is trained on one of them.
KINDS = ("notes", "phrases")


def recorded_kind(root: str | Path) -> str | None:
    """The kind `build.json` in `root` records, or None (no file, unreadable, other kind)."""
    try:
        manifest = json.loads((Path(root) / "build.json").read_text())
    except (OSError, ValueError):
        return None
    kind = manifest.get("corpus") if isinstance(manifest, dict) else None
    return kind if kind in KINDS else None


def corpus_kind(corpus: Corpus) -> str | None:
    """"notes" or "phrases" for a corpus the builders made (by record, else by item
    schema), None for any other corpus."""
    kind = recorded_kind(corpus.root)
    if kind is not None:
        return kind
    if corpus.items and all("annotations" in item.extra for item in corpus.items):
        return "phrases"
    return None


__all__ = ["KINDS", "corpus_kind", "recorded_kind"]

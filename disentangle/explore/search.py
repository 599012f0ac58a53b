"""Find corpus items by a file-name fragment or label values ("violin C4", "ff", "flute_07").

Every word of the query must match the item: as a case-insensitive part of
its file path, or as one of its label values (a pitch also by note name,
"C4"). Pure Python over the item list: ~5 ms for 20,000 items.
"""
from __future__ import annotations

from disentangle.data.schema import Corpus
from disentangle.explore.names import value_text

#: At most this many hits are returned (the map rings all of them).
MAX_HITS = 500


def item_keys(corpus: Corpus, labels: list[str]) -> list[tuple[str, set[str]]]:
    """Per item: (lower-case path, lower-case label values and note names), in corpus order."""
    keys = []
    for item in corpus.items:
        values = set()
        for c in labels:
            v = item.label(c)
            if v:
                values |= {v.lower(), value_text(c, v).lower()}
        keys.append((item.path.lower(), values))
    return keys


def search(keys: list[tuple[str, set[str]]], query: str, limit: int = MAX_HITS) -> list[int]:
    """Corpus rows matching every word of `query` (see module docstring), at most `limit`."""
    words = [w for w in query.lower().replace(",", " ").split() if w]
    if not words:
        raise ValueError("type part of a file name or a label value (e.g. violin, C4, ff)")
    if any(len(w) > 100 for w in words):
        raise ValueError("search words are at most 100 characters long")
    hits = []
    for row, (path, values) in enumerate(keys):
        if all(w in values or w in path for w in words):
            hits.append(row)
            if len(hits) >= limit:
                break
    return hits

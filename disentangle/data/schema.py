"""One item schema for every corpus, and the `metadata.csv` that stores it.

Every source (the SoundFont corpora, TinySOL, NSynth, a folder of wavs) is read
into a `Corpus`: a root folder plus a list of `Item`s whose `path` is relative
to that root. Models, evaluation and the app only ever see this schema.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from disentangle.atomic import atomic_write

#: Label columns a model may be asked to capture (`LatentSpace.label`).
LABELS = ("instrument", "family", "pitch", "dynamics", "duration")
#: Columns always written to `metadata.csv`, in this order.
COLUMNS = ("path", "split", "instrument", "family", "pitch", "dynamics",
           "velocity", "duration", "duration_s", "source")
UNKNOWN = ""


@dataclass
class Item:
    """One sound and its labels.

    `pitch` is a MIDI note number (-1 when unknown); `dynamics` one of pp, mf,
    ff (or "" when unknown); `duration` a class name such as "0.50" (the note
    length quantised to 250 ms bins); `duration_s` the sounding length in
    seconds. `extra` keeps any other column of the source's metadata.
    """

    path: str
    split: str = "train"
    instrument: str = UNKNOWN
    family: str = UNKNOWN
    pitch: int = -1
    dynamics: str = UNKNOWN
    velocity: int = -1
    duration: str = UNKNOWN
    duration_s: float = 0.0
    source: str = UNKNOWN
    extra: dict[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """The label `name` as a string class name ("" when unknown)."""
        value = getattr(self, name) if hasattr(self, name) else self.extra.get(name, UNKNOWN)
        if name == "pitch":
            return UNKNOWN if value is None or int(value) < 0 else str(int(value))
        return UNKNOWN if value is None else str(value)

    def to_row(self) -> dict[str, str]:
        row = {k: v for k, v in asdict(self).items() if k != "extra"}
        row.update(self.extra)
        return {k: str(v) for k, v in row.items()}


_TYPES = {f.name: f.type for f in fields(Item)}


def item_from_row(row: dict[str, str]) -> Item:
    """Parse one `metadata.csv` row; unknown columns go to `extra`."""
    known: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in row.items():
        if key is None:
            continue
        if key in _TYPES and key != "extra":
            kind = _TYPES[key]
            if kind == "int":
                known[key] = int(float(value)) if value not in ("", None) else -1
            elif kind == "float":
                known[key] = float(value) if value not in ("", None) else 0.0
            else:
                known[key] = value or UNKNOWN
        else:
            extra[key] = value
    if "path" not in known:
        raise ValueError(f"metadata row has no 'path' column: {row}")
    return Item(extra=extra, **known)


@dataclass
class Corpus:
    """A root folder and its items (paths relative to `root`)."""

    root: Path
    items: list[Item]
    name: str = "corpus"

    def __len__(self) -> int:
        return len(self.items)

    def audio_path(self, item: Item) -> Path:
        return self.root / item.path

    def split(self, name: str) -> Corpus:
        """The items of one split ("train", "valid" or "test")."""
        return Corpus(self.root, [i for i in self.items if i.split == name], f"{self.name}:{name}")

    def classes(self, label: str) -> list[str]:
        """Sorted distinct known values of `label` (pitch sorted numerically)."""
        values = {i.label(label) for i in self.items} - {UNKNOWN}
        key = (lambda v: int(v)) if label == "pitch" else (lambda v: v)
        return sorted(values, key=key)

    def fingerprint(self) -> str:
        """A short hash of the item list and file sizes/mtimes, for caches."""
        import hashlib

        h = hashlib.sha1(str(self.root.resolve()).encode())
        for item in self.items:
            p = self.audio_path(item)
            try:
                st = p.stat()
                h.update(f"{item.path}|{st.st_size}|{int(st.st_mtime)}".encode())
            except OSError:
                h.update(f"{item.path}|missing".encode())
        return h.hexdigest()[:16]


def write_metadata(path: Path, items: Iterable[Item]) -> None:
    """Write items to a CSV (atomically: a temp file, then a rename)."""
    items = list(items)
    extra_cols = sorted({k for i in items for k in i.extra})
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS) + extra_cols)
            writer.writeheader()
            for item in items:
                writer.writerow(item.to_row())

    atomic_write(path, write)


def read_metadata(path: Path) -> list[Item]:
    """Read a `metadata.csv` written by `write_metadata` (or by hand)."""
    with open(path, newline="") as f:
        return [item_from_row(row) for row in csv.DictReader(f)]


def load_corpus(root: str | Path, name: str | None = None) -> Corpus:
    """A corpus folder with a `metadata.csv` (as `scripts/make_dataset.py` writes)."""
    root = Path(root)
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: no metadata.csv in corpus folder {root}")
    return Corpus(root, read_metadata(meta), name or root.name)

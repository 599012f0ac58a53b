"""Any folder of audio files, labelled by a CSV or by the folder each file sits in."""
from __future__ import annotations

import csv
from pathlib import Path

from ..schema import LABELS, Item
from ..splits import SPLITS, assign_splits
from .common import AUDIO_EXTENSIONS, LoadedCorpus, duration_class, finish, header_seconds, parse_dynamics, parse_pitch

#: Looked for in the root when `load_folder` is given no CSV.
LABELS_CSV = "labels.csv"


def audio_files(root: Path) -> list[str]:
    """Relative paths of all audio files under `root` (hidden folders such as .cache left out), sorted."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file() \
                and not any(part.startswith(".") for part in rel.parts):
            found.append(rel.as_posix())
    return sorted(found)


def _item_from_labels(rel: str, row: dict[str, str]) -> Item:
    """An item from a CSV row: label columns are parsed, other columns go to `extra`."""
    get = lambda key: (row.get(key) or "").strip()
    item = Item(path=rel, source="folder")
    item.instrument = get("instrument")
    item.family = get("family")
    item.pitch = parse_pitch(get("pitch"))
    item.dynamics = parse_dynamics(get("dynamics"))
    if get("velocity"):
        item.velocity = int(float(get("velocity")))
    if get("duration_s"):
        item.duration_s = float(get("duration_s"))
    item.duration = get("duration") or (duration_class(item.duration_s) if item.duration_s > 0 else "")
    if get("split"):
        if get("split") not in SPLITS:
            raise ValueError(f"split {get('split')!r} is not one of {SPLITS}")
        item.split = get("split")
    known = set(LABELS) | {"path", "velocity", "duration_s", "split", "source"}
    item.extra = {k: v for k, v in row.items() if k and k not in known and v is not None}
    return item


def load_folder(root: str | Path, labels_csv: str | Path | None = None, *, seed: int = 0) -> LoadedCorpus:
    """Every audio file under `root` (wav, flac, ogg, aiff, mp3) as a corpus.

    With `labels_csv` (or `root/labels.csv`): a CSV with a `path` column
    (relative to `root`) and any of instrument, family, pitch (MIDI or a note
    name such as A4), dynamics (pp..fff, folded to pp/mf/ff), velocity,
    duration, duration_s, split; other columns go to `extra`. Only files the
    CSV lists are used; rows whose file is missing or whose labels do not parse
    are skipped. Without a CSV, instrument is the name of each file's folder
    ("" for files directly in `root`). Items without a split get a stratified
    80/10/10 one. duration_s defaults to the file length.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: audio folder not found")
    if labels_csv is None and (root / LABELS_CSV).is_file():
        labels_csv = root / LABELS_CSV
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    given_split: set[str] = set()  # items whose split the CSV fixes
    if labels_csv is not None:
        labels_csv = Path(labels_csv)
        if not labels_csv.is_file():
            raise FileNotFoundError(f"{labels_csv}: labels CSV not found")
        with open(labels_csv, newline="") as f:
            reader = csv.DictReader(f)
            if "path" not in (reader.fieldnames or []):
                raise ValueError(f"{labels_csv}: needs a 'path' column (has {reader.fieldnames})")
            rows = list(reader)
        for row in rows:
            rel = (row.get("path") or "").strip()
            path = Path(rel)
            if path.is_absolute():
                try:
                    rel = path.relative_to(root).as_posix()
                except ValueError:
                    skipped.append((rel, f"absolute path outside {root}"))
                    continue
            if not rel or not (root / rel).is_file():
                skipped.append((rel or str(row), "audio file not found"))
                continue
            try:
                items.append(_item_from_labels(rel, row))
            except ValueError as exc:
                skipped.append((rel, str(exc)))
                continue
            if (row.get("split") or "").strip():
                given_split.add(rel)
    else:
        for rel in audio_files(root):
            parent = Path(rel).parent
            items.append(Item(path=rel, instrument="" if parent == Path(".") else parent.name,
                              source="folder"))
    for item in items:
        if item.duration_s <= 0:
            item.duration_s = round(header_seconds(root / item.path), 4)
            if not item.duration and item.duration_s > 0:
                item.duration = duration_class(item.duration_s)
    unsplit = [i for i in items if i.path not in given_split]
    if unsplit:
        assign_splits(unsplit, seed=seed)
    return finish(root, items, skipped, root.name or "folder")

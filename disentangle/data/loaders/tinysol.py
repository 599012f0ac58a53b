"""TinySOL (2,913 orchestral "ordinario" notes): read from its metadata CSV or its file names.

Label conventions (documented so results compare across papers):
- instrument: TinySOL's abbreviation mapped onto the notes corpus names where
  the instrument is the same (BTb -> tuba, Hn -> french_horn, TpC -> trumpet,
  ClBb -> clarinet, ASax -> alto_sax, Vc -> cello, ...); `instrument_abbr`
  keeps the original in `extra`.
- family: Brass/Keyboards/Strings/Winds -> brass/keyboards/strings/woodwinds.
- dynamics: pp, p -> pp; mf -> mf; f, ff -> ff (TinySOL has 10 p and no f
  files; Dal Ri 2025 merges p into pp the same way).
- duration: the sounding length (first to last sample within `trim_db` of the
  peak, as Dal Ri 2025 trims with top_db 30) in 250 ms bins; None uses the
  file length instead (no decoding).
- split: "stratified" (default) is 80/10/10 per instrument spread over pitch
  (as the MD-GMVAE paper splits); "folds" uses TinySOL's Fold column: folds
  0-2 train, 3 valid, 4 test.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from ..schema import Item
from ..splits import assign_splits
from .common import (
    LoadedCorpus,
    duration_class,
    finish,
    header_seconds,
    note_to_midi,
    parse_dynamics,
    snake,
    sounding_seconds,
)

ABBREVIATIONS = {"BTb": "tuba", "Hn": "french_horn", "TpC": "trumpet", "Tbn": "trombone",
                 "Acc": "accordion", "Cb": "contrabass", "Va": "viola", "Vc": "cello", "Vn": "violin",
                 "ASax": "alto_sax", "Bn": "bassoon", "ClBb": "clarinet", "Fl": "flute", "Ob": "oboe"}
FAMILIES = {"brass": "brass", "keyboards": "keyboards", "strings": "strings", "winds": "woodwinds",
            "woodwinds": "woodwinds"}
FOLD_SPLITS = {"0": "train", "1": "train", "2": "train", "3": "valid", "4": "test"}
#: `{Abbr}-{Tech}-{Pitch}-{Dyn}-{Field5}-{Field6}.wav`, e.g. Vc-ord-A#2-mf-3c-N.wav
FILENAME = re.compile(r"^(?P<abbr>[A-Za-z]+)-(?P<tech>[A-Za-z+]+)-(?P<pitch>[A-Ga-g][#b]?-?\d)-"
                      r"(?P<dyn>ppp|pp|p|mp|mf|f|ff|fff)-(?P<f5>[^-]+)-(?P<f6>[^-.]+)\.wav$")
METADATA_NAME = "TinySOL_metadata.csv"


def find_metadata_csv(root: Path) -> Path | None:
    """TinySOL's metadata CSV in `root` (by name, or any CSV with Path and Fold columns)."""
    named = root / METADATA_NAME
    if named.is_file():
        return named
    for path in sorted(root.glob("*.csv")):
        try:
            with open(path, newline="") as f:
                header = next(csv.reader(f), [])
        except (OSError, UnicodeDecodeError):
            continue
        if "Path" in header and "Fold" in header:
            return path
    return None


def looks_like_tinysol(root: Path) -> bool:
    """True when `root` holds TinySOL's metadata CSV or files named in its pattern."""
    if find_metadata_csv(root) is not None:
        return True
    for path in root.glob("*/*/*/*.wav"):
        return FILENAME.match(path.name) is not None
    return False


def _family(name: str) -> str:
    return FAMILIES.get(name.strip().lower(), snake(name))


def _item_from_filename(rel: str) -> Item:
    m = FILENAME.match(Path(rel).name)
    if m is None:
        raise ValueError("file name does not match {Abbr}-{Tech}-{Pitch}-{Dyn}-{F5}-{F6}.wav")
    parts = Path(rel).parts
    family = _family(parts[0]) if len(parts) >= 4 else ""
    abbr = m["abbr"]
    return Item(path=rel, instrument=ABBREVIATIONS.get(abbr, snake(abbr)), family=family,
                pitch=note_to_midi(m["pitch"]), dynamics=parse_dynamics(m["dyn"]),
                source="tinysol", extra={"instrument_abbr": abbr, "technique": m["tech"],
                                         "dynamics_raw": m["dyn"], "string": m["f5"], "retuning": m["f6"]})


def _item_from_row(row: dict[str, str], rel: str) -> Item:
    abbr = (row.get("Instrument (abbr.)") or "").strip()
    full = (row.get("Instrument (in full)") or "").strip()
    pitch_id = (row.get("Pitch ID (MIDI)") or "").strip()
    pitch = int(float(pitch_id)) if pitch_id else note_to_midi(row.get("Pitch", ""))
    return Item(path=rel, instrument=ABBREVIATIONS.get(abbr) or snake(full or abbr),
                family=_family(row.get("Family", "")), pitch=pitch,
                dynamics=parse_dynamics(row.get("Dynamics", "")), source="tinysol",
                extra={"instrument_abbr": abbr, "technique": (row.get("Technique (abbr.)") or "").strip(),
                       "dynamics_raw": (row.get("Dynamics") or "").strip(),
                       "fold": (row.get("Fold") or "").strip()})


def load_tinysol(root: str | Path, metadata_csv: str | Path | None = None, *, split: str = "stratified",
                 seed: int = 0, trim_db: float | None = 30.0, progress: bool = False) -> LoadedCorpus:
    """Read a TinySOL folder (nothing is downloaded) into a corpus with paths relative to `root`.

    Uses `metadata_csv` (or TinySOL_metadata.csv found in `root`); without
    one, every wav under `root` whose name follows TinySOL's pattern. Entries
    whose file is missing or whose name or labels do not parse are skipped
    (`corpus.skipped`, one warning). See the module docstring for the label
    and split conventions.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: TinySOL folder not found")
    if split not in ("stratified", "folds"):
        raise ValueError(f"split must be 'stratified' or 'folds', got {split!r}")
    csv_path = Path(metadata_csv) if metadata_csv is not None else find_metadata_csv(root)
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    if csv_path is not None:
        if not csv_path.is_file():
            raise FileNotFoundError(f"{csv_path}: TinySOL metadata CSV not found")
        by_name: dict[str, str] | None = None
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            rel = (row.get("Path") or "").strip().lstrip("/")
            if not rel:
                skipped.append((str(row), "row has no Path"))
                continue
            if not (root / rel).is_file():
                # Some copies nest the audio one folder deeper: find the file by name.
                if by_name is None:
                    by_name = {p.name: p.relative_to(root).as_posix() for p in root.rglob("*.wav")}
                if Path(rel).name not in by_name:
                    skipped.append((rel, "audio file not found"))
                    continue
                rel = by_name[Path(rel).name]
            try:
                items.append(_item_from_row(row, rel))
            except ValueError as exc:
                skipped.append((rel, str(exc)))
    else:
        for path in sorted(root.rglob("*.wav")):
            rel = path.relative_to(root).as_posix()
            if any(part.startswith(".") for part in Path(rel).parts):
                continue
            try:
                items.append(_item_from_filename(rel))
            except ValueError as exc:
                skipped.append((rel, str(exc)))
    if trim_db is None:
        seconds = {i.path: header_seconds(root / i.path) for i in items}
    else:
        seconds = sounding_seconds(root, [i.path for i in items], trim_db, progress=progress)
    for item in items:
        item.duration_s = round(seconds[item.path], 4)
        item.duration = duration_class(item.duration_s)
    if split == "folds" and items and all(i.extra.get("fold") in FOLD_SPLITS for i in items):
        for item in items:
            item.split = FOLD_SPLITS[item.extra["fold"]]
    else:
        assign_splits(items, seed=seed)
    return finish(root, items, skipped, "tinysol")

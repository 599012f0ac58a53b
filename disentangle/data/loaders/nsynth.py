"""NSynth (4 s notes at 16 kHz): `examples.json` plus `audio/<note_str>.wav`.

Label conventions:
- instrument: `instrument_family_str` (bass, brass, flute, guitar, keyboard,
  mallet, organ, reed, string, synth_lead, vocal): 11 classes that describe
  timbre, where `instrument_str` would give ~1,000 single-instrument classes
  (kept in `extra` as `instrument_str`, with the source and qualities).
- family: the instrument family folded into the notes corpus families:
  brass -> brass; flute, reed -> woodwinds; string, guitar, bass -> strings;
  keyboard, organ, mallet -> keyboards; synth_lead -> synth; vocal -> vocal.
- dynamics from velocity: 25, 50 -> pp; 75 -> mf; 100, 127 -> ff.
- duration: NSynth holds every note for 3 s and keeps 1 s of release, so
  duration is "3.00" (duration_s 3.0) for all items.
- split: from the folder name (nsynth-train / -valid / -test); a folder with
  another name gets a stratified 80/10/10 split.
`root` is one split folder (holding examples.json) or a folder holding several.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..schema import Item
from ..splits import assign_splits
from .common import LoadedCorpus, finish

FAMILIES = {"brass": "brass", "flute": "woodwinds", "reed": "woodwinds", "string": "strings",
            "guitar": "strings", "bass": "strings", "keyboard": "keyboards", "organ": "keyboards",
            "mallet": "keyboards", "synth_lead": "synth", "vocal": "vocal"}
#: Velocity -> dynamics class (velocities between the listed ones go to the nearest class).
VELOCITY_DYNAMICS = {25: "pp", 50: "pp", 75: "mf", 100: "ff", 127: "ff"}
FOLDER_SPLITS = {"train": "train", "valid": "valid", "validation": "valid", "test": "test"}
HELD_SECONDS = 3.0


def velocity_to_dynamics(velocity: int) -> str:
    """NSynth velocity -> pp / mf / ff (below 63 pp, 63-87 mf, above ff)."""
    if velocity in VELOCITY_DYNAMICS:
        return VELOCITY_DYNAMICS[velocity]
    return "pp" if velocity < 63 else "mf" if velocity < 88 else "ff"


def split_folders(root: Path) -> list[Path]:
    """The folders under (or equal to) `root` that hold an examples.json."""
    if (root / "examples.json").is_file():
        return [root]
    return sorted(p.parent for p in root.glob("*/examples.json"))


def _split_of(folder: Path) -> str | None:
    suffix = folder.name.lower().rsplit("-", 1)[-1]
    return FOLDER_SPLITS.get(suffix)


def load_nsynth(root: str | Path, *, seed: int = 0) -> LoadedCorpus:
    """Read an NSynth folder (nothing is downloaded) into a corpus with paths relative to `root`.

    Entries whose wav is missing or whose fields do not parse are skipped
    (`corpus.skipped`, one warning). See the module docstring for labels.
    """
    root = Path(root)
    folders = split_folders(root) if root.is_dir() else []
    if not folders:
        raise FileNotFoundError(f"{root}: no NSynth examples.json in this folder or its sub-folders")
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    unsplit: list[Item] = []
    for folder in folders:
        meta = folder / "examples.json"
        try:
            examples = json.loads(meta.read_text())
        except (OSError, ValueError) as exc:
            skipped.append((str(meta), f"unreadable examples.json ({exc})"))
            continue
        split = _split_of(folder)
        prefix = folder.relative_to(root).as_posix()
        for key, ex in sorted(examples.items()):
            rel = f"audio/{key}.wav" if prefix == "." else f"{prefix}/audio/{key}.wav"
            if not (root / rel).is_file():
                skipped.append((rel, "audio file not found"))
                continue
            try:
                fam = str(ex["instrument_family_str"])
                velocity = int(ex["velocity"])
                item = Item(path=rel, split=split or "train", instrument=fam,
                            family=FAMILIES.get(fam, fam), pitch=int(ex["pitch"]),
                            dynamics=velocity_to_dynamics(velocity), velocity=velocity,
                            duration=f"{HELD_SECONDS:.2f}", duration_s=HELD_SECONDS, source="nsynth",
                            extra={"instrument_str": str(ex.get("instrument_str", "")),
                                   "instrument_source_str": str(ex.get("instrument_source_str", "")),
                                   "qualities_str": "|".join(ex.get("qualities_str", []) or [])})
            except (KeyError, TypeError, ValueError) as exc:
                skipped.append((rel, f"bad examples.json entry ({type(exc).__name__}: {exc})"))
                continue
            items.append(item)
            if split is None:
                unsplit.append(item)
    if unsplit:
        assign_splits(unsplit, seed=seed)
    return finish(root, items, skipped, "nsynth")

"""Shared machinery of the corpus builders: resumable rendering, a manifest, a report.

A build renders one file per planned item and skips files already on disk, so
re-running it renders nothing new and an interrupted build resumes where it
stopped (each file is written atomically, so a file that exists is complete).
`build.json` records what the audio was rendered from; re-using a folder with
another SoundFont or sample rate is refused unless `force=True`.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .soundfont import resolve_soundfont, write_wav
from .sources import Located, locate_sources

#: Bump when rendering changes in a way that makes old files stale.
RENDER_VERSION = 2
#: A rendered file whose peak is below this (-80 dBFS) does not really sound.
MIN_PEAK = 1e-4


@dataclass
class BuildReport:
    """What a build did: counts, failures (path, reason), wall-clock seconds."""

    rendered: int = 0
    existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    total_items: int = 0
    missing_sources: list[str] = field(default_factory=list)
    #: sources rendered again because their SoundFont or synthesizer changed
    stale_sources: list[str] = field(default_factory=list)
    #: pitched notes rendered with little energy at their pitch: (path, `quality.harmonic_share`)
    weak_pitch: list[tuple[str, float]] = field(default_factory=list)

    def summary(self, what: str = "notes") -> str:
        again = f" (rendered again: {', '.join(self.stale_sources)})" if self.stale_sources else ""
        weak = f", {len(self.weak_pitch)} without their pitch" if self.weak_pitch else ""
        return (f"{self.total_items} {what} in corpus: {self.rendered} rendered{again}, "
                f"{self.existing} skipped (already on disk), {len(self.failed)} failed{weak}; "
                f"{self.seconds:.1f} s")


def open_sources(sources: Sequence[str] | None, soundfont: str | Path | None, holdout: Sequence[str],
                 report: BuildReport) -> list[Located]:
    """The sample sources a build renders from, checked.

    `sources` None means `soundfont` alone (TimGM6mb when None). Sources not
    installed here go to `report.missing_sources` and the build carries on
    with the rest; an unreadable SoundFont raises `SoundFontError`; no source
    left, or a holdout source that is not among the sources, raises ValueError.
    Every source may be held out (a corpus made only for cross-source evaluation).
    """
    if sources is None:
        sources = ["timgm6mb" if soundfont is None else str(soundfont)]
    located, missing = locate_sources(sources)
    report.missing_sources.extend(missing.values())
    for src in located:
        resolve_soundfont(src.path)
    names = {s.name for s in located}
    stray = sorted(set(holdout) - names - set(missing))
    if stray:
        raise ValueError(f"holdout source(s) {stray} are not among the sources {sorted(names)}")
    if not located:
        raise ValueError("no sample source is available: " + "; ".join(missing.values()))
    return located


def soundfont_id(path: Path) -> dict:
    """What identifies a SoundFont for the manifest (name and size, not the machine's path)."""
    return {"name": path.name, "bytes": path.stat().st_size}


def source_entry(src: Located) -> dict:
    """A source's line in the manifest: its SoundFont, its name and the synthesizer that plays it."""
    return soundfont_id(src.path) | {"source": src.name, "engine": src.engine}


def check_manifest(out: Path, manifest: dict, force: bool = False) -> list[str]:
    """Refuse to mix audio rendered with other settings into `out`; then record `manifest`.

    Only the settings that change the audio are compared (the seed changes
    splits, not files, so it may differ between runs). A source whose own
    entry changed (another file, another synthesizer) is stale: its folder
    `out/audio/<source>` is removed, so the build renders it again, and the
    other sources' files are kept. Entries written before sources named
    their synthesizer were all rendered by TinySoundFont. Returns the stale
    source names.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / "build.json"
    stale: list[str] = []
    if path.is_file() and not force:
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
        keys = [k for k in manifest if k not in ("seed", "sources")]
        changed = [k for k in keys if old.get(k) != manifest[k]]
        if old and changed:
            raise ValueError(
                f"{out} holds a corpus rendered with other settings ({', '.join(changed)}: "
                f"{[old.get(k) for k in changed]} -> {[manifest[k] for k in changed]}); "
                "use another --out folder or --force to re-render")
        before = {e.get("source"): {"engine": "tinysoundfont"} | e for e in old.get("sources", [])}
        stale = [e["source"] for e in manifest.get("sources", [])
                 if e["source"] in before and before[e["source"]] != e]
        for name in stale:
            shutil.rmtree(out / "audio" / name, ignore_errors=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(path)
    return stale


def is_done(path: Path) -> bool:
    """A file from an earlier run: present and larger than a bare wav header."""
    try:
        return path.stat().st_size > 44
    except OSError:
        return False


def render_all(out: Path, jobs: Sequence[tuple[str, Callable[[], np.ndarray]]], sample_rate: int,
               report: BuildReport, force: bool = False, progress: bool = True,
               desc: str = "rendering", after: Callable[[str, np.ndarray], None] | None = None) -> set[str]:
    """Render every `(relative path, render function)` job that is not on disk yet.

    `after(rel_path, audio)` runs after each rendered file (e.g. to write its
    annotations) before the wav itself is written, so a wav on disk implies
    its side files are complete. Returns the relative paths that failed
    (silent output or an exception), which `report.failed` also lists.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    failed: set[str] = set()
    for rel, render in tqdm(jobs, desc=desc, unit="file", disable=not progress, leave=False):
        path = out / rel
        if not force and is_done(path):
            report.existing += 1
            continue
        try:
            audio = render()
        except Exception as exc:  # noqa: BLE001  (one bad note must not stop a corpus build)
            failed.add(rel)
            report.failed.append((rel, f"render error: {type(exc).__name__}: {exc}"))
            continue
        if audio.size == 0 or float(np.max(np.abs(audio))) < MIN_PEAK:
            failed.add(rel)
            report.failed.append((rel, "rendered silence (preset has no sample there?)"))
            continue
        if after is not None:
            after(rel, audio)
        write_wav(path, audio, sample_rate)
        report.rendered += 1
    report.seconds += time.perf_counter() - start
    return failed

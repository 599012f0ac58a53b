"""The `notes` corpus: isolated orchestral notes rendered from a General MIDI SoundFont.

15 instruments (strings, woodwinds, brass, piano) over their real playing
ranges, three dynamics (pp/mf/ff as velocities 30/80/120) and four held
lengths (0.25-1.0 s, then note-off and the release tail). The full grid
(608 pitches x 3 dynamics x 4 lengths = 7,296 notes) is more than note-level
models need, so each (pitch, dynamics) renders two lengths, rotating with the
pitch: every instrument still has every pitch at every dynamics and every
length at every pitch, and the corpus stays at 3,648 notes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

from .build import RENDER_VERSION, BuildReport, check_manifest, render_all, soundfont_id
from .schema import Corpus, Item, write_metadata
from .soundfont import SoundFontRenderer
from .splits import assign_splits


@dataclass(frozen=True)
class Instrument:
    """A General MIDI preset and its playing range (sounding MIDI pitches, inclusive)."""

    name: str
    family: str
    program: int
    low: int
    high: int

    @property
    def pitches(self) -> range:
        return range(self.low, self.high + 1)


#: GM programs are 0-based. Ranges are the instruments' usual sounding ranges
#: (contrabass and tuba stop at C4, where orchestral writing mostly does).
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("piano", "keyboards", 0, 21, 108),
    Instrument("violin", "strings", 40, 55, 100),
    Instrument("viola", "strings", 41, 48, 88),
    Instrument("cello", "strings", 42, 36, 76),
    Instrument("contrabass", "strings", 43, 28, 60),
    Instrument("trumpet", "brass", 56, 54, 84),
    Instrument("trombone", "brass", 57, 40, 72),
    Instrument("tuba", "brass", 58, 28, 60),
    Instrument("french_horn", "brass", 60, 34, 77),
    Instrument("alto_sax", "woodwinds", 65, 49, 81),
    Instrument("oboe", "woodwinds", 68, 58, 91),
    Instrument("english_horn", "woodwinds", 69, 52, 81),
    Instrument("bassoon", "woodwinds", 70, 34, 75),
    Instrument("clarinet", "woodwinds", 71, 50, 91),
    Instrument("flute", "woodwinds", 73, 60, 96),
)
INSTRUMENTS_BY_NAME = {i.name: i for i in INSTRUMENTS}

#: Dynamics classes and the velocities that render them.
DYNAMICS: dict[str, int] = {"pp": 30, "mf": 80, "ff": 120}
#: Held lengths in seconds (each is its own 250 ms duration class).
LENGTHS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
#: Release tails are rendered until silence, but never longer than this.
MAX_RELEASE_S = 2.0


@dataclass(frozen=True)
class NoteSpec:
    """One planned note of the corpus."""

    instrument: Instrument
    pitch: int
    dynamics: str
    velocity: int
    hold_s: float

    @property
    def duration_class(self) -> str:
        """The held length quantised to 250 ms bins, e.g. "0.50"."""
        return f"{max(1, round(self.hold_s / 0.25)) * 0.25:.2f}"

    @property
    def path(self) -> str:
        name = self.instrument.name
        return f"audio/{name}/{name}-{self.pitch:03d}-{self.dynamics}-{self.duration_class}.wav"


def select_instruments(names: Sequence[str] | None) -> list[Instrument]:
    """The instruments called `names` (all of them when None); unknown names raise."""
    if names is None:
        return list(INSTRUMENTS)
    unknown = [n for n in names if n not in INSTRUMENTS_BY_NAME]
    if unknown:
        raise ValueError(f"unknown instrument(s) {unknown}; choose from {sorted(INSTRUMENTS_BY_NAME)}")
    return [INSTRUMENTS_BY_NAME[n] for n in names]


def open_renderer(soundfont: str | Path | None, sample_rate: int,
                  instruments: Sequence[str] | None) -> tuple[SoundFontRenderer, list[Instrument]]:
    """A renderer and the chosen instruments, checked to exist as presets in the SoundFont."""
    renderer = SoundFontRenderer(soundfont, sample_rate)
    chosen = select_instruments(instruments)
    missing = [i.name for i in chosen if not renderer.has_preset(i.program)]
    if missing:
        raise ValueError(f"{renderer.path}: no General MIDI preset for {missing}")
    return renderer, chosen


def plan_notes(instruments: Sequence[Instrument], pitches: Sequence[int] | None = None,
               dynamics: dict[str, int] | None = None, lengths: Sequence[float] = LENGTHS,
               lengths_per_note: int = 2, max_notes: int | None = None) -> list[NoteSpec]:
    """The notes to render, in a fixed order.

    pitches: restrict every instrument to these MIDI pitches (inside its range).
    lengths_per_note: how many of `lengths` each (pitch, dynamics) gets; they
      are spread evenly and rotate with pitch and dynamics, so all lengths
      appear at every pitch once there are enough dynamics.
    max_notes: keep an evenly spaced subset of this size (for quick tests).
    """
    dynamics = DYNAMICS if dynamics is None else dynamics
    k = max(1, min(lengths_per_note, len(lengths)))
    step = len(lengths) / k
    plan: list[NoteSpec] = []
    for inst in instruments:
        inst_pitches = [p for p in inst.pitches if pitches is None or p in set(pitches)]
        for pi, pitch in enumerate(inst_pitches):
            for di, (dyn, vel) in enumerate(dynamics.items()):
                chosen = sorted({(pi + di + int(j * step)) % len(lengths) for j in range(k)})
                plan.extend(NoteSpec(inst, pitch, dyn, vel, lengths[c]) for c in chosen)
    if max_notes is not None and len(plan) > max_notes:
        idx = sorted({round(i * (len(plan) - 1) / max(1, max_notes - 1)) for i in range(max_notes)})
        plan = [plan[i] for i in idx]
    return plan


def note_item(spec: NoteSpec, source: str, preset: str | None) -> Item:
    return Item(path=spec.path, instrument=spec.instrument.name, family=spec.instrument.family,
                pitch=spec.pitch, dynamics=spec.dynamics, velocity=spec.velocity,
                duration=spec.duration_class, duration_s=spec.hold_s, source=source,
                extra={"program": str(spec.instrument.program), "preset": preset or ""})


def build_notes_corpus(out: str | Path, soundfont: str | Path | None = None, sample_rate: int = 22050,
                       seed: int = 0, progress: bool = True, *, instruments: Sequence[str] | None = None,
                       pitches: Sequence[int] | None = None, max_notes: int | None = None,
                       lengths_per_note: int = 2, force: bool = False,
                       report: BuildReport | None = None) -> Corpus:
    """Render the notes corpus into `out` (wavs under `out/audio/`, `out/metadata.csv`).

    Deterministic: the same arguments and seed give byte-identical files and
    metadata. Files already on disk are kept (resume); `force` re-renders all.
    Notes that render silent are left out of the metadata and listed in
    `report.failed`. Raises `SoundFontError` for a missing or unreadable
    SoundFont. Returns the corpus that `metadata.csv` describes.
    """
    out = Path(out)
    report = report if report is not None else BuildReport()
    renderer, chosen = open_renderer(soundfont, sample_rate, instruments)
    check_manifest(out, {"corpus": "notes", "soundfont": soundfont_id(renderer.path),
                         "sample_rate": sample_rate, "render_version": RENDER_VERSION,
                         "max_release_s": MAX_RELEASE_S, "seed": seed}, force=force)
    plan = plan_notes(chosen, pitches=pitches, max_notes=max_notes, lengths_per_note=lengths_per_note)
    jobs = [(s.path, partial(renderer.render_note, s.instrument.program, s.pitch, s.velocity,
                             s.hold_s, MAX_RELEASE_S)) for s in plan]
    failed = render_all(out, jobs, sample_rate, report, force=force, progress=progress, desc="notes")
    source = f"soundfont:{renderer.path.stem}"
    items = [note_item(s, source, renderer.preset_name(s.instrument.program)) for s in plan
             if s.path not in failed]
    assign_splits(items, seed=seed)
    write_metadata(out / "metadata.csv", items)
    report.total_items = len(items)
    return Corpus(out, items, out.name)

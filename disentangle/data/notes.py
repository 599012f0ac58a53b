"""The `notes` corpus: isolated orchestral notes rendered from General MIDI SoundFonts.

The same plan is rendered from every sample source (`sources.py`); optional
General MIDI drums add unpitched percussion.

15 instruments (strings, woodwinds, brass, piano) over their real playing
ranges, three dynamics (pp/mf/ff as velocities 30/80/120) and four held
lengths (0.25-1.0 s, then note-off and the release tail). The full grid
(608 pitches x 3 dynamics x 4 lengths = 7,296 notes) is more than note-level
models need, so each (pitch, dynamics) renders a few lengths, rotating with
the pitch: with two, every instrument still has every length at every pitch
and one source gives 3,648 notes; the default multi-source corpus renders
one length per (pitch, dynamics) and source (1,824 notes a source), so
across sources every length still appears at every pitch.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .build import RENDER_VERSION, BuildReport, check_manifest, open_sources, render_all, source_entry
from .quality import WEAK_SHARE, harmonic_share
from .schema import Corpus, Item, write_metadata
from .soundfont import SoundFontRenderer
from .splits import split_by_source


@dataclass(frozen=True)
class Instrument:
    """A General MIDI preset and its playing range (sounding MIDI pitches, inclusive).

    A drum of the GM percussion kit is bank 128, preset 0, with `low == high`
    its key; its items have no pitch label.
    """

    name: str
    family: str
    program: int
    low: int
    high: int
    bank: int = 0

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

#: Unpitched percussion (Tanaka et al. 2022 train on pitched and unpitched
#: notes): General MIDI drum-kit keys, one instrument each.
PERCUSSION: tuple[Instrument, ...] = tuple(
    Instrument(name, "percussion", 0, key, key, bank=128) for name, key in (
        ("bass_drum", 36), ("snare", 38), ("hand_clap", 39), ("closed_hihat", 42), ("low_tom", 45),
        ("open_hihat", 46), ("crash_cymbal", 49), ("high_tom", 50), ("ride_cymbal", 51),
        ("tambourine", 54), ("cowbell", 56), ("claves", 75)))

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


def plan_notes(instruments: Sequence[Instrument], pitches: Sequence[int] | None = None,
               dynamics: dict[str, int] | None = None, lengths: Sequence[float] = LENGTHS,
               lengths_per_note: int = 2, max_notes: int | None = None, rotate: int = 0) -> list[NoteSpec]:
    """The notes to render, in a fixed order.

    pitches: restrict every instrument to these MIDI pitches (inside its range).
    lengths_per_note: how many of `lengths` each (pitch, dynamics) gets; they
      are spread evenly and rotate with pitch and dynamics, so all lengths
      appear at every pitch once there are enough dynamics.
    max_notes: keep an evenly spaced subset of this size (for quick tests).
    rotate: shift the rotation of lengths (sources of one corpus use 0, 1, ...
      so that together they hold every length at every pitch and dynamics).
    """
    dynamics = DYNAMICS if dynamics is None else dynamics
    k = max(1, min(lengths_per_note, len(lengths)))
    step = len(lengths) / k
    plan: list[NoteSpec] = []
    for inst in instruments:
        inst_pitches = [p for p in inst.pitches if pitches is None or p in set(pitches)]
        for pi, pitch in enumerate(inst_pitches):
            for di, (dyn, vel) in enumerate(dynamics.items()):
                chosen = sorted({(pi + di + rotate + int(j * step)) % len(lengths) for j in range(k)})
                plan.extend(NoteSpec(inst, pitch, dyn, vel, lengths[c]) for c in chosen)
    return evenly_spaced(plan, max_notes)


def evenly_spaced(plan: list[NoteSpec], n: int | None) -> list[NoteSpec]:
    """An evenly spaced subset of `plan` of size `n` (first and last kept; all of it when None or short)."""
    if n is None or len(plan) <= n:
        return plan
    idx = sorted({round(i * (len(plan) - 1) / max(1, n - 1)) for i in range(n)})
    return [plan[i] for i in idx]


def note_item(spec: NoteSpec, source: str, preset: str | None) -> Item:
    return Item(path=f"audio/{source}/{spec.path[len('audio/'):]}", instrument=spec.instrument.name,
                family=spec.instrument.family, pitch=spec.pitch if spec.instrument.bank == 0 else -1,
                dynamics=spec.dynamics, velocity=spec.velocity, duration=spec.duration_class,
                duration_s=spec.hold_s, source=source,
                extra={"program": str(spec.instrument.program if spec.instrument.bank == 0 else spec.pitch),
                       "preset": preset or ""})


def plan_percussion(lengths: Sequence[float] = LENGTHS, max_notes: int | None = None) -> list[NoteSpec]:
    """Every drum of `PERCUSSION` at every dynamics and held length (pitch: the drum's key).

    max_notes: an evenly spaced subset of this size; the plan runs drum by drum,
    so a subset of at least `len(PERCUSSION)` notes still has every drum.
    """
    return evenly_spaced([NoteSpec(drum, drum.low, dyn, vel, hold) for drum in PERCUSSION
                          for dyn, vel in DYNAMICS.items() for hold in lengths], max_notes)


def build_notes_corpus(out: str | Path, soundfont: str | Path | None = None, sample_rate: int = 22050,
                       seed: int = 0, progress: bool = True, *, sources: Sequence[str] | None = None,
                       holdout: Sequence[str] = (), percussion: bool = False,
                       instruments: Sequence[str] | None = None, pitches: Sequence[int] | None = None,
                       max_notes: int | None = None, max_percussion: int | None = None,
                       lengths_per_note: int = 2, force: bool = False,
                       report: BuildReport | None = None) -> Corpus:
    """Render the notes corpus into `out` (wavs under `out/audio/<source>/`, `out/metadata.csv`).

    sources: sample source names or SoundFont paths (see `sources.SOURCES`);
      default: `soundfont` alone (TimGM6mb when that is None too). Sources not
      installed here are reported in `report.missing_sources` and skipped.
    holdout: sources whose items all go to the split "unseen" (cross-source
      evaluation); the others are split train/valid/test within every
      (instrument, source).
    percussion: add the General MIDI drums of `PERCUSSION` (pitch unknown,
      family "percussion") from every source.
    max_notes, max_percussion: per source, an evenly spaced subset of the
      pitched plan / of the drums (a first part of a corpus, quick tests);
      either is a subset of what the same call without it renders.
    Deterministic: the same arguments and seed give byte-identical files and
    metadata. Files already on disk are kept (resume); `force` re-renders all.
    Notes that render silent are left out and listed in `report.failed`; pitched
    notes rendered without energy at their pitch are kept and listed in
    `report.weak_pitch` (`quality.harmonic_share`).
    Raises `SoundFontError` for an unreadable SoundFont and ValueError when no
    source is available. Returns the corpus that `metadata.csv` describes.
    """
    out = Path(out)
    report = report if report is not None else BuildReport()
    located = open_sources(sources, soundfont, holdout, report)
    chosen = select_instruments(instruments)
    report.stale_sources += check_manifest(out, {"corpus": "notes", "sources": [source_entry(s)
                                                        for s in located],
                         "holdout": sorted(holdout), "sample_rate": sample_rate, "render_version": RENDER_VERSION,
                         "max_release_s": MAX_RELEASE_S, "seed": seed}, force=force)
    items: list[Item] = []
    for j, src in enumerate(located):
        renderer = SoundFontRenderer(src.path, sample_rate, engine=src.engine)
        plan = plan_notes(chosen, pitches=pitches, max_notes=max_notes, lengths_per_note=lengths_per_note,
                          rotate=j)
        if percussion:
            plan += plan_percussion(max_notes=max_percussion)
        usable = [s for s in plan if renderer.has_preset(s.instrument.program, s.instrument.bank)]
        for s in sorted({s.instrument.name for s in plan} - {s.instrument.name for s in usable}):
            report.failed.append((f"{src.name}/{s}", "no such preset in this SoundFont"))
        specs = {note_item(s, src.name, None).path: s for s in usable}
        jobs = [(rel, partial(renderer.render_note, s.instrument.program, s.pitch, s.velocity,
                              s.hold_s, MAX_RELEASE_S, s.instrument.bank)) for rel, s in specs.items()]

        def check_pitch(rel: str, audio: np.ndarray, specs: dict[str, NoteSpec] = specs) -> None:
            spec = specs[rel]
            if spec.instrument.bank == 0 and (share := harmonic_share(audio, sample_rate, spec.pitch)) < WEAK_SHARE:
                report.weak_pitch.append((rel, round(share, 3)))

        failed = render_all(out, jobs, sample_rate, report, force=force, progress=progress,
                            desc=f"notes {src.name}", after=check_pitch)
        items += [note_item(s, src.name, renderer.preset_name(s.instrument.program, s.instrument.bank))
                  for rel, s in specs.items() if rel not in failed]
    split_by_source(items, holdout, seed)
    write_metadata(out / "metadata.csv", items)
    report.total_items = len(items)
    return Corpus(out, items, out.name)

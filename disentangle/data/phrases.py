"""The `phrases` corpus: 4 s monophonic phrases with frame-level annotations.

Each phrase is one instrument of the notes corpus playing a random melody: a
pitch walk (mostly steps, some leaps) inside the instrument's range, notes of
0.15-1 s joined legato (overlapping), by a pitch-bend glide (steps of up to 2
semitones), or detached (a gap, sometimes a rest); vibrato as a pitch-bend LFO
on about 60 % of the non-piano phrases; an expression curve (CC 11: flat,
crescendo, decrescendo, swell or dip) around the phrase's dynamics level.

Beside each `<name>.wav` a `<name>.npz` holds, per frame of `hop_length`
samples (frame i is centred on sample i * hop_length):
  pitch (float MIDI incl. bend and vibrato, 0 where no note is held),
  note (int MIDI without bend, 0 silent), voiced (bool), velocity (int),
  expression (CC 11 value), loudness (dB RMS of the rendered audio over
  n_fft samples), onset (bool), and
  notes (K, 5): onset s, offset s, MIDI pitch, velocity, articulation of the
  join into the note (0 first/detached, 1 legato, 2 glide),
  plus scalars sample_rate, hop_length, n_fft, frame_rate.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .build import RENDER_VERSION, BuildReport, check_manifest, open_sources, render_all, source_entry
from .notes import INSTRUMENTS, Instrument, select_instruments
from .schema import Corpus, Item, write_metadata
from .soundfont import Event, SoundFontRenderer, frame_rms
from .splits import split_by_source

#: Expression (CC 11) level each dynamics class is drawn around, and its velocity.
LEVELS: dict[str, tuple[float, int]] = {"pp": (45.0, 40), "mf": (85.0, 80), "ff": (118.0, 115)}
#: Mean-expression thresholds between pp|mf and mf|ff (the label is read back from the curve).
THRESHOLDS = (65.0, 102.0)
NOTE_LENGTHS = np.array([0.15, 0.25, 0.35, 0.5, 0.75, 1.0])
NOTE_WEIGHTS = np.array([0.12, 0.22, 0.2, 0.22, 0.14, 0.1])
INTERVALS = np.arange(-7, 8)
#: Steps are likelier than leaps; repeated notes are rare.
INTERVAL_WEIGHTS = np.array([1, 1, 2, 3, 4, 8, 9, 1.5, 9, 8, 4, 3, 2, 1, 1], float)
ARTICULATION = {"detached": 0, "legato": 1, "glide": 2}


@dataclass(frozen=True)
class PhraseConfig:
    """Shape of the phrases and of their annotations."""

    duration_s: float = 4.0
    hop_length: int = 256
    n_fft: int = 1024
    #: Control curves (bend, expression) are updated every this many samples.
    block: int = 64
    vibrato_prob: float = 0.6


@dataclass
class PhrasePlan:
    """A phrase before rendering: its notes, curves and labels."""

    instrument: Instrument
    index: int
    dynamics: str
    notes: np.ndarray          # (K, 5): onset, offset, pitch, velocity, articulation
    expression: np.ndarray     # (n_blocks,) CC 11 per control block
    bend: np.ndarray           # (n_blocks,) semitones per control block
    vibrato: bool

    @property
    def stem(self) -> str:
        return f"audio/{self.instrument.name}/{self.instrument.name}-{self.index:04d}"


def expression_label(mean_expression: float) -> str:
    """pp / mf / ff from a phrase's mean CC 11 value (see `THRESHOLDS`)."""
    lo, hi = THRESHOLDS
    return "pp" if mean_expression < lo else "mf" if mean_expression < hi else "ff"


def _expression_curve(rng: np.random.Generator, level: float, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    depth = rng.uniform(8.0, 20.0)
    shape = rng.choice(["flat", "crescendo", "decrescendo", "swell", "dip"])
    curve = {"flat": np.zeros(n), "crescendo": 2 * t - 1, "decrescendo": 1 - 2 * t,
             "swell": np.sin(np.pi * t) * 2 - 1.27, "dip": 1.27 - np.sin(np.pi * t) * 2}[str(shape)]
    return np.clip(level + depth * curve / 2 + rng.normal(0, 1.5), 10.0, 127.0)


def _melody(rng: np.random.Generator, inst: Instrument, level_velocity: int, cfg: PhraseConfig,
            allow_glide: bool) -> np.ndarray:
    """Notes (K, 5) of one phrase; the last note is released before the phrase ends."""
    end = cfg.duration_s - 0.3
    lo, hi = inst.low, max(inst.low, inst.high - 2)
    pitch = int(rng.integers(lo + (hi - lo) // 4, hi - (hi - lo) // 4 + 1))
    t = float(rng.uniform(0.05, 0.2))
    notes: list[list[float]] = []
    join = ARTICULATION["detached"]
    while t < end - 0.1:
        length = min(float(rng.choice(NOTE_LENGTHS, p=NOTE_WEIGHTS / NOTE_WEIGHTS.sum())), end - t)
        velocity = int(np.clip(level_velocity + rng.integers(-8, 9), 1, 127))
        notes.append([t, t + length, pitch, velocity, join])
        step = int(rng.choice(INTERVALS, p=INTERVAL_WEIGHTS / INTERVAL_WEIGHTS.sum()))
        nxt = pitch + step
        if nxt < lo or nxt > hi:
            nxt = pitch - step
        nxt = int(np.clip(nxt, lo, hi))
        r = rng.random()
        if allow_glide and abs(nxt - pitch) in (1, 2) and r < 0.25:
            join, start = ARTICULATION["glide"], t + length
        elif r < 0.6 and nxt != pitch:
            # Legato: the next note starts before this one is released (a
            # repeated key cannot overlap itself, so repeats are detached).
            join, start = ARTICULATION["legato"], t + length - 0.03
        else:
            gap = rng.uniform(0.3, 0.6) if rng.random() < 0.2 else rng.uniform(0.05, 0.2)
            join, start = ARTICULATION["detached"], t + length + gap
        pitch, t = nxt, start
    return np.array(notes, dtype=np.float64).reshape(-1, 5)


def _bend_curve(rng: np.random.Generator, notes: np.ndarray, n_blocks: int, block_s: float,
                vibrato: bool) -> np.ndarray:
    """Pitch bend in semitones per control block: glides into notes plus vibrato."""
    t = np.arange(n_blocks) * block_s
    bend = np.zeros(n_blocks)
    rate, depth = rng.uniform(4.5, 6.5), rng.uniform(0.15, 0.4)
    for k, (on, off, pitch, _vel, join) in enumerate(notes):
        inside = (t >= on) & (t < off)
        if join == ARTICULATION["glide"] and k > 0:
            # Start bent to the previous pitch and slide to the new one.
            glide = rng.uniform(0.06, 0.12)
            frac = np.clip((t - on) / glide, 0.0, 1.0)
            bend[inside] += ((notes[k - 1, 2] - pitch) * (1.0 - frac))[inside]
        if vibrato:
            # Vibrato fades in after the attack, as players do.
            ramp = np.clip((t - on - 0.15) / 0.2, 0.0, 1.0)
            bend[inside] += (depth * ramp * np.sin(2 * np.pi * rate * (t - on)))[inside]
    return np.clip(bend, -1.99, 1.99)


def plan_phrase(inst: Instrument, index: int, seed: int, sample_rate: int = 22050,
                cfg: PhraseConfig = PhraseConfig()) -> PhrasePlan:
    """Plan phrase `index` of `inst`; depends only on (seed, instrument program, index, rate)."""
    rng = np.random.default_rng([seed, inst.program, index])
    # Cycle the target level so every instrument gets all three classes evenly.
    level, velocity = LEVELS[("pp", "mf", "ff")[index % 3]]
    keyboards = inst.family == "keyboards"
    notes = _melody(rng, inst, velocity, cfg, allow_glide=not keyboards)
    vibrato = bool((not keyboards) and rng.random() < cfg.vibrato_prob)
    n_blocks = -(-round(cfg.duration_s * sample_rate) // cfg.block)
    expression = _expression_curve(rng, level, n_blocks)
    bend = _bend_curve(rng, notes, n_blocks, cfg.block / sample_rate, vibrato)
    return PhrasePlan(inst, index, expression_label(float(expression.mean())), notes,
                      expression, bend, vibrato)


def phrase_events(plan: PhrasePlan) -> list[Event]:
    """Note-on/off events of a plan (bend and expression are control curves)."""
    events: list[Event] = []
    for on, off, pitch, velocity, _join in plan.notes:
        events.append(Event(float(on), "on", int(pitch), float(velocity)))
        events.append(Event(float(off), "off", int(pitch)))
    return events


def render_phrase(renderer: SoundFontRenderer, plan: PhrasePlan, cfg: PhraseConfig = PhraseConfig()) -> np.ndarray:
    """Render a plan. Returns: (round(duration_s * sample_rate),) float32."""
    control = [("bend", 0, plan.bend), ("cc", 11, plan.expression)]
    return renderer.render_events(plan.instrument.program, phrase_events(plan), cfg.duration_s,
                                  control=control, block=cfg.block)


def phrase_annotations(plan: PhrasePlan, sample_rate: int, cfg: PhraseConfig = PhraseConfig(),
                       audio: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Frame-level annotations of a plan (see the module docstring for the keys).

    Frames: 1 + n_samples // hop_length, frame i at time i * hop_length / sample_rate.
    `loudness` (dB) is measured on `audio` when given, else left out.
    """
    n_samples = round(cfg.duration_s * sample_rate)
    n_frames = 1 + n_samples // cfg.hop_length
    t = np.arange(n_frames) * cfg.hop_length / sample_rate
    block_i = np.minimum((t * sample_rate / cfg.block).astype(int), len(plan.bend) - 1)
    note = np.zeros(n_frames, np.int16)
    velocity = np.zeros(n_frames, np.int16)
    onset = np.zeros(n_frames, bool)
    # Later notes overwrite earlier ones, so in a legato overlap the new note counts.
    for on, off, pitch, vel, _join in plan.notes:
        inside = (t >= on) & (t < off)
        note[inside], velocity[inside] = int(pitch), int(vel)
        onset[min(n_frames - 1, round(on * sample_rate / cfg.hop_length))] = True
    voiced = note > 0
    pitch = np.where(voiced, note + plan.bend[block_i], 0.0).astype(np.float32)
    out = {"pitch": pitch, "note": note, "voiced": voiced, "velocity": velocity,
           "expression": plan.expression[block_i].astype(np.float32), "onset": onset,
           "notes": plan.notes.astype(np.float32), "sample_rate": np.int32(sample_rate),
           "hop_length": np.int32(cfg.hop_length), "n_fft": np.int32(cfg.n_fft),
           "frame_rate": np.float32(sample_rate / cfg.hop_length)}
    if audio is not None:
        out["loudness"] = frame_loudness(audio, cfg.n_fft, cfg.hop_length)[:n_frames]
    return out


def frame_loudness(audio: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """dB RMS per frame (floor -100 dB). (N,) -> (1 + N // hop_length,) float32."""
    return (20 * np.log10(np.maximum(frame_rms(audio, n_fft, hop_length), 1e-5))).astype(np.float32)


def load_annotations(path: str | Path) -> dict[str, np.ndarray]:
    """Read a phrase's `.npz` annotations into a dict of arrays."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def phrase_item(plan: PhrasePlan, rel: str, source: str, preset: str | None, sample_rate: int,
                cfg: PhraseConfig = PhraseConfig()) -> Item:
    """The item of a rendered phrase at `rel` (its .wav path; annotations beside it)."""
    ann = phrase_annotations(plan, sample_rate, cfg)
    voiced = ann["note"][ann["voiced"]]
    return Item(path=rel, instrument=plan.instrument.name, family=plan.instrument.family,
                pitch=int(np.round(np.median(voiced))) if voiced.size else -1, dynamics=plan.dynamics,
                velocity=int(np.median(plan.notes[:, 3])) if len(plan.notes) else -1,
                duration=f"{cfg.duration_s:.2f}", duration_s=cfg.duration_s, source=source,
                extra={"annotations": rel[: -len(".wav")] + ".npz", "program": str(plan.instrument.program),
                       "preset": preset or "", "n_notes": str(len(plan.notes)),
                       "vibrato": str(int(plan.vibrato)),
                       "expression_mean": f"{float(plan.expression.mean()):.1f}"})


def build_phrases_corpus(out: str | Path, soundfont: str | Path | None = None, sample_rate: int = 22050,
                         seed: int = 0, progress: bool = True, *, sources: Sequence[str] | None = None,
                         holdout: Sequence[str] = (), instruments: Sequence[str] | None = None,
                         per_instrument: int = 100, force: bool = False, report: BuildReport | None = None,
                         config: PhraseConfig = PhraseConfig()) -> Corpus:
    """Render `per_instrument` phrases of each instrument from each source into `out`, with annotations.

    sources / holdout: as `build_notes_corpus` (held-out sources go to the
    split "unseen"). Every source plays its own melodies (phrase indices
    continue across sources), so no melody is shared between a training and
    a held-out source. Deterministic for a seed (the seed picks the melodies,
    so unlike the notes corpus it is part of what `build.json` checks).
    Resumes like the notes builder. Returns the corpus that
    `out/metadata.csv` describes.
    """
    out = Path(out)
    report = report if report is not None else BuildReport()
    located = open_sources(sources, soundfont, holdout, report)
    chosen = select_instruments(instruments)
    report.stale_sources += check_manifest(out, {"corpus": "phrases", "sources": [source_entry(s)
                                                          for s in located],
                         "holdout": sorted(holdout), "sample_rate": sample_rate, "render_version": RENDER_VERSION,
                         "melody_seed": seed, "phrase_config": repr(config), "seed": seed}, force=force)
    items: list[Item] = []
    for j, src in enumerate(located):
        renderer = SoundFontRenderer(src.path, sample_rate, engine=src.engine)
        plans = {f"audio/{src.name}/{p.stem[len('audio/'):]}.wav": p for inst in chosen
                 if renderer.has_preset(inst.program) for p in
                 (plan_phrase(inst, j * per_instrument + k, seed, sample_rate, config)
                  for k in range(per_instrument))}

        def save_annotations(rel: str, audio: np.ndarray, plans: dict[str, PhrasePlan] = plans) -> None:
            ann = phrase_annotations(plans[rel], sample_rate, config, audio)
            path = out / rel
            tmp = path.with_name(path.stem + ".part.npz")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(tmp, **ann)  # type: ignore[arg-type]  # numpy's stub lets **kwds fill allow_pickle
            tmp.replace(path.with_suffix(".npz"))

        jobs = [(rel, (lambda p=p, r=renderer: render_phrase(r, p, config))) for rel, p in plans.items()]
        failed = render_all(out, jobs, sample_rate, report, force=force, progress=progress,
                            desc=f"phrases {src.name}", after=save_annotations)
        items += [phrase_item(p, rel, src.name, renderer.preset_name(p.instrument.program), sample_rate,
                              config) for rel, p in plans.items() if rel not in failed]
    split_by_source(items, holdout, seed)
    write_metadata(out / "metadata.csv", items)
    report.total_items = len(items)
    return Corpus(out, items, out.name)


__all__ = ["INSTRUMENTS", "PhraseConfig", "PhrasePlan", "build_phrases_corpus", "load_annotations",
           "phrase_annotations", "plan_phrase", "render_phrase"]

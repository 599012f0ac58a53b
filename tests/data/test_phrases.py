"""The phrases corpus: plans, annotations that match the audio, a tiny build, resume."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from disentangle.data.build import BuildReport
from disentangle.data.notes import INSTRUMENTS_BY_NAME
from disentangle.data.phrases import (
    ARTICULATION,
    PhraseConfig,
    build_phrases_corpus,
    expression_label,
    load_annotations,
    phrase_annotations,
    plan_phrase,
    render_phrase,
)
from disentangle.data.soundfont import SoundFontRenderer

SR = 22050
CFG = PhraseConfig()


@pytest.fixture(scope="module")
def renderer() -> SoundFontRenderer:
    return SoundFontRenderer(None, SR)


def test_plans_are_deterministic_per_seed():
    violin = INSTRUMENTS_BY_NAME["violin"]
    a, b, c = plan_phrase(violin, 7, seed=1), plan_phrase(violin, 7, seed=1), plan_phrase(violin, 7, seed=2)
    assert np.array_equal(a.notes, b.notes) and np.array_equal(a.bend, b.bend)
    assert not np.array_equal(a.notes, c.notes)


@pytest.mark.parametrize("name", ["violin", "piano", "tuba", "flute"])
def test_plan_shapes_and_ranges(name):
    inst = INSTRUMENTS_BY_NAME[name]
    for index in range(12):
        plan = plan_phrase(inst, index, seed=0)
        notes = plan.notes
        assert notes.shape[1] == 5 and len(notes) >= 2
        assert np.all(notes[:, 0] >= 0) and np.all(notes[:, 1] <= CFG.duration_s)
        assert np.all(notes[:, 1] > notes[:, 0])
        assert np.all((notes[:, 2] >= inst.low) & (notes[:, 2] <= inst.high))
        assert plan.dynamics == expression_label(float(plan.expression.mean()))
        assert np.all(np.abs(plan.bend) < 2.0)
        if inst.family == "keyboards":
            assert not plan.vibrato and not np.any(notes[:, 4] == ARTICULATION["glide"])


def test_corpus_mixes_articulations_and_vibrato():
    inst = INSTRUMENTS_BY_NAME["clarinet"]
    plans = [plan_phrase(inst, k, seed=0) for k in range(30)]
    joins = np.concatenate([p.notes[1:, 4] for p in plans])
    assert set(joins.astype(int)) == set(ARTICULATION.values())
    assert 0 < sum(p.vibrato for p in plans) < 30
    assert {p.dynamics for p in plans} == {"pp", "mf", "ff"}


def test_annotations_are_consistent(renderer):
    plan = plan_phrase(INSTRUMENTS_BY_NAME["oboe"], 4, seed=0)
    audio = render_phrase(renderer, plan)
    assert audio.shape == (round(CFG.duration_s * SR),)
    ann = phrase_annotations(plan, SR, CFG, audio)
    n_frames = 1 + len(audio) // CFG.hop_length
    for key in ("pitch", "note", "voiced", "velocity", "expression", "onset", "loudness"):
        assert ann[key].shape == (n_frames,), key
    assert float(ann["frame_rate"]) == pytest.approx(SR / CFG.hop_length)
    voiced = ann["voiced"]
    assert np.all(ann["pitch"][~voiced] == 0) and np.all(ann["note"][~voiced] == 0)
    assert np.all(np.abs(ann["pitch"][voiced] - ann["note"][voiced]) < 2.0)
    assert ann["onset"].sum() == len(plan.notes)
    assert np.all((ann["expression"] >= 0) & (ann["expression"] <= 127))
    # Sounding frames are far louder than the silence before the first note.
    first = int(plan.notes[0, 0] * SR / CFG.hop_length)
    assert np.median(ann["loudness"][voiced]) > ann["loudness"][:max(1, first - 2)].max() + 20


def test_louder_classes_are_louder(renderer):
    inst = INSTRUMENTS_BY_NAME["trumpet"]
    level = {}
    for index in range(9):
        plan = plan_phrase(inst, index, seed=0)
        ann = phrase_annotations(plan, SR, CFG, render_phrase(renderer, plan))
        level.setdefault(plan.dynamics, []).append(np.median(ann["loudness"][ann["voiced"]]))
    assert np.mean(level["pp"]) + 6 < np.mean(level["mf"]) < np.mean(level["ff"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["violin", "flute", "bassoon"])
def test_annotated_pitch_matches_pyin(renderer, name):
    import librosa

    plan = plan_phrase(INSTRUMENTS_BY_NAME[name], 1, seed=0)
    audio = render_phrase(renderer, plan)
    ann = phrase_annotations(plan, SR, CFG)
    f0, voiced, _ = librosa.pyin(audio, fmin=40, fmax=2000, sr=SR, frame_length=2048,
                                 hop_length=CFG.hop_length)
    both = ann["voiced"] & voiced[: len(ann["voiced"])]
    assert both.sum() > 0.6 * ann["voiced"].sum()
    error = np.abs(librosa.hz_to_midi(f0[: len(both)][both]) - ann["pitch"][both])
    assert np.mean(error < 1.0) > 0.9


def test_tiny_build_resume_and_metadata(tmp_path):
    report = BuildReport()
    corpus = build_phrases_corpus(tmp_path, instruments=["flute", "cello"], per_instrument=4,
                                  progress=False, report=report)
    assert len(corpus) == 8 == report.rendered
    for item in corpus.items:
        assert item.duration == "4.00" and item.dynamics in ("pp", "mf", "ff")
        info = sf.info(str(corpus.audio_path(item)))
        assert info.subtype == "PCM_16" and info.frames == 4 * SR
        ann = load_annotations(tmp_path / item.extra["annotations"])
        assert int(ann["sample_rate"]) == SR and ann["loudness"].shape == ann["pitch"].shape
        voiced_notes = ann["note"][ann["voiced"]]
        assert item.pitch == int(np.round(np.median(voiced_notes)))
    again = BuildReport()
    build_phrases_corpus(tmp_path, instruments=["flute", "cello"], per_instrument=4, progress=False,
                         report=again)
    assert again.rendered == 0 and again.existing == 8
    with pytest.raises(ValueError, match="melody_seed"):
        build_phrases_corpus(tmp_path, instruments=["flute"], per_instrument=1, seed=5, progress=False)


def test_same_seed_same_phrase_files(tmp_path):
    kwargs = {"instruments": ["viola"], "per_instrument": 2, "progress": False}
    a = build_phrases_corpus(tmp_path / "a", **kwargs)
    build_phrases_corpus(tmp_path / "b", **kwargs)
    for item in a.items:
        assert (tmp_path / "a" / item.path).read_bytes() == (tmp_path / "b" / item.path).read_bytes()
    assert (tmp_path / "a" / "metadata.csv").read_bytes() == (tmp_path / "b" / "metadata.csv").read_bytes()

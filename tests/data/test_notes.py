"""The notes corpus: plan coverage, a tiny render, determinism, resume, errors."""
from __future__ import annotations

import collections

import numpy as np
import pytest
import soundfile as sf

from disentangle.data.build import BuildReport
from disentangle.data.notes import DYNAMICS, INSTRUMENTS, LENGTHS, build_notes_corpus, plan_notes
from disentangle.data.schema import COLUMNS, load_corpus
from disentangle.data.soundfont import SoundFontError

TINY = {"instruments": ["violin", "flute"], "pitches": [60, 67, 72], "progress": False}


def test_default_plan_covers_every_class_and_stays_small():
    plan = plan_notes(INSTRUMENTS)
    assert 2500 <= len(plan) <= 4000
    assert len({s.instrument.family for s in plan}) == 4
    assert len(INSTRUMENTS) >= 12
    lengths_at = collections.defaultdict(set)
    dyn_at = collections.defaultdict(set)
    for s in plan:
        assert s.instrument.low <= s.pitch <= s.instrument.high
        lengths_at[(s.instrument.name, s.pitch)].add(s.hold_s)
        dyn_at[(s.instrument.name, s.pitch)].add(s.dynamics)
    for inst in INSTRUMENTS:
        for pitch in inst.pitches:
            assert lengths_at[(inst.name, pitch)] == set(LENGTHS)
            assert dyn_at[(inst.name, pitch)] == set(DYNAMICS)
    assert len({s.path for s in plan}) == len(plan)


def test_max_notes_subsamples_evenly():
    plan = plan_notes(INSTRUMENTS, max_notes=30)
    assert len(plan) == 30
    assert {s.instrument.name for s in plan} >= {"piano", "flute"}


def test_tiny_build_writes_wavs_and_metadata(tmp_path):
    report = BuildReport()
    corpus = build_notes_corpus(tmp_path / "c", report=report, **TINY)
    assert len(corpus) == 2 * 3 * 3 * 2 == report.rendered == report.total_items
    header = (tmp_path / "c" / "metadata.csv").read_text().splitlines()[0].split(",")
    assert list(COLUMNS) == header[: len(COLUMNS)] and "program" in header
    loaded = load_corpus(tmp_path / "c")
    assert [i.path for i in loaded.items] == [i.path for i in corpus.items]
    for item in loaded.items:
        info = sf.info(str(loaded.audio_path(item)))
        assert info.samplerate == 22050 and info.subtype == "PCM_16" and info.channels == 1
        assert info.duration > item.duration_s
        assert item.duration == f"{item.duration_s:.2f}"
        assert item.velocity == DYNAMICS[item.dynamics]
        assert item.family in ("strings", "woodwinds") and item.source == "timgm6mb"
    for name in ("violin", "flute"):
        splits = collections.Counter(i.split for i in loaded.items if i.instrument == name)
        assert set(splits) == {"train", "valid", "test"} and splits["train"] > splits["test"]
    assert set(loaded.classes("duration")) == {"0.25", "0.50", "0.75", "1.00"}


def test_dynamics_differ_in_level(tmp_path):
    corpus = build_notes_corpus(tmp_path, instruments=["violin"], pitches=[69], progress=False)
    level = {}
    for item in corpus.items:
        audio, _ = sf.read(str(corpus.audio_path(item)))
        level.setdefault(item.dynamics, []).append(np.sqrt(np.mean(audio[:5000] ** 2)))
    pp, mf, ff = (np.mean(level[d]) for d in ("pp", "mf", "ff"))
    assert pp * 1.5 < mf and mf * 1.2 < ff


def test_same_seed_same_bytes_other_seed_other_splits(tmp_path):
    a = build_notes_corpus(tmp_path / "a", seed=3, **TINY)
    build_notes_corpus(tmp_path / "b", seed=3, **TINY)
    c = build_notes_corpus(tmp_path / "c", seed=4, **TINY)
    meta = lambda d: (tmp_path / d / "metadata.csv").read_bytes()
    assert meta("a") == meta("b") and meta("a") != meta("c")
    for item in a.items:
        assert (tmp_path / "a" / item.path).read_bytes() == (tmp_path / "b" / item.path).read_bytes()
        assert (tmp_path / "a" / item.path).read_bytes() == (tmp_path / "c" / item.path).read_bytes()
    assert [i.split for i in a.items] != [i.split for i in c.items]


def test_rerun_renders_nothing_and_resume_fills_gaps(tmp_path):
    first = build_notes_corpus(tmp_path, **TINY)
    again = BuildReport()
    build_notes_corpus(tmp_path, report=again, **TINY)
    assert again.rendered == 0 and again.existing == len(first)
    # An interrupted build: one file missing, one half-written temp file left behind.
    victim = tmp_path / first.items[5].path
    expected = victim.read_bytes()
    victim.unlink()
    victim.with_name(victim.name + ".part").write_bytes(b"RIFF")
    resumed = BuildReport()
    build_notes_corpus(tmp_path, report=resumed, **TINY)
    assert resumed.rendered == 1 and resumed.existing == len(first) - 1
    assert victim.read_bytes() == expected


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    build_notes_corpus(tmp_path, max_notes=4, **TINY)
    with pytest.raises(ValueError, match="sample_rate"):
        build_notes_corpus(tmp_path, sample_rate=16000, max_notes=4, **TINY)
    report = BuildReport()
    corpus = build_notes_corpus(tmp_path, sample_rate=16000, max_notes=4, force=True, report=report, **TINY)
    assert report.rendered == 4
    assert sf.info(str(corpus.audio_path(corpus.items[0]))).samplerate == 16000


def test_bad_soundfont_and_instrument_errors(tmp_path):
    with pytest.raises(SoundFontError, match="missing.sf2"):
        build_notes_corpus(tmp_path / "x", soundfont=tmp_path / "missing.sf2", **TINY)
    with pytest.raises(ValueError, match="kazoo"):
        build_notes_corpus(tmp_path / "x", instruments=["kazoo"], progress=False)


def test_any_soundfont_path_works(tmp_path):
    from disentangle.data.soundfont import default_soundfont

    copy = tmp_path / "MyFont.sf2"
    copy.write_bytes(default_soundfont().read_bytes())
    corpus = build_notes_corpus(tmp_path / "out", soundfont=copy, max_notes=3, **TINY)
    assert len(corpus) == 3 and corpus.items[0].source == "myfont"
    assert corpus.items[0].path.startswith("audio/myfont/")


def test_sources_rotate_lengths_and_split_within_instrument_and_source(tmp_path):
    from disentangle.data.soundfont import default_soundfont

    twin = tmp_path / "Twin.sf2"
    twin.write_bytes(default_soundfont().read_bytes())
    corpus = build_notes_corpus(tmp_path / "c", sources=["timgm6mb", str(twin)], lengths_per_note=1,
                                instruments=["violin", "flute"], pitches=[60, 67, 72, 74], progress=False)
    by_source = collections.defaultdict(set)
    for item in corpus.items:
        by_source[item.source].add((item.instrument, item.pitch, item.dynamics, item.duration))
    assert set(by_source) == {"timgm6mb", "twin"} and by_source["timgm6mb"] != by_source["twin"]
    for key in {(i.instrument, i.source) for i in corpus.items}:
        splits = {i.split for i in corpus.items if (i.instrument, i.source) == key}
        assert splits == {"train", "valid", "test"}, key


def test_percussion_items_have_no_pitch_and_sound(tmp_path):
    from disentangle.data.notes import PERCUSSION

    corpus = build_notes_corpus(tmp_path, percussion=True, instruments=["violin"], pitches=[69], progress=False)
    drums = [i for i in corpus.items if i.family == "percussion"]
    assert {i.instrument for i in drums} == {d.name for d in PERCUSSION}
    assert all(i.pitch == -1 and i.label("pitch") == "" for i in drums)
    kick, _ = sf.read(str(corpus.audio_path(next(i for i in drums if i.instrument == "bass_drum"))))
    hat, _ = sf.read(str(corpus.audio_path(next(i for i in drums if i.instrument == "closed_hihat"))))
    # A kick drum is low, a hi-hat high: spectral centroids far apart.
    def centroid(audio: np.ndarray) -> float:  # Hz
        mag = np.abs(np.fft.rfft(audio))
        return float(np.sum(mag * np.fft.rfftfreq(len(audio), 1 / 22050)) / np.sum(mag))

    assert centroid(kick) * 3 < centroid(hat)


def test_missing_source_is_reported_and_the_build_carries_on(tmp_path, monkeypatch):
    from disentangle.data import sources

    monkeypatch.setitem(sources.SOURCES, "ghost", sources.SampleSource(
        "ghost", "Ghost.sf2", (str(tmp_path / "nowhere"),), "ghost-soundfont", "a bank not installed"))
    report = BuildReport()
    corpus = build_notes_corpus(tmp_path / "c", sources=["timgm6mb", "ghost"], report=report, max_notes=3,
                                **TINY)
    assert len(corpus) == 3 and report.missing_sources and "ghost-soundfont" in report.missing_sources[0]
    with pytest.raises(ValueError, match="no sample source is available"):
        build_notes_corpus(tmp_path / "d", sources=["ghost"], **TINY)


def test_a_source_rendered_otherwise_is_rendered_again_and_the_others_kept(tmp_path):
    import json

    build_notes_corpus(tmp_path, max_notes=4, **TINY)
    manifest = tmp_path / "build.json"
    old = json.loads(manifest.read_text())
    # A corpus built before sources named their synthesizer: all TinySoundFont, nothing to redo.
    for entry in old["sources"]:
        entry.pop("engine")
    manifest.write_text(json.dumps(old))
    same = BuildReport()
    build_notes_corpus(tmp_path, max_notes=4, report=same, **TINY)
    assert same.rendered == 0 and not same.stale_sources
    # Recorded as played by another synthesizer: that source's audio is stale.
    old = json.loads(manifest.read_text())
    old["sources"][0]["engine"] = "fluidsynth"
    manifest.write_text(json.dumps(old))
    stray = tmp_path / "audio" / old["sources"][0]["source"] / "stray.wav"
    stray.write_bytes(b"RIFF")
    again = BuildReport()
    build_notes_corpus(tmp_path, max_notes=4, report=again, **TINY)
    assert again.stale_sources == [old["sources"][0]["source"]] and again.rendered == 4
    assert not stray.exists() and "rendered again" in again.summary()


def test_notes_without_their_pitch_are_listed(tmp_path, monkeypatch):
    from disentangle.data.soundfont import SoundFontRenderer

    thud = np.sin(2 * np.pi * 97.0 * np.arange(11025) / 22050).astype(np.float32) * 0.1
    monkeypatch.setattr(SoundFontRenderer, "render_note", lambda self, *a, **k: thud)
    report = BuildReport()
    corpus = build_notes_corpus(tmp_path, max_notes=3, report=report, **TINY)
    assert len(corpus) == 3  # kept: the label is right, the synthesizer is not
    assert len(report.weak_pitch) == 3 and "without their pitch" in report.summary()

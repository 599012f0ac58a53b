"""Frame-level labels read from annotation files, aligned to latent frames."""
from __future__ import annotations

import numpy as np

from disentangle.data.schema import Corpus, Item
from disentangle.evaluation.frames import annotation_frame_labels, expression_classes, frame_annotations, frame_times
from disentangle.features.config import FeatureConfig

FEATURES = FeatureConfig(sample_rate=1000, hop_length=100, n_frames=8, trim_db=None)  # 10 frames/s
MAPS = {"pitch": ["60", "61", "62"], "instrument": ["flute", "oboe"], "dynamics": ["ff", "mf", "pp"]}


def _corpus(tmp_path) -> Corpus:
    # Annotations at 20 frames/s for 0.6 s: note 60 bent up by 0.7 (rounds to
    # 61) in the middle, silence, then note 62; expression pp, mf, then ff.
    note = np.array([60] * 6 + [0] * 2 + [62] * 4)
    pitch = np.array([60.0, 60.0, 60.0, 60.0, 60.7, 60.7, 0, 0, 62.1, 62.1, 61.9, 61.9])
    expression = np.array([40.0] * 4 + [80.0] * 4 + [110.0] * 4)
    np.savez(tmp_path / "a.npz", note=note, pitch=pitch, voiced=note > 0, expression=expression,
             frame_rate=20.0)
    np.savez(tmp_path / "old.npz", note=note, frame_rate=20.0)  # only notes: no bend, no expression
    items = [Item("a.wav", "train", "oboe", pitch=60, dynamics="mf", extra={"annotations": "a.npz"}),
             Item("b.wav", "train", "flute", pitch=62, dynamics="mf", extra={"annotations": ""}),
             Item("c.wav", "train", "flute", pitch=62, dynamics="pp", extra={"annotations": "old.npz"})]
    return Corpus(tmp_path, items)


def test_frame_times_of_full_and_pooled_frames():
    np.testing.assert_allclose(frame_times(FEATURES, 8), np.arange(8) * 0.1)
    np.testing.assert_allclose(frame_times(FEATURES, 4), [0.05, 0.25, 0.45, 0.65])


def test_annotations_resampled_to_latent_frames(tmp_path):
    corpus = _corpus(tmp_path)
    ann = frame_annotations(corpus.items, tmp_path, FEATURES, 8)
    # latent frames at 0.0 .. 0.7 s -> annotation frames 0, 2, 4, 6, 8, 10, 12, 14
    np.testing.assert_allclose(ann.pitch[0], [60, 60, 60.7, 0, 62.1, 61.9, 0, 0])
    assert ann.voiced[0].tolist() == [True, True, True, False, True, True, False, False]
    assert not ann.voiced[1].any()  # no annotation file
    assert np.isnan(ann.expression[2]).all()


def test_hook_labels_every_column_and_skips_silence(tmp_path):
    corpus = _corpus(tmp_path)
    hook = annotation_frame_labels(corpus, FEATURES, MAPS)
    pitch = hook(corpus.items, "pitch", 8)
    assert pitch[0].tolist() == [0, 0, 1, -1, 2, 2, -1, -1]  # semitone of the bent pitch
    assert pitch[1].tolist() == [-1] * 8
    assert pitch[2].tolist() == [0, 0, 0, -1, 2, 2, -1, -1]  # falls back to the note
    inst = hook(corpus.items, "instrument", 8)
    assert inst[0].tolist() == [1, 1, 1, -1, 1, 1, -1, -1]
    assert inst[2].tolist() == [0, 0, 0, -1, 0, 0, -1, -1]
    dyn = hook(corpus.items, "dynamics", 8)
    assert dyn[0].tolist() == [2, 2, 1, -1, 0, 0, -1, -1]  # pp, pp, mf, silent, ff, ff
    assert dyn[2].tolist() == [2, 2, 2, -1, 2, 2, -1, -1]  # no expression: the item's label
    # Pooled frames (two feature frames each) still line up.
    assert hook(corpus.items, "pitch", 4)[0].tolist() == [0, 1, 2, -1]
    assert hook(corpus.items, "family", 8) is None


def test_expression_classes_match_the_phrase_thresholds():
    from disentangle.data.phrases import THRESHOLDS, expression_label
    values = np.array([10.0, 64.9, 65.0, 101.0, 102.0, 127.0, np.nan])
    names = ["pp", "mf", "ff"]
    got = expression_classes(values)
    assert got[-1] == -1
    assert [names[k] for k in got[:-1]] == [expression_label(v) for v in values[:-1]]
    assert THRESHOLDS == (65.0, 102.0)


def test_no_hook_when_frames_cannot_be_aligned(tmp_path):
    corpus = _corpus(tmp_path)
    trimmed = FeatureConfig(sample_rate=1000, hop_length=100, n_frames=8, trim_db=60.0)
    assert annotation_frame_labels(corpus, trimmed, MAPS) is None
    bare = Corpus(tmp_path, [Item("c.wav", pitch=60)])
    assert annotation_frame_labels(bare, FEATURES, MAPS) is None


def test_built_notes_are_labelled_over_their_sounding_length(tmp_path):
    import soundfile as sf

    from disentangle.data.notes import build_notes_corpus
    from disentangle.evaluation.frames import annotation_frame_labels

    corpus = build_notes_corpus(tmp_path, instruments=["flute"], pitches=[72], percussion=True, progress=False)
    cfg = FeatureConfig(sample_rate=22050, hop_length=512, n_frames=128, trim_db=None)
    maps = {"instrument": corpus.classes("instrument"), "pitch": corpus.classes("pitch")}
    hook = annotation_frame_labels(corpus, cfg, maps)
    assert hook is not None
    pitch, inst = hook(corpus.items, "pitch", 64), hook(corpus.items, "instrument", 64)
    tails = 0
    for row, item in enumerate(corpus.items):
        length = sf.info(str(corpus.audio_path(item))).duration
        sounding = frame_times(cfg, 64) < length
        assert (inst[row][sounding] == maps["instrument"].index(item.instrument)).all()
        assert (inst[row][~sounding] == -1).all() and sounding.any()
        tails += int((~sounding).any())
        expected = maps["pitch"].index("72") if item.family != "percussion" else -1
        assert (pitch[row][sounding] == expected).all()
    assert tails > len(corpus.items) // 2  # short notes and drums end inside the window
    (tmp_path / "build.json").unlink()  # a folder of recordings: no per-frame labels
    assert annotation_frame_labels(corpus, cfg, maps) is None

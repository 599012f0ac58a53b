"""Frame-level pitch labels read from annotation files, aligned to latent frames."""
from __future__ import annotations

import numpy as np

from disentangle.data.schema import Corpus, Item
from disentangle.evaluation.frames import annotation_frame_labels, frame_times
from disentangle.features.config import FeatureConfig

FEATURES = FeatureConfig(sample_rate=1000, hop_length=100, n_frames=8, trim_db=None)  # 10 frames/s


def _corpus(tmp_path) -> Corpus:
    # Annotations at 20 frames/s for 0.6 s: note 60 for 0.3 s, silence, then note 62.
    note = np.array([60] * 6 + [0] * 2 + [62] * 4)
    np.savez(tmp_path / "a.npz", note=note, frame_rate=20.0)
    items = [Item("a.wav", "train", "flute", pitch=60, extra={"annotations": "a.npz"}),
             Item("b.wav", "train", "flute", pitch=62, extra={"annotations": ""})]
    return Corpus(tmp_path, items)


def test_frame_times_of_full_and_pooled_frames():
    np.testing.assert_allclose(frame_times(FEATURES, 8), np.arange(8) * 0.1)
    np.testing.assert_allclose(frame_times(FEATURES, 4), [0.05, 0.25, 0.45, 0.65])


def test_hook_reads_notes_per_frame(tmp_path):
    corpus = _corpus(tmp_path)
    hook = annotation_frame_labels(corpus, FEATURES, {"pitch": ["60", "62"]})
    labels = hook(corpus.items, "pitch", 8)
    # frames at 0.0 .. 0.7 s -> annotation frames 0, 2, 4, 6, 8, 10, 12, 14
    assert labels[0].tolist() == [0, 0, 0, -1, 1, 1, -1, -1]  # silence and past the end: unknown
    assert labels[1].tolist() == [-1] * 8  # no annotation file
    assert hook(corpus.items, "instrument", 8) is None


def test_no_hook_when_frames_cannot_be_aligned(tmp_path):
    corpus = _corpus(tmp_path)
    trimmed = FeatureConfig(sample_rate=1000, hop_length=100, n_frames=8, trim_db=60.0)
    assert annotation_frame_labels(corpus, trimmed, {"pitch": ["60", "62"]}) is None
    bare = Corpus(tmp_path, [Item("c.wav", pitch=60)])
    assert annotation_frame_labels(bare, FEATURES, {"pitch": ["60"]}) is None

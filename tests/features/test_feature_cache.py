"""Feature cache: second run reads the cache; bad files are skipped, counted and remembered."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from disentangle.audio import io as audio_io
from disentangle.data.schema import Corpus, Item
from disentangle.features.cache import cache_path, load_features
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import audio_to_features, prepare_audio

CFG = FeatureConfig(n_frames=16, n_mels=32)


def _no_decoding(*args, **kwargs):
    raise AssertionError("load_audio called although the features are cached")


def test_second_call_reads_cache(wav_corpus, monkeypatch):
    corpus = wav_corpus(n=5)
    first = load_features(corpus, CFG, progress=False)
    assert first.x.shape == (5, 32, 16) and first.x.dtype == np.float32
    assert [i.path for i in first.items] == [i.path for i in corpus.items]
    path = cache_path(corpus, CFG)
    assert path.is_file() and path.parent == corpus.root / ".cache"
    assert not list(path.parent.glob("*.tmp"))  # written atomically, nothing left over

    monkeypatch.setattr(audio_io, "load_audio", _no_decoding)
    second = load_features(corpus, CFG, progress=False)
    np.testing.assert_array_equal(second.x, first.x)
    assert [i.path for i in second.items] == [i.path for i in first.items]

    # the features are those of the single-item pipeline
    monkeypatch.undo()
    one = audio_to_features(prepare_audio(audio_io.load_audio(corpus.root / "tone2.wav", 22050), CFG), CFG)
    np.testing.assert_allclose(first.x[2], one.numpy(), atol=1e-5)


def test_new_settings_or_files_recompute(wav_corpus, tmp_path):
    corpus = wav_corpus(n=3)
    load_features(corpus, CFG, progress=False)
    other = FeatureConfig(n_frames=16, n_mels=24)
    assert cache_path(corpus, other) != cache_path(corpus, CFG)
    assert load_features(corpus, other, progress=False).x.shape == (3, 24, 16)
    fewer = Corpus(corpus.root, corpus.items[:2], "fewer")
    assert cache_path(fewer, CFG) != cache_path(corpus, CFG)
    assert len(load_features(fewer, CFG, progress=False)) == 2
    # an explicit cache folder is honoured
    elsewhere = tmp_path / "elsewhere"
    load_features(corpus, CFG, cache_dir=elsewhere, progress=False)
    assert len(list(elsewhere.glob("features-*.npy"))) == 1


def _write_bad_files(root):
    (root / "empty.wav").write_bytes(b"")
    (root / "text.wav").write_text("this is not audio\n" * 20)
    nan = np.full(4000, np.nan, dtype=np.float32)
    sf.write(root / "nan.wav", nan, 22050, subtype="FLOAT")
    sf.write(root / "silent.wav", np.zeros(8000, np.float32), 22050)
    t = np.arange(48000) / 48000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 660 * t)], 1) * 0.3
    sf.write(root / "stereo48k.wav", stereo.astype(np.float32), 48000)
    return ["empty.wav", "text.wav", "nan.wav", "silent.wav", "missing.wav"], "stereo48k.wav"


def test_bad_files_skipped_with_count(wav_corpus, monkeypatch):
    corpus = wav_corpus(n=3)
    bad, stereo = _write_bad_files(corpus.root)
    corpus.items += [Item(path=p) for p in bad] + [Item(path=stereo)]
    with pytest.warns(UserWarning, match=r"skipped 5 of 9"):
        fs = load_features(corpus, CFG, progress=False)
    assert len(fs) == 4 and fs.x.shape == (4, 32, 16)
    assert np.isfinite(fs.x).all()
    assert [i.path for i in fs.items] == ["tone0.wav", "tone1.wav", "tone2.wav", stereo]
    reasons = dict(fs.skipped)
    assert set(reasons) == set(bad)
    assert "empty" in reasons["empty.wav"] and "NaN" in reasons["nan.wav"]
    assert "silent" in reasons["silent.wav"] and "not found" in reasons["missing.wav"]

    # the cache remembers what was skipped, without decoding anything again
    monkeypatch.setattr(audio_io, "load_audio", _no_decoding)
    with pytest.warns(UserWarning, match=r"skipped 5 of 9"):
        again = load_features(corpus, CFG, progress=False)
    assert again.skipped == fs.skipped
    np.testing.assert_array_equal(again.x, fs.x)


def test_all_files_bad_gives_empty_set(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "a.wav").write_bytes(b"")
    corpus = Corpus(root, [Item(path="a.wav")])
    with pytest.warns(UserWarning, match="skipped 1 of 1"):
        fs = load_features(corpus, CFG, progress=False)
    assert fs.x.shape == (0, 32, 16) and fs.items == []


def test_corrupt_cache_is_recomputed(wav_corpus):
    corpus = wav_corpus(n=2)
    # a copy: the set maps the cache file, which this test overwrites in place
    good_x = np.array(load_features(corpus, CFG, progress=False).x)
    cache_path(corpus, CFG).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable feature cache"):
        again = load_features(corpus, CFG, progress=False)
    np.testing.assert_array_equal(again.x, good_x)


def test_split_selects_rows(wav_corpus):
    corpus = wav_corpus(n=4)
    corpus.items[1].split = "test"
    corpus.items[3].split = "test"
    fs = load_features(corpus, CFG, progress=False)
    test = fs.split("test")
    assert [i.path for i in test.items] == ["tone1.wav", "tone3.wav"]
    np.testing.assert_array_equal(test.x, fs.x[[1, 3]])

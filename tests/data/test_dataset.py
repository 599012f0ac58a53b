"""Datasets: label encoding, the batch dict, reproducible perturbed batches across workers."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from disentangle.data.dataset import (
    PerturbedAudioDataset,
    SpectrogramDataset,
    encode_labels,
    make_label_maps,
    seed_worker,
)
from disentangle.data.schema import Corpus, Item
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser

SR = 22050
CFG = FeatureConfig(n_frames=16, n_mels=32)


def _items() -> list[Item]:
    return [Item("a.wav", instrument="violin", pitch=69, dynamics="ff"),
            Item("b.wav", instrument="flute", pitch=60, dynamics=""),
            Item("c.wav", instrument="violin", pitch=100),
            Item("d.wav", instrument="", pitch=-1, dynamics="pp")]


def test_label_maps_and_encoding():
    items = _items()
    maps = make_label_maps(items, ["instrument", "pitch", "dynamics"])
    assert maps == {"instrument": ["flute", "violin"], "pitch": ["60", "69", "100"],
                    "dynamics": ["ff", "pp"]}
    enc = encode_labels(items, maps)
    assert enc["instrument"].tolist() == [1, 0, 1, -1]
    assert enc["pitch"].tolist() == [1, 0, 2, -1]
    assert enc["dynamics"].dtype == torch.long and enc["dynamics"].tolist() == [0, -1, -1, 1]
    # classes missing from the map (e.g. only in the test split) are unknown
    assert encode_labels(items, {"instrument": ["violin"]})["instrument"].tolist() == [0, -1, 0, -1]


def test_spectrogram_dataset_batches():
    x = torch.randn(4, 32, 16)
    labels = encode_labels(_items(), make_label_maps(_items(), ["instrument", "pitch"]))
    ds = SpectrogramDataset(x, labels, indices=[3, 1, 2])
    assert len(ds) == 3
    item = ds[0]
    assert item["index"].item() == 3 and torch.equal(item["x"], x[3])
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["x"].shape == (3, 32, 16)
    assert batch["labels"]["instrument"].tolist() == [-1, 0, 1]
    assert batch["index"].tolist() == [3, 1, 2]
    with pytest.raises(ValueError):
        SpectrogramDataset(x, {"pitch": torch.zeros(3, dtype=torch.long)})


def tone(f0: float, seconds: float) -> np.ndarray:
    """A decaying 10-partial harmonic tone, peak 0.3: (N,) float32."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 11)) * np.exp(-2 * t)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture
def audio_corpus(tmp_path) -> Corpus:
    items = []
    for i, (f0, inst) in enumerate([(196.0, "violin"), (262.0, "flute"), (330.0, "violin"),
                                    (392.0, "flute"), (440.0, "violin"), (523.0, "flute")]):
        sf.write(tmp_path / f"n{i}.wav", tone(f0, 0.6), SR)
        items.append(Item(f"n{i}.wav", instrument=inst, pitch=55 + i))
    return Corpus(tmp_path, items, "tones")


def _epoch(ds, workers: int) -> list[dict]:
    loader = DataLoader(ds, batch_size=2, shuffle=False, num_workers=workers,
                        worker_init_fn=seed_worker if workers else None)
    return list(loader)


def test_perturbed_dataset_reproducible_across_workers(audio_corpus):
    norm = Normaliser("minmax", 0.0, 1.5)
    maps = make_label_maps(audio_corpus.items, ["instrument"])
    ds = PerturbedAudioDataset(audio_corpus, CFG, norm, maps, seed=11)
    first = _epoch(ds, workers=2)
    second = _epoch(ds, workers=2)
    single = _epoch(ds, workers=0)
    assert len(first) == 3
    for a, b, c in zip(first, second, single):
        for key in ("x", "x_pitch", "x_timbre"):
            assert a[key].shape == (2, 32, 16)
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
            torch.testing.assert_close(a[key], c[key], rtol=0, atol=0)
        assert a["labels"]["instrument"].tolist() == b["labels"]["instrument"].tolist()
    batch = first[0]
    assert batch["index"].tolist() == [0, 1]
    for key in ("x_pitch", "x_timbre"):
        assert torch.isfinite(batch[key]).all()
        # perturbed, but neither silent nor blown up: the level is near the clean one
        assert not torch.equal(batch[key], batch["x"])
        assert abs(float(batch[key].mean() - batch["x"].mean())) < 0.5
    # a new epoch draws new perturbations; the clean features stay
    ds.set_epoch(1)
    later = _epoch(ds, workers=0)
    torch.testing.assert_close(later[0]["x"], single[0]["x"])
    assert not torch.equal(later[0]["x_pitch"], single[0]["x_pitch"]) or \
        not torch.equal(later[0]["x_timbre"], single[0]["x_timbre"])


def test_perturbed_audio_level_sane(audio_corpus):
    ds = PerturbedAudioDataset(audio_corpus, CFG, Normaliser("none"), seed=0)
    for row in range(len(ds)):
        clean, shifted, distorted = ds.audio(row)
        rms = lambda a: float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))
        for out in (shifted, distorted):
            assert out.shape == (CFG.n_samples,) and np.isfinite(out).all()
            assert 0.1 * rms(clean) < rms(out) < 1.5 * rms(clean)
            assert np.max(np.abs(out)) <= 1.0

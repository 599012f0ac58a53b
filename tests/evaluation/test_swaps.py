"""Swap protocol: instrument F1, raw pitch accuracy and Frechet bookkeeping on models
whose disentanglement is known by construction."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from eval_fixtures import JUDGES, OracleModel
from torch import Tensor

from disentangle.data.schema import Item
from disentangle.evaluation.classifiers import train_classifier
from disentangle.evaluation.crepe import CrepeConfig
from disentangle.evaluation.swaps import SwapConfig, derangement, swap_scores, swaps_markdown
from disentangle.features.config import FeatureConfig
from disentangle.features.spectrogram import Normaliser, audio_to_features
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior

FAST = SwapConfig(repeats=2, rpa_items=8, griffin_lim_iters=16, crepe=CrepeConfig(hop_ms=20.0))


class CopyModel(DisentangleModel):
    """Everything in z: z = the frames themselves, v = their time average; decode(z) ignores v.

    A maximally "leaky" sequence model: a z-swap moves the whole sound, a
    v-swap changes nothing.
    """

    name = "copy-test"

    def __init__(self, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(ModelConfig(), features, label_maps)
        self.scale = torch.nn.Parameter(torch.ones(()))

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        f = self.features.n_bins
        return (LatentSpace("timbre", f, "global", "instrument"), LatentSpace("pitch", f, "local", "pitch"))

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        v, z = x.mean(-1), x.transpose(1, 2) * self.scale
        return {"timbre": Posterior(v, torch.zeros_like(v)), "pitch": Posterior(z, torch.zeros_like(z))}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        return z["pitch"].transpose(1, 2)

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        return {"loss": self.scale * 0}


def _split(synthetic):
    tr = np.array([i for i, it in enumerate(synthetic.items) if it.split == "train"])
    te = np.array([i for i, it in enumerate(synthetic.items) if it.split == "test"])
    y = np.array([["cello", "flute", "horn", "oboe"].index(it.instrument) for it in synthetic.items])
    x = torch.from_numpy(synthetic.x)
    return x[tr], y[tr], x[te], y[te], [synthetic.items[i] for i in te]


def test_derangement_pairs_every_item_with_another():
    for n in (2, 3, 17):
        p = derangement(n, np.random.default_rng(n))
        assert sorted(p.tolist()) == list(range(n)) and (p != np.arange(n)).all()


def test_disentangled_model_passes_and_leaky_model_fails_the_swaps(synthetic):
    x_tr, y_tr, x_te, y_te, items = _split(synthetic)
    judge = train_classifier(x_tr, torch.as_tensor(y_tr), 4, JUDGES)
    good = swap_scores(OracleModel(synthetic, mode="local"), x_te, y_te, items, judge,
                       reference=(x_tr, y_tr), cfg=FAST)
    # The oracle's timbre lives in v: both swaps keep the instrument they should.
    assert good["instrument_f1"]["real"] > 0.9
    assert good["instrument_f1"]["v-swap"]["mean"] > 0.9
    assert good["instrument_f1"]["z-swap"]["mean"] > 0.9
    assert good["protocol"]["v"] == ["timbre"] and good["protocol"]["z"] == ["pitch"]
    assert "skipped" in good["rpa"]  # no corpus root: no contours to compare with

    leaky = CopyModel(FeatureConfig(n_mels=16, n_frames=8), {"instrument": ["cello", "flute", "horn", "oboe"]})
    bad = swap_scores(leaky, x_te, y_te, items, judge, cfg=FAST)
    # Timbre travels with z: the v-swap output keeps the source instrument.
    assert bad["instrument_f1"]["v-swap"]["mean"] < 0.5
    assert bad["instrument_f1"]["recon"] > 0.9
    # Recon. is the data itself: class-wise Frechet distance 0.
    assert bad["frechet"]["recon"] == pytest.approx(0.0, abs=1e-4)
    assert bad["frechet"]["v-swap"]["mean"] > 1.0  # judged against the wrong instrument's items
    assert any("v-swap" in line for line in swaps_markdown(bad))


def test_global_only_model_is_skipped(synthetic):
    x_tr, y_tr, x_te, y_te, items = _split(synthetic)
    judge = train_classifier(x_tr, torch.as_tensor(y_tr), 4, JUDGES)
    out = swap_scores(OracleModel(synthetic), x_te, y_te, items, judge, cfg=FAST)
    assert "skipped" in out and "Skipped" in swaps_markdown(out)[2]


def _tones(tmp_path, features: FeatureConfig) -> tuple[Tensor, np.ndarray, list[Item]]:
    """Four 1-s harmonic tones of different pitches, two timbres, with annotation files."""
    sr, n = features.sample_rate, features.n_samples
    t = np.arange(n) / sr
    audio, items, labels = [], [], []
    for k, midi in enumerate([52.0, 59.0, 66.0, 73.0]):
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        odd = k % 2  # instrument 1 has odd harmonics only
        partials = [h for h in range(1, 9) if not odd or h % 2 == 1]
        audio.append(sum(np.sin(2 * np.pi * f0 * h * t) / h for h in partials) * 0.2)
        frames = 1 + n // 256
        np.savez(tmp_path / f"t{k}.npz", pitch=np.full(frames, midi), voiced=np.ones(frames, bool),
                 frame_rate=sr / 256)
        items.append(Item(f"t{k}.wav", "test", ["a", "b"][odd], pitch=int(midi), extra={"annotations": f"t{k}.npz"}))
        labels.append(odd)
    scaled = audio_to_features(np.stack(audio).astype(np.float32), features)
    return scaled, np.array(labels), items


def test_pitch_accuracy_follows_the_decoded_contour(tmp_path):
    features = FeatureConfig(sample_rate=16000, n_fft=1024, hop_length=256, kind="stft", scale="log",
                             normalise="minmax", n_frames=63, trim_db=None)
    scaled, y, items = _tones(tmp_path, features)
    model = CopyModel(features, {"instrument": ["a", "b"]})
    model.normaliser = Normaliser.fit(scaled, features)
    x = torch.as_tensor(model.normaliser(scaled)).float()
    judge = train_classifier(x.repeat(4, 1, 1), torch.as_tensor(np.tile(y, 4)), 2, JUDGES)
    out = swap_scores(model, x, y, items, judge, root=tmp_path, cfg=FAST)
    rpa = out["rpa"]
    # z carries the pitch here: a z-swap must follow the partner's contour, a
    # v-swap the item's own; pitches 7 semitones apart make any mix-up score 0.
    assert rpa["real"] > 0.8 and rpa["recon"] > 0.8
    assert rpa["v-swap"] > 0.8 and rpa["z-swap"] > 0.8
    assert out["protocol"]["rpa_items"] == 4

"""A tiny real `DisentangleModel` and a tiny rendered corpus for explorer/app tests.

The model has two global spaces (timbre with a mixture prior over
instruments, pitch without one) and one local space (per-frame "motion",
(B, T', D)), so every code path of the explorer is exercised. Weights are
random: the tests check plumbing, not quality.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import Tensor, nn

from disentangle.data.schema import Corpus, Item, write_metadata
from disentangle.features.config import FeatureConfig
from disentangle.models.base import (
    REGISTRY,
    DisentangleModel,
    LatentSpace,
    ModelConfig,
    Posterior,
    PriorComponents,
    register,
)

SR = 8000
FEATURES = FeatureConfig(sample_rate=SR, n_fft=256, hop_length=128, n_mels=24, fmin=30.0, fmax=4000.0,
                         n_frames=16, trim_db=60.0)
INSTRUMENTS = ("sine", "square", "saw")
PITCHES = (48, 55, 60, 67)
DYNAMICS = {"pp": 0.05, "mf": 0.2, "ff": 0.6}


@dataclass
class TinyConfig(ModelConfig):
    timbre: int = 3
    pitch: int = 2
    motion: int = 2


class TinyModel(DisentangleModel):
    """Linear encoders on time-averaged (global) or pooled (local) frames, a frame-wise linear decoder."""

    name = "tiny_app_test"
    config_class = TinyConfig

    def __init__(self, config: TinyConfig, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(config, features, label_maps)
        f = features.n_bins
        self.enc_timbre = nn.Linear(f, 2 * config.timbre)
        self.enc_pitch = nn.Linear(f, 2 * config.pitch)
        self.enc_motion = nn.Linear(f, 2 * config.motion)
        self.dec = nn.Linear(config.timbre + config.pitch + config.motion, f)
        k = max(1, len(label_maps.get("instrument", [])))
        self.timbre_means = nn.Parameter(torch.randn(k, config.timbre))

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        c = self.config
        return (LatentSpace("timbre", c.timbre, "global", "instrument"),
                LatentSpace("pitch", c.pitch, "global", "pitch"),
                LatentSpace("motion", c.motion, "local", None))

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        mean_frame = x.mean(-1)
        pooled = nn.functional.avg_pool1d(x, 2).transpose(1, 2)  # (B, T/2, F)
        out = {}
        for name, layer, inp in (("timbre", self.enc_timbre, mean_frame), ("pitch", self.enc_pitch, mean_frame),
                                 ("motion", self.enc_motion, pooled)):
            mu, logvar = layer(inp).chunk(2, dim=-1)
            out[name] = Posterior(mu, logvar)
        return out

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        motion = z["motion"].repeat_interleave(2, dim=1)  # (B, T, D)
        t = motion.shape[1]
        glob = torch.cat([z["timbre"], z["pitch"]], -1)[:, None, :].expand(-1, t, -1)
        return torch.tanh(self.dec(torch.cat([glob, motion], -1))).transpose(1, 2)

    def priors(self) -> dict[str, PriorComponents]:
        return {"timbre": PriorComponents(self.timbre_means.detach(), torch.full_like(self.timbre_means, 0.5),
                                          list(self.label_maps["instrument"]))}

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        x = batch["x"]
        rec = self.decode({k: p.mean for k, p in self.encode(x).items()})
        return {"loss": ((rec - x) ** 2).mean()}


if TinyModel.name not in REGISTRY:
    register(TinyModel)


def _tone(kind: str, midi: int, amp: float, seconds: float = 0.4) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * 440.0 * 2 ** ((midi - 69) / 12) * t
    wave = {"sine": np.sin(phase), "square": np.sign(np.sin(phase)),
            "saw": 2 * ((phase / (2 * np.pi)) % 1.0) - 1}[kind]
    env = np.minimum(1.0, t / 0.01) * np.exp(-2 * t)
    return (amp * wave * env).astype(np.float32)


def make_corpus(root: Path) -> Corpus:
    """36 tones (3 waveforms x 4 pitches x 3 dynamics) with metadata.csv."""
    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    items = []
    for inst in INSTRUMENTS:
        for midi in PITCHES:
            for dyn, amp in DYNAMICS.items():
                rel = f"audio/{inst}_{midi}_{dyn}.wav"
                sf.write(root / rel, _tone(inst, midi, amp), SR)
                items.append(Item(path=rel, split="train", instrument=inst, family="synth", pitch=midi,
                                  dynamics=dyn, duration_s=0.4, source="test"))
    write_metadata(root / "metadata.csv", items)
    return Corpus(root, items, "tiny")


def make_model(seed: int = 0, features: FeatureConfig = FEATURES) -> TinyModel:
    torch.manual_seed(seed)
    return TinyModel(TinyConfig(), features, {"instrument": list(INSTRUMENTS),
                                              "pitch": [str(p) for p in PITCHES],
                                              "dynamics": list(DYNAMICS)}).eval()


def make_checkpoint(path: Path, corpus: Corpus, seed: int = 0, probe: bool = True,
                    features: FeatureConfig = FEATURES) -> Path:
    """Save a tiny model's checkpoint, with a normaliser fitted on the corpus."""
    from disentangle.checkpoint import save_checkpoint
    from disentangle.features.cache import load_features
    from disentangle.features.spectrogram import Normaliser

    model = make_model(seed, features)
    fs = load_features(corpus, features, progress=False)
    report = {"probe_f1": {"timbre": {"instrument": 0.9, "pitch": 0.2},
                           "pitch": {"instrument": 0.3, "pitch": 0.8}}} if probe else {}
    return save_checkpoint(path, model, Normaliser.fit(fs.x, features), report=report)


if __name__ == "__main__":  # python tiny_world.py OUT_DIR: a corpus + checkpoint to run the app by hand
    out = Path(sys.argv[1])
    corpus = make_corpus(out / "corpus")
    print(make_checkpoint(out / "tiny.pt", corpus))

"""Shared helpers for the feature tests: synthetic harmonic tones and wav files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 22050


def harmonic_tone(f0: float, seconds: float = 1.0, sr: int = SR, n_partials: int = 20,
                  amp: float = 0.3, decay: float = 1.5) -> np.ndarray:
    """A decaying harmonic tone with a 1/k spectral tilt: (N,) float32."""
    t = np.arange(int(seconds * sr)) / sr
    x = np.zeros_like(t)
    for k in range(1, n_partials + 1):
        if k * f0 < sr / 2:
            x += np.sin(2 * np.pi * k * f0 * t) / k
    x *= np.exp(-decay * t)
    return (amp * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture
def tone():
    """The `harmonic_tone` function."""
    return harmonic_tone


@pytest.fixture
def wav_corpus(tmp_path):
    """A function writing n tones (different pitches) as wavs under a folder,
    returning a `Corpus` over them."""
    from disentangle.data.schema import Corpus, Item

    def make(root: Path | None = None, n: int = 6, sr: int = SR) -> Corpus:
        root = root or tmp_path / "corpus"
        root.mkdir(parents=True, exist_ok=True)
        items = []
        for i in range(n):
            name = f"tone{i}.wav"
            sf.write(root / name, harmonic_tone(220.0 * 2 ** (i / 12), 0.8, sr), sr)
            items.append(Item(path=name, instrument="synth", pitch=57 + i))
        return Corpus(root, items, "tones")

    return make

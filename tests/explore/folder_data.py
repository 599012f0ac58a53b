"""Test data for folder corpora: sine and noise WAVs, zipped in two sub-folders."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import soundfile as sf

SR = 8000


def wav_bytes(kind: str, n: int) -> bytes:
    t = np.arange(int(0.3 * SR)) / SR
    rng = np.random.default_rng(n)
    x = 0.3 * np.sin(2 * np.pi * (220 + 60 * n) * t) if kind == "sine" else 0.2 * rng.standard_normal(t.size)
    buf = io.BytesIO()
    sf.write(buf, x.astype(np.float32), SR, format="WAV")
    return buf.getvalue()


def make_zip(path, csv: str | None = None, n: int = 3):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind in ("sine", "noise"):
            for i in range(n):
                zf.writestr(f"my sounds/{kind}/{kind}_{i}.wav", wav_bytes(kind, i))
        if csv is not None:
            zf.writestr("my sounds/labels.csv", csv)
        zf.writestr("__MACOSX/._junk.wav", b"junk")
    return path

"""`bench.py nsynth`: an NSynth-layout tree of N notes, read end to end by `load_nsynth`.

`make_nsynth_tree(root, n)` writes `examples.json` (NSynth's fields) and
`audio/<note_str>.wav` (4 s at 16 kHz, 16-bit, as NSynth). Only `distinct`
wavs are synthesised (decaying harmonic tones of the note's pitch and
family's brightness); the rest are hard links to them, so 100,000 notes take
~130 MB of disk instead of 13 GB. The loader cannot tell: every entry is its
own path with its own JSON record.

The benchmark then measures, each in a fresh process: `load_nsynth` (time,
peak RSS), the corpus fingerprint (stats every file), and with `--extract K`
the feature extraction (and, with `--checkpoint`, encoding) of the first K
notes, in items/s of one process and in items per CPU second of it (the
figure that survives a shared machine): what the README scales to NSynth's
305,979 notes. Nothing is downloaded; the tree is never part of the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..data.loaders.nsynth import FAMILIES

SR = 16000
SECONDS = 4.0
VELOCITIES = (25, 50, 75, 100, 127)
SOURCES = ("acoustic", "electronic", "synthetic")
QUALITIES = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
             "nonlinear_env", "percussive", "reverb", "tempo-synced")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100_000, help="notes in the tree")
    parser.add_argument("--root", default="/tmp/nsynth-bench", help="where the tree is (made if missing)")
    parser.add_argument("--distinct", type=int, default=1000, help="distinct wav files (the rest hard links)")
    parser.add_argument("--extract", type=int, default=0,
                        help="also extract (and encode) this many notes in one process, for items/s")
    parser.add_argument("--checkpoint", default=None, help="checkpoint to encode with (--extract)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")


def note_tone(pitch: int, brightness: float, seed: int) -> np.ndarray:
    """A 4 s decaying harmonic tone at MIDI `pitch`, 3 s held then released: (64000,) int16."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * SECONDS)) / SR
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    wave = np.zeros_like(t)
    for k in range(1, 25):
        if k * f0 < SR / 2:
            wave += np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) * k ** -(2.0 - brightness)
    env = np.minimum(1.0, t / 0.01) * np.exp(-0.6 * t) * np.where(t < 3.0, 1.0, np.exp(-8 * (t - 3.0)))
    wave *= env / max(np.abs(wave).max(), 1e-9)
    return (0.5 * 32767 * wave).astype(np.int16)


def make_nsynth_tree(root: str | Path, n: int, distinct: int = 1000, seed: int = 0) -> Path:
    """Write an NSynth-layout folder of `n` notes at `root` (examples.json + audio/). Returns root.

    Instruments, pitches and velocities cycle like NSynth's; `distinct` wavs
    are synthesised and the others hard-linked to them (copied where links fail).
    """
    import soundfile as sf

    root = Path(root)
    audio = root / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    families = sorted(FAMILIES)
    rng = np.random.default_rng(seed)
    examples: dict[str, dict] = {}
    distinct = max(1, min(distinct, n))
    names: list[str] = []
    for i in range(n):
        # i as a mixed-radix number (family, pitch, velocity, instrument): every name is unique
        fam = families[i % len(families)]
        j = i // len(families)
        pitch = 21 + j % 88
        velocity = VELOCITIES[(j // 88) % len(VELOCITIES)]
        inst = j // (88 * len(VELOCITIES))
        source = SOURCES[inst % len(SOURCES)]
        name = f"{fam}_{source}_{inst:03d}-{pitch:03d}-{velocity:03d}"
        quals = [int(q) for q in rng.random(len(QUALITIES)) < 0.15]
        examples[name] = {
            "note": i, "note_str": name, "sample_rate": SR, "pitch": pitch, "velocity": velocity,
            "instrument": inst, "instrument_str": f"{fam}_{source}_{inst:03d}",
            "instrument_family": families.index(fam), "instrument_family_str": fam,
            "instrument_source": SOURCES.index(source), "instrument_source_str": source,
            "qualities": quals, "qualities_str": [q for q, on in zip(QUALITIES, quals) if on]}
        path = audio / f"{name}.wav"
        if i < distinct:
            names.append(name)
        if path.exists():
            continue
        if i < distinct:
            sf.write(path, note_tone(pitch, (families.index(fam) % 4) / 4, seed + i), SR, subtype="PCM_16")
        else:
            src = audio / f"{names[i % distinct]}.wav"
            try:
                os.link(src, path)
            except OSError:
                path.write_bytes(src.read_bytes())
    (root / "examples.json").write_text(json.dumps(examples))
    return root


READ = """
import json, resource, sys, time
t = time.perf_counter()
from disentangle.data.loaders import load_nsynth
imported = time.perf_counter() - t
t = time.perf_counter()
corpus = load_nsynth(sys.argv[1])
read_s = time.perf_counter() - t
t = time.perf_counter()
fp = corpus.fingerprint()
print(json.dumps({"items": len(corpus), "skipped": len(corpus.skipped), "read_s": read_s,
                  "fingerprint_s": time.perf_counter() - t, "import_s": imported,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "families": len(corpus.classes("instrument")), "splits": sorted({i.split for i in corpus.items})}))
"""

EXTRACT = """
import json, resource, sys, time, tempfile
from disentangle.data.loaders import load_nsynth
from disentangle.data.schema import Corpus
from disentangle.features.cache import load_features
corpus = load_nsynth(sys.argv[1])
corpus = Corpus(corpus.root, corpus.items[:int(sys.argv[2])], "nsynth-subset")
ckpt = sys.argv[3] or None
if ckpt:
    from disentangle import load_model
    model = load_model(ckpt)
    cfg = model.features
else:
    from disentangle.features.config import FeatureConfig
    cfg = FeatureConfig()
cpu0 = time.process_time()
with tempfile.TemporaryDirectory() as cache:
    t = time.perf_counter()
    fs = load_features(corpus, cfg, cache_dir=cache, progress=False)
    feat_s = time.perf_counter() - t
    enc_s = 0.0
    if ckpt:
        from disentangle.explore.extract import encode_features
        from disentangle.interface import Interface
        t = time.perf_counter()
        encode_features(Interface(model), fs)
        enc_s = time.perf_counter() - t
cpu = time.process_time() - cpu0
print(json.dumps({"items": len(fs), "features_s": feat_s, "encode_s": enc_s,
                  "items_per_s": len(fs) / (feat_s + enc_s), "cpu_s": cpu, "items_per_cpu_s": len(fs) / cpu,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _in_fresh_process(code: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict:
    root = Path(args.root)
    start = time.perf_counter()
    if not (root / "examples.json").is_file():
        make_nsynth_tree(root, args.n, args.distinct)
        print(f"wrote an NSynth-layout tree of {args.n:,} notes ({args.distinct:,} distinct wavs) at {root} "
              f"in {time.perf_counter() - start:.1f} s", flush=True)
    figures = {"read": _in_fresh_process(READ, str(root))}
    r = figures["read"]
    print(f"load_nsynth: {r['items']:,} items ({r['skipped']} skipped) in {r['read_s']:.1f} s, "
          f"fingerprint {r['fingerprint_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB "
          f"(process incl. imports), {r['families']} families, splits {r['splits']}", flush=True)
    if args.extract:
        e = figures["extract"] = _in_fresh_process(EXTRACT, str(root), str(args.extract), args.checkpoint or "")
        print(f"extract {e['items']:,} notes: features {e['features_s']:.1f} s, encode {e['encode_s']:.1f} s, "
              f"{e['items_per_s']:.1f} items/s in one process ({e['items_per_cpu_s']:.1f} items per CPU second), "
              f"peak RSS {e['peak_rss_mb']:.0f} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures

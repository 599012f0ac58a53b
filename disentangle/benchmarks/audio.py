"""`bench.py audio`: rendering, feature extraction and Griffin-Lim throughput.

Measured in one process, in this order (so librosa's first call is really
its first):
1. Griffin-Lim on 2 s notes (22050 Hz, n_fft 1024, hop 256 and 512, equal
   iterations): ours (torch, accelerated GL, batch 1 and batched) against
   torchaudio's `functional.griffinlim` and `librosa.griffinlim` (both fast
   GL, momentum 0.99), milliseconds per clip, warm medians and the cold first
   call separately, ratios and spectral convergences;
2. notes rendered per second by `build_notes_corpus` (a small subset into a
   temporary folder);
3. feature items per second cold (decode + prepare + features, fresh cache
   folder) and from the cache, on `--data` (or the freshly rendered notes).
Prints one table; `--json PATH` also writes the figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

SR = 22050


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None,
                        help="corpus folder for the feature figures (default: the notes rendered here)")
    parser.add_argument("--notes", type=int, default=48, help="notes to render for the rendering figure")
    parser.add_argument("--feature-items", type=int, default=400,
                        help="at most this many corpus items for the feature figures")
    parser.add_argument("--gl-iters", type=int, nargs="+", default=[32],
                        help="Griffin-Lim iterations (all three), one table per value")
    parser.add_argument("--repeats", type=int, default=5, help="warm repeats (median)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's choice, the number of cores)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def render_clips(seconds: float = 2.0) -> np.ndarray:
    """Four real 2 s notes (violin, flute, piano, trumpet) from pretty_midi's
    SoundFont: (4, N) float32."""
    from ..data.soundfont import SoundFontRenderer

    renderer = SoundFontRenderer(None, SR)
    clips = [renderer.render_note(program, key, 100, 0.8 * seconds, 0.2 * seconds)
             for program, key in [(40, 69), (73, 76), (0, 48), (56, 62)]]
    n = int(seconds * SR)
    return np.stack([np.pad(c[:n], (0, max(0, n - len(c)))) for c in clips]).astype(np.float32)


def bench_griffin_lim(clips: np.ndarray, hop: int, n_iter: int, repeats: int) -> dict:
    """ms per 2 s clip and spectral convergence, ours vs torchaudio vs librosa, at one hop."""
    import librosa
    import torchaudio

    from ..audio.griffinlim import griffin_lim, spectral_convergence
    from ..features.config import FeatureConfig
    from ..features.spectrogram import stft_magnitude

    cfg = FeatureConfig(n_fft=1024, hop_length=hop, n_frames=clips.shape[1] // hop + 1)
    n = cfg.n_samples
    mag = stft_magnitude(torch.from_numpy(clips[:, :n]), cfg)
    one = mag[:1]

    def lib(m: torch.Tensor) -> np.ndarray:
        return librosa.griffinlim(m.numpy(), n_iter=n_iter, hop_length=hop, n_fft=cfg.n_fft,
                                  length=n, random_state=0)

    window = torch.hann_window(cfg.n_fft)

    def ta(m: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(0)  # its random initial phase comes from the global generator
        with torch.inference_mode():
            return torchaudio.functional.griffinlim(m, window, cfg.n_fft, hop, cfg.n_fft, 1.0, n_iter,
                                                    0.99, n, True)

    t = time.perf_counter()
    lib(one[0])
    lib_cold = time.perf_counter() - t
    t = time.perf_counter()
    griffin_lim(one, cfg, n_iter=n_iter)
    ours_cold = time.perf_counter() - t
    t = time.perf_counter()
    ta(one)
    ta_cold = time.perf_counter() - t
    ours_one = _median_s(lambda: griffin_lim(one, cfg, n_iter=n_iter), repeats)
    ours_batch = _median_s(lambda: griffin_lim(mag, cfg, n_iter=n_iter), repeats) / len(mag)
    ta_one = _median_s(lambda: ta(one), repeats)
    ta_batch = _median_s(lambda: ta(mag), repeats) / len(mag)
    lib_one = _median_s(lambda: lib(one[0]), repeats)
    sc_ours = spectral_convergence(mag, griffin_lim(mag, cfg, n_iter=n_iter), cfg)
    sc_ta = spectral_convergence(mag, ta(mag), cfg)
    sc_lib = spectral_convergence(mag, torch.from_numpy(np.stack([lib(m) for m in mag])), cfg)
    return {"hop": hop, "n_iter": n_iter, "clip_s": n / SR,
            "ours_ms": 1000 * ours_one, "ours_batched_ms": 1000 * ours_batch,
            "torchaudio_ms": 1000 * ta_one, "torchaudio_batched_ms": 1000 * ta_batch,
            "librosa_ms": 1000 * lib_one, "ours_cold_ms": 1000 * ours_cold,
            "torchaudio_cold_ms": 1000 * ta_cold, "librosa_cold_ms": 1000 * lib_cold,
            "speedup": lib_one / ours_one, "speedup_torchaudio": ta_one / ours_one,
            "sc_ours": float(sc_ours.mean()), "sc_torchaudio": float(sc_ta.mean()),
            "sc_librosa": float(sc_lib.mean())}


def bench_render(out: Path, n_notes: int) -> dict:
    """Notes per second of `build_notes_corpus` on `n_notes` notes."""
    from ..data.notes import build_notes_corpus

    t = time.perf_counter()
    corpus = build_notes_corpus(out, progress=False, max_notes=n_notes)
    elapsed = time.perf_counter() - t
    return {"notes": len(corpus), "seconds": elapsed, "notes_per_s": len(corpus) / elapsed,
            "corpus": str(out)}


def bench_features(data: Path, limit: int, cache_dir: Path) -> dict:
    """Items per second of `load_features`, cold (fresh cache folder) and cached."""
    from ..data.loaders import open_corpus
    from ..data.schema import Corpus
    from ..features.cache import load_features
    from ..features.config import FeatureConfig

    corpus = open_corpus(data)
    corpus = Corpus(corpus.root, corpus.items[:limit], corpus.name)
    cfg = FeatureConfig()
    t = time.perf_counter()
    cold = load_features(corpus, cfg, cache_dir=cache_dir, progress=False)
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    load_features(corpus, cfg, cache_dir=cache_dir, progress=False)
    warm_s = time.perf_counter() - t
    return {"items": len(corpus), "loaded": len(cold), "skipped": len(cold.skipped),
            "shape": list(cold.x.shape), "cold_items_per_s": len(corpus) / cold_s,
            "cached_items_per_s": len(corpus) / warm_s, "cold_s": cold_s, "cached_s": warm_s}


def format_table(res: dict) -> str:
    lines = [f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
             f"device cpu (Griffin-Lim runs on the input's device)", ""]
    for g in res["griffin_lim"]:
        lines += [
            f"Griffin-Lim, {g['clip_s']:.2f} s clip, n_fft 1024, hop {g['hop']}, {g['n_iter']} iterations:",
            f"  ours      {g['ours_ms']:8.1f} ms/clip warm (batch 1), {g['ours_batched_ms']:.1f} ms/clip "
            f"batched (4), cold first call {g['ours_cold_ms']:.0f} ms, SC {g['sc_ours']:.4f}",
            f"  torchaudio {g['torchaudio_ms']:7.1f} ms/clip warm (batch 1), {g['torchaudio_batched_ms']:.1f} "
            f"ms/clip batched (4), cold first call {g['torchaudio_cold_ms']:.0f} ms, SC {g['sc_torchaudio']:.4f}",
            f"  librosa   {g['librosa_ms']:8.1f} ms/clip warm, cold first call {g['librosa_cold_ms']:.0f} ms, "
            f"SC {g['sc_librosa']:.4f}",
            f"  speed-up  {g['speedup']:8.2f}x librosa ms / ours ms, {g['speedup_torchaudio']:.2f}x "
            "torchaudio ms / ours ms (warm, batch 1)", ""]
    r = res.get("render")
    if r:
        lines.append(f"rendering: {r['notes']} notes in {r['seconds']:.2f} s = {r['notes_per_s']:.1f} notes/s")
    f = res.get("features")
    if f:
        lines.append(f"features ({f['items']} items, {f['skipped']} skipped, x {tuple(f['shape'])}): "
                     f"cold {f['cold_items_per_s']:.1f} items/s ({f['cold_s']:.2f} s), "
                     f"cached {f['cached_items_per_s']:.0f} items/s ({f['cached_s'] * 1000:.0f} ms)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    """Measure everything (see the module docstring); print a table; return the figures."""
    if args.threads:
        torch.set_num_threads(args.threads)
    res: dict = {"threads": torch.get_num_threads()}
    clips = render_clips()
    res["griffin_lim"] = [bench_griffin_lim(clips, hop, n_iter, args.repeats)
                          for n_iter in args.gl_iters for hop in (256, 512)]
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp_name:
        tmp = Path(tmp_name)
        res["render"] = bench_render(tmp / "notes", args.notes)
        data = Path(args.data) if args.data else tmp / "notes"
        res["features"] = bench_features(data, args.feature_items, tmp / "feature-cache")
        res["features"]["data"] = str(data)
    print(format_table(res), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return res

"""`bench.py perturb`: building the perturbed-variant cache with and without worker processes.

The three-factor and re-entry configs train on K cached perturbed variants
per item (`training.perturbed.build_variants`), computed once per corpus
before the first epoch; on the notes corpus that took ~10 of a ~49-minute
training. This times the build of the same number of items in-process
(`num_workers=0`, the reference) and with `--workers` processes, alternating,
each trial on rows no other trial used (so no trial reads another's cache),
and prints seconds per item and the ratio against the reference in this run.

    python scripts/bench.py perturb --config threefactor-notes-cpu --data data/notes --rows 96
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="threefactor-notes-cpu", help="a config with perturb_cache > 0")
    parser.add_argument("--data", default="data/notes")
    parser.add_argument("--rows", type=int, default=96, help="training items per trial")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="trials per setting (alternating)")


def run(args: argparse.Namespace) -> dict:
    from disentangle.configs import load_config
    from disentangle.data.loaders import open_corpus
    from disentangle.data.schema import Corpus
    from disentangle.training.perturbed import build_variants

    cfg = load_config(args.config)
    k = int(getattr(cfg.model_config, "perturb_cache", 0) or 0)
    if k <= 0:
        raise SystemExit(f"{args.config} has no perturb_cache: nothing to build")
    corpus = open_corpus(args.data)
    train = [i for i, it in enumerate(corpus.items) if it.split == "train"]
    settings = [0, args.workers]
    if len(train) < args.rows * len(settings) * args.repeats:
        raise SystemExit(f"{args.data} has {len(train)} train items; need rows x 2 x repeats")
    seconds: dict[int, list[float]] = {w: [] for w in settings}
    with tempfile.TemporaryDirectory() as tmp:
        # A view rooted in a temp folder (the cache lands there, not in the corpus);
        # absolute item paths keep reading the corpus's audio.
        root = Path(corpus.root).resolve()
        view = Corpus(Path(tmp), [replace(it, path=str(root / it.path)) for it in corpus.items], corpus.name)
        trial = 0
        for _ in range(args.repeats):
            for w in settings:
                rows = train[trial * args.rows:(trial + 1) * args.rows]
                trial += 1
                tick = time.perf_counter()
                build_variants(view, cfg.features, rows, k, num_workers=w, progress=False)
                seconds[w].append(time.perf_counter() - tick)
    per_item = {w: min(s) / args.rows for w, s in seconds.items()}
    ratio = per_item[0] / per_item[args.workers]
    print(f"perturbed variants ({args.config}, K={k}) for {args.rows} items, best of {args.repeats}:")
    print("| workers | seconds per item | speed-up against in-process |\n|---|---|---|")
    for w in settings:
        print(f"| {w} | {per_item[w]:.3f} | {per_item[0] / per_item[w]:.2f}x |")
    return {"per_item": per_item, "ratio": ratio, "seconds": seconds}

"""`bench.py judges`: how the evaluation's judge recipe was chosen.

Trains the instrument or pitch judge (`evaluation.classifiers`) with several
recipes on a model's normalised features of a corpus's train split and
scores each on the valid split and on the held-out validation source (the
`unseen` split), on real features and on the model's reconstructions. The
test split is never read: this is where the recipe is chosen.

    python scripts/bench.py judges --checkpoint gmvae --data data/notes --label instrument
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np
import torch
from sklearn.metrics import f1_score

from disentangle.evaluation.classifiers import ClassifierConfig, SpectrogramClassifier, train_classifier

#: name -> recipe; "base" is the round-1 judge (12 epochs, no augmentation, constant LR).
RECIPES: dict[str, ClassifierConfig] = {
    "base": ClassifierConfig(epochs=12, one_cycle=False, eq_tilt_db=0.0, eq_bumps_db=0.0, gain_db=0.0),
    "augmented": ClassifierConfig(),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", default="gmvae", help="shipped name or checkpoint file")
    parser.add_argument("--data", default="data/notes", help="corpus with train, valid and unseen splits")
    parser.add_argument("--label", default="instrument", choices=["instrument", "pitch"])
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--json", default=None, help="also write the figures here")


def _scores(clf: SpectrogramClassifier, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(macro-F1, accuracy) on the items with a known label."""
    keep = y >= 0
    pred = clf.predict_proba(x[keep]).argmax(-1).numpy()
    truth = y[keep].numpy()
    return float(f1_score(truth, pred, average="macro", zero_division=0)), float(np.mean(pred == truth))


def run(args: argparse.Namespace) -> dict:
    from disentangle import load_model
    from disentangle.data.dataset import encode_labels
    from disentangle.data.loaders import open_corpus
    from disentangle.evaluation.latents import decode_batched, encode_dataset
    from disentangle.evaluation.runner import _label_maps, _normalise
    from disentangle.features.cache import load_features

    model = load_model(args.checkpoint)
    fs = load_features(open_corpus(args.data), model.features)
    items = list(fs.items)
    x = _normalise(model, fs.x)
    maps = _label_maps(model, items)
    y = torch.as_tensor(encode_labels(items, {args.label: maps[args.label]})[args.label]).long()
    split = np.array([it.split for it in items])
    rows = {s: torch.as_tensor(np.flatnonzero(split == s)) for s in ("train", "valid", "unseen")}
    if min(len(r) for r in rows.values()) == 0:
        raise SystemExit(f"{args.data} needs train, valid and unseen items ({ {k: len(v) for k, v in rows.items()} })")
    recon = {s: decode_batched(model, encode_dataset(model, x[rows[s]], 256, keep_time=True), 256)
             for s in ("valid", "unseen")}
    results: dict[str, dict] = {}
    print(f"{args.label} judge on {args.data} ({model.name} features); macro-F1 / accuracy")
    print("| recipe | seconds | valid | valid recon. | unseen | unseen recon. |\n|---|---|---|---|---|---|")
    for name in args.recipes:
        cfg = replace(RECIPES[name]).for_model(model)
        tick = time.perf_counter()
        clf = train_classifier(x[rows["train"]], y[rows["train"]], len(maps[args.label]), cfg)
        seconds = round(time.perf_counter() - tick, 1)
        scores: dict[str, tuple[float, float]] = {}
        for s in ("valid", "unseen"):
            scores[s] = _scores(clf, x[rows[s]], y[rows[s]])
            scores[s + " recon."] = _scores(clf, recon[s], y[rows[s]])
        results[name] = {"seconds": seconds, **scores}
        cells = " | ".join(f"{f1:.3f} / {acc:.3f}" for f1, acc in scores.values())
        print(f"| {name} | {seconds} | {cells} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results

"""`bench.py judges`: how the evaluation's judge recipe was chosen.

Trains the instrument or pitch judge (`evaluation.classifiers`) with several
recipes on a model's normalised features of a corpus's train split and
scores each on the valid split and on the held-out validation source (the
`unseen` split), on real features and on the model's reconstructions. The
test split is never read: this is where the recipe is chosen.

    python scripts/bench.py judges --checkpoint gmvae --data data/notes --label instrument

`--features n_mels=256` trains the judges on other features of the same
audio (normalised with the model's normaliser; the model cannot reconstruct
them, so the reconstruction columns are left out): how the GMVAE's 256 mel
bands were chosen. `--below 33` adds the accuracy on the items at or below
that MIDI pitch, where mel bands are widest against a semitone.

    python scripts/bench.py judges --checkpoint gmvae --label pitch --recipes augmented \
        --features n_mels=128 --below 33      # then n_mels=256
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np
import torch
from sklearn.metrics import f1_score

from disentangle.configs import ConfigError, apply_override, build_dataclass
from disentangle.evaluation.classifiers import ClassifierConfig, SpectrogramClassifier, train_classifier
from disentangle.features.config import FeatureConfig

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
    parser.add_argument("--features", nargs="*", default=[], metavar="KEY=VALUE",
                        help="train the judges on the model's features with these fields changed "
                             "(e.g. n_mels=256); reconstruction columns are then left out")
    parser.add_argument("--below", type=int, default=None, metavar="MIDI",
                        help="also score the items at or below this pitch (accuracy)")
    parser.add_argument("--json", default=None, help="also write the figures here")


def override_features(features: FeatureConfig, pairs: list[str]) -> FeatureConfig:
    """`features` with KEY=VALUE fields changed, parsed and type-checked as `train.py --set features.KEY=VALUE`.

    Raises SystemExit naming the pair and the problem.
    """
    values = {"features": features.to_dict()}
    for pair in pairs:  # one at a time, so the message names the pair at fault
        try:
            apply_override(values, f"features.{pair}", "--features")
            features = build_dataclass(FeatureConfig, values["features"], "--features")
        except ConfigError as exc:
            raise SystemExit(f"--features {pair!r}: expected KEY=VALUE, a FeatureConfig field and a value "
                             f"of its type ({exc})") from None
    return features


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
    features = override_features(model.features, args.features)
    own = features == model.features
    fs = load_features(open_corpus(args.data), features)
    items = list(fs.items)
    x = _normalise(model, fs.x)
    maps = _label_maps(model, items)
    y = torch.as_tensor(encode_labels(items, {args.label: maps[args.label]})[args.label]).long()
    split = np.array([it.split for it in items])
    rows = {s: torch.as_tensor(np.flatnonzero(split == s)) for s in ("train", "valid", "unseen")}
    if min(len(r) for r in rows.values()) == 0:
        raise SystemExit(f"{args.data} needs train, valid and unseen items ({ {k: len(v) for k, v in rows.items()} })")
    recon = {s: decode_batched(model, encode_dataset(model, x[rows[s]], 256, keep_time=True), 256)
             for s in ("valid", "unseen")} if own else {}
    pitch = np.array([it.pitch for it in items])  # -1: unpitched
    results: dict[str, dict] = {}
    columns = [c for s in ("valid", "unseen") for c in (s, s + " recon.") if own or c == s]
    if args.below is not None:
        columns += [f"{s} <= {args.below}" for s in ("valid", "unseen")]
    shape = f"{features.n_bins} bins" + ("" if own else f", changed: {' '.join(args.features)}")
    print(f"{args.label} judge on {args.data} ({model.name} features, {shape}); macro-F1 / accuracy")
    print(f"| recipe | seconds | {' | '.join(columns)} |\n|---|---|{'---|' * len(columns)}")
    for name in args.recipes:
        cfg = replace(RECIPES[name]).for_model(model)
        tick = time.perf_counter()
        clf = train_classifier(x[rows["train"]], y[rows["train"]], len(maps[args.label]), cfg)
        seconds = round(time.perf_counter() - tick, 1)
        scores: dict[str, tuple[float, float]] = {}
        for s in ("valid", "unseen"):
            scores[s] = _scores(clf, x[rows[s]], y[rows[s]])
            if own:
                scores[s + " recon."] = _scores(clf, recon[s], y[rows[s]])
        if args.below is not None:
            for s in ("valid", "unseen"):
                midi = pitch[rows[s].numpy()]
                low = rows[s][torch.as_tensor((midi >= 0) & (midi <= args.below))]
                scores[f"{s} <= {args.below}"] = _scores(clf, x[low], y[low]) if len(low) else (float("nan"),) * 2
        results[name] = {"seconds": seconds, **scores}
        cells = " | ".join(f"{f1:.3f} / {acc:.3f}" for f1, acc in scores.values())
        print(f"| {name} | {seconds} | {cells} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results

"""Cross-source evaluation: how a model reads sounds from a sample source it never heard.

Everything is fitted on the training corpus and applied unchanged to the held
corpus ("zero-shot", the way the app places a user's sound on the map):

- linear probes (macro-F1) and 1-NN / 5-NN classifiers, trained on TRAIN's
  train-split latents, scored on HELD's items, per space x label;
- reconstruction MSE on HELD, and its ratio to TRAIN's test-split MSE;
- the instrument and pitch judges (CNNs trained on TRAIN's real train
  spectrograms) scoring HELD's real spectrograms and HELD's reconstructions.

Labels are matched by name through the model's label maps; HELD items whose
label TRAIN never saw are counted per column and left out of that column.
HELD's items are its "unseen" split when it has one (a source held out at
build time), else its test split.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from disentangle.data.schema import UNKNOWN, Corpus, Item
from disentangle.data.splits import UNSEEN
from disentangle.evaluation.classifiers import SpectrogramClassifier, load_or_train, macro_f1
from disentangle.evaluation.frames import annotation_frame_labels
from disentangle.evaluation.latents import decode_batched, encode_dataset, reconstruction_mse
from disentangle.evaluation.probes import probe_spaces
from disentangle.evaluation.runner import EvalConfig, _features, _label_maps, _normalise
from disentangle.features.cache import FeatureSet
from disentangle.models.base import DisentangleModel


def _name(data: Corpus | FeatureSet, default: str) -> str:
    return data.name if isinstance(data, Corpus) else default


def held_split(items: list[Item]) -> str:
    """The split of a held corpus that cross-source evaluation scores."""
    return UNSEEN if any(i.split == UNSEEN for i in items) else "test"


def _accuracy(clf: SpectrogramClassifier, x: torch.Tensor, y: np.ndarray) -> float | None:
    """Share of the labelled items of x: (N, F, T) that the judge classifies as y: (N,)."""
    keep = np.flatnonzero(y >= 0)
    if keep.size == 0:
        return None
    pred = clf.predict_proba(x[torch.as_tensor(keep)]).argmax(-1).numpy()
    return float((pred == y[keep]).mean())


def cross_source(model: DisentangleModel, train: Corpus | FeatureSet, held: Corpus | FeatureSet, *,
                 cfg: EvalConfig = EvalConfig(), progress: bool = False,
                 log: Callable[[str], None] | None = None) -> dict:
    """The `cross_source` section of a report: `model` fitted on `train`, scored on `held`.

    train / held: corpora (or their `FeatureSet`s: no judge cache, no frame labels).
    Local spaces are scored frame by frame when both corpora carry frame
    annotations (phrases), as `runner.evaluate` does. The judges are cached under `<train root>/.cache` like the runner's.
    Returns a JSON-able dict: held corpus, sources, counts, probe_f1 /
    nn1_acc / knn_acc {space: {label: float}}, recon_mse (held, train test,
    ratio), judges {label: {f1_real, f1_recon, acc_recon}}, left_out
    {label: count of held items whose class TRAIN never saw}.
    """
    say = log or (lambda msg: None)
    tick = time.perf_counter()
    x_all, items, _ = _features(model, train, progress)
    train_idx = np.array([i for i, it in enumerate(items) if it.split == "train"], dtype=int)
    test_idx = np.array([i for i, it in enumerate(items) if it.split == "test"], dtype=int)
    hx_all, hitems, _ = _features(model, held, progress)
    split = held_split(hitems)
    held_idx = np.array([i for i, it in enumerate(hitems) if it.split == split], dtype=int)
    if len(train_idx) == 0 or len(held_idx) == 0:
        raise ValueError(f"cross-source evaluation needs train items in {_name(train, 'train')} "
                         f"({len(train_idx)}) and {split!r} items in {_name(held, 'held')} ({len(held_idx)})")
    train_items = [items[i] for i in train_idx]
    held_items = [hitems[i] for i in held_idx]
    overlap = sorted({i.source for i in held_items} & {i.source for i in train_items} - {UNKNOWN})
    maps = _label_maps(model, train_items)
    from disentangle.data.dataset import encode_labels
    ytr = {k: np.asarray(v, dtype=np.int64) for k, v in encode_labels(train_items, maps).items()}
    yhe = {k: np.asarray(v, dtype=np.int64) for k, v in encode_labels(held_items, maps).items()}
    left_out = {k: int(sum(1 for it in held_items if it.label(k) not in (UNKNOWN,) and
                           it.label(k) not in set(maps[k]))) for k in maps}

    x_tr = _normalise(model, x_all[train_idx])
    x_te = _normalise(model, x_all[test_idx]) if len(test_idx) else None
    x_he = _normalise(model, hx_all[held_idx])
    cache_dir = Path(train.root) / ".cache" if isinstance(train, Corpus) else None
    train_name, held_name = _name(train, "train"), _name(held, "held")
    out: dict[str, Any] = {
        "train_corpus": train_name, "held_corpus": held_name, "held_split": split,
        "held_sources": sorted({i.source for i in held_items}),
        "train_sources": sorted({i.source for i in train_items}),
        "sources_in_both": overlap, "n_train": len(train_idx), "n_held": len(held_idx),
        "left_out": left_out,
    }
    held_mse = reconstruction_mse(model, x_he, cfg.batch_size)
    ref_mse = reconstruction_mse(model, x_te, cfg.batch_size) if x_te is not None else None
    out["recon_mse"] = {"held": held_mse, "train_test": ref_mse,
                        "ratio": (held_mse / ref_mse) if ref_mse else None}
    z_tr = encode_dataset(model, x_tr, cfg.batch_size, keep_time=True)
    z_he = encode_dataset(model, x_he, cfg.batch_size, keep_time=True)
    local = {s.name for s in model.spaces if s.scope == "local"}
    hook = None
    train_frames = annotation_frame_labels(train, model.features, maps) if isinstance(train, Corpus) else None
    held_frames = annotation_frame_labels(held, model.features, maps) if isinstance(held, Corpus) else None
    if train_frames is not None and held_frames is not None:
        hooks = {"train": (train_frames, train_items), "test": (held_frames, held_items)}
        hook = lambda which, col, n: hooks[which][0](hooks[which][1], col, n)
    f1, knn, frame_wise = probe_spaces(z_tr, z_he, ytr, yhe, local, hook, cfg.probe)
    _, nn1, _ = probe_spaces(z_tr, z_he, ytr, yhe, local, hook, replace(cfg.probe, k=1))
    out.update(probe_f1=f1, nn1_acc=nn1, knn_acc=knn, frame_wise=frame_wise)
    say(f"cross-source probes on {held_name}: {f1}")

    judges: dict[str, dict[str, float | None]] = {}
    recon = decode_batched(model, z_he, cfg.batch_size)
    for col in ("instrument", "pitch"):
        if len(maps.get(col, [])) < 2 or not (yhe[col] >= 0).any():
            continue
        clf = load_or_train(x_tr, torch.as_tensor(ytr[col]), maps[col], cache_dir, col, cfg.classifier.for_model(model))
        judges[col] = {"f1_real": macro_f1(clf, x_he, torch.as_tensor(yhe[col])),
                       "f1_recon": macro_f1(clf, recon, torch.as_tensor(yhe[col])),
                       "acc_real": _accuracy(clf, x_he, yhe[col]),
                       "acc_recon": _accuracy(clf, recon, yhe[col])}
    out["judges"] = judges
    out["seconds"] = round(time.perf_counter() - tick, 2)
    return out


def cross_source_markdown(sections: dict[str, dict]) -> list[str]:
    """Markdown lines for the report's `cross_source` {held corpus: section}."""
    from disentangle.evaluation.report import _fmt, _table

    out: list[str] = []
    for name, cs in sections.items():
        both = f" Sources also in training: {cs['sources_in_both']}." if cs.get("sources_in_both") else ""
        out += [f"## Cross-source: `{name}` (never trained on)", "",
                f"Fitted on {cs['train_corpus']} ({cs['n_train']} train items, sources "
                f"{', '.join(cs['train_sources'])}); scored on {cs['n_held']} items of split "
                f"`{cs['held_split']}`, sources {', '.join(cs['held_sources'])}.{both}", ""]
        mse = cs.get("recon_mse", {})
        out += [f"Reconstruction MSE {_fmt(mse.get('held'))} against {_fmt(mse.get('train_test'))} "
                f"in-domain (ratio **{_fmt(mse.get('ratio'))}**).", ""]
        f1, nn1, knn = cs.get("probe_f1", {}), cs.get("nn1_acc", {}), cs.get("knn_acc", {})
        labels = sorted({c for d in f1.values() for c in d})
        if labels:
            out += ["Linear-probe macro-F1 / 1-NN / 5-NN accuracy (zero-shot):", ""]
            out += _table(["space"] + labels, [[sp] + [
                f"{_fmt(f1[sp].get(c))} / {_fmt(nn1.get(sp, {}).get(c))} / {_fmt(knn.get(sp, {}).get(c))}"
                for c in labels] for sp in sorted(f1)]) + [""]
        if cs.get("judges"):
            out += _table(["judge", "F1 real", "F1 recon.", "acc. real", "acc. recon."],
                          [[k, v.get("f1_real"), v.get("f1_recon"), v.get("acc_real"), v.get("acc_recon")]
                           for k, v in cs["judges"].items()]) + [""]
        left = {k: v for k, v in cs.get("left_out", {}).items() if v}
        if left:
            out += [f"Items left out (a class training never saw): {left}.", ""]
    return out

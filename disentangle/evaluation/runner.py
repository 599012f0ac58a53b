"""`evaluate(model, data, split)`: every figure of the report, through the model interface.

Reads features with the model's own feature settings and normaliser, encodes
labels with the model's label maps, then computes reconstruction error,
linear-probe F1 and k-NN accuracy per space x label, controllable synthesis
and timbre transfer scores (see the sibling modules for the protocols). Only
`model.spaces`, `encode`, `decode`, `priors()`, `label_maps`, `normaliser` and
`features` are used, never a model class.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from disentangle.data.schema import LABELS, Corpus, Item
from disentangle.evaluation.classifiers import ClassifierConfig, load_or_train, macro_f1
from disentangle.evaluation.generation import space_components, synthesis_scores, transfer_scores
from disentangle.evaluation.latents import decode_batched, encode_dataset, reconstruction_mse
from disentangle.evaluation.probes import ProbeConfig, probe_spaces
from disentangle.evaluation.subsets import subset_scores
from disentangle.evaluation.swaps import SwapConfig, swap_scores
from disentangle.models.base import DisentangleModel

#: (items, label column, number of frames T') -> (N, T') int indices into the
#: model's label map for that column (-1 unknown), or None when the corpus
#: has no per-frame annotation of that column. For local (per-frame) spaces.
FrameLabelFn = Callable[[list[Item], str, int], "np.ndarray | None"]


@dataclass(frozen=True)
class EvalConfig:
    """Knobs of `evaluate`; the defaults follow the papers at CPU scale.

    spreads: w of Luo 2019 Sec. 4.3; alphas: alpha of Sec. 4.4.
    synthesis_targets / repeats: synthesis targets (evaluated items, None for
    all; the paper uses all) and samples of each at w > 0 (the paper: 30).
    max_items / max_targets: transfer sources and targets per source.
    """

    batch_size: int = 256
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    spreads: tuple[float, ...] = (0.0, 0.5, 1.0)
    alphas: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    synthesis_targets: int | None = None
    repeats: int = 30
    max_items: int = 200
    max_targets: int = 3
    synthesis: bool = True
    transfer: bool = True
    #: v-swap / z-swap protocol (`swaps`) for models with global and local spaces.
    swaps: bool = True
    swap: SwapConfig = field(default_factory=SwapConfig)
    seed: int = 0


def _features(model: DisentangleModel, data: Any, progress: bool) -> tuple[np.ndarray, list[Item], Path | None]:
    """(N, F, T) scaled features, their items, and the corpus root (None if unknown)."""
    if isinstance(data, (str, Path)):
        from disentangle.data.loaders import open_corpus
        data = open_corpus(data)
    if isinstance(data, Corpus):
        from disentangle.features.cache import load_features
        fs = load_features(data, model.features, progress=progress)
        return fs.x, list(fs.items), Path(data.root)
    if hasattr(data, "x") and hasattr(data, "items"):  # a FeatureSet
        return np.asarray(data.x), list(data.items), None
    raise TypeError(f"evaluate() needs a Corpus, a FeatureSet or a corpus folder, got {type(data).__name__}")


def _label_maps(model: DisentangleModel, items: list[Item]) -> dict[str, list[str]]:
    """The model's label maps, plus corpus maps for other label columns it lacks."""
    from disentangle.data.dataset import make_label_maps
    maps = {k: list(v) for k, v in model.label_maps.items()}
    extra = [c for c in LABELS if c not in maps]
    if extra:
        maps.update({k: v for k, v in make_label_maps(items, extra).items() if len(v) >= 2})
    return maps


def _normalise(model: DisentangleModel, x: np.ndarray) -> torch.Tensor:
    """(N, F, T) scaled -> normalised float32 tensor with the model's normaliser."""
    norm = getattr(model, "normaliser", None)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return xt if norm is None else torch.as_tensor(norm(xt), dtype=torch.float32)


def shown_path(path) -> str:
    """The checkpoint path as the report shows it: relative to the working
    folder when inside it (committed reports do not name this machine's paths)."""
    if not path:
        return ""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def evaluate(model: DisentangleModel, data: Any, split: str = "test", *,
             frame_labels: FrameLabelFn | None = None, cfg: EvalConfig = EvalConfig(),
             cache_dir: str | Path | None = None, progress: bool = False,
             log: Callable[[str], None] | None = None) -> dict:
    """The full evaluation report of `model` on `data`'s `split`.

    data: a `Corpus`, a corpus folder, or a `FeatureSet` (x: (N, F, T) scaled
      features and items); read-outs are trained on its "train" items.
    frame_labels: optional per-frame labels for local spaces (`FrameLabelFn`).
    cache_dir: where the spectrogram classifiers are cached; default
      `<corpus root>/.cache` (no caching for a bare FeatureSet).
    Returns a JSON-able dict (keys documented in `report_to_markdown`).
    """
    say = log or (lambda msg: None)
    seconds: dict[str, float] = {}
    tick = time.perf_counter()

    x_scaled, items, root = _features(model, data, progress)
    if cache_dir is None and root is not None:
        cache_dir = root / ".cache"
    x = _normalise(model, x_scaled)
    train_idx = np.array([i for i, it in enumerate(items) if it.split == "train"], dtype=int)
    eval_idx = np.array([i for i, it in enumerate(items) if it.split == split], dtype=int)
    if len(eval_idx) == 0:
        raise ValueError(f"no item of split {split!r} (splits present: {sorted({i.split for i in items})})")
    if len(train_idx) == 0:
        raise ValueError("no item of split 'train': the read-out classifiers need training items")
    maps = _label_maps(model, items)
    from disentangle.data.dataset import encode_labels
    labels = {k: torch.as_tensor(v).long().numpy() for k, v in encode_labels(items, maps).items()}
    ytr = {k: v[train_idx] for k, v in labels.items()}
    yte = {k: v[eval_idx] for k, v in labels.items()}
    x_tr, x_te = x[torch.as_tensor(train_idx)], x[torch.as_tensor(eval_idx)]
    seconds["features"] = time.perf_counter() - tick

    judge_cfg = cfg.classifier.for_model(model)
    report: dict[str, Any] = {
        "model": model.describe(),
        "checkpoint": shown_path(getattr(model, "checkpoint_path", None)),
        "split": split, "n_train": len(train_idx), "n_eval": len(eval_idx),
        "features": model.features.to_dict(),
    }
    tick = time.perf_counter()
    report["recon_mse"] = reconstruction_mse(model, x_te, cfg.batch_size)
    say(f"recon_mse {report['recon_mse']:.5f}")
    z_tr = encode_dataset(model, x_tr, cfg.batch_size, keep_time=True)
    z_te = encode_dataset(model, x_te, cfg.batch_size, keep_time=True)
    seconds["encode"] = time.perf_counter() - tick

    tick = time.perf_counter()
    local = {s.name for s in model.spaces if s.scope == "local"}
    hook = None
    if frame_labels is not None:
        groups = {"train": [items[i] for i in train_idx], "test": [items[i] for i in eval_idx]}
        hook = lambda which, col, n: frame_labels(groups[which], col, n)
    f1, acc, frame_wise = probe_spaces(z_tr, z_te, ytr, yte, local, hook, cfg.probe)
    report.update(probe_f1=f1, knn_acc=acc, frame_wise=frame_wise)
    subsets = subset_scores(z_tr, z_te, ytr, yte, [items[i] for i in train_idx], [items[i] for i in eval_idx],
                            local, frame_labels, cfg.probe)
    if subsets:
        report["subsets"] = subsets
    seconds["probes"] = time.perf_counter() - tick
    say(f"probes done in {seconds['probes']:.1f} s")

    comps = space_components(model, z_tr, ytr, maps)
    by_space = {name: c.source for name, c in comps.items()}
    kinds = set(by_space.values())
    report["components"] = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none")
    report["components_by_space"] = by_space

    if (cfg.synthesis or cfg.transfer) and all(len(maps.get(c, [])) >= 2 for c in ("instrument", "pitch")):
        tick = time.perf_counter()
        clfs, ref = {}, {}
        # The judges' F1 on posterior-mean reconstructions is the ceiling that
        # decoded (synthesised, transferred) spectrograms can reach.
        recon = decode_batched(model, z_te, cfg.batch_size)
        for col in ("instrument", "pitch"):
            clfs[col] = load_or_train(x_tr, torch.as_tensor(ytr[col]), maps[col], cache_dir, col, judge_cfg)
            ref[col] = {"f1": macro_f1(clfs[col], x_te, torch.as_tensor(yte[col])),
                        "recon_f1": macro_f1(clfs[col], recon, torch.as_tensor(yte[col])),
                        "classes": len(maps[col])}
        report["classifiers"] = ref
        seconds["classifiers"] = time.perf_counter() - tick
        say(f"classifiers ready in {seconds['classifiers']:.1f} s: {ref}")
        tick = time.perf_counter()
        if cfg.synthesis:
            report["synthesis"] = synthesis_scores(
                model, comps, z_tr, ytr, maps, clfs["instrument"], clfs["pitch"],
                {"instrument": yte["instrument"], "pitch": yte["pitch"]}, cfg.spreads,
                cfg.synthesis_targets, cfg.repeats, cfg.seed, cfg.batch_size)
        if cfg.transfer:
            report["transfer"] = transfer_scores(
                model, comps, z_te, yte, maps, clfs["instrument"], clfs["pitch"], cfg.alphas,
                cfg.max_items, cfg.max_targets, cfg.seed, cfg.batch_size)
        seconds["generation"] = time.perf_counter() - tick
    else:
        why = "needs instrument and pitch labels with at least 2 classes each"
        report["synthesis"] = {"skipped": why}
        report["transfer"] = {"skipped": why}

    scopes = {s.scope for s in model.spaces}
    if cfg.swaps and scopes == {"global", "local"} and len(maps.get("instrument", [])) >= 2:
        tick = time.perf_counter()
        # The same instrument judge as above (a cache hit when it was trained).
        judge = load_or_train(x_tr, torch.as_tensor(ytr["instrument"]), maps["instrument"], cache_dir,
                              "instrument", judge_cfg)
        report["swaps"] = swap_scores(model, x_te, yte["instrument"], [items[i] for i in eval_idx], judge,
                                      root, z=z_te, reference=(x_tr, ytr["instrument"]),
                                      cfg=replace(cfg.swap, seed=cfg.seed))
        seconds["swaps"] = time.perf_counter() - tick
        say(f"swaps done in {seconds['swaps']:.1f} s")
    report["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    return report

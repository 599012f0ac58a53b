"""Swap evaluation of global/local models (Luo, Ewert & Dixon 2024, Sec. 4.3, Table 1).

A sequence model splits an item into global spaces v (one vector per item:
timbre) and local spaces z (one vector per frame: pitch, variation). Test
items are paired at random (a seeded derangement, so no item is paired with
itself) and decoded with one part swapped:

  Recon.    decode(v_i, z_i)
  v-swap    decode(v_j, z_i): should sound like instrument y_j playing i's contour
  z-swap    decode(v_i, z_j): should sound like instrument y_i playing j's contour
  random-v  decode(v ~ prior, z_i): an unconditional timbre on i's contour

and scored by
  instrument macro-F1 of the judge trained on REAL features
    (`classifiers.load_or_train`), against y_j (v-swap) or y_i (z-swap, Recon.);
  raw pitch accuracy (RPA): Griffin-Lim audio of the output, CREPE pitch
    (`crepe.track_pitch`), within 50 cents of the annotated contour of the
    item whose z was decoded (i for Recon./v-swap, j for z-swap), over the
    frames where that contour is voiced;
  Frechet distance (`frechet`) between the judge's penultimate-layer
    embeddings of the outputs and of the real evaluated items, class by class
    (outputs grouped by their target instrument; random-v by the instrument
    the judge hears, as the paper does) and averaged over instruments, plus
    the pooled distance over all items.

Which spaces are v and which z is read from `model.spaces` (scope), so any
model with both kinds is scored the same way. Repeated pairings give a mean
and standard deviation, as the paper's three random pairings. CPU cost is in
Griffin-Lim + CREPE, so RPA uses a seeded subset (`SwapConfig.rpa_items`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import Tensor

from disentangle.data.schema import Item
from disentangle.evaluation.classifiers import SpectrogramClassifier
from disentangle.evaluation.crepe import CrepeConfig, midi_to_hz, raw_pitch_hits, track_pitch
from disentangle.evaluation.frames import annotations_at
from disentangle.evaluation.frechet import classifier_embeddings, classwise_frechet, frechet_distance
from disentangle.evaluation.latents import decode_batched, encode_dataset
from disentangle.models.base import DisentangleModel

CONDITIONS = ("recon", "v-swap", "z-swap", "random-v")


@dataclass(frozen=True)
class SwapConfig:
    """Settings of the swap protocol.

    repeats: random pairings (Luo 2024: three). rpa_items / rpa_repeats: items
      per pairing and pairings whose outputs are resynthesised and pitch
      tracked (Griffin-Lim + CREPE cost ~0.1-0.5 s per 4-s clip on a shared
      CPU). rpa_real: also track Griffin-Lim audio of the REAL features, the
      ceiling the resynthesis pipeline allows. crepe: tracker settings (tiny
      model, 20 ms hop here to halve the cost; threshold 0.5). chunk: clips
      resynthesised and tracked at a time.
    """

    repeats: int = 3
    rpa_items: int = 32
    rpa_repeats: int = 1
    rpa_real: bool = True
    griffin_lim_iters: int = 32
    crepe: CrepeConfig = field(default_factory=lambda: CrepeConfig(hop_ms=20.0))
    cents: float = 50.0
    batch_size: int = 128
    chunk: int = 8
    seed: int = 0


def split_spaces(model: DisentangleModel) -> tuple[list[str], list[str]]:
    """(global space names = v, local space names = z) of a model."""
    return ([s.name for s in model.spaces if s.scope == "global"],
            [s.name for s in model.spaces if s.scope == "local"])


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random partner j != i for every i (one random cycle through all n >= 2 items): (n,)."""
    order = rng.permutation(n)
    partner = np.empty(n, dtype=int)
    partner[order] = np.roll(order, -1)
    return partner


def swapped(z: dict[str, np.ndarray], partner: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Latents with the spaces in `names` taken from each item's partner."""
    return {k: (v[partner] if k in names else v) for k, v in z.items()}


def prior_sample(model: DisentangleModel, names: list[str], n: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """n draws per global space from its prior: a uniformly chosen mixture
    component where the model has one (`priors()`), else N(0, I). {name: (n, D)}."""
    priors = model.priors()
    out = {}
    for name in names:
        size = model.space(name).size
        eps = rng.standard_normal((n, size)).astype(np.float32)
        if name in priors and priors[name].means.dim() == 2:
            means = priors[name].means.detach().float().cpu().numpy()
            stds = np.broadcast_to(priors[name].stds.detach().float().cpu().numpy(), means.shape)
            k = rng.integers(len(means), size=n)
            out[name] = means[k] + stds[k] * eps
        else:
            out[name] = eps
    return out


def pitch_accuracy(model: DisentangleModel, x_gen: Tensor, target_items: list[Item], root: str | Path,
                   cfg: SwapConfig) -> tuple[int, int]:
    """(correct, total) RPA frames of generated features against the targets' annotated contours.

    x_gen: (B, F, T) normalised features; target_items: the B items whose
    annotation (pitch contour) each output should follow.
    """
    from disentangle.audio.griffinlim import features_to_audio
    from disentangle.features.spectrogram import Normaliser
    norm = getattr(model, "normaliser", None) or Normaliser("none")
    correct = total = 0
    # Small chunks: Griffin-Lim on 16 clips at once ran 2.7x faster per clip
    # than on 48 here (the STFT buffers of a big batch spill the caches).
    for start in range(0, len(x_gen), cfg.chunk):
        audio = features_to_audio(x_gen[start:start + cfg.chunk], model.features, norm,
                                  n_iter=cfg.griffin_lim_iters)
        track = track_pitch(audio, model.features.sample_rate, cfg.crepe)
        ann = annotations_at(target_items[start:start + cfg.chunk], root, track.times)
        h, t = raw_pitch_hits(track.f0, track.voiced, midi_to_hz(ann.pitch), ann.voiced, cfg.cents)
        correct, total = correct + h, total + t
    return correct, total


def _summary(values: list[float | None]) -> dict[str, float] | float | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    if len(values) == 1:
        return float(vals[0])
    return {"mean": float(np.mean(vals)), "std": float(np.std(vals))}


def swap_scores(model: DisentangleModel, x: Tensor, labels: np.ndarray, items: list[Item],
                clf: SpectrogramClassifier, root: str | Path | None = None,
                z: dict[str, np.ndarray] | None = None,
                reference: tuple[Tensor, np.ndarray] | None = None,
                cfg: SwapConfig = SwapConfig()) -> dict:
    """The swap section of a report (Luo 2024 Table 1 layout; see the module docstring).

    x: (N, F, T) normalised features of the evaluated items; labels: (N,)
    instrument indices of the judge `clf` (-1 unknown); items: their `Item`s
    (annotations read relative to `root`; RPA is skipped without a root or
    annotations); z: their latent means if already encoded ({space: (N, D) or
    (N, T', D)}); reference: (x_train (M, F, T), labels (M,)) real training
    items, whose class-wise Frechet distance to the evaluated items is the
    real-data floor. Returns {"protocol", "instrument_f1", "rpa", "frechet",
    "frechet_pooled"}, each {condition: float or {"mean", "std"}}, or
    {"skipped": reason}.
    """
    v_names, z_names = split_spaces(model)
    if not v_names or not z_names:
        return {"skipped": "needs both a global (v) and a local (z) latent space"}
    n = len(x)
    if n < 2:
        return {"skipped": "needs at least two evaluated items"}
    rng = np.random.default_rng(cfg.seed)
    z = z if z is not None else encode_dataset(model, x, cfg.batch_size, keep_time=True)
    labels = np.asarray(labels)
    real_emb = classifier_embeddings(clf, x)
    rpa_idx = np.sort(rng.choice(n, size=min(cfg.rpa_items, n), replace=False))
    # Annotations are read relative to root: no root or no contour, no RPA.
    rpa_root = root if root is not None and any(items[i].extra.get("annotations") for i in rpa_idx) else None
    do_rpa = rpa_root is not None

    def f1(pred: np.ndarray, target: np.ndarray) -> float | None:
        keep = target >= 0
        return float(f1_score(target[keep], pred[keep], average="macro", zero_division=0)) if keep.any() else None

    f1s: dict[str, list] = {c: [] for c in CONDITIONS}
    fds: dict[str, list] = {c: [] for c in CONDITIONS}
    pooled: dict[str, list] = {c: [] for c in CONDITIONS}
    hits: dict[str, list[int]] = {c: [0, 0] for c in CONDITIONS}
    real_pred = clf.predict_proba(x).argmax(-1).numpy()
    for r in range(cfg.repeats):
        partner = derangement(n, rng)
        # (latents, target instrument, whose contour): z_i decoded in a
        # v-swap keeps i's contour; z_j decoded in a z-swap carries j's.
        plans = {"v-swap": (swapped(z, partner, v_names), labels[partner], np.arange(n)),
                 "z-swap": (swapped(z, partner, z_names), labels, partner)}
        if r == 0:
            plans = {"recon": (z, labels, np.arange(n)), **plans}
        plans["random-v"] = ({**z, **prior_sample(model, v_names, n, rng)}, None, np.arange(n))
        for cond, (zc, target, contour) in plans.items():
            x_gen = decode_batched(model, zc, cfg.batch_size)
            pred = clf.predict_proba(x_gen).argmax(-1).numpy()
            emb = classifier_embeddings(clf, x_gen)
            if target is not None:
                f1s[cond].append(f1(pred, target))
            group = target if target is not None else pred
            fds[cond].append(classwise_frechet(emb, group, real_emb, labels)["mean"])
            pooled[cond].append(frechet_distance(emb, real_emb))
            if rpa_root is not None and r < cfg.rpa_repeats and cond != "random-v":
                h, t = pitch_accuracy(model, x_gen[torch.as_tensor(rpa_idx)],
                                      [items[contour[i]] for i in rpa_idx], rpa_root, cfg)
                hits[cond][0] += h
                hits[cond][1] += t
    rpa: dict[str, float | None] = {c: (h / t if t else None) for c, (h, t) in hits.items() if c != "random-v"}
    if rpa_root is not None and cfg.rpa_real:
        h, t = pitch_accuracy(model, x[torch.as_tensor(rpa_idx)], [items[i] for i in rpa_idx], rpa_root, cfg)
        rpa = {"real": h / t if t else None, **rpa}
    frechet = {c: _summary(v) for c, v in fds.items()}
    if reference is not None:
        ref_emb = classifier_embeddings(clf, reference[0])
        frechet = {"real": classwise_frechet(ref_emb, np.asarray(reference[1]), real_emb, labels)["mean"],
                   **frechet}
    return {
        "protocol": {**{k: v for k, v in asdict(cfg).items() if k not in ("batch_size", "chunk")},
                     "v": v_names, "z": z_names, "items": n, "rpa_items": len(rpa_idx) if do_rpa else 0,
                     "embedder": "instrument judge, penultimate layer (time-averaged conv trunk)"},
        "instrument_f1": {"real": f1(real_pred, labels), **{c: _summary(v) for c, v in f1s.items() if v}},
        "rpa": rpa if do_rpa else {"skipped": "no frame annotations (pitch contours) for the evaluated items"},
        "frechet": frechet,
        "frechet_pooled": {c: _summary(v) for c, v in pooled.items()},
    }


def _cell(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, dict):
        return f"{v['mean']:.3f} ({v['std']:.3f})"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def swaps_markdown(section: dict) -> list[str]:
    """Markdown lines of a `swap_scores` section, laid out like Luo 2024 Table 1."""
    out = ["## Swaps (Luo et al. 2024: v-swap / z-swap, Table 1 layout)", ""]
    if "skipped" in section:
        return out + [f"Skipped: {section['skipped']}.", ""]
    p = section.get("protocol", {})
    f1, rpa, fd = section.get("instrument_f1", {}), section.get("rpa", {}), section.get("frechet", {})
    out += ["| | Global (instrument F1) || Local (RPA) || Frechet (judge embeddings) ||||",
            "|---|---|---|---|---|---|---|---|---|",
            "| | v-swap | z-swap | v-swap | z-swap | Recon. | v-swap | z-swap | Rand. |",
            "| " + " | ".join([str(p.get("v", "")) + " / " + str(p.get("z", ""))]
                            + [_cell(f1.get("v-swap")), _cell(f1.get("z-swap")),
                               _cell(rpa.get("v-swap")), _cell(rpa.get("z-swap"))]
                            + [_cell(fd.get(c)) for c in CONDITIONS]) + " |", ""]
    out += [f"Real data: judge F1 {_cell(f1.get('real'))}, Recon. F1 {_cell(f1.get('recon'))}; "
            f"RPA of Griffin-Lim of real features {_cell(rpa.get('real'))}, of Recon. {_cell(rpa.get('recon'))}; "
            f"Frechet real train vs evaluated {_cell(fd.get('real'))}. "
            f"Means (std) over {p.get('repeats', '?')} random pairings of {p.get('items', '?')} items; "
            f"RPA on {p.get('rpa_items', 0)} items, CREPE {p.get('crepe', {}).get('capacity', '?')}; "
            "Frechet distance per target instrument, averaged over instruments.", ""]
    return out

"""Controllable synthesis and timbre transfer, scored by classifiers of real data.

Luo et al. 2019:
- Sec. 4.3, synthesis: for the instrument and pitch of each evaluated item,
  decode z = mu_k + w * sigma_k * eps from that instrument's component and
  that pitch's component, w in {0, 0.5, 1}; the instrument and pitch
  classifiers should recognise what was asked for (macro-F1).
- Sec. 4.4, transfer: move an item's timbre code by alpha (mu_target -
  mu_source), alpha in [0, 1], keep its other codes; the instrument
  classifier's probability of the target should rise with alpha while the
  pitch classifier still hears the source pitch.

Components come from `model.priors()` where a space has a mixture prior, and
otherwise from the class means (and class standard deviations) of the
training latents, so that baselines without mixture priors are scored the
same way (`Components.source` says which).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import f1_score

from disentangle.evaluation.classifiers import SpectrogramClassifier
from disentangle.evaluation.latents import decode_batched
from disentangle.models.base import DisentangleModel


@dataclass
class Components:
    """Per-class Gaussians of one latent space.

    means, stds: (K, D) or, for local spaces, (K, T', D); labels: the K class
    names (values of `column`); source: "prior" or "class-means".
    """

    column: str
    labels: list[str]
    means: np.ndarray
    stds: np.ndarray
    source: str

    def index(self, label: str) -> int | None:
        return self.labels.index(label) if label in self.labels else None


def space_components(model: DisentangleModel, train: dict[str, np.ndarray],
                     train_labels: dict[str, np.ndarray],
                     label_maps: dict[str, list[str]]) -> dict[str, Components]:
    """Components of every space that has a label column.

    train: {space: (N, D) or (N, T', D)} training latent means (local spaces
    with their time axis); train_labels: {column: (N,) int, -1 unknown}.
    """
    priors = model.priors()
    out: dict[str, Components] = {}
    for space in model.spaces:
        col = space.label
        z = train[space.name]
        if space.name in priors:
            p = priors[space.name]
            means = p.means.detach().float().cpu().numpy()
            stds = np.broadcast_to(p.stds.detach().float().cpu().numpy(), means.shape)
            if z.ndim == 3 and means.ndim == 2:  # a per-frame space with one prior for all frames
                means = np.repeat(means[:, None], z.shape[1], axis=1)
                stds = np.repeat(stds[:, None], z.shape[1], axis=1)
            out[space.name] = Components(col or space.name, list(p.labels), means, np.array(stds), "prior")
        elif col is not None and col in train_labels and col in label_maps:
            y = train_labels[col]
            present = [k for k in range(len(label_maps[col])) if (y == k).any()]
            if len(present) < 2:
                continue
            means = np.stack([z[y == k].mean(axis=0) for k in present])
            # Classes with a single item have no spread of their own: use the
            # pooled within-class standard deviation instead.
            pooled = np.sqrt(np.mean([((z[y == k] - means[i]) ** 2).mean(axis=0)
                                      for i, k in enumerate(present)], axis=0))
            stds = np.stack([z[y == k].std(axis=0) if (y == k).sum() > 1 else pooled for k in present])
            out[space.name] = Components(col, [label_maps[col][k] for k in present], means, stds,
                                         "class-means")
    return out


def _role(model: DisentangleModel, column: str) -> str | None:
    """The space meant to capture `column` (first one wins), or None."""
    for s in model.spaces:
        if s.label == column:
            return s.name
    return None


def _fixed_codes(model: DisentangleModel, comps: dict[str, Components], train: dict[str, np.ndarray],
                 train_labels: dict[str, np.ndarray], label_maps: dict[str, list[str]],
                 skip: set[str]) -> dict[str, np.ndarray]:
    """One code per space not in `skip`: "mf", else the most common training class,
    else (no components) the mean training latent. Values (D,) or (T', D)."""
    fixed = {}
    for s in model.spaces:
        if s.name in skip:
            continue
        c = comps.get(s.name)
        if c is None:
            fixed[s.name] = train[s.name].mean(axis=0)
            continue
        k = c.index("mf")
        if k is None and c.column in train_labels and c.column in label_maps:
            y = train_labels[c.column]
            counts = np.bincount(y[y >= 0]) if (y >= 0).any() else np.zeros(0, int)
            by_count = [label_maps[c.column][i] for i in np.argsort(-counts, kind="stable")]
            k = next((c.index(n) for n in by_count if c.index(n) is not None), None)
        fixed[s.name] = c.means[k if k is not None else 0]
    return fixed


def synthesis_scores(model: DisentangleModel, comps: dict[str, Components], train: dict[str, np.ndarray],
                     train_labels: dict[str, np.ndarray], label_maps: dict[str, list[str]],
                     instrument_clf: SpectrogramClassifier, pitch_clf: SpectrogramClassifier,
                     targets: dict[str, np.ndarray], spreads: tuple[float, ...] = (0.0, 0.5, 1.0),
                     max_targets: int | None = None, repeats: int = 30, seed: int = 0,
                     batch_size: int = 256) -> dict:
    """Decode component samples for the (instrument, pitch) of each target and classify them.

    As Luo 2019 Sec. 4.3: "the sound samples in the [evaluated] set [are] the
    targets to synthesize", each sampled `repeats` times per w > 0 (the paper:
    30); at w = 0 every repeat decodes the same code, so each target is decoded
    once. targets: {"instrument": (N,), "pitch": (N,)} label indices of the
    evaluated split (-1 unknown); targets whose instrument or pitch has no
    component are left out and counted. max_targets: at most this many
    targets (seeded), None for all. The train arrays only choose the codes of
    the model's other spaces. Returns {"w=0": {"instrument_f1", "pitch_f1"},
    ...} plus "targets", "repeats", "left_out", or {"skipped": reason}.
    """
    t_space, p_space = _role(model, "instrument"), _role(model, "pitch")
    if t_space is None or p_space is None:
        return {"skipped": "the model has no space labelled 'instrument' and one labelled 'pitch'"}
    if t_space not in comps or p_space not in comps:
        return {"skipped": "too few instrument or pitch classes to form components"}
    ct, cp = comps[t_space], comps[p_space]
    inst_names, pitch_names = label_maps["instrument"], label_maps["pitch"]
    ti, pi, keep = [], [], []
    for n, (a, b) in enumerate(zip(targets["instrument"], targets["pitch"])):
        i = ct.index(inst_names[a]) if a >= 0 else None
        j = cp.index(pitch_names[b]) if b >= 0 else None
        if i is not None and j is not None:
            ti.append(i)
            pi.append(j)
            keep.append(n)
    if not keep:
        return {"skipped": "no evaluated item has an instrument and a pitch with components"}
    left_out = len(targets["instrument"]) - len(keep)
    rng = np.random.default_rng(seed)
    if max_targets is not None and len(keep) > max_targets:
        pick = np.sort(rng.choice(len(keep), max_targets, replace=False))
        ti, pi, keep = [ti[k] for k in pick], [pi[k] for k in pick], [keep[k] for k in pick]
    y_inst = np.asarray(targets["instrument"])[keep]
    y_pitch = np.asarray(targets["pitch"])[keep]
    fixed = _fixed_codes(model, comps, train, train_labels, label_maps, {t_space, p_space})
    out: dict = {"targets": len(keep), "repeats": repeats, "left_out": int(left_out)}
    for w in spreads:
        reps = 1 if w == 0 else repeats
        t_idx, p_idx = np.repeat(ti, reps), np.repeat(pi, reps)
        z = {}
        for name, c, idx in ((t_space, ct, t_idx), (p_space, cp, p_idx)):
            mu, sd = c.means[idx], c.stds[idx]
            z[name] = mu + w * sd * rng.standard_normal(mu.shape).astype(np.float32)
        for name, code in fixed.items():
            z[name] = np.broadcast_to(code, (len(t_idx),) + code.shape).copy()
        x = decode_batched(model, z, batch_size)
        pred_i = instrument_clf.predict_proba(x).argmax(-1).numpy()
        pred_p = pitch_clf.predict_proba(x).argmax(-1).numpy()
        out[f"w={w:g}"] = {
            "instrument_f1": float(f1_score(np.repeat(y_inst, reps), pred_i, average="macro", zero_division=0)),
            "pitch_f1": float(f1_score(np.repeat(y_pitch, reps), pred_p, average="macro", zero_division=0)),
        }
    return out


def transfer_scores(model: DisentangleModel, comps: dict[str, Components], test: dict[str, np.ndarray],
                    test_labels: dict[str, np.ndarray], label_maps: dict[str, list[str]],
                    instrument_clf: SpectrogramClassifier, pitch_clf: SpectrogramClassifier,
                    alphas: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0), max_items: int = 200,
                    max_targets: int = 3, seed: int = 0, batch_size: int = 256) -> dict:
    """Timbre transfer of test items towards other instrument components.

    test: {space: (N, D) or (N, T', D)} posterior means of the evaluated split.
    Each of at most `max_items` items (seeded) goes to at most `max_targets`
    other instruments. Returns {"alpha=0": {"target_prob", "target_acc",
    "pitch_kept"}, ...} plus counts, or {"skipped": reason}.
    """
    t_space = _role(model, "instrument")
    if t_space is None or t_space not in comps:
        return {"skipped": "the model has no instrument space with components"}
    ct = comps[t_space]
    names = label_maps["instrument"]
    inst = test_labels["instrument"]
    pitch = test_labels.get("pitch", np.full(len(inst), -1))
    items = [i for i in range(len(inst)) if inst[i] >= 0 and ct.index(names[inst[i]]) is not None]
    if not items or len(ct.labels) < 2:
        return {"skipped": "no test item of an instrument with a component"}
    rng = np.random.default_rng(seed)
    if len(items) > max_items:
        items = sorted(rng.choice(items, max_items, replace=False).tolist())
    triples = []  # (test row, source component, target component)
    for i in items:
        s = ct.index(names[inst[i]])
        others = [k for k in range(len(ct.labels)) if k != s and ct.labels[k] in names]
        if len(others) > max_targets:
            others = rng.choice(others, max_targets, replace=False).tolist()
        triples += [(i, s, k) for k in others]
    if not triples:
        return {"skipped": "no other instrument component is a class the classifier knows"}
    rows_a, src_a, tgt_a = (np.array(col) for col in zip(*triples))
    tgt_class = torch.as_tensor([names.index(ct.labels[k]) for k in tgt_a])
    shift = ct.means[tgt_a] - ct.means[src_a]
    out: dict = {"items": len(items), "transfers": len(triples)}
    for alpha in alphas:
        z = {name: v[rows_a].copy() for name, v in test.items()}
        zt = z[t_space]
        # A per-item timbre code against per-frame components (or vice versa):
        # move every frame by the same (time-averaged) shift.
        d = shift if shift.shape == zt.shape else (
            shift.mean(axis=1) if shift.ndim == 3 else shift[:, None])
        z[t_space] = zt + alpha * d
        x = decode_batched(model, z, batch_size)
        probs = instrument_clf.predict_proba(x)
        tp = probs.gather(1, tgt_class[:, None]).squeeze(1)
        entry = {"target_prob": float(tp.mean()),
                 "target_acc": float((probs.argmax(-1) == tgt_class).float().mean())}
        known = pitch[rows_a] >= 0
        if known.any():
            pp = pitch_clf.predict_proba(x[torch.as_tensor(known)]).argmax(-1).numpy()
            entry["pitch_kept"] = float((pp == pitch[rows_a][known]).mean())
        out[f"alpha={alpha:g}"] = entry
    return out

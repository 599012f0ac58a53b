"""Pitched and unpitched rows of a report, as Tanaka et al. 2022 Table II splits them.

The paper scores the three-factor model on pitched notes and on pitched plus
unpitched percussive notes. A corpus with General MIDI drums (pitch unknown,
family "percussion") gets the same rows here, beside the pooled figures:

- "pitched": read-outs fitted on the pitched train items, scored on the
  pitched evaluated items (the paper's "Pitched" input-data rows and the
  issue's floors for the three-factor model);
- "unpitched": read-outs fitted on every train item, scored on the
  percussive evaluated items (is a drum placed among the drums, and on the
  right drum?). Pitch is not scored: a drum has no pitch label.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from disentangle.data.schema import Item
from disentangle.evaluation.probes import ProbeConfig, probe_spaces

#: The family name the notes corpus gives GM drums (`disentangle.data.notes`).
PERCUSSION = "percussion"

#: (items, label column, T') -> (N, T') frame labels or None; as in `runner.FrameLabelFn`.
FrameHook = Callable[[list[Item], str, int], "np.ndarray | None"]


def unpitched(items: list[Item]) -> np.ndarray:
    """(N,) bool: the percussive items (family "percussion")."""
    return np.array([it.family == PERCUSSION for it in items], dtype=bool)


def subset_scores(z_tr: dict[str, np.ndarray], z_te: dict[str, np.ndarray],
                  y_tr: dict[str, np.ndarray], y_te: dict[str, np.ndarray],
                  train_items: list[Item], eval_items: list[Item], local: set[str],
                  frame_labels: FrameHook | None, cfg: ProbeConfig) -> dict:
    """{"pitched": section, "unpitched": section} or {} when the corpus has no drums.

    z_tr / z_te: {space: (N, D) or (N, T', D)} latents of the train and
    evaluated items; y_tr / y_te: {column: (N,) int labels, -1 unknown}.
    A section is {"n_train", "n_eval", "probe_f1", "knn_acc", "frame_wise"}
    with the same layout as the pooled report keys.
    """
    drum_tr, drum_te = unpitched(train_items), unpitched(eval_items)
    if not drum_te.any() or drum_te.all():
        return {}
    out = {}
    for name, keep_tr, keep_te, columns in (
            ("pitched", ~drum_tr, ~drum_te, None),
            ("unpitched", np.ones_like(drum_tr), drum_te, ("instrument", "family", "dynamics", "duration"))):
        groups = {"train": [it for it, k in zip(train_items, keep_tr) if k],
                  "test": [it for it, k in zip(eval_items, keep_te) if k]}
        hook = None if frame_labels is None else _bind(frame_labels, groups)
        ytr = {c: v[keep_tr] for c, v in y_tr.items() if columns is None or c in columns}
        yte = {c: v[keep_te] for c, v in y_te.items() if c in ytr}
        f1, acc, frame_wise = probe_spaces({s: v[keep_tr] for s, v in z_tr.items()},
                                           {s: v[keep_te] for s, v in z_te.items()},
                                           ytr, yte, local, hook, cfg)
        out[name] = {"n_train": int(keep_tr.sum()), "n_eval": int(keep_te.sum()),
                     "probe_f1": f1, "knn_acc": acc, "frame_wise": frame_wise}
    return out


def _bind(frame_labels: FrameHook, groups: dict[str, list[Item]]) -> Callable[[str, str, int], np.ndarray | None]:
    """The runner's hook signature (which, column, T') over these groups of items."""
    def hook(which: str, column: str, n_frames: int) -> np.ndarray | None:
        return frame_labels(groups[which], column, n_frames)
    return hook


def subsets_markdown(subsets: dict) -> list[str]:
    """The pitched / unpitched rows as Markdown lines (5-NN accuracy, probe F1 in brackets)."""
    from disentangle.evaluation.report import _fmt, _table
    if not subsets:
        return []
    out = ["## Pitched and unpitched notes (Tanaka et al. 2022, Table II)", "",
           "5-NN accuracy (linear-probe macro-F1 in brackets). Pitched: read-outs fitted and scored on "
           "pitched notes only. Unpitched: read-outs fitted on all train notes, scored on the drums "
           "(no pitch label).", ""]
    for name, sec in subsets.items():
        f1, acc = sec.get("probe_f1", {}), sec.get("knn_acc", {})
        labels = sorted({c for d in list(acc.values()) + list(f1.values()) for c in d})
        out += [f"**{name}** ({sec.get('n_train')} train, {sec.get('n_eval')} evaluated; "
                f"frame-wise: {sec.get('frame_wise') or '-'})", ""]
        rows = [[space] + [f"{_fmt(acc.get(space, {}).get(c))} ({_fmt(f1.get(space, {}).get(c))})"
                           for c in labels] for space in sorted(set(f1) | set(acc))]
        out += _table(["space"] + labels, rows) + [""]
    return out

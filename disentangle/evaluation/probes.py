"""How much each latent space tells about each label: linear probes and k-NN.

A disentangled space is informative of its own factor and uninformative of
the others. Two read-outs are trained on the TRAIN split's latent means and
scored on the evaluated split:

- a linear probe (standardised inputs, multinomial logistic regression),
  scored by macro-F1 (Luo et al. 2019, Table 1);
- a k-NN classifier with k = 5, scored by accuracy (Tanaka et al. 2022),
  which reads the geometry of the space without any fitting.

Local spaces (one vector per frame) are scored frame by frame when per-frame
labels are available (the `frame_labels` hook of `probe_spaces`), and on their
time-averaged means otherwise.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

#: (which: "train" or "test", label column, number of frames T') -> (N, T')
#: int class indices (-1 unknown), or None when that column has no per-frame
#: labels. `disentangle.evaluation.runner.evaluate` builds one from a
#: per-item hook.
FrameLabels = Callable[[str, str, int], "np.ndarray | None"]


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of the read-out classifiers.

    k: neighbours of the k-NN classifier (5 as in Tanaka 2022).
    max_iter: logistic-regression iterations (lbfgs).
    max_frames: frame-wise scoring subsamples at most this many training
      frames (and as many test frames), seeded, to keep it fast on a CPU.
    """

    k: int = 5
    max_iter: int = 2000
    max_frames: int = 20000
    seed: int = 0


def _known(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = y >= 0
    return z[keep], y[keep]


def probe_f1(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, test_y: np.ndarray,
             cfg: ProbeConfig = ProbeConfig()) -> float | None:
    """Macro-F1 of a linear classifier trained on (train_z, train_y), scored on the test pair.

    train_z: (N, D), train_y: (N,) int (-1 unknown, ignored); same for test.
    Returns None when the training labels have fewer than 2 classes or the
    test set has no labelled item.
    """
    zt, yt = _known(train_z, train_y)
    ze, ye = _known(test_z, test_y)
    if len(np.unique(yt)) < 2 or len(ye) == 0:
        return None
    clf = make_pipeline(StandardScaler(),
                        LogisticRegression(max_iter=cfg.max_iter, random_state=cfg.seed))
    with warnings.catch_warnings():
        # A probe that has not fully converged is still a valid (slightly
        # pessimistic) read-out; the warning would only clutter the report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(zt, yt)
    return float(f1_score(ye, clf.predict(ze), average="macro", zero_division=0))


def knn_accuracy(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, test_y: np.ndarray,
                 cfg: ProbeConfig = ProbeConfig()) -> float | None:
    """Accuracy of a k-NN classifier (k = cfg.k, Euclidean) on the test pair.

    Shapes as in `probe_f1`; returns None under the same conditions.
    """
    zt, yt = _known(train_z, train_y)
    ze, ye = _known(test_z, test_y)
    if len(np.unique(yt)) < 2 or len(ye) == 0:
        return None
    knn = KNeighborsClassifier(n_neighbors=min(cfg.k, len(yt)))
    knn.fit(zt, yt)
    return float(accuracy_score(ye, knn.predict(ze)))


def _frames(z: np.ndarray, y: np.ndarray, limit: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(N, T', D) latents and (N, T') labels -> at most `limit` labelled frames."""
    zf, yf = z.reshape(-1, z.shape[-1]), y.reshape(-1)
    zf, yf = _known(zf, yf)
    if len(yf) > limit:
        pick = rng.choice(len(yf), size=limit, replace=False)
        zf, yf = zf[pick], yf[pick]
    return zf, yf


def probe_spaces(train: dict[str, np.ndarray], test: dict[str, np.ndarray],
                 train_labels: dict[str, np.ndarray], test_labels: dict[str, np.ndarray],
                 local: AbstractSet[str] = frozenset(), frame_labels: FrameLabels | None = None,
                 cfg: ProbeConfig = ProbeConfig()) -> tuple[dict, dict, dict]:
    """Score every space x every label column with both read-outs.

    train/test: {space: (N, D)} latent means, or (N, T', D) for the spaces in
      `local` (time-averaged here unless `frame_labels` gives frame labels).
    train_labels/test_labels: {column: (N,) int, -1 unknown}; columns with
      fewer than 2 known training classes are left out.
    frame_labels: optional hook, called as frame_labels("train"|"test",
      column, T') for local spaces; returns (N, T') indices or None.
    Returns (probe_f1, knn_acc, frame_wise): {space: {column: float}} twice,
      and {space: [columns scored frame-wise]}.
    """
    rng = np.random.default_rng(cfg.seed)
    f1: dict[str, dict[str, float]] = {}
    acc: dict[str, dict[str, float]] = {}
    frame_wise: dict[str, list[str]] = {}
    for space, ztr in train.items():
        zte = test[space]
        f1[space], acc[space] = {}, {}
        for col, ytr in train_labels.items():
            if len(np.unique(ytr[ytr >= 0])) < 2:
                continue
            yte = test_labels[col]
            a, b, c, d = ztr, ytr, zte, yte
            if space in local and ztr.ndim == 3:
                ftr = frame_labels("train", col, ztr.shape[1]) if frame_labels else None
                fte = frame_labels("test", col, zte.shape[1]) if frame_labels else None
                if ftr is not None and fte is not None:
                    a, b = _frames(ztr, np.asarray(ftr), cfg.max_frames, rng)
                    c, d = _frames(zte, np.asarray(fte), cfg.max_frames, rng)
                    frame_wise.setdefault(space, []).append(col)
                else:
                    a, c = ztr.mean(axis=1), zte.mean(axis=1)
            score = probe_f1(a, b, c, d, cfg)
            if score is not None:
                f1[space][col] = score
            score = knn_accuracy(a, b, c, d, cfg)
            if score is not None:
                acc[space][col] = score
    return f1, acc, frame_wise

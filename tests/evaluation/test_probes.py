"""Linear probes and k-NN: high where information is present, chance where it is not."""
from __future__ import annotations

import numpy as np

from disentangle.evaluation.probes import ProbeConfig, knn_accuracy, probe_f1, probe_spaces


def _blobs(n: int, classes: int, informative: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = np.random.default_rng(99).normal(0, 3, (classes, 6))
    z = rng.normal(0, 0.5, (n, 6)) + (centres[y] if informative else 0.0)
    return z, y


def test_probe_and_knn_high_when_informative():
    ztr, ytr = _blobs(300, 5, True, 0)
    zte, yte = _blobs(100, 5, True, 1)
    assert probe_f1(ztr, ytr, zte, yte) > 0.95
    assert knn_accuracy(ztr, ytr, zte, yte) > 0.95


def test_probe_and_knn_chance_when_not():
    ztr, ytr = _blobs(300, 5, False, 0)
    zte, yte = _blobs(200, 5, False, 1)
    assert probe_f1(ztr, ytr, zte, yte) < 0.4  # chance is 0.2
    assert knn_accuracy(ztr, ytr, zte, yte) < 0.4


def test_unknown_labels_ignored_and_degenerate_cases():
    ztr, ytr = _blobs(100, 3, True, 0)
    zte, yte = _blobs(50, 3, True, 1)
    ytr = ytr.copy()
    ytr[:30] = -1
    assert probe_f1(ztr, ytr, zte, yte) > 0.9
    assert probe_f1(ztr, np.zeros(100, int), zte, yte) is None  # one class only
    assert knn_accuracy(ztr, ytr, zte, np.full(50, -1)) is None  # nothing to score


def test_probe_spaces_matrix_and_single_class_columns_dropped():
    zi, yi = _blobs(200, 4, True, 0)
    zt, yt = _blobs(80, 4, True, 1)
    train = {"good": zi, "bad": np.random.default_rng(2).normal(size=zi.shape)}
    test = {"good": zt, "bad": np.random.default_rng(3).normal(size=zt.shape)}
    labels_tr = {"instrument": yi, "dynamics": np.zeros(200, int)}
    labels_te = {"instrument": yt, "dynamics": np.zeros(80, int)}
    f1, acc, frame_wise = probe_spaces(train, test, labels_tr, labels_te)
    assert set(f1["good"]) == {"instrument"} and frame_wise == {}
    assert f1["good"]["instrument"] > 0.9 and f1["bad"]["instrument"] < 0.5
    assert acc["good"]["instrument"] > 0.9 and acc["bad"]["instrument"] < 0.5


def test_local_space_frame_wise_only_with_frame_labels():
    # Each frame carries its own class (it changes within an item), so the
    # time average of an item knows nothing while single frames know all.
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (3, 4))

    def make(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        r = np.random.default_rng(seed)
        frame_y = np.stack([r.permutation(np.repeat(np.arange(3), 2)) for _ in range(n)])  # (n, 6)
        return centres[frame_y] + r.normal(0, 0.3, (n, 6, 4)), frame_y

    ztr, ftr = make(60, 1)
    zte, fte = make(30, 2)
    item_tr, item_te = np.arange(60) % 3, np.arange(30) % 3
    frames = {"train": ftr, "test": fte}
    hook = lambda which, col, n: frames[which] if col == "pitch" and n == 6 else None
    f1, acc, frame_wise = probe_spaces({"p": ztr}, {"p": zte}, {"pitch": item_tr}, {"pitch": item_te},
                                       local={"p"}, frame_labels=hook, cfg=ProbeConfig(max_frames=200))
    assert frame_wise == {"p": ["pitch"]}
    assert acc["p"]["pitch"] > 0.9 and f1["p"]["pitch"] > 0.9
    f1, acc, frame_wise = probe_spaces({"p": ztr}, {"p": zte}, {"pitch": item_tr}, {"pitch": item_te},
                                       local={"p"})
    assert frame_wise == {}
    assert acc["p"]["pitch"] < 0.6  # averaged frames carry no item-level information

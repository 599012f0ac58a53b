"""Frechet distance between embedding sets (the FAD protocol of Luo et al. 2024).

FAD (Kilgour et al. 2019) fits a Gaussian to the embeddings of real and of
generated audio and reports the Frechet distance between the two:

    d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

Luo et al. 2024 embed with their pre-trained instrument classifier (not
VGGish), so that the distance measures timbre. We do the same with the
evaluation's instrument judge (`classifiers.SpectrogramClassifier`): the
embedding is its penultimate layer, the time-averaged output of the conv
trunk, computed on normalised features (no audio round trip). Figures are
therefore comparable between our models, not with published FAD values.
"""
from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from disentangle.evaluation.classifiers import SpectrogramClassifier


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to a (N, D) and b (M, D); N, M >= 2.

    tr((S_a S_b)^(1/2)) is computed as the trace of the square root of the
    symmetric PSD matrix S_a^(1/2) S_b S_a^(1/2) (same eigenvalues), which
    stays real and stable when the covariances are rank-deficient (fewer
    items than dimensions), unlike a general matrix square root.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two (N, D) arrays of the same D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("need at least two embeddings on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s_a, s_b = np.atleast_2d(s_a), np.atleast_2d(s_b)
    # One BLAS thread: on the shared 2-core machine a 128 x 128 eigh took
    # 0.25 s with two contending OpenBLAS threads and 5 ms with one.
    with threadpool_limits(1):
        root = _sqrt_psd(s_a)
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s_b @ root), 0.0, None)).sum()
    d2 = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * cross)
    return max(d2, 0.0)


def classwise_frechet(gen: np.ndarray, gen_labels: np.ndarray, real: np.ndarray,
                      real_labels: np.ndarray, min_items: int = 2) -> dict[str, float | int | None]:
    """Frechet distance per class, macro-averaged: generated items of class c vs real items of c.

    gen: (N, D) embeddings with gen_labels (N,) int class; real: (M, D) with
    real_labels (M,). Classes with fewer than `min_items` on either side are
    skipped. Returns {"mean": average over scored classes (None if none),
    "classes": how many were scored}. This is Luo et al.'s per-instrument
    FAD (their columns "FAD Violin", "FAD Trumpet"), averaged over instruments.
    """
    scores = []
    for c in np.unique(gen_labels[gen_labels >= 0]):
        g, r = gen[gen_labels == c], real[real_labels == c]
        if len(g) >= min_items and len(r) >= min_items:
            scores.append(frechet_distance(g, r))
    return {"mean": float(np.mean(scores)) if scores else None, "classes": len(scores)}


@torch.inference_mode()
def classifier_embeddings(clf: SpectrogramClassifier, x: Tensor, batch_size: int = 256) -> np.ndarray:
    """Penultimate-layer embeddings of the judge: (N, F, T) normalised features -> (N, C)."""
    was = clf.training
    clf.eval()
    out = [clf.net(x[i:i + batch_size].float()).mean(dim=-1) for i in range(0, len(x), batch_size)]
    clf.train(was)
    return torch.cat(out).cpu().numpy() if out else np.zeros((0, 0), np.float32)

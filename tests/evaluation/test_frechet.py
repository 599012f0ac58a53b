"""Frechet distance: zero for identical sets, the squared shift for a shifted one."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from disentangle.evaluation.classifiers import SpectrogramClassifier
from disentangle.evaluation.frechet import classifier_embeddings, classwise_frechet, frechet_distance


def test_identical_sets_are_at_distance_zero():
    a = np.random.default_rng(0).normal(size=(200, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_a_shifted_set_is_at_the_squared_shift():
    a = np.random.default_rng(1).normal(size=(300, 4))
    shift = np.array([1.0, -2.0, 0.0, 0.5])
    # Same covariance, so only |mu_a - mu_b|^2 remains.
    assert frechet_distance(a, a + shift) == pytest.approx(float((shift ** 2).sum()), rel=1e-6)


def test_scaled_set_and_known_gaussians():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20000, 2))
    b = 2.0 * rng.normal(size=(20000, 2))
    # N(0, I) vs N(0, 4I) in 2-D: tr(I + 4I - 2 * 2I) = 2.
    assert frechet_distance(a, b) == pytest.approx(2.0, abs=0.1)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_fewer_items_than_dimensions_stays_real_and_non_negative():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 64)), rng.normal(size=(7, 64)) + 0.3
    d = frechet_distance(a, b)
    assert np.isfinite(d) and d > 0


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_classwise_pairs_classes_and_skips_thin_ones():
    rng = np.random.default_rng(4)
    real = np.concatenate([rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) + 5.0])
    real_y = np.repeat([0, 1], 50)
    same = classwise_frechet(real, real_y, real, real_y)
    assert same == {"mean": pytest.approx(0.0, abs=1e-6), "classes": 2}
    # Right samples under the wrong labels are far apart class by class.
    swapped = classwise_frechet(real, 1 - real_y, real, real_y)
    assert swapped["mean"] > 50
    thin = classwise_frechet(real[:51], np.r_[np.zeros(50, int), 1], real, real_y)
    assert thin["classes"] == 1


def test_embeddings_are_the_judges_penultimate_layer():
    torch.manual_seed(0)
    clf = SpectrogramClassifier(n_bins=6, n_classes=3, channels=5).eval()
    x = torch.randn(4, 6, 10)
    emb = classifier_embeddings(clf, x, batch_size=3)
    assert emb.shape == (4, 5)
    with torch.no_grad():
        logits = clf.head(torch.from_numpy(emb))
    np.testing.assert_allclose(logits.numpy(), clf(x).detach().numpy(), atol=1e-5)

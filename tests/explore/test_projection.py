"""Projections: PCA exactness, cache round trip, neighbour placement, t-SNE fallback."""
from __future__ import annotations

import numpy as np

from disentangle.explore.projection import Projection, ProjectionParams, fit_projection, place_by_neighbours


def _blobs(n: int = 60, d: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (3, d))
    return (centres[rng.integers(0, 3, n)] + rng.normal(0, 0.3, (n, d))).astype(np.float32)


def test_pca_transform_matches_fit_and_roundtrips(tmp_path):
    x = _blobs()
    proj = fit_projection(x, ProjectionParams("pca", pcs=(1, 2)))
    assert proj.coords.shape == (60, 2) and proj.placement == "exact"
    assert np.allclose(proj.transform(x), proj.coords, atol=1e-4)
    assert proj.explained[0] >= proj.explained[1] > 0
    proj.save(tmp_path / "p")
    again = Projection.load(tmp_path / "p", x)
    assert again is not None and again.from_cache
    assert np.allclose(again.coords, proj.coords) and np.allclose(again.transform(x[:3]), proj.coords[:3], atol=1e-4)
    assert Projection.load(tmp_path / "p", x[:10]) is None  # stale: other number of points
    assert Projection.load(tmp_path / "missing", x) is None


def test_other_components_and_one_dimension():
    x = _blobs()
    p23 = fit_projection(x, ProjectionParams("pca", pcs=(2, 3)))
    p12 = fit_projection(x, ProjectionParams("pca", pcs=(1, 2)))
    assert np.allclose(np.abs(p23.coords[:, 0]), np.abs(p12.coords[:, 1]), atol=1e-4)
    one = fit_projection(x[:, :1], ProjectionParams("pca"))
    assert one.coords.shape == (60, 2) and one.transform(x[:2, :1]).shape == (2, 2)


def test_neighbour_placement_lands_near_its_cluster():
    x = _blobs()
    coords = x[:, :2] * 10
    new = x[:1] + 0.01
    xy = place_by_neighbours(x, coords, new, k=5)
    same = np.linalg.norm(x - x[0], axis=1) < 2
    assert np.linalg.norm(xy[0] - coords[same].mean(0)) < np.linalg.norm(coords.max(0) - coords.min(0)) / 4


def test_tsne_places_new_points_by_neighbours_and_keys_differ():
    x = _blobs(40)
    proj = fit_projection(x, ProjectionParams("tsne", perplexity=50))  # capped below N
    assert proj.coords.shape == (40, 2) and proj.placement == "neighbours"
    assert proj.transform(x[:2]).shape == (2, 2)
    assert ProjectionParams("umap").key() != ProjectionParams("umap", n_neighbors=30).key()
    # parameters a method ignores do not change its key
    assert ProjectionParams("pca").key() == ProjectionParams("pca", perplexity=5).key()
    tiny = fit_projection(x[:3], ProjectionParams("umap"))  # too few points: PCA instead
    assert tiny.params.method == "pca"


def test_big_maps_fit_a_sample_and_place_the_rest(monkeypatch):
    """Issue 14: t-SNE did not finish 100k points; above FIT_SAMPLE the rest are placed by neighbours."""
    from disentangle.explore import projection

    monkeypatch.setattr(projection, "FIT_SAMPLE", {"tsne": 60, "umap": 60})
    monkeypatch.setattr(projection, "PLACE_BLOCK", 50)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (100, 4)), rng.normal(3, 0.1, (100, 4))]).astype(np.float32)
    seen: list[tuple[int, int]] = []
    proj = fit_projection(x, ProjectionParams("tsne", perplexity=10), lambda d, t, what: seen.append((d, t)))
    assert proj.coords.shape == (200, 2) and np.isfinite(proj.coords).all()
    assert seen[0] == (0, 200) and seen[1] == (60, 200) and seen[-1] == (200, 200)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 4  # it moves
    # the two clusters stay apart on the map: placed points land with their own cluster
    a, b = proj.coords[:100].mean(0), proj.coords[100:].mean(0)
    spread = max(proj.coords[:100].std(0).max(), proj.coords[100:].std(0).max())
    assert np.linalg.norm(a - b) > 3 * spread

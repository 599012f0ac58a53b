"""Figure builders: spectrogram images, the map, the probe heatmap."""
from __future__ import annotations

import numpy as np

from disentangle.explore.figures import MapPoints, latent_map, probe_heatmap, spectrogram_image, spectrogram_strip


def test_spectrogram_image_orientation_and_strip():
    x = np.zeros((8, 5), np.float32)
    x[0] = 1.0  # lowest bin loud
    img = np.asarray(spectrogram_image(x, scale=2))
    assert img.shape == (16, 10, 3)
    assert img[-1].mean() > img[0].mean()  # low frequencies at the bottom, bright
    strip = spectrogram_strip([x, x * 0.5], ["a", "b"], scale=1, gap=4)
    assert strip.size[0] == 5 + 4 + 5


def test_map_traces_and_refs():
    n = 30
    labels = {"instrument": ["a", "b", "c"] * 10, "pitch": [str(40 + i) for i in range(n)]}
    pts = MapPoints(np.random.default_rng(0).normal(size=(n, 2)), [f"c:{i}" for i in range(n)], labels,
                    [f"item {i}" for i in range(n)], np.array([i % 3 != 2 for i in range(n)]))
    fig = latent_map(pts, "instrument", components={"xy": np.zeros((2, 2)), "labels": ["a", "b"],
                                                     "refs": ["k:t:0", "k:t:1"]},
                     extras=[{"xy": (0, 0), "name": "mine", "ref": "u:0"}], selected={"A": (1.0, 2.0), "B": None})
    names = [t.name for t in fig.data]
    assert names[:2] == ["a", "b"] and "c" not in names  # filtered class hidden
    assert {"mixture means", "your sounds", "selected A", "selected B"} <= set(names)
    refs = [r for t in fig.data if t.customdata is not None for r in t.customdata]
    assert "c:0" in refs and "c:2" not in refs and "u:0" in refs and "k:t:1" in refs
    assert all(t.type == "scatter" for t in fig.data)  # SVG, not WebGL
    pts.visible = np.ones(n, dtype=bool)
    many = latent_map(pts, "pitch")  # 30 numeric classes -> one trace with a colour scale
    assert many.data[0].marker.showscale


def test_probe_heatmap():
    assert "not evaluated" in probe_heatmap(None).layout.title.text
    fig = probe_heatmap({"timbre": {"instrument": 0.9}, "pitch": {"pitch": 0.7, "instrument": 0.2}})
    assert list(fig.data[0].y) == ["timbre", "pitch"] and list(fig.data[0].x) == ["instrument", "pitch"]

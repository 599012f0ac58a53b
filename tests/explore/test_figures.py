"""Figure builders: spectrogram images, the map, the probe heatmap."""
from __future__ import annotations

import numpy as np

from disentangle.explore.figures import (
    MapPoints,
    MapStyle,
    Marks,
    class_order,
    label_positions,
    latent_map,
    palette,
    probe_heatmap,
    spectrogram_image,
    spectrogram_strip,
)


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
    fig = latent_map(pts, "instrument", components=Marks(np.zeros((2, 2)), ["a", "b"], ["k:t:0", "k:t:1"]),
                     extras=Marks(np.zeros((1, 2)), ["mine"], ["u:0"]), selected={"A": (1.0, 2.0), "B": None})
    names = [t.name for t in fig.data]
    assert names[:3] == ["corpus", "a", "b"] and "c" not in names  # filtered class hidden
    assert {"mixture means", "your sounds"} <= set(names)
    rings = {r.name: r for r in fig.layout.shapes}  # A and B: layout shapes the browser moves
    assert rings["selected A"].visible and (rings["selected A"].xanchor, rings["selected A"].yanchor) == (1.0, 2.0)
    assert rings["selected B"].visible is False
    labels = {a.name: a for a in fig.layout.annotations}
    # Neighbours and search hits: hidden shapes the browser moves (no trace to restyle).
    marks = [r for r in fig.layout.shapes if r.name.startswith(("neighbours ", "search hits "))]
    assert [r.name for r in marks] == ["search hits 0", "neighbours 0"] and not any(r.visible for r in marks)
    assert {"neighbours", "search hits"}.isdisjoint(names)
    assert (labels["selected A"].text, labels["selected A"].x, labels["selected A"].visible) == ("A", 1.0, True)
    rows = list(fig.data[0].customdata)  # corpus points carry their row number (the bridge adds "c:")
    assert 0 in rows and 2 not in rows
    refs = [r for t in fig.data[1:] if t.customdata is not None for r in t.customdata]
    assert "u:0" in refs and "k:t:1" in refs
    assert fig.data[0].type == "scattergl"  # every corpus is WebGL (one plot, contexts made once)
    pts.visible = np.ones(n, dtype=bool)
    many = latent_map(pts, "pitch")  # 30 numeric classes -> one trace with a colour scale
    assert many.data[0].marker.showscale


def test_mark_shapes_follow_the_marks():
    n = 12
    pts = MapPoints(np.random.default_rng(0).normal(size=(n, 2)), [f"c:{i}" for i in range(n)], {},
                    [f"item {i}" for i in range(n)], np.ones(n, dtype=bool))
    near = Marks(np.array([[1.0, 2.0], [3.0, 4.0]]), ["x", "y"], ["c:1", "c:2"])
    fig = latent_map(pts, None, neighbours=near, highlight=Marks(np.ones((250, 2)), ["h"] * 250, ["c:0"] * 250))
    shown = {r.name: r for r in fig.layout.shapes if r.visible}
    assert (shown["neighbours 1"].xanchor, shown["neighbours 1"].yanchor) == (3.0, 4.0)
    assert "neighbours 2" not in {r.name for r in fig.layout.shapes} and shown["neighbours 0"].line.color == "#2ca02c"
    assert sum(k.startswith("search hits ") for k in shown) == 200  # the ones the table lists


def test_probe_heatmap():
    assert "not evaluated" in probe_heatmap(None).layout.title.text
    fig = probe_heatmap({"timbre": {"instrument": 0.9}, "pitch": {"pitch": 0.7, "instrument": 0.2}})
    assert list(fig.data[0].y) == ["timbre", "pitch"] and list(fig.data[0].x) == ["instrument", "pitch"]


def _dynamics_points(n: int = 300) -> MapPoints:
    labels = {"dynamics": ["pp", "mf", "ff"] * (n // 3)}
    return MapPoints(np.zeros((n, 2)), [f"c:{i}" for i in range(n)], labels, [""] * n, np.ones(n, dtype=bool))


def test_no_class_is_drawn_under_another():
    """Defect 2: with colour by dynamics, ff (a third) was drawn first, under pp and mf."""
    fig = latent_map(_dynamics_points(), "dynamics", style=MapStyle(point_size=4, opacity=0.5))
    corpus = fig.data[0]
    assert corpus.name == "corpus" and corpus.marker.opacity == 0.5 and corpus.marker.size == 4
    colours = palette("dynamics", class_order("dynamics", {"pp", "mf", "ff"}))
    scale = {round(k * (len(corpus.marker.colorscale) - 1)): c for k, c in corpus.marker.colorscale}
    top = [scale[int(i)] for i in corpus.marker.color[-60:]]  # the last points drawn lie on top
    assert all(top.count(colours[c]) >= 8 for c in ("pp", "mf", "ff"))


def test_ordered_labels_get_ordered_palettes_and_instruments_distinct_colours():
    """Defect 12: dynamics sorted ff, mf, pp with unrelated hues; instruments repeated colours."""
    assert class_order("dynamics", {"ff", "pp", "mf"}) == ["pp", "mf", "ff"]
    assert class_order("pitch", {"100", "21", "60"}) == ["21", "60", "100"]
    ramp = palette("dynamics", ["pp", "mf", "ff"])
    brightness = [sum(int(ramp[c][k:k + 2], 16) for k in (1, 3, 5)) for c in ("pp", "mf", "ff")]
    assert brightness == sorted(brightness)  # viridis: darker -> brighter as it gets louder
    instruments = palette("instrument", [f"i{k}" for k in range(40)])
    assert len(set(instruments.values())) == 40


def test_pitch_map_keeps_legend_apart_and_few_mean_labels():
    """Defects 3 and 10: 88 labelled means buried the points; a colour bar sat on the legend."""
    n = 100
    pts = MapPoints(np.random.default_rng(1).normal(size=(n, 2)), [f"c:{i}" for i in range(n)],
                    {"pitch": [str(21 + i % 88) for i in range(n)]}, [""] * n, np.ones(n, dtype=bool))
    means = Marks(np.random.default_rng(2).normal(size=(88, 2)), [str(21 + k) for k in range(88)],
                  [f"k:pitch:{k}" for k in range(88)])
    fig = latent_map(pts, "pitch", components=means)
    assert fig.data[0].marker.showscale and fig.layout.legend.orientation == "h"
    assert fig.layout.legend.y < 0 <= fig.data[0].marker.colorbar.x  # legend below, colour bar to the right
    mean_trace = next(t for t in fig.data if t.name == "mixture means")
    assert mean_trace.mode == "markers"  # 88 names go to the hover text, not onto the map
    few = latent_map(pts, "pitch", components=Marks(np.array([[0.0, 0.0], [0.01, 0.0]]), ["trombone", "violin"],
                                                      ["k:t:0", "k:t:1"]))
    assert next(t for t in few.data if t.name == "mixture means").mode == "markers+text"


def test_nearby_mean_labels_do_not_share_a_position():
    """Defect 10: "trombone" and "violin" at nearly one spot read as "tromviolin"."""
    pos = label_positions(np.array([[0.0, 0.0], [0.001, 0.0], [5.0, 5.0]]))
    assert pos[0] != pos[1]


def test_big_map_is_webgl_with_a_compact_payload(monkeypatch):
    """Issue 14: an SVG map of 100k points with per-point hover strings was 14 MB and 100k DOM nodes."""
    import json

    from disentangle.explore import figures

    monkeypatch.setattr(figures, "HOVER_TEXT_MAX", 50)
    n = 400
    labels = {"instrument": ["a", "b", "", "c"] * (n // 4), "pitch": [str(21 + i % 88) for i in range(n)]}
    pts = MapPoints(np.random.default_rng(0).normal(size=(n, 2)), [f"c:{i}" for i in range(n)], labels, [],
                    np.ones(n, dtype=bool), rows=np.arange(n) + 1000)
    fig = latent_map(pts, "instrument", selected={"A": (0.0, 0.0)})
    corpus = fig.data[0]
    assert corpus.type == "scattergl" and corpus.hovertext is None and corpus.text is None
    assert sorted(int(r) for r in corpus.customdata) == list(range(1000, 1000 + n))
    # colours as one-byte indices on a stepped scale that reproduces the palette
    colours = palette("instrument", ["a", "b", "c"])
    scale = {round(k * (len(corpus.marker.colorscale) - 1)): c for k, c in corpus.marker.colorscale}
    for row, index in zip(corpus.customdata[:40], corpus.marker.color[:40]):
        want = colours.get(labels["instrument"][int(row) - 1000], figures.UNKNOWN_COLOUR)
        assert scale[int(index)] == want
    payload = fig.to_json()
    assert "\"bdata\"" in payload and len(payload) < 10_000 + 25 * n  # typed arrays: ~17 bytes a point
    assert json.loads(payload)["data"][0]["hovertemplate"].startswith("item %{customdata}")
    assert latent_map(pts, "pitch").data[0].marker.showscale  # numeric classes: a colour bar

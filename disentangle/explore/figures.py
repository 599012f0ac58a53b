"""Figure builders for the explorer: the latent map, spectrogram images, probe heatmap.

matplotlib is not a dependency: spectrograms are drawn with numpy into PIL
images (PIL ships with gradio), the map and the heatmap are plotly figures.
The corpus is one WebGL `go.Scattergl` trace at every size. An SVG map of 100,000 points is 100,000 DOM elements,
seconds per redraw, and even at 3,600 points an SVG redraw took 250-500 ms
in Chromium here against 55-140 ms for WebGL. The page has one plot element
and draws every map into it (app/early.js, app/bridge.js
`__disentangleDraw`), so its WebGL contexts are made once: Gradio's own
plot mounted a new element per figure, whose contexts cost ~150 ms to make
and ~90 ms to release a switch, and leaked before bridge.js purged them
(tests/app/test_browser_webgl.py checks both).
The A / B rings are layout shapes and annotations (`ring_shape`), which the
browser moves without redrawing any trace. The payload stays compact:
coordinates, row numbers (`customdata`, the click bridge turns row r into
"c:<r>") and colour indices travel as typed arrays, and per-point hover
texts are only sent up to `HOVER_TEXT_MAX` points (above, the hover names
the point's class and row; a click shows everything).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image, ImageDraw

# Anchors of the viridis colour map (matplotlib's, sampled at 9 points).
_VIRIDIS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], dtype=np.float32)
_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_VIRIDIS)), _VIRIDIS[:, c])
                 for c in range(3)], 1).astype(np.uint8)  # (256, 3)

#: Distinct hues for unordered classes (instruments): plotly's "Dark24" then "Light24".
QUALITATIVE = list(plotly.colors.qualitative.Dark24) + list(plotly.colors.qualitative.Light24)
#: Above this many classes a label is drawn as one trace with a colour scale.
MAX_CLASS_TRACES = 24
#: Corpus maps with more points carry no per-point hover texts.
HOVER_TEXT_MAX = 20000
#: Radius (px) of the rings around A and B and around selected items.
RING_PX = 10
#: Marks the browser moves in place (layout shapes named "<name> <i>", `mark_shapes`):
#: name -> (at most how many, colour, SVG path in pixels around the point). Neighbours are
#: at most the neighbour slider's maximum; search hits the first ones the table lists.
MARK_SHAPES: dict[str, tuple[int, str, str]] = {
    "neighbours": (30, "#2ca02c", "M0,-9L9,0L0,9L-9,0Z"),
    "search hits": (200, "#ff7f0e", "M-7,0A7,7 0 1,0 7,0A7,7 0 1,0 -7,0Z"),
}


def spectrogram_image(x: np.ndarray, lo: float | None = None, hi: float | None = None,
                      scale: int = 3, title: str | None = None) -> Image.Image:
    """Features (F, T) -> an RGB image, low frequencies at the bottom.

    lo/hi fix the colour range (default: this array's min/max), so that
    several images drawn with the same lo/hi are comparable.
    """
    x = np.asarray(x, dtype=np.float32)
    lo = float(np.min(x)) if lo is None else lo
    hi = float(np.max(x)) if hi is None else hi
    v = np.clip((x - lo) / max(hi - lo, 1e-8), 0, 1)
    rgb = _LUT[(v[::-1] * 255).astype(np.uint8)]  # (F, T, 3), flipped so bin 0 is at the bottom
    img = Image.fromarray(rgb, "RGB").resize((x.shape[1] * scale, x.shape[0] * scale), Image.Resampling.NEAREST)
    if title:
        canvas = Image.new("RGB", (img.width, img.height + 14), "white")
        canvas.paste(img, (0, 14))
        ImageDraw.Draw(canvas).text((2, 1), title, fill="black")
        return canvas
    return img


def spectrogram_strip(xs: Sequence[np.ndarray], titles: Sequence[str] | None = None,
                      scale: int = 2, gap: int = 4) -> Image.Image:
    """Several features (F, T) side by side on one shared colour range."""
    xs = [np.asarray(x, dtype=np.float32) for x in xs]
    lo = float(min(x.min() for x in xs))
    hi = float(max(x.max() for x in xs))
    names: list[str | None] = list(titles) if titles is not None else [None] * len(xs)
    tiles = [spectrogram_image(x, lo, hi, scale, t) for x, t in zip(xs, names)]
    width = sum(t.width for t in tiles) + gap * (len(tiles) - 1)
    strip = Image.new("RGB", (width, max(t.height for t in tiles)), "white")
    left = 0
    for tile in tiles:
        strip.paste(tile, (left, 0))
        left += tile.width + gap
    return strip


@dataclass
class MapPoints:
    """What the map draws for the corpus.

    coords: (N, 2). refs: N row references ("c:<row>"). labels: column -> N
    class names ("" unknown). hover: N hover texts (only read for maps of at most
    HOVER_TEXT_MAX points). visible: (N,) bool filter mask.
    """

    coords: np.ndarray
    refs: list[str]
    labels: dict[str, list[str]]
    hover: list[str]
    visible: np.ndarray
    #: (N,) corpus row of each point (default: parsed from refs)
    rows: np.ndarray | None = None


@dataclass
class Marks:
    """Labelled extra points (mixture means, own sounds, search hits, neighbours).

    xy: (K, 2). names: K texts. refs: K references (text form) for the click bridge.
    """

    xy: np.ndarray
    names: list[str]
    refs: list[str]


@dataclass
class MapStyle:
    """How points are drawn: marker size (px) and opacity (0-1)."""

    point_size: float = 6.0
    opacity: float = 0.7


#: Label columns whose classes have an order (drawn with an ordered palette).
ORDERED = ("pitch", "dynamics", "duration", "velocity")
#: The order of dynamics marks (alphabetical order would put ff first).
DYNAMICS_ORDER = ("ppp", "pp", "p", "mp", "mf", "f", "ff", "fff")
#: Above this many mixture means, their names go to the hover text only.
MAX_MEAN_LABELS = 12
UNKNOWN_COLOUR = "#bbbbbb"


def class_order(label: str | None, values: set[str]) -> list[str]:
    """Known classes of a label in their natural order (numbers numerically, dynamics by loudness)."""
    known = [v for v in values if v != ""]
    if label == "dynamics":
        rank = {d: n for n, d in enumerate(DYNAMICS_ORDER)}
        return sorted(known, key=lambda v: (rank.get(v, len(rank)), v))
    if known and all(_is_number(v) for v in known):
        return sorted(known, key=float)
    return sorted(known)


def palette(label: str | None, classes: list[str]) -> dict[str, str]:
    """Class -> colour: an ordered (viridis) ramp for ordered labels, distinct hues otherwise."""
    if label in ORDERED:
        n = max(len(classes) - 1, 1)
        return {c: _hex(_LUT[round(220 * k / n)]) for k, c in enumerate(classes)}
    return {c: QUALITATIVE[k % len(QUALITATIVE)] for k, c in enumerate(classes)}


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def latent_map(points: MapPoints, colour_by: str | None, title: str = "",
               components: Marks | None = None, extras: Marks | None = None,
               selected: dict[str, tuple[float, float] | None] | None = None,
               uirevision: str = "map", style: MapStyle | None = None,
               highlight: Marks | None = None, neighbours: Marks | None = None,
               selection: Marks | None = None, meta: dict | None = None) -> go.Figure:
    """The latent map as a plotly figure.

    The corpus is one trace drawn in a shuffled order, so no class hides
    under another; the legend has one entry per class. Ordered labels with
    more than MAX_CLASS_TRACES classes get a colour bar instead. components:
    mixture means (crosses; named only when few). extras: own sounds (stars).
    highlight: search hits; neighbours: the selected point's neighbours.
    selection: the box / lasso selection (rings, so a linked or reloaded
    view shows it). selected: rings around A and B, as layout shapes named
    "selected A"/"selected B" (`ring_shape`) so the browser can move them
    without redrawing a trace. uirevision keeps the user's zoom. meta: what
    the browser needs to know about the map (layout.meta; e.g. its model).
    """
    style = style or MapStyle()
    fig = go.Figure()
    idx = np.flatnonzero(points.visible)
    idx = idx[np.random.default_rng(0).permutation(len(idx))]  # a fixed shuffle: stable between updates
    values = points.labels.get(colour_by or "", [""] * len(points.refs))
    classes = class_order(colour_by, {values[i] for i in idx})
    continuous = bool(colour_by) and len(classes) > MAX_CLASS_TRACES and all(_is_number(c) for c in classes)
    marker: dict = {"size": style.point_size, "opacity": style.opacity, "line": {"width": 0}}
    shown_values = [values[i] for i in idx]
    if continuous:
        numeric = np.array([float(v) if v != "" else np.nan for v in shown_values], np.float32)
        marker.update(color=numeric, colorscale="Viridis", showscale=True,
                      colorbar={"title": {"text": colour_by, "side": "right"}, "thickness": 12, "x": 1.0})
    else:  # class indices (one byte each) on a stepped colour scale, not hex strings
        # (plotly validated 3,600 hex strings one by one: 0.16 s a map)
        colours = palette(colour_by, classes)
        marker.update(_indexed_colours([colours.get(v, UNKNOWN_COLOUR) for v in shown_values]))
    rows = (np.asarray(points.rows, np.int32)[idx] if points.rows is not None
            else np.array([_row_number(points.refs[i]) for i in idx], np.int32))
    if len(idx) <= HOVER_TEXT_MAX and len(points.hover) == len(points.refs):
        # a numpy string array: plotly validated a list string by string (0.12 s of a 9,825-point
        # map against 0.04 s, the same JSON)
        hover: dict = {"hovertext": np.asarray(points.hover, dtype=str)[idx],
                       "hovertemplate": "%{hovertext}<extra></extra>"}
    else:  # no per-point strings (they were 14 MB at 100k): the row number; a click tells the rest
        hover = {"hovertemplate": "item %{customdata} (click to hear it and see its labels)<extra></extra>"}
    fig.add_trace(go.Scattergl(
        x=points.coords[idx, 0].astype(np.float32), y=points.coords[idx, 1].astype(np.float32),
        mode="markers", name="corpus", customdata=rows, marker=marker, showlegend=False, **hover))
    if not continuous and colour_by:
        shown = classes + (["(unknown)"] if any(values[i] == "" for i in idx) else [])
        for cls in shown[:MAX_CLASS_TRACES * 2]:  # legend entries only: the points are in the trace above
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=cls, hoverinfo="skip",
                                     marker={"size": 8, "color": colours.get(cls, UNKNOWN_COLOUR)}))
    if components is not None and len(components.xy):
        named = len(components.xy) <= MAX_MEAN_LABELS
        fig.add_trace(go.Scatter(
            x=components.xy[:, 0], y=components.xy[:, 1], mode="markers+text" if named else "markers",
            name="mixture means", text=list(components.names), textfont={"size": 10},
            textposition=label_positions(components.xy) if named else None,
            customdata=list(components.refs), hovertemplate="mixture mean: %{text}<extra></extra>",
            marker={"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": "black"}, "color": "black"}))
    if extras is not None and len(extras.xy):
        fig.add_trace(go.Scatter(
            x=extras.xy[:, 0], y=extras.xy[:, 1], mode="markers+text", name="your sounds",
            text=list(extras.names), textposition="bottom center", customdata=list(extras.refs),
            hovertemplate="your sound: %{text}<extra></extra>",
            marker={"symbol": "star", "size": 16, "color": "gold", "line": {"width": 1.5, "color": "black"}}))
    if selection is not None and len(selection.xy):
        fig.add_trace(go.Scatter(
            x=selection.xy[:, 0], y=selection.xy[:, 1], mode="markers", name="selection",
            customdata=list(selection.refs), hovertext=list(selection.names),
            hovertemplate="%{hovertext}<extra>selection</extra>",
            marker={"symbol": "circle-open", "size": 2 * RING_PX, "color": "#444444",
                    "line": {"width": 2, "color": "#444444"}}))
    selected = selected or {}
    rings = [ring_shape(key, colour, selected.get(key)) for key, colour in (("A", "red"), ("B", "blue"))]
    # Always present (maybe hidden), so the browser can move them without a redraw.
    shapes = [*mark_shapes("search hits", highlight), *mark_shapes("neighbours", neighbours)]
    fig.update_layout(shapes=shapes + [shape for shape, _ in rings], annotations=[label for _, label in rings])
    fig.update_layout(
        title={"text": title, "font": {"size": 13}}, height=600, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        hovermode="closest", clickmode="event", dragmode="pan", uirevision=uirevision, meta=meta or {},
        # The legend sits under the map so it never overlaps a colour bar on the right.
        legend={"itemsizing": "constant", "font": {"size": 10}, "orientation": "h", "x": 0, "y": -0.02,
                    "yanchor": "top"},
        plot_bgcolor="white",
        xaxis={"showgrid": False, "zeroline": False, "showticklabels": False},
        yaxis={"showgrid": False, "zeroline": False, "showticklabels": False})
    return fig


def ring_shape(key: str, colour: str, xy: tuple[float, float] | None) -> tuple[dict, dict]:
    """The ring around A or B: a circle of RING_PX around a point and the label `key` beside it.

    A layout shape and an annotation (Plotly draws a pixel-sized shape's own label far off its
    circle), both named "selected <key>", not a trace: the browser moves them by writing their
    position into the layout and redrawing those two alone (bridge.js), where moving a trace,
    or a relayout of a position, recomputes every trace. Hidden when `xy` is None.
    """
    x, y = (float(xy[0]), float(xy[1])) if xy is not None else (0.0, 0.0)
    shape = {"type": "circle", "name": f"selected {key}", "xref": "x", "yref": "y", "layer": "above",
             "xsizemode": "pixel", "ysizemode": "pixel", "xanchor": x, "yanchor": y,
             "x0": -RING_PX, "x1": RING_PX, "y0": -RING_PX, "y1": RING_PX, "visible": xy is not None,
             "line": {"color": colour, "width": 3}}
    label = {"name": f"selected {key}", "xref": "x", "yref": "y", "x": x, "y": y, "text": key,
             "showarrow": False, "xanchor": "left", "yanchor": "bottom", "xshift": RING_PX - 2,
             "yshift": RING_PX - 2, "font": {"color": colour, "size": 14}, "visible": xy is not None}
    return shape, label


def mark_shapes(name: str, marks: Marks | None) -> list[dict]:
    """The `name` marks ("neighbours", "search hits") as layout shapes named "<name> <i>", one
    around each point of `marks` up to MARK_SHAPES[name][0]; with no marks, one hidden shape that
    the browser copies when marks come.

    Layout shapes, not a trace: in Plotly 3.3 a restyle of any trace recomputes every trace
    (0.4-0.6 s at 3,600 points, seconds at 100k, measured in Chromium), and the marks of a
    click came in while its audio was loading and held it back. The browser moves these the
    way it moves the A / B rings (bridge.js `__disentangleMark`). A shape takes no clicks or
    hovers: the corpus point under it answers both, and the table beside the map lists them.
    """
    count, colour, path = MARK_SHAPES[name]
    xy = marks.xy[:count] if marks is not None else np.zeros((0, 2))
    spots = [(float(x), float(y), True) for x, y in xy] or [(0.0, 0.0, False)]
    return [{"type": "path", "name": f"{name} {i}", "xref": "x", "yref": "y", "layer": "above",
             "xsizemode": "pixel", "ysizemode": "pixel", "xanchor": x, "yanchor": y, "path": path,
             "visible": shown, "line": {"color": colour, "width": 2.5}} for i, (x, y, shown) in enumerate(spots)]


def label_positions(xy: np.ndarray) -> list[str]:
    """Text positions for labelled points: neighbours in x alternate above and below,
    so two nearby labels do not run into one word."""
    order = np.argsort(np.asarray(xy)[:, 0], kind="stable")
    out = [""] * len(order)
    for rank, i in enumerate(order):
        out[int(i)] = ("top center", "bottom center", "middle right", "middle left")[rank % 4]
    return out


def _indexed_colours(colours: list[str]) -> dict:
    """Per-point colours -> {color: uint8 indices, colorscale, cmin, cmax} drawing the same colours."""
    if not colours:
        return {"color": np.zeros(0, np.uint8), "showscale": False}
    distinct = sorted(set(colours))[:256]
    index = {c: k for k, c in enumerate(distinct)}
    top = max(len(distinct) - 1, 1)
    scale = [[k / top, c] for k, c in enumerate(distinct)] if len(distinct) > 1 else [[0, distinct[0]], [1, distinct[0]]]
    return {"color": np.array([index.get(c, 0) for c in colours], np.uint8), "colorscale": scale,
            "cmin": 0, "cmax": top, "showscale": False}


def _row_number(ref: str) -> int:
    """"c:12" -> 12 (the click bridge turns a number n back into "c:n")."""
    return int(str(ref).split(":", 1)[1])


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def probe_heatmap(probe: dict[str, dict[str, float]] | None, source: str = "") -> go.Figure:
    """Probe scores {space: {label: f1}} as a heatmap (spaces x labels).

    Disentangled spaces show a bright cell on their own label and dark cells
    elsewhere. None or {} gives an empty figure titled "not evaluated".
    source: which data the scores are from, said in the title.
    """
    fig = go.Figure()
    if not probe:
        fig.update_layout(title="How disentangled: not evaluated (this checkpoint has no probe scores)",
                          height=240, xaxis={"visible": False}, yaxis={"visible": False})
        return fig
    spaces = list(probe)
    labels = sorted({lab for row in probe.values() for lab in row})
    z = [[probe[s].get(lab) for lab in labels] for s in spaces]
    text = [["" if v is None else f"{v:.2f}" for v in row] for row in z]
    fig.add_trace(go.Heatmap(z=z, x=labels, y=spaces, text=text, texttemplate="%{text}", zmin=0, zmax=1,
                             colorscale="Viridis", colorbar={"title": "F1"},
                             hovertemplate="space %{y} -> %{x}: F1 %{z:.3f}<extra></extra>"))
    title = "How disentangled: probe F1 of each label from each latent space"
    fig.update_layout(title=title + (f"<br><sup>scores on {source}</sup>" if source else ""),
                      height=120 + 45 * len(spaces), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      xaxis={"title": "label predicted"}, yaxis={"title": "latent space", "autorange": "reversed"})
    return fig

"""Figure builders for the explorer: the latent map, spectrogram images, probe heatmap.

matplotlib is not a dependency: spectrograms are drawn with numpy into PIL
images (PIL ships with gradio), the map and the heatmap are plotly figures.
The map is an SVG `go.Scatter` (not `scattergl`): Gradio re-renders the plot on
every update and repeated WebGL contexts leak in browsers. Each corpus point
carries its row reference in `customdata` ("c:<row>") so the click bridge in
the app can send it back to Python.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

# Anchors of the viridis colour map (matplotlib's, sampled at 9 points).
_VIRIDIS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], dtype=np.float32)
_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_VIRIDIS)), _VIRIDIS[:, c])
                 for c in range(3)], 1).astype(np.uint8)  # (256, 3)

#: Qualitative palette (plotly's "Dark24" + "Light24" start), cycled for classes.
PALETTE = ["#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86",
           "#EB663B", "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE",
           "#862A16", "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038"]
#: Above this many classes a label is drawn as one trace with a colour scale.
MAX_CLASS_TRACES = 24


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
    img = Image.fromarray(rgb, "RGB").resize((x.shape[1] * scale, x.shape[0] * scale), Image.NEAREST)
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
    titles = list(titles) if titles is not None else [None] * len(xs)
    tiles = [spectrogram_image(x, lo, hi, scale, t) for x, t in zip(xs, titles)]
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
    class names ("" unknown). hover: N hover texts. visible: (N,) bool filter mask.
    """

    coords: np.ndarray
    refs: list[str]
    labels: dict[str, list[str]]
    hover: list[str]
    visible: np.ndarray


def _sort_key(label: str):
    def key(v: str):
        if v == "":
            return (2, 0, "")
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0, v)
    return key


def latent_map(points: MapPoints, colour_by: str | None, title: str = "",
               components: dict | None = None, extras: Sequence[dict] = (),
               selected: dict[str, tuple[float, float] | None] | None = None,
               uirevision: str = "map") -> go.Figure:
    """The latent map as a plotly figure.

    components: {"xy": (K, 2), "labels": K names, "refs": K refs} mixture
      means, drawn as labelled crosses. extras: user sounds, each
      {"xy": (x, y), "name": str, "ref": str}, drawn as stars. selected:
      {"A": (x, y) | None, "B": ...}: rings around the selected points; these
      traces are named "selected A"/"selected B" so the browser can move them.
    uirevision keeps the user's zoom across updates of the same map.
    """
    fig = go.Figure()
    vis = points.visible
    idx = np.flatnonzero(vis)
    values = points.labels.get(colour_by, [""] * len(points.refs)) if colour_by else [""] * len(points.refs)
    classes = sorted({values[i] for i in idx}, key=_sort_key(colour_by or ""))
    numeric = all(_is_number(c) for c in classes if c != "") and any(c != "" for c in classes)
    if colour_by and len(classes) > MAX_CLASS_TRACES:
        known = np.array([values[i] != "" for i in idx], dtype=bool)
        if numeric:
            colour = np.array([float(values[i]) if values[i] != "" else np.nan for i in idx])
        else:
            order = {c: n for n, c in enumerate(classes)}
            colour = np.array([order[values[i]] for i in idx], dtype=float)
        sel = idx[known]
        fig.add_trace(go.Scatter(
            x=points.coords[sel, 0], y=points.coords[sel, 1], mode="markers", name=colour_by,
            customdata=[points.refs[i] for i in sel], hovertext=[points.hover[i] for i in sel],
            hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 6, "color": colour[known], "colorscale": "Viridis", "showscale": True,
                        "colorbar": {"title": colour_by, "thickness": 12}}, showlegend=False))
        if (~known).any():
            classes_unknown = idx[~known]
            _add_class(fig, points, classes_unknown, "(unknown)", "#bbbbbb")
    else:
        for n, cls in enumerate(classes):
            members = idx[[values[i] == cls for i in idx]] if len(idx) else idx
            _add_class(fig, points, members, cls or "(unknown)", PALETTE[n % len(PALETTE)] if cls else "#bbbbbb")
    if components is not None and len(components.get("xy", [])):
        xy = np.asarray(components["xy"])
        fig.add_trace(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="markers+text", name="mixture means",
            text=list(components["labels"]), textposition="top center", textfont={"size": 10},
            customdata=list(components["refs"]),
            hovertemplate="component: %{text}<extra>mixture mean</extra>",
            marker={"symbol": "x-thin", "size": 12, "line": {"width": 2, "color": "black"}, "color": "black"}))
    if extras:
        fig.add_trace(go.Scatter(
            x=[e["xy"][0] for e in extras], y=[e["xy"][1] for e in extras], mode="markers+text",
            name="your sounds", text=[e["name"] for e in extras], textposition="bottom center",
            customdata=[e["ref"] for e in extras], hovertemplate="your sound: %{text}<extra></extra>",
            marker={"symbol": "star", "size": 16, "color": "gold", "line": {"width": 1.5, "color": "black"}}))
    selected = selected or {}
    for key, colour in (("A", "red"), ("B", "blue")):
        xy = selected.get(key)
        fig.add_trace(go.Scatter(
            x=[xy[0]] if xy else [], y=[xy[1]] if xy else [], mode="markers+text", name=f"selected {key}",
            text=[key] if xy else [], textposition="top right", textfont={"color": colour, "size": 14},
            hoverinfo="skip", showlegend=False,
            marker={"symbol": "circle-open", "size": 20, "line": {"width": 3, "color": colour}, "color": colour}))
    fig.update_layout(
        title={"text": title, "font": {"size": 13}}, height=560, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        hovermode="closest", clickmode="event", dragmode="pan", uirevision=uirevision,
        legend={"itemsizing": "constant", "font": {"size": 10}}, plot_bgcolor="white",
        xaxis={"showgrid": False, "zeroline": False, "showticklabels": False},
        yaxis={"showgrid": False, "zeroline": False, "showticklabels": False})
    return fig


def _add_class(fig: go.Figure, points: MapPoints, members: np.ndarray, name: str, colour: str) -> None:
    fig.add_trace(go.Scatter(
        x=points.coords[members, 0], y=points.coords[members, 1], mode="markers", name=name,
        customdata=[points.refs[i] for i in members], hovertext=[points.hover[i] for i in members],
        hovertemplate="%{hovertext}<extra></extra>", marker={"size": 6, "color": colour, "opacity": 0.8}))


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def probe_heatmap(probe: dict[str, dict[str, float]] | None) -> go.Figure:
    """Probe scores {space: {label: f1}} as a heatmap (spaces x labels).

    Disentangled spaces show a bright cell on their own label and dark cells
    elsewhere. None or {} gives an empty figure titled "not evaluated".
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
    fig.update_layout(title="How disentangled: probe F1 of each label from each latent space",
                      height=120 + 45 * len(spaces), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      xaxis={"title": "label predicted"}, yaxis={"title": "latent space", "autorange": "reversed"})
    return fig

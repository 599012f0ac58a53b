"""Spectrogram strips as plotly figures: readable titles, time and frequency axes, grids as grids.

Presentation only. A strip is a row (or, for a 2-D grid, an n x n grid) of
decoded spectrograms on one shared colour range, so steps compare by eye.
Text is drawn by the browser, not burnt into pixels, so it stays readable at
any size, and no gallery re-crops the images.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from disentangle.features.config import FeatureConfig


def bin_frequencies(cfg: FeatureConfig) -> np.ndarray:
    """Centre frequency in Hz of each feature bin (n_bins,)."""
    if cfg.kind == "mel":
        import librosa

        return librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax)[1:-1].astype(np.float32)
    return np.linspace(0, cfg.sample_rate / 2, cfg.n_fft // 2 + 1, dtype=np.float32)


def strip_figure(features: Sequence[np.ndarray], captions: Sequence[str], cfg: FeatureConfig,
                 columns: int | None = None, title: str = "") -> go.Figure:
    """Features (F, T) each -> one figure of heatmaps with a title per step.

    columns: steps per row (default: all in one row); a square grid passes
    n, and row 0 is drawn at the top. Time runs in seconds, frequency in Hz
    on a log axis (mel bins are log-like spaced).
    """
    arrays = [np.asarray(f, dtype=np.float32) for f in features]
    if not arrays:
        raise ValueError("nothing to draw")
    n = len(arrays)
    cols = int(columns or n)
    rows = (n + cols - 1) // cols
    lo = float(min(a.min() for a in arrays))
    hi = float(max(a.max() for a in arrays))
    freqs = bin_frequencies(cfg)[: arrays[0].shape[0]]
    times = np.arange(arrays[0].shape[1], dtype=np.float32) * cfg.hop_length / cfg.sample_rate
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(captions), shared_xaxes=True,
                        shared_yaxes=True, horizontal_spacing=0.012, vertical_spacing=0.08 if rows > 1 else 0.0)
    for k, (arr, caption) in enumerate(zip(arrays, captions)):
        r, c = k // cols + 1, k % cols + 1
        fig.add_trace(go.Heatmap(z=arr, x=times, y=freqs, zmin=lo, zmax=hi, colorscale="Viridis",
                                 showscale=k == 0, name=caption,
                                 colorbar={"thickness": 8, "title": {"text": "level", "side": "right"}},
                                 hovertemplate=f"{caption}<br>%{{x:.2f}} s, %{{y:.0f}} Hz<extra></extra>"),
                      row=r, col=c)
    fig.update_yaxes(type="log", showticklabels=False)
    fig.update_yaxes(title_text="Hz", showticklabels=True, col=1)
    fig.update_xaxes(title_text="s", row=rows)
    fig.update_annotations(font_size=11)
    fig.update_layout(title={"text": title, "font": {"size": 12}} if title else None,
                      height=70 + 170 * rows, margin={"l": 50, "r": 10, "t": 40 if title else 28, "b": 30})
    return fig

"""Gradio event handlers: convert UI values to `disentangle.explore` calls and back.

No logic of its own beyond that conversion: what an action computes lives in
`disentangle.explore.actions`. Every handler takes the user's session (a
`gr.State`) and returns it, so selections never mix between users; the
`Explorer` they share is read-only.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from disentangle.audio.io import AudioError
from disentangle.explore import actions
from disentangle.explore.explorer import Explorer
from disentangle.explore.figures import probe_heatmap
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.session import Session, new_session, parse_click, remember, select
from disentangle.interface import to_int16

#: How many per-space component pickers the Sample tab has (models with more spaces share the last).
MAX_SPACES = 6
ANY = "any (whole prior)"
ALL_SPACES = "all spaces"
METHODS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}


def user_errors(fn: Callable) -> Callable:
    """Turn the library's ValueError/AudioError into a `gr.Error` the user sees."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, AudioError, KeyError) as exc:
            raise gr.Error(str(exc).strip("'\"")) from None
    return wrapper


def audio_out(sample_rate: int, clip: np.ndarray | None) -> tuple[int, np.ndarray] | None:
    """(sample_rate, int16) for gr.Audio: true level, clipped only beyond full scale."""
    return None if clip is None else (int(sample_rate), to_int16(clip))


def fresh(session: Session | None) -> Session:
    return session if isinstance(session, dict) and "user" in session else new_session()


class Handlers:
    """The app's handlers, bound to one shared `Explorer`."""

    def __init__(self, explorer: Explorer, default_method: str = "umap"):
        self.ex = explorer
        self.default_method = default_method

    # --- helpers -----------------------------------------------------------
    @staticmethod
    def params(method: str, n_neighbors: float, min_dist: float, perplexity: float,
               pc_x: float, pc_y: float) -> ProjectionParams:
        return ProjectionParams(METHODS.get(method, method), int(n_neighbors), float(min_dist), float(perplexity),
                                (int(pc_x), int(pc_y)))

    def selection_md(self, session: Session) -> str:
        return (f"**A:** {self.ex.describe_ref(session.get('A'), session)}  \n"
                f"**B:** {self.ex.describe_ref(session.get('B'), session)}")

    def _strip_outputs(self, r: actions.Rendering, session: Session, panel: str):
        """(strip image, gallery items, all-steps audio, first-step audio, info, session)."""
        session.setdefault("steps", {})[panel] = [(r.sample_rate, c) for c in r.clips]
        remember(session, f"{panel} (all steps)", r.sample_rate, r.joined())
        for cap, clip in zip(r.captions, r.clips):
            remember(session, f"{panel}: {cap}", r.sample_rate, clip)
        gallery = [(tile, cap) for tile, cap in zip(r.tiles, r.captions)]
        return (r.image, gallery, audio_out(r.sample_rate, r.joined()),
                audio_out(r.sample_rate, r.clips[0]), r.info, session)

    # --- model / map ------------------------------------------------------
    def model_changed(self, model: str, session: Session):
        """New choices for every space picker, the Sample tab and the probe heatmap."""
        spaces = self.ex.space_names(model)
        entry = self.ex.entry(model)
        pickers = []
        for i in range(MAX_SPACES):
            if i < len(spaces):
                comps = entry.interface.prior(spaces[i])
                choices = [ANY] + ([f"{k}: {lab}" for k, lab in enumerate(comps.labels)] if comps is not None else [])
                info = "mixture component" if comps is not None else "N(0, I) prior (no components)"
                pickers.append(gr.update(visible=True, label=f"{spaces[i]} ({info})", choices=choices, value=ANY))
            else:
                pickers.append(gr.update(visible=False, choices=[ANY], value=ANY))
        first = spaces[0]
        upd = lambda: gr.update(choices=spaces, value=first)
        report = getattr(entry.model, "report", {}) or {}
        return (upd(), upd(), gr.update(choices=[ALL_SPACES] + spaces, value=ALL_SPACES), upd(), upd(), upd(),
                *pickers, probe_heatmap(report.get("probe_f1")), self.report_md(model))

    def report_md(self, model: str) -> str:
        entry = self.ex.entry(model)
        report = getattr(entry.model, "report", {}) or {}
        spaces = ", ".join(f"{s.name} ({s.size}-d, {s.scope}{', ' + s.label if s.label else ''})"
                           for s in entry.model.spaces)
        lines = [f"**{model}** ({entry.model.name}): {spaces}. {len(entry.rows)} corpus items encoded"
                 + (f", {len(entry.skipped)} unreadable files skipped." if entry.skipped else ".")]
        scalars = {k: v for k, v in report.items() if isinstance(v, (int, float))}
        if scalars:
            lines.append("Report: " + ", ".join(f"`{k}` {v:.4g}" for k, v in sorted(scalars.items())[:16]))
        if "probe_f1" not in report:
            lines.append("Probe scores: not evaluated (run scripts/evaluate.py on this checkpoint).")
        return "\n\n".join(lines)

    def space_changed(self, model: str, space: str):
        """The dimension sliders follow the size of the chosen space."""
        size = self.ex.entry(model).model.space(space).size
        return (gr.update(maximum=max(size - 1, 0), value=0), gr.update(maximum=max(size - 1, 0), value=0),
                gr.update(maximum=max(size - 1, 0), value=min(1, size - 1)))

    def filter_changed(self, label: str | None):
        choices = self.ex.classes(label) if label else []
        return gr.update(choices=choices, value=[])

    @user_errors
    def project(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour_by,
                filter_label, filter_values, show_components, session,
                progress=gr.Progress()):  # noqa: B008 - Gradio injects progress through this default
        session = fresh(session)
        params = self.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        if not self.ex.has_projection(model, space, params):
            progress(0.1, desc=f"fitting {params.label()} on {len(self.ex.entry(model).rows)} points "
                               "(once; cached on disk)")
        fig, caption = self.ex.map_figure(model, space, params, colour_by or None, session,
                                          filter_label or None, list(filter_values or []), bool(show_components))
        return fig, caption

    # --- click to hear -------------------------------------------------------
    @user_errors
    def render_point(self, model, click, slot, autoplay, session):
        """A click (or an API call with a reference such as "c:12") -> audio + spectrograms."""
        session = fresh(session)
        ref = parse_click(click)
        if ref is None:
            raise gr.Error(f"not a point reference: {click!r} (expected c:<row>, u:<j> or k:<space>:<k>)")
        select(session, ref, slot if slot in ("A", "B") else "A")
        r = actions.render_point(self.ex, model, ref, session)
        recon, original = r.clips[0], r.original
        remember(session, f"{slot}: reconstruction", r.sample_rate, recon)
        if original is not None:
            remember(session, f"{slot}: original", r.sample_rate, original)
        if autoplay == "original" and original is not None:
            play = original
        elif autoplay == "original, then reconstruction" and original is not None:
            play = np.concatenate([original, np.zeros(int(0.15 * r.sample_rate), np.float32), recon])
        else:
            play = recon
        return (audio_out(r.sample_rate, play), audio_out(r.sample_rate, original),
                audio_out(r.sample_rate, recon), r.image, self.selection_md(session), session)

    def swap_ab(self, session):
        session = fresh(session)
        session["A"], session["B"] = session.get("B"), session.get("A")
        return self.selection_md(session), session

    # --- operations ----------------------------------------------------------
    @user_errors
    def sweep(self, model, space, dim, lo, hi, steps, unit, session):
        session = fresh(session)
        r = actions.sweep(self.ex, model, session, session.get("A"), space, int(dim), float(lo), float(hi),
                          int(steps), "std" if str(unit).startswith("prior") else "value")
        return self._strip_outputs(r, session, "sweep")

    @user_errors
    def interpolate(self, model, space, lo, hi, steps, session):
        session = fresh(session)
        r = actions.interpolate(self.ex, model, session, None if space in (None, "", ALL_SPACES) else space,
                                float(lo), float(hi), int(steps))
        return self._strip_outputs(r, session, "interpolation")

    @user_errors
    def swap(self, model, space, session):
        session = fresh(session)
        return self._strip_outputs(actions.swap(self.ex, model, session, space), session, "swap")

    def targets(self, model, space):
        names = list(actions.class_targets(self.ex, model, space))
        return gr.update(choices=names, value=names[0] if names else None)

    @user_errors
    def toward(self, model, space, target, alpha, session):
        session = fresh(session)
        if not target:
            raise gr.Error(f"{space} has no mixture components or class means to move toward")
        return self._strip_outputs(actions.toward(self.ex, model, session, space, target, float(alpha)),
                                   session, "toward")

    @user_errors
    def sample(self, model, w, n, seed, session, *pickers):
        session = fresh(session)
        components: dict[str, int | None] = {}
        for space, pick in zip(self.ex.space_names(model), pickers):
            components[space] = None if pick in (None, "", ANY) else int(str(pick).split(":", 1)[0])
        return self._strip_outputs(actions.sample(self.ex, model, components, float(w), int(n), int(seed)),
                                   session, "sample")

    @user_errors
    def grid(self, model, space, dim_x, dim_y, lo, hi, steps, session):
        session = fresh(session)
        if int(dim_x) == int(dim_y):
            raise gr.Error("choose two different dimensions for the grid")
        r = actions.grid(self.ex, model, session, space, (int(dim_x), int(dim_y)), float(lo), float(hi), int(steps))
        return self._strip_outputs(r, session, "grid")

    def play_step(self, panel: str) -> Callable:
        """Gallery click -> that step's audio (from the session, nothing recomputed)."""
        def handler(session, evt: gr.SelectData):
            steps = fresh(session).get("steps", {}).get(panel, [])
            if evt is None or not 0 <= evt.index < len(steps):
                return None
            sr, clip = steps[evt.index]
            return audio_out(sr, clip)
        return handler

    # --- your own sound ------------------------------------------------------
    @user_errors
    def encode_audio(self, path, name, use_as, session):
        session = fresh(session)
        if not path:
            raise gr.Error("upload or record a sound first")
        ref, warns = actions.encode_upload(self.ex, session, str(path), (name or "").strip() or None)
        for w in warns:
            gr.Warning(w)
        if use_as in ("A", "B"):
            select(session, ref, use_as)
        sound = session["user"][-1]
        msg = f"Encoded **{sound['name']}** as `{ref}`; it is on the map as a star" + (
            f" and selected as {use_as}." if use_as in ("A", "B") else ".")
        return msg, self.selection_md(session), session

    # --- export ------------------------------------------------------------
    @user_errors
    def export_csv(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session):
        session = fresh(session)
        params = self.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        out = Path(tempfile.mkdtemp(prefix="disentangle-map-")) / f"{model}_{space}_{params.method}.csv"
        return str(self.ex.export_csv(model, space, params, session, out))

    def render_names(self, session):
        names = list(fresh(session).get("renders", {}))
        return gr.update(choices=names, value=names[-1] if names else None)

    @user_errors
    def export_wav(self, name, session):
        import soundfile as sf

        renders = fresh(session).get("renders", {})
        if name not in renders:
            raise gr.Error("nothing rendered under that name yet: play a point or run an action first")
        sr, clip = renders[name]
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60]
        out = Path(tempfile.mkdtemp(prefix="disentangle-wav-")) / f"{safe}_{int(time.time())}.wav"
        sf.write(out, to_int16(clip), sr, subtype="PCM_16")
        return str(out)


def first_or_none(values: list[Any]) -> Any:
    return values[0] if values else None

"""Gradio event handlers: convert UI values to `disentangle.explore` calls and back.

No logic of its own beyond that conversion: what an action computes lives in
`disentangle.explore.actions`. Every handler takes the user's session (a
`gr.State`) and returns it, so selections never mix between users; the
`Explorer` they share is read-only. The map's, the model's and your own sound's
handlers are here; the tool tabs' in `tool_handlers.py`, what they share in
`handler_base.py`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
from errors import raw_inputs, user_errors  # noqa: F401  (re-exported for the layout)
from handler_base import (  # noqa: F401  (re-exported: the layout, routes and tests import them here)
    ALL_SPACES,
    ANY,
    AUTOPLAY,
    MAX_SPACES,
    METHODS,
    SWEEP_UNITS,
    audio_out,
    fresh,
    played,
)
from map_store import MEMO as MAP_MEMO
from map_store import STORE as MAPS
from tool_handlers import ToolHandlers

from disentangle.audio.io import AudioError
from disentangle.explore import actions, export
from disentangle.explore import validate as v
from disentangle.explore.describe import probe_source, value_text
from disentangle.explore.figures import MapStyle, probe_heatmap
from disentangle.explore.mapview import MapOptions, map_figure, session_marks
from disentangle.explore.refs import parse_click
from disentangle.explore.session import Clip, Session
from disentangle.interface import to_int16


class Handlers(ToolHandlers):
    """The app's handlers, bound to one shared `Explorer`."""

    # --- model / map ------------------------------------------------------
    def model_changed(self, model: str, session: Session, keep_space: str | None = None):
        """New choices for every space picker, the Sample tab, the probe heatmap and the label pickers
        (the corpus may have changed with the model). keep_space: shown if the model has it
        (a loaded session or a link), else the first space."""
        ex = self.ex_of(model)
        entry = ex.entry(model)
        spaces = entry.space_names
        pickers = []
        for i in range(MAX_SPACES):
            if i < len(spaces):
                comps = entry.components(spaces[i])
                label = entry.model.space(spaces[i]).label or ""
                choices = [(ANY, ANY)] + [(value_text(label, name), str(k)) for k, name in enumerate(comps.labels)]
                info = "mixture component" if len(comps.labels) else "N(0, I) prior (no components)"
                pickers.append(gr.update(visible=True, label=f"{spaces[i]} ({info})", choices=choices, value=ANY))
            else:
                pickers.append(gr.update(visible=False, choices=[ANY], value=ANY))
        first = keep_space if keep_space in spaces else spaces[0]
        upd = lambda: gr.update(choices=spaces, value=first)
        has_means = any(len(entry.components(s).labels) for s in spaces)
        colour = self.space_colour(model, first, first_or_none(ex.labels))
        return (upd(), upd(), gr.update(choices=[ALL_SPACES] + spaces, value=ALL_SPACES), upd(), upd(), upd(),
                *pickers, probe_heatmap(entry.model.report.get("probe_f1"), probe_source(entry.model)),
                self.report_md(model), gr.update(visible=has_means), {**colour, "choices": ex.labels},
                gr.update(choices=["", *ex.labels], value=""), gr.update(choices=[], value=[]))

    def space_colour(self, model: str, space: str, current: str | None):
        """Colour by the space's own label (pitch for a pitch space) when the corpus has it."""
        label = self.ex_of(model).entry(model).model.space(space).label
        return gr.update(value=label) if label in self.ex_of(model).labels else gr.update(value=current)

    def report_md(self, model: str) -> str:
        entry = self.ex_of(model).entry(model)
        report = entry.model.report
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
        size = self.ex_of(model).entry(model).model.space(space).size
        return (gr.update(maximum=max(size - 1, 0), value=0), gr.update(maximum=max(size - 1, 0), value=0),
                gr.update(maximum=max(size - 1, 0), value=min(1, size - 1)))

    def filter_changed(self, label: str | None, model: str | None = None):
        choices = (self.ex_of(model) if model else self.ex).classes(label) if label else []
        return gr.update(choices=choices, value=[])

    @user_errors(2, message_at=1)
    def project(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour_by,
                filter_label, filter_values, show_components, session, point_size=6.0, opacity=0.7,
                only_selection=False, progress=gr.Progress()):  # noqa: B008 (Gradio injects progress through this default)
        """The map of a space: (the path its plotly JSON is served at, GET /disentangle/map/<key>, which
        the page fetches and draws into its one plot (app/map_store.py says why); caption)."""
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        params = self.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        colour_by = v.choice(colour_by, "colour by", ["", *self.ex_of(model).labels]) if colour_by else None
        filter_label = v.choice(filter_label, "filter by", ["", *self.ex_of(model).labels]) if filter_label else None
        if not isinstance(filter_values, (list, tuple, type(None))) or len(filter_values or []) > 1000:
            raise v.UserError("show only must be a list of values")
        values = [v.text(x, "show only") for x in filter_values or []]
        style = MapStyle(v.number(point_size, "point size", v.POINT_SIZE), v.number(opacity, "opacity", v.OPACITY))
        if not self.ex_of(model).has_projection(model, space, params):
            progress(0.1, desc=f"fitting {params.label()} on {len(self.ex_of(model).entry(model).rows)} points "
                               "(once; cached on disk)")
        opts = MapOptions(colour_by, filter_label, values, v.flag(show_components, "mark mixture means"), style,
                          only=[r.index for r in session.selection]
                          if v.flag(only_selection, "show only the selection") and session.selection else None)
        ex = self.ex_of(model)
        key = (model, space, params.key(), repr(opts), session_marks(session))
        made = MAP_MEMO.get(ex, key)
        if made is None:
            fig, caption = map_figure(ex, model, space, params, opts, session)
            made = MAPS.put_figure(fig), caption
            MAP_MEMO.put(ex, key, *made)
        return made

    @user_errors(3, message_at=1)
    def project_space(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour_by,
                      filter_label, filter_values, show_components, session, point_size=6.0, opacity=0.7,
                      only_selection=False, progress=gr.Progress()):  # noqa: B008 (as in `project`)
        """A space picked: its map coloured by the space's own label when the corpus has it, in one
        answer (map, caption, colour); as two steps a switch waited for a second round trip."""
        key = self.model(model)
        colour = self.space_colour(key, self.space(key, space), colour_by)
        colour_by = colour.get("value", colour_by)
        fig, caption = self.project(model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour_by,
                                    filter_label, filter_values, show_components, session, point_size, opacity,
                                    only_selection, progress)
        return fig, caption, colour

    # --- click to hear -------------------------------------------------------
    @user_errors(6, message_at=4)
    def render_point(self, model, click, slot, autoplay, session):
        """A click (or an API call with a reference such as "c:12") -> audio + spectrograms."""
        session = fresh(session)
        model = self.model(model)
        slot = v.choice(slot, "clicks select", ("A", "B"))
        autoplay = v.choice(autoplay, "on click, play", AUTOPLAY)
        ref = parse_click(v.text(click, "point reference"))
        if ref is None:
            raise ValueError("click a point on the map first")
        r = actions.render_point(self.ex_of(model), model, ref, session)
        session.select(ref, slot)
        recon = Clip(r.sample_rate, r.clips[0])
        original = None if r.original is None else Clip(r.sample_rate, r.original)
        name = self._name(ref, session, model)
        session.remember(f"{name} reconstruction", recon)
        if original is not None:
            session.remember(f"{name} original", original)
        play = played(autoplay, original, recon)
        return (audio_out(play), audio_out(original), audio_out(recon), r.image,
                self.selection_md(session, model), session)

    def swap_ab(self, session):
        session = fresh(session).swap()
        return self.selection_md(session), session

    # --- your own sound ------------------------------------------------------
    @user_errors(7, message_at=0)
    def encode_audio(self, path, name, use_as, model, session):
        """Encode an upload; as A or B it is also played and its spectrograms shown.

        Returns (message, play, original, reconstruction, spectrograms, selection, session).
        """
        session = fresh(session)
        model = self.model(model)
        use_as = v.choice(use_as, "use it as", ("A", "B", "neither"))
        if not path:
            raise ValueError("upload or record a sound first")
        path = v.text(path, "upload", 4096)
        shown = v.text(name, "name", 80).strip() or upload_name(path)
        if not os.path.isfile(path):  # isfile, unlike Path.is_file, is False for any bad name
            raise v.UserError("the upload did not arrive on the server: upload it again")
        try:
            ref, warns = actions.encode_upload(self.ex_of(model), session, path, shown)
        except AudioError as exc:  # name the user's file, not Gradio's temporary copy or a library class
            raise v.UserError(f"{Path(path).name}: {user_reason(exc.reason)}") from None
        for w in warns:
            gr.Warning(w)
        sound = session.user[-1]
        msg = f"Encoded **{sound.name}**; it is on the map as a gold star"
        if use_as not in ("A", "B"):
            return msg + ".", None, None, None, None, self.selection_md(session, model), session
        session.select(ref, use_as)
        r = actions.render_point(self.ex_of(model), model, ref, session)
        recon = Clip(r.sample_rate, r.clips[0])
        session.remember(f"{sound.name} reconstruction", recon)
        return (msg + f" and selected as {use_as}.", audio_out(recon), audio_out(Clip(r.sample_rate, r.original)),
                audio_out(recon), r.image, self.selection_md(session, model), session)

    # --- export ------------------------------------------------------------
    @user_errors(1)
    def export_csv(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session):
        session = fresh(session)
        model = self.model(model)
        space = self.space(model, space)
        params = self.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        out = export_dir() / f"map_{safe_name(model)}_{safe_name(space)}_{params.method}.csv"
        return str(export.map_csv(self.ex_of(model), model, space, params, session, out))

    def render_names(self, session):
        names = list(fresh(session).renders)
        return gr.update(choices=names, value=names[-1] if names else None)

    @user_errors(1)
    def export_wav(self, name, session):
        import soundfile as sf

        renders = fresh(session).renders
        if not isinstance(name, str) or name not in renders:
            raise ValueError("nothing rendered under that name yet: play a point or run an action first")
        clip = renders[name]
        out = export_dir() / f"{safe_name(name)}.wav"
        sf.write(out, to_int16(clip.audio), clip.sample_rate, subtype="PCM_16")
        return str(out)


#: Exports are written under one folder; those older than an hour are deleted.
EXPORTS = Path(tempfile.gettempdir()) / "disentangle-exports"
EXPORT_MAX_AGE_S = 3600


def export_dir() -> Path:
    """A fresh folder for one export (Gradio copies the file into its own cache);
    earlier exports past EXPORT_MAX_AGE_S are removed on the way."""
    import shutil
    import time

    EXPORTS.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in EXPORTS.iterdir():
        try:
            if now - old.stat().st_mtime > EXPORT_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    return Path(tempfile.mkdtemp(dir=EXPORTS))


def safe_name(text: str) -> str:
    """A file-name-safe version of a name (letters, digits, - and _), at most 80 characters."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_")[:80] or "clip"


def user_reason(reason: str) -> str:
    """An audio error's reason without the library's exception text in parentheses."""
    return reason.split(" (", 1)[0]


def upload_name(path: str) -> str:
    """The user's file name of an upload (Gradio keeps it as the last path part)."""
    return Path(str(path)).stem


def first_or_none(values: list[Any]) -> Any:
    return values[0] if values else None

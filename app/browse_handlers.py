"""Handlers of the browsing tools: neighbours, search, box/lasso selection, latent export.

Like `ui_handlers`, they only convert UI values to `disentangle.explore` calls
and back. Marks on the map (neighbours, search hits) go back as JSON that
bridge.js draws into the existing map, so the map is not re-sent.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
from pick_table import pick_table, picked_ref
from ui_handlers import Handlers, audio_out, fresh, safe_name, user_errors

from disentangle.explore import export
from disentangle.explore.describe import item_labels, ref_name
from disentangle.explore.explorer import Explorer
from disentangle.explore.mapview import ref_marks
from disentangle.explore.neighbours import ALL_SPACES, Neighbour
from disentangle.explore.refs import Ref, parse_click
from disentangle.explore.session import Clip, Session

#: Columns of the neighbour and search tables.
NEIGHBOUR_COLUMNS = ["#", "name", "labels", "distance"]
HIT_COLUMNS = ["#", "name", "labels"]
#: At most this many selected items are played one after another.
MAX_PLAYED = 30


class BrowseHandlers:
    """Neighbours, search, selection and latent export, over the shared explorer."""

    def __init__(self, base: Handlers):
        self.base = base

    def _marks_json(self, model, space, params, refs: list[Ref], session: Session) -> str:
        marks = ref_marks(self.base.ex_of(model), model, space, params, refs, session)
        return json.dumps({"x": marks.xy[:, 0].tolist(), "y": marks.xy[:, 1].tolist(),
                           "refs": marks.refs, "names": marks.names})

    # --- neighbours ----------------------------------------------------------
    @user_errors(3)
    def neighbours(self, model, space, which, k, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session):
        """Neighbours of A in the map's space (or `which`): (table, marks JSON, session); skipped
        when they are shown already (a click finds them at once, `neighbours_of_click`)."""
        session = fresh(session)
        if session.a is None:
            session.neighbours_of = ""
            return (pick_table(NEIGHBOUR_COLUMNS, [], [], "no A yet: click a point on the map"),
                    self._marks_json(model, space, None, [], session), session)
        return self._neighbours(model, space, which, k, (method, n_neighbors, min_dist, perplexity, pc_x, pc_y),
                                session.a, session)

    @user_errors(2)
    def neighbours_of_click(self, model, space, which, k, method, n_neighbors, min_dist, perplexity, pc_x, pc_y,
                            click, slot, session):
        """A click that selects A: its neighbours, asked beside `render_point` rather than after it
        (the table waited for the click's answer and then a second round trip): (table, marks
        JSON). The session (the same object `render_point` gets) is updated in place and not
        returned: Gradio holds an event back while another one that outputs the same state runs."""
        session = fresh(session)
        try:
            ref = parse_click(str(click or ""))
        except ValueError:  # render_point, asked by the same click, says what is wrong
            ref = None
        if str(slot) != "A" or ref is None:
            return gr.skip(), gr.skip()
        return self._neighbours(model, space, which, k, (method, n_neighbors, min_dist, perplexity, pc_x, pc_y),
                                ref, session)[:2]

    def _neighbours(self, model, space, which, k, projection: tuple, of: Ref, session: Session):
        target = space if which in (None, "", "map space") else which
        key = neighbours_key(model, of, target, int(k))
        if key == session.neighbours_of:
            return gr.skip(), gr.skip(), gr.skip()
        ex = self.base.ex_of(model)
        found = ex.neighbours(model).nearest(of, target, int(k), session)
        session.neighbours = [n.ref for n in found]
        session.neighbours_of = key
        params = self.base.params(*projection)
        return neighbour_table(ex, found), self._marks_json(model, space, params, session.neighbours, session), session

    def play_neighbour(self, model, pick, autoplay, session):
        """A neighbour's row picked in the table ("<ref>|<stamp>") -> it plays and becomes B. The
        table may have come from the page's own request (neighbours_route) before this session
        listed it, so any point `render_point` accepts is played."""
        session = fresh(session)
        ref = picked_ref(pick)
        if not ref:
            return tuple(gr.skip() for _ in range(6))
        return self.base.render_point(model, ref, "B", autoplay, session)

    def step_neighbour(self, model, key, autoplay, session):
        """Keyboard n / p: the next / previous neighbour of A plays and becomes B."""
        session = fresh(session)
        if not session.neighbours or not key:
            return tuple(gr.skip() for _ in range(6))
        step = 1 if str(key).startswith("n") else -1
        pos = session.neighbours.index(session.b) if session.b in session.neighbours else -1
        if pos < 0 and step < 0:
            pos = 0
        ref = session.neighbours[(pos + step) % len(session.neighbours)]
        return self.base.render_point(model, str(ref), "B", autoplay, session)

    # --- search ----------------------------------------------------------------
    @user_errors(4, message_at=2)
    def search(self, query, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session):
        """(hits table, marks JSON, summary, session)."""
        session = fresh(session)
        ex = self.base.ex_of(model)
        hits = ex.search(str(query or ""))
        session.hits = hits
        params = self.base.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        rows = [[n + 1, *row_texts(ex, r)] for n, r in enumerate(hits[:200])]
        more = " (the first 200 listed and marked)" if len(hits) > 200 else ""
        summary = f"{len(hits)} items match **{query}**{more}; pick one to select it." if hits else \
            f"nothing matches **{query}**"
        table = pick_table(HIT_COLUMNS, rows, [str(r) for r in hits[:200]], "no matches")
        return table, self._marks_json(model, space, params, hits[:200], session), summary, session

    def pick_hit(self, model, pick, slot, autoplay, session):
        """A search hit picked in the table ("<ref>|<stamp>") -> it plays and becomes A (or B)."""
        session = fresh(session)
        ref = picked_ref(pick)
        if not ref:
            return tuple(gr.skip() for _ in range(6))
        return self.base.render_point(model, ref, slot, autoplay, session)

    # --- selection ---------------------------------------------------------------
    def selected(self, value, session):
        """Box or lasso on the map -> the session's selection: (summary, session)."""
        session = fresh(session)
        text = str(value or "").split("|", 1)[0]
        n_items = len(self.base.ex_of_session(session).corpus.items)
        refs = []
        for part in filter(None, text.split(",")):
            try:
                ref = parse_click(part)
            except ValueError:
                continue
            if ref is not None and ref.kind == "corpus" and ref.index < n_items:
                refs.append(ref)
        session.selection = refs[:5000]
        return self.selection_md(session), session

    def selection_md(self, session: Session) -> str:
        refs = session.selection
        if not refs:
            return "Nothing selected: choose *Box select* or *Lasso select* in the map's tool bar and drag."
        ex = self.base.ex_of_session(session)
        names = ", ".join(ref_name(ex, r) for r in refs[:8])
        return f"**{len(refs)} selected:** {names}{' ...' if len(refs) > 8 else ''}"

    @user_errors(1)
    def play_selection(self, model, session):
        """The selected items' originals one after another (at most MAX_PLAYED)."""
        session = fresh(session)
        if not session.selection:
            raise ValueError("select points with box or lasso first")
        entry = self.base.ex_of(model).entry(model)
        gap = np.zeros(int(0.12 * entry.interface.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        for ref in session.selection[:MAX_PLAYED]:
            clip = entry.original(ref, session)
            if clip is not None:
                parts += [clip, gap]
        if not parts:
            raise ValueError("none of the selected files could be read")
        return audio_out(Clip(entry.interface.sample_rate, np.concatenate(parts[:-1])))

    def clear_selection(self, session):
        session = fresh(session)
        session.selection = []
        return self.selection_md(session), session

    @user_errors(1)
    def export_selection(self, kind, session):
        """The selection as a CSV of names and labels, or a zip of its audio files."""
        session = fresh(session)
        if not session.selection:
            raise ValueError("select points with box or lasso first")
        folder = Path(tempfile.mkdtemp(prefix="disentangle-selection-"))
        ex = self.base.ex_of_session(session)
        stem = f"selection_{len(session.selection)}_items_{safe_name(ex.corpus.name)}"
        if kind == "zip":
            return str(export.selection_zip(ex, session.selection, folder / f"{stem}.zip"))
        return str(export.selection_csv(ex, session.selection, folder / f"{stem}.csv"))

    @user_errors(1)
    def export_latents(self, model, scope, kind, session):
        """Latents of every space, of the corpus or of the selection, as CSV or NPZ."""
        session = fresh(session)
        refs = None
        if scope == "selection":
            if not session.selection:
                raise ValueError("select points with box or lasso first (or export the whole corpus)")
            refs = session.selection
        folder = Path(tempfile.mkdtemp(prefix="disentangle-latents-"))
        ex = self.base.ex_of(model)
        what = f"selection_{len(refs)}" if refs is not None else safe_name(ex.corpus.name)
        stem = f"latents_{safe_name(model)}_{what}"
        if kind == "npz":
            return str(export.latents_npz(ex, model, folder / f"{stem}.npz", refs))
        return str(export.latents_csv(ex, model, folder / f"{stem}.csv", refs))


def row_texts(ex: Explorer, ref: Ref) -> tuple[str, str]:
    """A corpus point's name and labels, as the tables list them."""
    return ref_name(ex, ref), item_labels(ex.corpus.items[ref.index], ex.labels)


def neighbours_key(model: str, of: Ref, target: str, k: int) -> str:
    """What a neighbour list was asked for (the session's `neighbours_of`)."""
    return f"{model}|{of}|{target}|{k}"


def neighbour_table(ex: Explorer, found: list[Neighbour]) -> str:
    """The neighbour table (HTML rows that pick their point): rank, name, labels, distance."""
    rows = [[n.rank, *row_texts(ex, n.ref), round(n.distance, 4)] for n in found]
    return pick_table(NEIGHBOUR_COLUMNS, rows, [str(n.ref) for n in found], "no neighbours")


def neighbour_choices(spaces: list[str]) -> list[str]:
    return ["map space", *spaces, ALL_SPACES]

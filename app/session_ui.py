"""Sessions and links: save the view to a file, load it back, and keep the page URL in step.

UI only: the file format and its checks are `disentangle.explore.sessionfile`.
A view sets the corpus, model, space and projection controls, so the handlers
here return updates for those; the map is then redrawn by the layout's chain.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import gradio as gr
from errors import user_errors
from ui_handlers import METHODS, Handlers, export_dir, fresh, safe_name

from disentangle.explore import validate as v
from disentangle.explore.hub import SEP
from disentangle.explore.session import Session
from disentangle.explore.sessionfile import SavedView, check_view, from_query, read_view, to_query

#: Writes the view's query string into the address bar (no reload, no history entry); not
#: before the page's own link has been read (READY_JS), or the first map would overwrite it.
URL_JS = "(q) => { if (q && window.__disentangleViewReady) history.replaceState(null, '', q); }"
READY_JS = "() => { window.__disentangleViewReady = true; }"
#: What `apply` returns besides the message: corpus, model, space, method and its 5 parameters,
#: the A/B text, the selection summary and the session.
N_VIEW_OUTPUTS = 12


class SessionHandlers:
    """Save / load / link handlers over the app's `Handlers`."""

    def __init__(self, base: Handlers, selection_text: Callable[[Session], str] | None = None):
        """selection_text: the Selection tab's summary of a session (the browsing tools' own words)."""
        self.base = base
        self.hub = base.hub
        self.selection_text = selection_text or (lambda s: f"**{len(s.selection)} selected**")

    def view(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session) -> SavedView:
        session = fresh(session)
        model = self.base.model(model)
        space = self.base.space(model, space)
        params = self.base.params(method, n_neighbors, min_dist, perplexity, pc_x, pc_y)
        return SavedView.of(session, model, space, params)

    @user_errors(1)
    def save(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session):
        """The view as a JSON file to download."""
        view = self.view(model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session)
        out = export_dir() / f"session_{safe_name(model)}_{safe_name(space)}.json"
        out.write_text(view.to_json())
        return str(out)

    def query(self, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session) -> str:
        """The query string of a link to this view ("?model=...&space=..."); "" if the view is unusable."""
        try:
            view = self.view(model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, session)
        except ValueError:
            return ""
        view.model = view.model.split(SEP, 1)[0]  # the corpus travels as its own parameter
        view.corpus = self.hub.corpus_of(model)
        if view.corpus == self.hub.default_name:
            view.corpus = ""
        return "?" + urlencode(to_query(view))

    @user_errors(1 + N_VIEW_OUTPUTS, message_at=0)
    def load(self, path, session):
        """A session file uploaded -> (message, corpus, model, space, method, 5 parameters, A/B text,
        selection summary, session)."""
        if not path:
            raise v.UserError("choose a session file (.json) first")
        view = read_view(v.text(path, "session file", 4096))
        return self.apply(view, session, "Session loaded")

    @user_errors(1 + N_VIEW_OUTPUTS, message_at=0)
    def open_link(self, session, request: gr.Request):
        """On page load: the view named by the URL's query parameters, if any."""
        params = dict(request.query_params) if request is not None else {}
        view = from_query(params)
        if view is None:
            return ("", *[gr.skip() for _ in range(N_VIEW_OUTPUTS)])
        if view.corpus and view.corpus != self.hub.default_name:
            view.model = f"{view.model}{SEP}{view.corpus}"
        return self.apply(view, session, "Opened the linked view")

    def apply(self, view: SavedView, session, said: str):
        """Check `view` against the open corpora and return the control updates that show it."""
        name = view.corpus or self.hub.corpus_of(view.model)
        if name not in self.hub.names:
            raise v.UserError(f"the corpus {name[:80]!r} is not open here; open: {', '.join(self.hub.names)}")
        ex = self.hub.explorer(name)
        keys = ex.model_names
        spaces = ex.space_names(view.model) if view.model in keys else []
        comps = {s: len(ex.entry(view.model).components(s).labels) for s in spaces}
        check_view(view, keys, spaces, len(ex.corpus.items), comps)
        new = view.session()
        new.corpus = "" if name == self.hub.default_name else name
        old = fresh(session)  # renders of the old session are not carried over
        new.renders, new.steps = old.renders, old.steps
        params = view.params()
        label = {k: m for m, k in METHODS.items()}[params.method]
        msg = f"{said}: {view.model.split(SEP, 1)[0]} / {view.space} on {name}"
        if view.selection:
            msg += f", {len(view.selection)} selected"
        if view.sounds:
            msg += f", {len(view.sounds)} own sound(s)"
        return (msg + ".", gr.update(value=name),
                gr.update(choices=self.hub.model_choices(name), value=view.model),
                gr.update(choices=spaces, value=view.space), gr.update(value=label),
                gr.update(value=params.n_neighbors), gr.update(value=params.min_dist),
                gr.update(value=int(params.perplexity)), gr.update(value=params.pcs[0]),
                gr.update(value=params.pcs[1]), self.base.selection_md(new, view.model), self.selection_text(new), new)


@dataclass
class SessionTools:
    save_btn: gr.Button
    file: gr.File
    upload: gr.File
    msg: gr.Markdown
    url_box: gr.Textbox


def session_tools() -> SessionTools:
    """Save / load controls (inside the current Blocks context) and the hidden URL box."""
    gr.Markdown("**Session:** the view (corpus, model, space, projection, A/B, selection, your sounds) as a "
                "file; the page's address is a link to the same view.")
    with gr.Row():
        save_btn = gr.Button("Save session", elem_id="save_session", size="sm")
        file = gr.File(label="session file", elem_id="session_file")
        upload = gr.File(label="load a session (.json)", file_types=[".json"], type="filepath",
                         elem_id="load_session")
    msg = gr.Markdown(elem_id="session_msg")
    return SessionTools(save_btn, file, upload, msg, gr.Textbox(elem_id="view_query", visible="hidden"))

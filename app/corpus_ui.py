"""Corpus switching, a first start's first part, and "your folder as a map": UI and thin handlers.

The corpora and their explorers are `disentangle.explore.hub`; a folder becomes
a corpus in `disentangle.explore.folder`. Switching corpus drops the session's
references into the old one (A, B, selection) and keeps the user's own sounds.
On a first start the page says that a first part of the corpus is shown, and
redraws the map when the full corpus replaces it (`disentangle.explore.staged`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from errors import user_errors
from ui_handlers import Handlers, fresh
from wiring import PRIVATE, Listener

from disentangle.explore import validate as v
from disentangle.explore.describe import corpus_summary
from disentangle.explore.explorer import Explorer
from disentangle.explore.folder import MAX_FILES, make_folder_corpus, safe_part
from disentangle.explore.hub import model_key

#: Seconds between two looks at the background build, on a page opened during a first start.
STAGE_TICK_S = 5


def header_md(ex: Explorer, n_models: int) -> str:
    return (f"# disentangle explorer\n{corpus_summary(ex)}, {n_models} model(s). Click a point to hear the "
            "model's rendering; pick A and B to interpolate and swap; the tabs below the map do the rest. "
            "Keys: **r** replay, **s** swap A and B, **n**/**p** next/previous neighbour.")


class CorpusHandlers:
    def __init__(self, base: Handlers):
        self.base = base
        self.hub = base.hub

    @user_errors(4, message_at=2)
    def switch(self, name, session, progress=gr.Progress()):  # noqa: B008 (Gradio injects progress)
        """Another corpus chosen -> (model choices, header, message, session); built on first use."""
        name = v.choice(name, "corpus", self.hub.names)
        if not self.hub.is_built(name):
            progress(0.05, desc=f"opening {name} (once: features, latents, first map)")
        ex = self.hub.explorer(name, progress=lambda f, t: progress(f, desc=t))
        session = fresh(session).switch_corpus("" if name == self.hub.default_name else name)
        choices = self.hub.model_choices(name)
        return (gr.update(choices=choices, value=choices[0][1]), header_md(ex, len(choices)),
                f"Showing **{name}**.", session)

    def stage_view(self):
        """On page load -> (stage line, header, timer): which corpus is shown ("" once the full one is),
        and a timer that asks again only while the full corpus is being built."""
        status = self.hub.stage_status()
        ex = self.hub.default
        line = "" if status is None or (status.full is not None and status.error is None) else status.text()
        return line, header_md(ex, len(ex.model_names)), gr.Timer(active=status is not None and not status.done)

    def stage_tick(self, name):
        """Every few seconds while the full corpus is built -> (stage line, header, timer, items served).

        The header and the count of items served (whose change redraws the map)
        follow only on a page that shows the default corpus; another corpus's
        map stays, and a switch back draws the full one.
        """
        status = self.hub.stage_status()
        if status is None:
            return "", gr.skip(), gr.Timer(active=False), gr.skip()
        if name not in (None, "", self.hub.default_name):
            return status.text(), gr.skip(), gr.Timer(active=not status.done), gr.skip()
        ex = self.hub.default  # after `status`: once it says done, this is the full corpus
        return (status.text(), header_md(ex, len(ex.model_names)), gr.Timer(active=not status.done),
                len(ex.corpus))

    @user_errors(5, message_at=3)
    def open_folder(self, files, name, model, session, progress=gr.Progress()):  # noqa: B008
        """Uploaded files or zips -> a corpus of their own, encoded with `model` and opened.

        Returns (corpus dropdown, model dropdown, header, message, session).
        """
        model = self.base.model(model)
        paths = [str(getattr(f, "name", f)) for f in (files or []) if f]
        if not paths:
            raise v.UserError("choose audio files or a zip of them first")
        if len(paths) > MAX_FILES:
            raise v.UserError(f"{len(paths)} files; at most {MAX_FILES}")
        base_name = model.split(" @ ", 1)[0]
        stem = safe_part(v.text(name, "name", 60).strip() or Path(paths[0]).stem)
        corpus_name = f"folder {stem}"
        if corpus_name in self.hub.names:
            corpus_name = f"folder {stem} {len(self.hub.names)}"
        progress(0.05, desc="unpacking and checking the files")
        report = make_folder_corpus(paths, corpus_name)
        for w in report.skipped[:3]:
            gr.Warning(w)
        key = model_key(base_name, corpus_name, self.hub.default_name)
        ex = Explorer({key: self.hub.models[base_name]}, report.corpus, gl_iters=self.hub.gl_iters,
                      fit_worker=self.hub.default.fit_worker)
        ex.build(lambda f, t: progress(0.1 + 0.9 * f, desc=t), self.hub.params, say=lambda m: gr.Warning(m))
        self.hub.add_built(corpus_name, ex)
        session = fresh(session).switch_corpus(corpus_name)
        labels = {"csv": "labels from the CSV", "folders": "labelled by sub-folder",
                  "none": "no labels"}[report.labels]
        msg = (f"**{corpus_name}**: {len(report.corpus)} sounds encoded with {base_name} ({labels}"
               + (f"; {len(report.skipped)} skipped" if report.skipped else "") + ").")
        return (gr.update(choices=[(self.hub.describe(n), n) for n in self.hub.names], value=corpus_name),
                gr.update(choices=self.hub.model_choices(corpus_name), value=key), header_md(ex, 1), msg, session)


@dataclass
class StageTools:
    """What a first start adds to the page: the stage line, its timer, and the count of items served."""

    line: gr.Markdown
    timer: gr.Timer
    served: gr.Number

    def wire(self, demo: gr.Blocks, ch: CorpusHandlers, corpus: gr.Dropdown, header: gr.Markdown,
             project: Listener) -> None:
        """project: the map's redraw, run when the page's count of items served changes."""
        demo.load(ch.stage_view, None, [self.line, header, self.timer], **PRIVATE)
        # Not queued behind clicks and maps (concurrency_limit None): it only reads the hub.
        self.timer.tick(ch.stage_tick, corpus, [self.line, header, self.timer, self.served],
                        show_progress="hidden", concurrency_limit=None, **PRIVATE)
        self.served.change(**project, **PRIVATE)


def stage_tools(ch: CorpusHandlers) -> StageTools:
    """The stage line under the header (inside the current Blocks context); call only on a staged hub."""
    line, _header, _timer = ch.stage_view()
    return StageTools(gr.Markdown(line, elem_id="stage_status"), gr.Timer(STAGE_TICK_S),
                      gr.Number(len(ch.hub.default.corpus), visible="hidden", elem_id="items_served"))


@dataclass
class FolderTools:
    files: gr.File
    name: gr.Textbox
    button: gr.Button
    msg: gr.Markdown

    def wire(self, ch: CorpusHandlers, model, outs: list, keep_view: Listener, project: Listener) -> None:
        """outs: the corpus and model dropdowns, the header, the session state."""
        corpus, model_dd, header, state = outs
        self.button.click(ch.open_folder, [self.files, self.name, model, state],
                          [corpus, model_dd, header, self.msg, state], api_name="open_folder",
                          concurrency_id="maps", concurrency_limit=1).then(
            **keep_view, **PRIVATE).then(**project, **PRIVATE)


def folder_tools() -> FolderTools:
    gr.Markdown("**Your folder as a map:** upload several sounds or a zip; they become a corpus of their "
                "own, encoded with the chosen model. Labels come from a CSV in the zip (a `path` or `file` "
                "column and label columns such as `instrument`), or from sub-folder names, or none.")
    with gr.Row():
        files = gr.File(file_count="multiple", file_types=["audio", ".zip", ".csv"], type="filepath",
                        label=f"sounds or a zip (at most {MAX_FILES} sounds)", elem_id="folder_files")
        with gr.Column():
            name = gr.Textbox(label="name (optional)", elem_id="folder_name")
            button = gr.Button("Make a map of them", variant="primary", elem_id="folder_button")
            msg = gr.Markdown(elem_id="folder_msg")
    return FolderTools(files, name, button, msg)

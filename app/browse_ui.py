"""The browsing tools beside the map: neighbours, search, selection; and latent export.

UI only (components and wiring); the handlers are in `browse_handlers`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import gradio as gr
from browse_handlers import HIT_COLUMNS, NEIGHBOUR_COLUMNS, BrowseHandlers
from gradio.components import Component
from gradio.events import Dependency
from pick_table import pick_table
from wiring import PRIVATE, Trigger, listen


def mark_js(kind: str) -> str:
    """A browser-side step that moves the map's `kind` marks onto the JSON's points (bridge.js)."""
    return f"(marks) => {{ window.__disentangleMark && window.__disentangleMark({kind!r}, marks); return []; }}"


#: The server's neighbour table into the page's container (bridge.js).
TABLE_JS = "(html) => { window.__disentangleTable && window.__disentangleTable(html); return []; }"


@dataclass
class BrowseTools:
    which: gr.Dropdown
    k: gr.Slider
    nb_table: gr.HTML  # a container the page fills (bridge.js); never an output, so Gradio never redraws it
    nb_html: gr.Textbox  # the table the server lists, handed to the page
    nb_json: gr.Textbox
    click_box: gr.Textbox
    key_box: gr.Textbox
    query: gr.Textbox
    search_btn: gr.Button
    hits_md: gr.Markdown
    hits_table: gr.HTML
    hits_json: gr.Textbox
    selection_box: gr.Textbox
    sel_md: gr.Markdown
    play_sel: gr.Button
    clear_sel: gr.Button
    sel_audio: gr.Audio
    sel_csv: gr.Button
    sel_zip: gr.Button
    sel_file: gr.File
    nb_pick: gr.Textbox
    hit_pick: gr.Textbox

    def wire(self, bh: BrowseHandlers, map_in: Sequence[Component], state: gr.State, slot: gr.Radio,
             autoplay: gr.Dropdown, point_outs: Sequence[Component], selection_md: gr.Markdown) -> Dependency:
        """Connect the tools. map_in: model, space and the projection controls;
        point_outs: what a click on the map fills (players, spectrograms, A/B, state).
        Returns the box/lasso selection's event (the layout chains the page URL to it)."""
        model = map_in[0]

        def neighbours_on(trigger: Trigger) -> None:
            """A's neighbours into the table, then their marks onto the map."""
            listen(trigger, bh.neighbours, [model, map_in[1], self.which, self.k, *map_in[2:], state],
                   [self.nb_html, self.nb_json, state], api_name=False, show_progress="hidden").then(
                None, self.nb_json, None, js=mark_js("neighbours"), api_name=False)

        # A click that selects A: its neighbours beside the click's own answer, not after it.
        # The click comes in a box of its own (bridge.js writes both): Gradio holds a second
        # listener of one trigger back until the first one's answer is in.
        listen(self.click_box.change, bh.neighbours_of_click,
               [model, map_in[1], self.which, self.k, *map_in[2:], self.click_box, slot, state],
               [self.nb_html, self.nb_json], api_name=False, show_progress="hidden",
               trigger_mode="always_last").then(None, self.nb_json, None, js=mark_js("neighbours"), api_name=False)
        self.nb_html.change(None, self.nb_html, None, js=TABLE_JS, **PRIVATE)
        # Any new A (a click, a pick, a swap) changes the A/B text: refresh its neighbours
        # (skipped when the click found them already).
        neighbours_on(selection_md.change)
        neighbours_on(self.which.input)
        neighbours_on(self.k.input)
        # A row picked in either table: bridge.js writes its reference into a hidden box.
        listen(self.nb_pick.change, bh.play_neighbour, [model, self.nb_pick, autoplay, state], point_outs,
               api_name=False, trigger_mode="always_last")
        listen(self.key_box.change, bh.step_neighbour, [model, self.key_box, autoplay, state], point_outs,
               api_name=False, trigger_mode="always_last")
        for trigger in (self.query.submit, self.search_btn.click):
            listen(trigger, bh.search, [self.query, *map_in, state],
                   [self.hits_table, self.hits_json, self.hits_md, state], api_name="search",
                   show_progress="hidden").then(None, self.hits_json, None, js=mark_js("search hits"), api_name=False)
        listen(self.hit_pick.change, bh.pick_hit, [model, self.hit_pick, slot, autoplay, state], point_outs,
               api_name=False, trigger_mode="always_last")
        selected = listen(self.selection_box.change, bh.selected, [self.selection_box, state], [self.sel_md, state],
                          api_name="select_points", show_progress="hidden")
        listen(self.play_sel.click, bh.play_selection, [model, state], self.sel_audio, api_name="play_selection")
        listen(self.clear_sel.click, bh.clear_selection, state, [self.sel_md, state], api_name=False)
        listen(self.sel_csv.click, lambda s: bh.export_selection("csv", s), state, self.sel_file, api_name=False)
        listen(self.sel_zip.click, lambda s: bh.export_selection("zip", s), state, self.sel_file, api_name=False)
        return selected


def browse_tools(which_choices: list[str]) -> BrowseTools:
    """The Neighbours / Search / Selection tabs (built inside the current Blocks context)."""
    with gr.Tabs():
        with gr.Tab("Neighbours", elem_id="neighbours_tab"):
            with gr.Row():
                # elem_ids: the click bridge reads them when it asks for a click's neighbours itself
                which = gr.Dropdown(which_choices, value="map space", label="nearest to A in", elem_id="nb_which")
                k = gr.Slider(1, 30, 8, step=1, label="how many", elem_id="nb_k")
            gr.Markdown("**Neighbours of A**: green diamonds on the map; pick a row to hear it as B "
                        "(keys n / p step through them).")
            # The page writes the table (a click's own, from neighbours_route, or the server's below):
            # a gr.HTML that is an output was redrawn with its old value when an event started,
            # over the table the page had just written.
            nb_table = gr.HTML('<div class="nb-live">'
                               + pick_table(NEIGHBOUR_COLUMNS, [], [], "no A yet: click a point on the map") + "</div>",
                               elem_id="neighbour_table", elem_classes="pick")
        with gr.Tab("Search", elem_id="search_tab"):
            with gr.Row():
                query = gr.Textbox(placeholder="a file name part or label values: violin C4 ff", label="search",
                                   elem_id="search_query", scale=4)
                search_btn = gr.Button("Find", scale=1)
            hits_md = gr.Markdown(elem_id="search_summary")
            gr.Markdown("**Matches**: orange circles on the map; pick a row to select it.")
            hits_table = gr.HTML(pick_table(HIT_COLUMNS, [], [], "type a search above"), elem_id="hit_table",
                                 elem_classes="pick")
        with gr.Tab("Selection", elem_id="selection_tab"):
            sel_md = gr.Markdown("Nothing selected: choose *Box select* or *Lasso select* in the map's tool bar "
                                 "and drag.", elem_id="selection_summary")
            with gr.Row():
                play_sel = gr.Button("Play them", size="sm")
                clear_sel = gr.Button("Clear", size="sm")
                sel_csv = gr.Button("Names CSV", size="sm")
                sel_zip = gr.Button("WAVs (zip)", size="sm")
            sel_audio = gr.Audio(label="the selection, one after another", interactive=False, autoplay=True,
                                 elem_id="selection_audio")
            sel_file = gr.File(label="selection file")
    return BrowseTools(which, k, nb_table, hidden_box("neighbour_html"), hidden_box("neighbour_marks"),
                       hidden_box("click_nb_box"),
                       hidden_box("key_box"), query, search_btn,
                       hits_md, hits_table, hidden_box("hit_marks"), hidden_box("selection_box"),
                       sel_md, play_sel, clear_sel, sel_audio, sel_csv, sel_zip, sel_file,
                       hidden_box("nb_pick_box"), hidden_box("hit_pick_box"))


def hidden_box(elem_id: str) -> gr.Textbox:
    """A textbox the page keeps hidden: the browser (bridge.js) and the server talk through it."""
    return gr.Textbox(elem_id=elem_id, visible="hidden")


@dataclass
class LatentTools:
    scope: gr.Radio
    kind: gr.Radio
    button: gr.Button
    file: gr.File

    def wire(self, bh: BrowseHandlers, model: Component, state: gr.State) -> None:
        listen(self.button.click, bh.export_latents, [model, self.scope, self.kind, state], self.file,
               api_name="export_latents")


def export_latents_tools() -> LatentTools:
    """Latent vectors of every space, of the corpus or the selection, as CSV or NPZ."""
    gr.Markdown("**Latents** of every space (local spaces averaged over time in the CSV; full in the NPZ).")
    with gr.Row():
        scope = gr.Radio(["whole corpus", "selection"], value="whole corpus", label="of")
        kind = gr.Radio(["csv", "npz"], value="csv", label="as")
        button = gr.Button("Export latents")
        file = gr.File(label="latents")
    return LatentTools(scope, kind, button, file)

"""The explorer's page: the map with its controls, the player, the tools, and their wiring.

UI only: every event calls a handler in `ui_handlers` / `browse_handlers`.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from browse_handlers import BrowseHandlers, neighbour_choices
from browse_ui import browse_tools, export_latents_tools
from corpus_ui import CorpusHandlers, folder_tools, header_md, stage_tools
from session_ui import READY_JS, URL_JS, SessionHandlers, session_tools
from ui_handlers import ALL_SPACES, ANY, AUTOPLAY, MAX_SPACES, METHODS, SWEEP_UNITS, Handlers, first_or_none, raw_inputs
from wiring import PRIVATE, Listener, Queue

from disentangle.explore import validate as v
from disentangle.explore.explorer import Explorer
from disentangle.explore.hub import ExplorerHub
from disentangle.explore.session import Session
from disentangle.explore.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, MAX_UPLOAD_SECONDS

# The browser side (click bridge, map drawing, one sound at a time, keyboard) lives in bridge.js.
BRIDGE_JS = (Path(__file__).resolve().parent / "bridge.js").read_text()
DRAW_JS = "(text) => { window.__disentangleDraw && window.__disentangleDraw(text); return []; }"

#: Gradio's temporary files (uploads, every rendered clip and image) older than an
#: hour are deleted every 10 minutes: the folder grew ~65 MB per round of clicks.
DELETE_CACHE = (600, 3600)
#: A session's state is dropped after this long without a change (API clients never
#: "close" a session, so without it their state stayed until 10,000 sessions).
SESSION_TTL_S = 900
#: Sessions whose state is kept at once; past it the oldest are dropped.
MAX_LIVE_SESSIONS = 200


def launch_options(host: str | None, port: int | None) -> dict:
    """Keyword arguments of `demo.launch` (besides js and css)."""
    return {"server_name": host, "server_port": port, "max_file_size": MAX_UPLOAD_BYTES,
                "state_session_capacity": MAX_LIVE_SESSIONS,
                "show_error": False}  # gr.Error/Warning texts still show; raw exceptions do not


CSS = """
#latent_map, #latent_map .map-host {min-height: 600px}
.map-legend {display: flex; flex-wrap: wrap; gap: 2px 14px; padding: 2px 10px 6px; font-size: 11px}
.map-legend-item {white-space: nowrap}
.map-legend-item i {display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 4px}
.strip img {image-rendering: pixelated}
.pick {max-height: 300px; overflow: auto}
.pick-table {width: 100%; border-collapse: collapse; font-size: 0.9em}
.pick-table th {position: sticky; top: 0; background: var(--background-fill-secondary); text-align: left}
.pick-table th, .pick-table td {padding: 3px 6px; border-bottom: 1px solid var(--border-color-primary)}
.pick-table tbody tr {cursor: pointer}
.pick-table tbody tr:hover, .pick-table tbody tr:focus {background: var(--background-fill-secondary)}
.pick-table tbody tr.picked {outline: 2px solid var(--color-accent)}
"""


def _strip_outputs(prefix: str):
    """What every strip-producing tab shows: the spectrogram figure, a step picker, the all-steps
    player (the only one that starts by itself), the picked step's player, and a caption."""
    figure = gr.Plot(label=f"{prefix}: decoded spectrograms")
    step = gr.Radio([], label="play one step", elem_classes="steps")
    with gr.Row():
        all_audio = gr.Audio(label="all steps, one after another", interactive=False, autoplay=True)
        step_audio = gr.Audio(label="picked step", interactive=False, autoplay=True)
    info = gr.Markdown()
    return figure, step, all_audio, step_audio, info


def first_map(h: Handlers, model: str, space: str, method: str, colour: str | None) -> str:
    """The path of the default view's map (`map_store`) when it is fitted already, else "". The page carries
    it and draws it as soon as its plot is mounted (bridge.js), instead of after the three
    requests that open the view (a 3,600-point map was drawn 8.2 s after the page was asked
    for, ~4 s of it after the first request). The view opened then draws only what differs."""
    params = h.params(method, 15, 0.1, 30, 1, 2)
    if not h.ex_of(model).has_projection(model, space, params):
        return ""
    drawn = h.project(model, space, method, 15, 0.1, 30, 1, 2, colour, "", [], True, Session())[0]
    return drawn if isinstance(drawn, str) else ""


def build_demo(explorer: Explorer | ExplorerHub, default_method: str = "umap",
               session_ttl_s: float = SESSION_TTL_S) -> gr.Blocks:
    """The explorer UI over a built `Explorer`, or a hub of corpora whose default one is built
    (shared read-only by all sessions). When the hub's default explorer is a first part of its
    corpus (`ExplorerHub.stage`), the page says so and redraws the map when the full one replaces it."""
    h = Handlers(explorer, default_method)
    bh = BrowseHandlers(h)
    sh = SessionHandlers(h, bh.selection_md)
    ch = CorpusHandlers(h)
    hub = h.hub
    explorer = hub.default
    models = explorer.model_names
    model0 = models[0]
    spaces0 = explorer.space_names(model0)
    labels = explorer.labels
    method_label = {v: k for k, v in METHODS.items()}[default_method]

    with gr.Blocks(title="disentangle explorer", delete_cache=DELETE_CACHE) as demo:
        state = gr.State(Session(), time_to_live=session_ttl_s)

        def forget(request: gr.Request) -> None:
            """A closed tab's state would otherwise be kept an hour (Gradio's default); the
            reaper (`reaper.install_reaper`) then drops the whole session within a second."""
            holder = getattr(getattr(demo, "server_app", None), "state_holder", None)
            if holder is not None and request is not None and request.session_hash:
                holder.delete_state(request.session_hash)
                session = holder.session_data.get(request.session_hash)
                if session is not None:  # running this handler re-created it
                    session.is_closed = True
        demo.unload(forget)
        header = gr.Markdown(header_md(explorer, len(models)))
        stage = stage_tools(ch) if hub.staged is not None else None  # a first start: say what is shown
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    corpus = gr.Dropdown([(hub.describe(n), n) for n in hub.names], value=hub.default_name,
                                         label="corpus", elem_id="corpus_select")
                    model = gr.Dropdown(hub.model_choices(hub.default_name), value=model0, label="model",
                                        elem_id="model_select")
                    space = gr.Dropdown(spaces0, value=spaces0[0], label="latent space", elem_id="space_select")
                    colour = gr.Dropdown(labels, value=first_or_none(labels), label="colour by")
                with gr.Row():
                    method = gr.Radio(list(METHODS), value=method_label, label="projection")
                    # Fixed sets: every value is one fit, cached; any float would be a new 20-35 s fit.
                    n_neighbors = gr.Dropdown(list(v.N_NEIGHBORS), value=15, label="UMAP n_neighbors")
                    min_dist = gr.Dropdown(list(v.MIN_DIST), value=0.1, label="UMAP min_dist")
                    perplexity = gr.Dropdown(list(v.PERPLEXITY), value=30, label="t-SNE perplexity")
                    pc_x = gr.Number(1, minimum=v.PC.lo, maximum=v.PC.hi, step=1, label="PCA x = PC")
                    pc_y = gr.Number(2, minimum=v.PC.lo, maximum=v.PC.hi, step=1, label="PCA y = PC")
                with gr.Row():
                    filter_label = gr.Dropdown([""] + labels, value="", label="filter by")
                    filter_values = gr.Dropdown([], value=[], multiselect=True, label="show only")
                    show_comp = gr.Checkbox(True, label="mark mixture means")
                    point_size = gr.Slider(2, 14, 6, step=1, label="point size")
                    opacity = gr.Slider(0.1, 1.0, 0.7, step=0.05, label="opacity")
                    only_sel = gr.Checkbox(False, label="show only the selection")
                    update_btn = gr.Button("Update map", size="sm", variant="secondary")
                # Every map is drawn into its .map-host by the browser (bridge.js, with the plotly.js
                # of plotly_route.py), from map_json; a gr.Plot would load the full plotly.js.
                gr.HTML('<div class="map-host"></div>', elem_id="latent_map")
                map_json = gr.Textbox(first_map(h, model0, spaces0[0], method_label, first_or_none(labels)),
                                      elem_id="map_json", visible="hidden")
                caption = gr.Markdown()
                click_box = gr.Textbox(elem_id="click_box", visible="hidden")
            with gr.Column(scale=2):
                with gr.Row():
                    slot = gr.Radio(["A", "B"], value="A", label="clicks select", elem_id="click_slot")
                    autoplay = gr.Dropdown(list(AUTOPLAY), value=AUTOPLAY[0], label="on click, play",
                                           elem_id="autoplay_select")
                selection = gr.Markdown(h.selection_md(Session()))
                swap_btn = gr.Button("swap A and B", size="sm", elem_id="swap_ab")
                # The browser's own players: Gradio's waveform player fetched, decoded and drew a
                # clip before it started it (~250 ms of a click's wait), and drawing the waveforms
                # of these three took ~90 ms of the page's main thread a click (Chromium here).
                # The spectrograms beside them show the sound.
                native = gr.WaveformOptions(show_recording_waveform=False)
                # Started by the page (bridge.js startMapPlayer), not by autoplay: a map click's
                # sound comes straight from the clip route.
                play = gr.Audio(label="playing", interactive=False, elem_id="play_audio", waveform_options=native)
                with gr.Row():
                    original = gr.Audio(label="original (input clip)", interactive=False, elem_id="original_audio",
                                        waveform_options=native)
                    recon = gr.Audio(label="model rendering", interactive=False, elem_id="recon_audio",
                                     waveform_options=native)
                # JPEG: encoding a spectrogram strip as WebP/PNG (Gradio's
                # default) cost ~13 ms per image and click, JPEG ~1 ms.
                spec = gr.Image(label="input | reconstruction", type="pil", interactive=False,
                                elem_id="point_spec", elem_classes="strip", height=240, format="jpeg")
                tools = browse_tools(neighbour_choices(spaces0))

        with gr.Tabs():
            with gr.Tab("Sweep"):
                with gr.Row():
                    sw_space = gr.Dropdown(spaces0, value=spaces0[0], label="space")
                    sw_dim = gr.Slider(0, max(explorer.entry(model0).model.space(spaces0[0]).size - 1, 0), 0,
                                       step=1, label="dimension")
                    sw_unit = gr.Radio(list(SWEEP_UNITS), value=SWEEP_UNITS[0], label="values are")
                    sw_lo = gr.Number(-1.0, label="from")
                    sw_hi = gr.Number(1.0, label="to")
                    sw_steps = gr.Slider(2, 15, 5, step=1, label="steps")
                sw_btn = gr.Button("Sweep A", variant="primary")
                sw_out = _strip_outputs("sweep")
            with gr.Tab("Interpolate"):
                with gr.Row():
                    ip_space = gr.Dropdown([ALL_SPACES] + spaces0, value=ALL_SPACES, label="move")
                    ip_lo = gr.Slider(-1, 2, 0, step=0.05, label="alpha from")
                    ip_hi = gr.Slider(-1, 2, 1, step=0.05, label="alpha to")
                    ip_steps = gr.Slider(2, 15, 7, step=1, label="steps")
                ip_btn = gr.Button("Interpolate A -> B", variant="primary")
                ip_out = _strip_outputs("interpolation")
            with gr.Tab("Swap and transfer"):
                gr.Markdown("**Swap:** decode A with one space taken from B (e.g. B's timbre on A's pitch).")
                with gr.Row():
                    sp_space = gr.Dropdown(spaces0, value=spaces0[0], label="space from B")
                    sp_btn = gr.Button("Swap", variant="primary")
                sp_out = _strip_outputs("swap")
                gr.Markdown("**Toward:** move one space of A toward a mixture component or a class mean "
                            "(Luo et al. 2019, Sec. 4.4).")
                with gr.Row():
                    tw_space = gr.Dropdown(spaces0, value=spaces0[0], label="space")
                    tw_target = gr.Dropdown([], label="target")
                    tw_alpha = gr.Slider(0, 2, 1, step=0.05, label="alpha (1 = reach the target)")
                    tw_btn = gr.Button("Move A", variant="primary")
                tw_out = _strip_outputs("toward")
            with gr.Tab("Sample"):
                gr.Markdown("Choose a mixture component per space (e.g. instrument x pitch x dynamics) "
                            "or sample the whole prior; spread w scales the component's std (0 = its mean).")
                with gr.Row():
                    pickers = [gr.Dropdown([ANY], value=ANY, label=f"space {i}", visible=False)
                               for i in range(MAX_SPACES)]
                with gr.Row():
                    sa_w = gr.Slider(0, 2, 0.5, step=0.05, label="spread w")
                    sa_n = gr.Slider(1, 12, 4, step=1, label="samples")
                    sa_seed = gr.Number(0, minimum=v.SEED.lo, maximum=v.SEED.hi, step=1, label="seed")
                sa_btn = gr.Button("Sample", variant="primary")
                sa_out = _strip_outputs("sample")
                gr.Markdown("**Grid** over two dimensions of one space, around A (a mixture mean if no A).")
                with gr.Row():
                    gr_space = gr.Dropdown(spaces0, value=spaces0[0], label="space")
                    gr_dx = gr.Slider(0, 15, 0, step=1, label="dimension across")
                    gr_dy = gr.Slider(0, 15, 1, step=1, label="dimension down")
                    gr_lo = gr.Number(-1.0, label="from")
                    gr_hi = gr.Number(1.0, label="to")
                    gr_steps = gr.Slider(2, 6, 4, step=1, label="cells per side")
                gr_btn = gr.Button("Grid", variant="primary")
                gr_out = _strip_outputs("grid")
            with gr.Tab("Your sound"), gr.Row():
                upload = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                  label=f"upload or record (at most {MAX_UPLOAD_MB} MB; "
                                        f"the first {MAX_UPLOAD_SECONDS:.0f} s are used)")
                with gr.Column():
                    up_name = gr.Textbox(label="name (optional)")
                    up_slot = gr.Radio(["A", "B", "neither"], value="A", label="use it as")
                    up_btn = gr.Button("Encode and place on the map", variant="primary")
                    up_msg = gr.Markdown()
            with gr.Tab("Your folder", elem_id="folder_tab"):
                folder = folder_tools()
            with gr.Tab("Session", elem_id="session_tab"):
                stools = session_tools()
            with gr.Tab("How disentangled"):
                probe = gr.Plot(label="probe F1")
                report = gr.Markdown()
            with gr.Tab("Export"):
                with gr.Row():
                    csv_btn = gr.Button("Current map as CSV")
                    csv_file = gr.File(label="map CSV")
                with gr.Row():
                    wav_name = gr.Dropdown([], label="rendered clip")
                    wav_btn = gr.Button("Export WAV")
                    wav_file = gr.File(label="WAV")
                latents_tools = export_latents_tools()

        proj_in = [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour,
                   filter_label, filter_values, show_comp, state, point_size, opacity, only_sel]
        # The progress of a fit shows on the caption only: the map stays visible
        # (and clickable) and no second progress bar covers it.
        # Maps get their own single worker: a slow fit queues other map requests,
        # never the clicks, sweeps and samples (which use the default workers).
        maps: Queue = {"concurrency_id": "maps", "concurrency_limit": 1}
        project: Listener = {"fn": h.project, "inputs": proj_in, "outputs": [map_json, caption],
                             "show_progress": "minimal", "show_progress_on": [caption], **maps}
        model_outs = [space, sw_space, ip_space, sp_space, tw_space, gr_space, *pickers, probe, report, show_comp,
                      colour, filter_label, filter_values]
        # A loaded session, a link or a corpus switch sets the model (and space) by program:
        # the space pickers follow, keeping the view's space.
        keep_view: Listener = {"fn": lambda m, s, sp: h.model_changed(m, s, sp), "inputs": [model, state, space],
                               "outputs": model_outs}
        view_outs = [stools.msg, corpus, model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y,
                     selection, tools.sel_md, state]
        url_in = [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, state]

        loaded = demo.load(sh.open_link, state, view_outs, **PRIVATE).then(**keep_view, **PRIVATE).then(
            **project, **PRIVATE)
        loaded.then(None, None, None, js=READY_JS, **PRIVATE)
        # The address follows the opened view even when its map is the one the page came with
        # (no change of #map_json, so the listener below does not fire).
        loaded.then(sh.query, url_in, stools.url_box, **PRIVATE, show_progress="hidden").then(
            None, stools.url_box, None, js=URL_JS, **PRIVATE)
        loaded.then(h.targets, [model, tw_space], tw_target, **PRIVATE)
        loaded_file = stools.upload.upload(sh.load, [stools.upload, state], view_outs, api_name="load_session")
        loaded_file.then(**keep_view, **PRIVATE).then(**project, **PRIVATE)
        # Empty the box again, so the next file (or the same one) can be dropped on it.
        loaded_file.then(lambda: None, None, stools.upload, **PRIVATE)
        stools.save_btn.click(sh.save, url_in, stools.file, api_name="save_session")
        # The address bar follows the view: a copied URL opens the same map and selection.
        map_json.change(None, map_json, None, js=DRAW_JS, **PRIVATE)
        map_json.change(sh.query, url_in, stools.url_box, **PRIVATE, show_progress="hidden").then(
            None, stools.url_box, None, js=URL_JS, **PRIVATE)
        corpus.input(ch.switch, [corpus, state], [model, header, stools.msg, state], api_name="switch_corpus",
                     **maps).then(**keep_view, **PRIVATE).then(**project, **PRIVATE)
        folder.wire(ch, model, [corpus, model, header, state], keep_view, project)
        if stage is not None:
            stage.wire(demo, ch, corpus, header, project)
        update_btn.click(**project, api_name="project")

        def method_params(m):  # show only the chosen method's parameters
            key = METHODS.get(m, m)
            return (gr.update(visible=key == "umap"), gr.update(visible=key == "umap"),
                    gr.update(visible=key == "tsne"), gr.update(visible=key == "pca"), gr.update(visible=key == "pca"))
        method.change(method_params, method, [n_neighbors, min_dist, perplexity, pc_x, pc_y], **PRIVATE)
        demo.load(method_params, method, [n_neighbors, min_dist, perplexity, pc_x, pc_y], **PRIVATE)
        model.input(h.model_changed, [model, state], model_outs, **PRIVATE).then(
            **project, **PRIVATE)
        for picked in (method, colour, filter_values, show_comp, only_sel):
            picked.input(**project, **PRIVATE)
        for slider in (point_size, opacity):
            slider.release(**project, **PRIVATE)
        space_map: Listener = {**project, "fn": h.project_space, "outputs": [map_json, caption, colour]}
        space.select(**space_map, **PRIVATE)
        for umap_or_tsne in (n_neighbors, min_dist, perplexity):
            umap_or_tsne.input(**project, **PRIVATE)
        raw_inputs(model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour, filter_label,
                   filter_values, show_comp, point_size, opacity, only_sel, click_box, slot, autoplay, sw_space,
                   sw_dim, sw_unit, sw_lo, sw_hi, sw_steps, ip_space, ip_lo, ip_hi, ip_steps, sp_space, tw_space,
                   tw_target, tw_alpha, *pickers, sa_w, sa_n, sa_seed, gr_space, gr_dx, gr_dy, gr_lo, gr_hi,
                   gr_steps, up_name, up_slot, wav_name)
        for pc in (pc_x, pc_y):
            pc.submit(**project, **PRIVATE)
        filter_label.input(h.filter_changed, [filter_label, model], filter_values, **PRIVATE).then(
            **project, **PRIVATE)

        click_box.change(h.render_point, [model, click_box, slot, autoplay, state],
                         [play, original, recon, spec, selection, state], api_name="render_point",
                         show_progress="hidden", trigger_mode="always_last")
        swap_btn.click(h.swap_ab, state, [selection, state], api_name="swap_ab").then(
            **project, **PRIVATE)

        def dims(model_name, space_name):
            size = h.ex_of(model_name).entry(model_name).model.space(space_name).size
            return max(size - 1, 0)
        sw_space.change(lambda m, s: gr.update(maximum=dims(m, s), value=0), [model, sw_space], sw_dim,
                        **PRIVATE)
        gr_space.change(lambda m, s: (gr.update(maximum=dims(m, s), value=0),
                                      gr.update(maximum=dims(m, s), value=min(1, dims(m, s)))),
                        [model, gr_space], [gr_dx, gr_dy], **PRIVATE)
        tw_space.change(h.targets, [model, tw_space], tw_target, **PRIVATE)

        def strip(button, fn, inputs, outs, name):
            button.click(fn, inputs + [state], [*outs, state], api_name=name).then(
                h.render_names, state, wav_name, **PRIVATE)
            outs[1].input(h.play_step(name), [state, outs[1]], outs[3], **PRIVATE)
        strip(sw_btn, h.sweep, [model, sw_space, sw_dim, sw_lo, sw_hi, sw_steps, sw_unit], sw_out, "sweep")
        strip(ip_btn, h.interpolate, [model, ip_space, ip_lo, ip_hi, ip_steps], ip_out, "interpolate")
        strip(sp_btn, h.swap, [model, sp_space], sp_out, "swap")
        strip(tw_btn, h.toward, [model, tw_space, tw_target, tw_alpha], tw_out, "toward")
        sa_btn.click(h.sample, [model, sa_w, sa_n, sa_seed, state, *pickers], [*sa_out, state],
                     api_name="sample").then(h.render_names, state, wav_name, **PRIVATE)
        sa_out[1].input(h.play_step("sample"), [state, sa_out[1]], sa_out[3], **PRIVATE)
        strip(gr_btn, h.grid, [model, gr_space, gr_dx, gr_dy, gr_lo, gr_hi, gr_steps], gr_out, "grid")

        up_btn.click(h.encode_audio, [upload, up_name, up_slot, model, state],
                     [up_msg, play, original, recon, spec, selection, state],
                     api_name="encode_audio").then(**project, **PRIVATE)
        csv_btn.click(h.export_csv, [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, state],
                      csv_file, api_name="export_csv", **maps)
        wav_btn.click(h.export_wav, [wav_name, state], wav_file, api_name="export_wav")
        wav_name.focus(h.render_names, state, wav_name, **PRIVATE)

        map_in = [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y]
        point_outs = [play, original, recon, spec, selection, state]
        tools.wire(bh, map_in, state, slot, autoplay, point_outs, selection).then(
            sh.query, url_in, stools.url_box, **PRIVATE, show_progress="hidden").then(
            None, stools.url_box, None, js=URL_JS, **PRIVATE)
        latents_tools.wire(bh, model, state)
        space.change(lambda s: gr.update(value="map space"), space, tools.which, **PRIVATE)
        model.change(lambda m: gr.update(choices=neighbour_choices(h.ex_of(m).space_names(m)), value="map space"),
                     model, tools.which, **PRIVATE)
    return demo



"""The latent-space explorer (Gradio UI only; the logic is in `disentangle.explore`).

    python app/main.py [--checkpoint NAME_OR_PATH ...] [--data DIR] [--host H] [--port P]

Opens the shipped checkpoints (`checkpoints/*.pt`) trained on the corpus it
shows -- the default `data/notes` (rendered on first use) or `--data
data/phrases` for the phrase-level models -- through the common model
interface, builds what is missing (features, latents, maps; cached under
`<corpus>/.cache/`) and serves the explorer: click a point to hear it,
sweep, interpolate, swap, sample, place your own sound, see how disentangled
each space is, export.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import gradio as gr

HERE = Path(__file__).resolve().parent
# From a checkout (a Space runs `python app/main.py`) the app uses the package
# beside it, whatever copy pip installed; a wheel's copy (disentangle/_app)
# uses the installed package.
if (HERE.parent / "disentangle" / "__init__.py").is_file() and (HERE.parent / "pyproject.toml").is_file():
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # ui_handlers beside this file

from ui_handlers import ALL_SPACES, ANY, MAX_SPACES, METHODS, Handlers, first_or_none

from disentangle.explore.corpus_match import matching_models
from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.session import new_session
from disentangle.paths import data_root

# The click bridge: a gr.Plot has no click event, so listen to Plotly's own
# `plotly_click`, write "<ref>|<time>" into a hidden textbox and fire `input`
# (Python listens with `.change`). Gradio may rebuild the plot's DOM, hence
# the observer. The selection ring moves at once, before the server answers.
CLICK_JS = """
() => {
  const attach = () => {
    const gd = document.querySelector('#latent_map .js-plotly-plot');
    if (!gd || gd.__bridged || typeof gd.on !== 'function') return;
    gd.__bridged = true;
    gd.on('plotly_click', (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || p.customdata === undefined || p.customdata === null) return;
      const ref = Array.isArray(p.customdata) ? p.customdata[0] : p.customdata;
      const box = document.querySelector('#click_box textarea, #click_box input');
      if (!box) return;
      box.value = String(ref) + '|' + Date.now();
      box.dispatchEvent(new Event('input', {bubbles: true}));
      const checked = document.querySelector('#click_slot input:checked');
      const slot = checked ? checked.value : 'A';
      const idx = (gd.data || []).findIndex(t => t.name === 'selected ' + slot);
      if (idx >= 0 && window.Plotly) {
        window.Plotly.restyle(gd, {x: [[p.x]], y: [[p.y]], text: [[slot]]}, [idx]);
      }
    });
  };
  new MutationObserver(attach).observe(document.body, {childList: true, subtree: true});
  setInterval(attach, 1000);
}
"""

CSS = """
#latent_map {min-height: 560px}
.strip img {image-rendering: pixelated}
"""


def _strip_outputs(prefix: str):
    """The outputs every strip-producing tab has: image, gallery, all-steps audio, step audio, info."""
    image = gr.Image(label=f"{prefix}: spectrograms", type="pil", interactive=False, elem_classes="strip",
                     height=220, format="jpeg")
    gallery = gr.Gallery(label="steps (click one to hear it)", columns=9, height=180, object_fit="contain",
                         allow_preview=False, format="jpeg")
    with gr.Row():
        all_audio = gr.Audio(label="all steps, one after another", interactive=False, autoplay=True)
        step_audio = gr.Audio(label="selected step", interactive=False, autoplay=True)
    info = gr.Markdown()
    return image, gallery, all_audio, step_audio, info


def build_demo(explorer: Explorer, default_method: str = "umap") -> gr.Blocks:
    """The explorer UI over a built `Explorer` (shared read-only by all sessions)."""
    h = Handlers(explorer, default_method)
    models = explorer.model_names
    model0 = models[0]
    spaces0 = explorer.space_names(model0)
    labels = explorer.labels
    method_label = {v: k for k, v in METHODS.items()}[default_method]

    with gr.Blocks(title="disentangle explorer") as demo:
        state = gr.State(new_session())
        gr.Markdown(f"# disentangle explorer\nCorpus **{explorer.corpus.name}** ({len(explorer.corpus)} items), "
                    f"{len(models)} model(s). Click a point to hear the model's rendering; pick A and B to "
                    "interpolate and swap; the tabs below the map do the rest.")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    model = gr.Dropdown(models, value=model0, label="model")
                    space = gr.Dropdown(spaces0, value=spaces0[0], label="latent space")
                    colour = gr.Dropdown(labels, value=first_or_none(labels), label="colour by")
                with gr.Row():
                    method = gr.Radio(list(METHODS), value=method_label, label="projection")
                    n_neighbors = gr.Slider(2, 100, 15, step=1, label="UMAP n_neighbors")
                    min_dist = gr.Slider(0.0, 0.99, 0.1, step=0.01, label="UMAP min_dist")
                    perplexity = gr.Slider(2, 100, 30, step=1, label="t-SNE perplexity")
                    pc_x = gr.Number(1, precision=0, minimum=1, label="PCA x = PC")
                    pc_y = gr.Number(2, precision=0, minimum=1, label="PCA y = PC")
                with gr.Row():
                    filter_label = gr.Dropdown([""] + labels, value="", label="filter by")
                    filter_values = gr.Dropdown([], value=[], multiselect=True, label="show only")
                    show_comp = gr.Checkbox(True, label="mark mixture means")
                    update_btn = gr.Button("Update map", size="sm", variant="secondary")
                plot = gr.Plot(elem_id="latent_map", label="latent map")
                caption = gr.Markdown()
                click_box = gr.Textbox(elem_id="click_box", visible="hidden")
            with gr.Column(scale=2):
                with gr.Row():
                    slot = gr.Radio(["A", "B"], value="A", label="clicks select", elem_id="click_slot")
                    autoplay = gr.Dropdown(["reconstruction", "original", "original, then reconstruction"],
                                           value="reconstruction", label="on click, play")
                selection = gr.Markdown(h.selection_md(new_session()))
                swap_btn = gr.Button("swap A and B", size="sm")
                play = gr.Audio(label="playing", interactive=False, autoplay=True, elem_id="play_audio")
                with gr.Row():
                    original = gr.Audio(label="original (input clip)", interactive=False, elem_id="original_audio")
                    recon = gr.Audio(label="model rendering", interactive=False, elem_id="recon_audio")
                # JPEG: encoding a spectrogram strip as WebP/PNG (Gradio's
                # default) cost ~13 ms per image and click, JPEG ~1 ms.
                spec = gr.Image(label="input | reconstruction", type="pil", interactive=False,
                                elem_id="point_spec", elem_classes="strip", height=240, format="jpeg")

        with gr.Tabs():
            with gr.Tab("Sweep"):
                with gr.Row():
                    sw_space = gr.Dropdown(spaces0, value=spaces0[0], label="space")
                    sw_dim = gr.Slider(0, max(explorer.entry(model0).model.space(spaces0[0]).size - 1, 0), 0,
                                       step=1, label="dimension")
                    sw_unit = gr.Radio(["value", "prior std around A"], value="value", label="values are")
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
                    sa_seed = gr.Number(0, precision=0, label="seed")
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
                upload = gr.Audio(sources=["upload", "microphone"], type="filepath", label="upload or record")
                with gr.Column():
                    up_name = gr.Textbox(label="name (optional)")
                    up_slot = gr.Radio(["A", "B", "neither"], value="A", label="use it as")
                    up_btn = gr.Button("Encode and place on the map", variant="primary")
                    up_msg = gr.Markdown()
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

        proj_in = [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, colour,
                   filter_label, filter_values, show_comp, state]
        project = {"fn": h.project, "inputs": proj_in, "outputs": [plot, caption]}
        model_outs = [space, sw_space, ip_space, sp_space, tw_space, gr_space, *pickers, probe, report]

        demo.load(h.model_changed, [model, state], model_outs, api_name=False).then(
            **project, api_name=False).then(h.targets, [model, tw_space], tw_target, api_name=False)
        update_btn.click(**project, api_name="project")

        def method_params(m):  # show only the chosen method's parameters
            key = METHODS.get(m, m)
            return (gr.update(visible=key == "umap"), gr.update(visible=key == "umap"),
                    gr.update(visible=key == "tsne"), gr.update(visible=key == "pca"), gr.update(visible=key == "pca"))
        method.change(method_params, method, [n_neighbors, min_dist, perplexity, pc_x, pc_y], api_name=False)
        demo.load(method_params, method, [n_neighbors, min_dist, perplexity, pc_x, pc_y], api_name=False)
        model.change(h.model_changed, [model, state], model_outs, api_name=False).then(
            **project, api_name=False)
        for comp in (space, method, colour, filter_values, show_comp):
            comp.input(**project, api_name=False)
        for comp in (n_neighbors, min_dist, perplexity):
            comp.release(**project, api_name=False)
        for comp in (pc_x, pc_y):
            comp.submit(**project, api_name=False)
        filter_label.input(h.filter_changed, filter_label, filter_values, api_name=False).then(
            **project, api_name=False)

        click_box.change(h.render_point, [model, click_box, slot, autoplay, state],
                         [play, original, recon, spec, selection, state], api_name="render_point",
                         show_progress="hidden", trigger_mode="always_last")
        swap_btn.click(h.swap_ab, state, [selection, state], api_name="swap_ab").then(
            **project, api_name=False)

        def dims(model_name, space_name):
            size = explorer.entry(model_name).model.space(space_name).size
            return max(size - 1, 0)
        sw_space.change(lambda m, s: gr.update(maximum=dims(m, s), value=0), [model, sw_space], sw_dim,
                        api_name=False)
        gr_space.change(lambda m, s: (gr.update(maximum=dims(m, s), value=0),
                                      gr.update(maximum=dims(m, s), value=min(1, dims(m, s)))),
                        [model, gr_space], [gr_dx, gr_dy], api_name=False)
        tw_space.change(h.targets, [model, tw_space], tw_target, api_name=False)

        def strip(button, fn, inputs, outs, name):
            button.click(fn, inputs + [state], [*outs, state], api_name=name).then(
                h.render_names, state, wav_name, api_name=False)
            outs[1].select(h.play_step(name), state, outs[3], api_name=False)
        strip(sw_btn, h.sweep, [model, sw_space, sw_dim, sw_lo, sw_hi, sw_steps, sw_unit], sw_out, "sweep")
        strip(ip_btn, h.interpolate, [model, ip_space, ip_lo, ip_hi, ip_steps], ip_out, "interpolate")
        strip(sp_btn, h.swap, [model, sp_space], sp_out, "swap")
        strip(tw_btn, h.toward, [model, tw_space, tw_target, tw_alpha], tw_out, "toward")
        sa_btn.click(h.sample, [model, sa_w, sa_n, sa_seed, state, *pickers], [*sa_out, state],
                     api_name="sample").then(h.render_names, state, wav_name, api_name=False)
        sa_out[1].select(h.play_step("sample"), state, sa_out[3], api_name=False)
        strip(gr_btn, h.grid, [model, gr_space, gr_dx, gr_dy, gr_lo, gr_hi, gr_steps], gr_out, "grid")

        up_btn.click(h.encode_audio, [upload, up_name, up_slot, state], [up_msg, selection, state],
                     api_name="encode_audio").then(**project, api_name=False)
        csv_btn.click(h.export_csv, [model, space, method, n_neighbors, min_dist, perplexity, pc_x, pc_y, state],
                      csv_file, api_name="export_csv")
        wav_btn.click(h.export_wav, [wav_name, state], wav_file, api_name="export_wav")
        wav_name.focus(h.render_names, state, wav_name, api_name=False)
    return demo


def load_models(specs: list[str] | None) -> dict:
    """Display name -> model for each checkpoint (default: every checkpoints/*.pt)."""
    from disentangle import load_model
    from disentangle.checkpoint import CheckpointError, checkpoints_dir

    if not specs:
        specs = [str(p) for p in sorted(checkpoints_dir().glob("*.pt"))]
        if not specs:
            raise SystemExit(f"no checkpoints in {checkpoints_dir()}: train one (scripts/train.py) "
                             "or pass --checkpoint PATH")
    models = {}
    for spec in specs:
        try:
            model = load_model(spec)
        except (CheckpointError, OSError) as exc:
            print(f"skipping checkpoint {spec}: {exc}", file=sys.stderr)
            continue
        name = Path(getattr(model, "checkpoint_path", spec)).stem
        if name in ("best", "last"):
            name = Path(getattr(model, "checkpoint_path", spec)).parent.name
        models[name if name not in models else f"{name}-{len(models)}"] = model
    if not models:
        raise SystemExit("none of the checkpoints could be loaded (see the messages above)")
    return models


def open_data(path: str):
    """The corpus at `path`; the default notes corpus is rendered if missing."""
    from disentangle.data.schema import load_corpus

    folder = Path(path)
    if (folder / "metadata.csv").is_file():
        return load_corpus(folder)
    try:
        from disentangle.data.loaders import open_corpus

        ours = folder.parent.resolve() == data_root().resolve() or str(path).startswith("data/")
        if folder.exists() or not ours:
            return open_corpus(path)
    except ImportError:
        pass
    from disentangle.data.builtin import build_builtin

    kind = "phrases" if folder.name == "phrases" else "notes"
    print(f"{folder} has no corpus yet: rendering the {kind} corpus there (once)...", flush=True)
    return build_builtin(kind, folder, progress=True)


def console_progress(fraction: float, text: str) -> None:
    print(f"[{fraction:4.0%}] {text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", nargs="+", action="extend", help="checkpoint names or paths "
                        "(default: every checkpoints/*.pt)")
    parser.add_argument("--data", default=str(data_root() / "notes"),
                        help="corpus folder (default: notes under the data root, data/notes in a checkout; "
                             "$DISENTANGLE_DATA sets the root); rendered there on first use if missing")
    parser.add_argument("--host", default=None, help="server address (default 127.0.0.1, "
                        "or $GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--projection", choices=sorted(METHODS.values()), default="umap",
                        help="map shown first (default umap)")
    # 16 accelerated-GL iterations keep a click under 150 ms (p95) on 2 CPU cores;
    # spectral convergence 0.098 vs 0.066 at 24 on rendered notes: pass 24-32 for quality.
    parser.add_argument("--gl-iters", type=int, default=16, help="Griffin-Lim iterations per click (default 16)")
    parser.add_argument("--no-precompute", action="store_true",
                        help="do not fit the other spaces' maps in the background")
    parser.add_argument("--cache", default=None, help="latents/maps cache folder "
                        "(default <corpus>/.cache/explore)")
    parser.add_argument("--concurrency", type=int, default=2, help="events processed at once")
    # One torch thread per event: a click's Griffin-Lim on a 1-s clip is too
    # small to gain from intra-op threads, which instead fight the server and
    # the other event for the cores. On the idle 2-core machine a click took
    # p50 80 ms with one thread against 127 ms with torch's default (3 runs of
    # 200 clicks each, alternating); --concurrency events still use the cores.
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per process (default 1; 0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads < 0:
        parser.error(f"--threads must be 0 or more, got {args.threads}")
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    models = load_models(args.checkpoint)
    corpus = open_data(args.data)
    if not args.checkpoint:  # named checkpoints always open
        models = matching_models(models, corpus.name, say=lambda m: print(m, flush=True))
    params = ProjectionParams(args.projection)
    explorer = Explorer(models, corpus, cache_root=args.cache, gl_iters=args.gl_iters).build(console_progress, params)
    demo = build_demo(explorer, args.projection)
    demo.queue(default_concurrency_limit=args.concurrency)
    stop = threading.Event()
    if not args.no_precompute:
        threading.Thread(target=explorer.precompute, args=(params, stop), daemon=True).start()
    print(f"ready in {time.perf_counter() - start:.1f} s", flush=True)
    try:
        demo.launch(server_name=args.host, server_port=args.port, js=CLICK_JS, css=CSS, show_error=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()

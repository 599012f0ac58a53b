"""The latent-space explorer (Gradio UI only; the logic is in `disentangle.explore`).

    python app/main.py [--checkpoint NAME_OR_PATH ...] [--data DIR] [--host H] [--port P]

Opens every shipped checkpoint (`checkpoints/*.pt`): the ones trained on the
corpus it opens with -- the default `data/notes` (rendered on first use), or
`--data data/phrases` (`make run-phrases`) -- at once, and the others on
their own corpus when the user switches to it in the page (built then, once);
a folder of the user's sounds becomes a corpus too. Through the common model
interface it builds what is missing (features, latents, maps; cached under
`<corpus>/.cache/`) and serves the explorer: click a point to hear it,
sweep, interpolate, swap, sample, place your own sound, see how disentangled
each space is, export.

On a first start (no finished `data/notes`: a fresh Space) it serves a first
part of the notes corpus at once, with a PCA map, and builds the rest in the
background; the page says which it shows (`--no-staged`: all before serving).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
# From a checkout (a Space runs `python app/main.py`) the app uses the package
# beside it, whatever copy pip installed; a wheel's copy (disentangle/_app)
# uses the installed package.
if (HERE.parent / "disentangle" / "__init__.py").is_file() and (HERE.parent / "pyproject.toml").is_file():
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # layout and handlers beside this file

import clip_route
import map_store
import neighbours_route
import plotly_route
from layout import BRIDGE_JS, CSS, SESSION_TTL_S, build_demo, launch_options
from quiet_fits import Quiet, QuietFits
from reaper import install_reaper
from starlette.middleware import Middleware
from ui_handlers import METHODS, Handlers

from disentangle.checkpoint import CheckpointError
from disentangle.data.builtin import build_first_part
from disentangle.data.kind import corpus_kind
from disentangle.explore.corpora import BUILTIN, first_start, open_data
from disentangle.explore.corpus_match import matching_models
from disentangle.explore.explorer import Explorer
from disentangle.explore.fit_worker import FitWorker
from disentangle.explore.hub import CorpusSource, ExplorerHub
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.staged import Staged, build_rest_of_notes
from disentangle.models.base import DisentangleModel
from disentangle.paths import data_root

__all__ = ["build_demo", "launch_options", "load_models", "main"]


def load_models(specs: list[str] | None) -> dict[str, DisentangleModel]:
    """Display name -> model for each checkpoint (default: every checkpoints/*.pt)."""
    from disentangle import load_model
    from disentangle.checkpoint import CheckpointError, checkpoints_dir

    if not specs:
        specs = [str(p) for p in sorted(checkpoints_dir().glob("*.pt"))]
        if not specs:
            raise SystemExit(f"no checkpoints in {checkpoints_dir()}: train one (scripts/train.py) "
                             "or pass --checkpoint PATH")
    models: dict[str, DisentangleModel] = {}
    for spec in specs:
        try:
            model = load_model(spec)
        except (CheckpointError, OSError) as exc:
            print(f"skipping checkpoint {spec}: {exc}", file=sys.stderr)
            continue
        path = model.checkpoint_path or Path(spec)
        name = path.stem
        if name in ("best", "last"):
            name = path.parent.name
        models[name if name not in models else f"{name}-{len(models)}"] = model
    if not models:
        raise SystemExit("none of the checkpoints could be loaded (see the messages above)")
    return models


def other_corpora(models: dict[str, DisentangleModel], opened: Path, build: bool,
                  named: bool) -> list[CorpusSource]:
    """The built-in corpora besides the one opened (notes, phrases), each with the models that suit it.

    Offered when the folder holds a corpus (or `build` renders it); built on
    the first switch to it, so startup does not wait for them.
    """
    out = []
    for kind in BUILTIN:
        folder = data_root() / kind
        try:
            if folder.resolve() == opened.resolve():
                continue
        except OSError:
            continue
        if not (folder / "metadata.csv").is_file() and not build:
            continue
        try:
            suit = models if named else matching_models(models, kind, say=lambda m: None)
        except SystemExit:  # no model for this kind
            continue
        out.append(CorpusSource(kind, partial(open_data, folder, build=build), tuple(suit)))
    return out


def console_progress(fraction: float, text: str) -> None:
    print(f"[{fraction:4.0%}] {text}", flush=True)


def log_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def in_background(fn, *args) -> None:
    """Run fn(*args) in this thread at the lowest CPU priority (Linux: a thread's own nice value;
    threads it starts inherit it). The UMAP / t-SNE fits themselves run in the `FitWorker`'s
    child process (also at the lowest priority, and paused while requests come): in a thread
    here numba held the GIL, and on a first start of data/notes clicks waited behind them
    (click -> sound p50 / p95 344 / 9,680 ms, session 10, `bench.py browser --precompute`)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at the usual priority
        pass
    fn(*args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="app/main.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", nargs="+", action="extend", help="checkpoint names or paths "
                        "(default: every checkpoints/*.pt)")
    parser.add_argument("--data", default=str(data_root() / "notes"),
                        help="corpus folder (default: notes under the data root, data/notes in a checkout; "
                             "$DISENTANGLE_DATA sets the root)")
    parser.add_argument("--build", action="store_true", help="render a missing built-in corpus "
                        "(data/notes is rendered without asking)")
    parser.add_argument("--host", default=None, help="server address (default 127.0.0.1, "
                        "or $GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--projection", choices=sorted(METHODS.values()), default="umap",
                        help="map shown first (default umap)")
    # 16 accelerated-GL iterations keep a click under 150 ms (p95) on 2 CPU cores;
    # spectral convergence 0.098 vs 0.066 at 24 on rendered notes: pass 24-32 for quality.
    parser.add_argument("--gl-iters", type=int, default=16, help="Griffin-Lim iterations per click (default 16)")
    parser.add_argument("--no-staged", action="store_true",
                        help="on a first start (no finished data/notes), render the whole notes corpus before "
                             "serving (default: serve a first part at once and build the rest in the background)")
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
    parser.add_argument("--session-ttl", type=float, default=SESSION_TTL_S,
                        help=f"seconds a session's state is kept without a change (default {SESSION_TTL_S})")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per process (default 1; 0 = torch's default)")
    args = parser.parse_args(argv)
    # One line per refused request (user errors); tracebacks only for real failures.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.threads < 0:
        parser.error(f"--threads must be 0 or more, got {args.threads}")
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    folder = Path(args.data)
    first = first_start(folder) and not args.no_staged
    params = ProjectionParams(args.projection)
    # A first part is shown with a PCA map (milliseconds); UMAP's first fit compiles for 10-20 s.
    shown = ProjectionParams("pca") if first else params
    worker = FitWorker()
    worker.start()  # from the main thread, so that the child dies with this process even when paused
    try:
        if first:
            print(f"{folder} has no finished corpus yet: rendering a first part of the notes corpus now, "
                  "the rest in the background", flush=True)
            corpus = build_first_part(folder)
        else:
            corpus = open_data(folder, build=args.build, say=lambda m: print(m, flush=True))
        all_models = load_models(args.checkpoint)
        models = all_models
        if not args.checkpoint:  # named checkpoints always open
            models = matching_models(models, corpus_kind(corpus), say=lambda m: print(m, flush=True))
        explorer = Explorer(models, corpus, cache_root=args.cache, gl_iters=args.gl_iters,
                            fit_worker=worker).build(
            console_progress, shown, say=log_line)
    except (OSError, ValueError, CheckpointError) as exc:  # bad paths and files: one line, no traceback
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    hub = ExplorerHub(all_models, explorer, cache_root=args.cache, gl_iters=args.gl_iters, params=params)
    for source in other_corpora(all_models, folder, args.build, named=bool(args.checkpoint)):
        if source.name not in hub.names:
            hub.add(source)
    stop = threading.Event()
    rest: Staged | None = None
    if first:
        rest = Staged(build_rest_of_notes(folder, explorer, say_log=log_line), explorer)
        hub.stage(rest)  # first: the hub swaps the full corpus in before its maps are fitted
    if not args.no_precompute:  # the other maps, of the full corpus once it is served
        if rest is None:
            threading.Thread(target=in_background, args=(explorer.precompute, params, stop), daemon=True).start()
        else:
            rest.on_ready(lambda full: threading.Thread(target=in_background, args=(full.precompute, params, stop),
                                                         daemon=True).start())
    demo = build_demo(hub, shown.method, session_ttl_s=args.session_ttl)
    demo.queue(default_concurrency_limit=args.concurrency)
    print(f"ready in {time.perf_counter() - start:.1f} s", flush=True)
    try:
        app_kwargs = plotly_route.app_kwargs()  # middleware can only be added before the server starts
        app_kwargs["middleware"].append(Middleware(QuietFits, quiet=Quiet(worker)))  # fits pause for listeners
        demo.launch(js=BRIDGE_JS, css=CSS, head=plotly_route.HEAD, app_kwargs=app_kwargs,
                    prevent_thread_lock=True, **launch_options(args.host, args.port))
        plotly_route.install(demo.app)  # the map's plotly.js, which the page's head loads at once
        routes = Handlers(hub, shown.method)
        clip_route.install(demo.app, routes)  # a click's sound, straight to the page
        map_store.install(demo.app)  # each map's JSON, fetched by the page (not carried by Gradio)
        neighbours_route.install(demo.app, routes)  # a click's neighbours, likewise
        install_reaper(demo, args.session_ttl)  # idle and closed sessions go whole, not just their gr.State
        if rest is not None:  # once the server answers, so the first click does not wait behind it
            rest.start()
        demo.block_thread()
    finally:
        stop.set()


if __name__ == "__main__":
    main()

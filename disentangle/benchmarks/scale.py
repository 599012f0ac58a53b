"""`bench.py scale`: the explorer at 3.6k / 20k / 100k items (issue 14).

For each size N, a corpus of N variants of the rendered notes is generated
under `--root` (never committed): variant 0 of a note is a hard link to it,
variant k > 0 is the note with a seeded gain, a start offset of up to 30 ms
and noise 60 dB down, written as 16-bit wav. Then, each in a fresh process:
1. server (cold start, as `app/main.py` builds it): features (cold), encode
   (Explorer.build with the first PCA map), peak RSS after the build; then
   PCA, UMAP and t-SNE fits of the first space, and the peak RSS after them;
2. with `--browser`: the app on the caches just made, in headless Chromium:
   time until the map is drawn (each of `--loads` page loads in a fresh browser: single
   loads varied by up to ~1 s here, so the median and the range are reported), hover
   label, click -> audio, cached space switch, JS heap (after a forced garbage
   collection) after 1 and after 10 switches; and, as the same run's reference, the
   time a one-element Gradio page takes to mount (`reference_loads`), with the map's
   time as a ratio to it.
Timings on a shared 2-core machine say so in the README.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from disentangle.paths import data_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[3600, 20000, 100000])
    parser.add_argument("--source", default=str(data_root() / "notes"), help="rendered notes to vary")
    parser.add_argument("--root", default="/tmp/disentangle-scale", help="where the corpora go")
    parser.add_argument("--checkpoint", default="gmvae")
    parser.add_argument("--methods", nargs="*", default=["pca", "umap", "tsne"])
    parser.add_argument("--browser", action="store_true", help="also the Chromium figures")
    parser.add_argument("--browser-only", action="store_true",
                        help="only the Chromium figures, on the corpora and caches of an earlier run")
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--loads", type=int, default=5,
                        help="page loads (each in a fresh browser) that time the map's drawing")
    parser.add_argument("--json", default=None)


def make_variants(source: str | Path, out: str | Path, n: int, seed: int = 0) -> Path:
    """A corpus of `n` variants of the notes at `source` under `out` (metadata.csv + audio/)."""
    import soundfile as sf

    from disentangle.data.schema import Item, load_corpus, write_metadata

    out = Path(out)
    if (out / "metadata.csv").is_file():
        return out
    src = load_corpus(source)
    per_note = -(-n // len(src.items))
    items: list[Item] = []
    rng = np.random.default_rng(seed)
    for row, item in enumerate(src.items):
        variants = [k for k in range(per_note) if k * len(src.items) + row < n]
        if not variants:
            continue
        audio, sr = sf.read(str(src.audio_path(item)), dtype="float32", always_2d=False)
        for k in variants:
            rel = f"audio/v{k:02d}/{item.path}"
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if k == 0:
                try:
                    os.link(src.audio_path(item), path)
                except OSError:
                    sf.write(path, audio, sr)
            else:
                shift = int(rng.integers(0, int(0.03 * sr)))
                clip = audio[shift:] * rng.uniform(0.5, 1.0)
                clip = clip + rng.normal(0, 1e-3 * (np.abs(clip).max() + 1e-9), clip.shape)
                sf.write(path, np.clip(clip, -1, 1).astype(np.float32), sr, subtype="PCM_16")
            items.append(Item(**{**item.__dict__, "path": rel, "extra": dict(item.extra, variant=str(k))}))
    items.sort(key=lambda i: (int(i.extra["variant"]), i.path))
    write_metadata(out / "metadata.csv", items)
    return out


SERVER = """
import json, resource, sys, time
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from disentangle import load_model
from disentangle.data.schema import load_corpus
from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams
from disentangle.features.cache import load_features
data, ckpt, cache, methods = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
out = {"rss_after_imports_mb": rss()}
corpus = load_corpus(data)
model = load_model(ckpt)
t = time.perf_counter()
fs = load_features(corpus, model.features, progress=False)
out["features_s"] = time.perf_counter() - t
del fs
lines = []
t = time.perf_counter()
ex = Explorer({"model": model}, corpus, cache_root=cache).build(
    lambda f, text: lines.append((round(f, 3), text)), ProjectionParams("pca"))
out["encode_and_first_map_s"] = time.perf_counter() - t
out["cold_start_peak_rss_mb"] = rss()
out["progress_lines"] = len(lines)
out["progress_fractions"] = sorted({f for f, _ in lines})[:12]
space = ex.space_names("model")[0]
for m in methods:
    t = time.perf_counter()
    ex.projection("model", space, ProjectionParams(m))
    out[f"{m}_s"] = time.perf_counter() - t
for s in ex.space_names("model"):  # every space's PCA map cached, for the browser's switches
    ex.projection("model", s, ProjectionParams("pca"))
out["peak_rss_after_fits_mb"] = rss()
out["items"] = len(ex.entry("model").rows)
print(json.dumps(out))
"""


def server_figures(data: Path, checkpoint: str, cache: Path, methods: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", SERVER, str(data), checkpoint, str(cache), ",".join(methods)],
                          check=False, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


# After a full garbage collection (Chromium started with --expose-gc): read without one, the
# heap rose or fell by tens of MB between runs (what was not yet collected), which says
# nothing about a leak.
HEAP = "(() => { if (window.gc) window.gc(); return performance.memory ? performance.memory.usedJSHeapSize / 1048576 : -1; })()"


def time_to_map(browser, url: str, ready=None):
    """(page, seconds from the request until `ready(page)` returns) in a new page of `browser`;
    `ready` waits for the map to be drawn unless given."""
    from disentangle.benchmarks.browser import wait_for_map

    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    t = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded", timeout=600000)
    (ready or (lambda pg: wait_for_map(pg, 600000)))(page)
    return page, time.perf_counter() - t


def time_map_loads(url: str, loads: int, ready=None) -> list[float]:
    """Seconds from the request until the map is drawn (or `ready(page)` returns), for each of
    `loads` page loads in a fresh browser (no cache, no warm GPU process)."""
    from playwright.sync_api import sync_playwright

    from disentangle.benchmarks.browser import ARGS, CHROMIUM

    out = []
    with sync_playwright() as p:
        for _ in range(loads):
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            try:
                out.append(time_to_map(browser, url, ready)[1])
            finally:
                browser.close()
    return out


# The same run's reference (these machines are noisy, and one 2-core VM ran this page twice as
# fast as another: the 3,600-point map was drawn in 3.3 s in session 11, 1.6 s in session 12):
# a Gradio page holding one gr.HTML, timed the same way from the request until its element is
# mounted, so a figure can be read as a ratio to what any Gradio page costs on the machine.
REFERENCE_APP = """
import sys
import gradio as gr
with gr.Blocks() as demo:
    gr.HTML('<div class="ref-host"></div>', elem_id="ref")
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
"""


def reference_loads(loads: int) -> list[float]:
    """Seconds from the request until a one-element Gradio page is mounted, for each of
    `loads` page loads in a fresh browser (REFERENCE_APP, served by a child process)."""
    from disentangle.benchmarks.app import _free_port, stop_app, wait_until_serving

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", REFERENCE_APP, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(proc, url, lambda: "the reference Gradio page did not start")
        return time_map_loads(url, loads, lambda page: page.wait_for_selector(
            "#ref .ref-host", state="attached", timeout=600000))
    finally:
        stop_app(proc)


def browser_figures(url: str, switches: int, loads: int = 1) -> dict:
    from playwright.sync_api import sync_playwright

    from disentangle.benchmarks.browser import (
        ARGS,
        CHROMIUM,
        STAMP,
        _since_gesture,
        _space_names,
        _switch_space,
        click_plot_point,
        point_boxes,
        sound_since_gesture,
    )

    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=[*ARGS, "--enable-precise-memory-info", "--js-flags=--expose-gc"])
        try:
            page, first = time_to_map(browser, url)
            drawn = [first]
            out["map_type"] = page.evaluate("document.querySelector('#latent_map .js-plotly-plot')._fullData[0].type")
            page.evaluate(STAMP)
            page.wait_for_timeout(1500)
            boxes = point_boxes(page, 60, 97)
            hovers, clicks = [], []
            for box in boxes[2:8]:
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.mouse.move(x - 30, y - 30)
                page.wait_for_timeout(300)
                page.evaluate("window.__t0 = performance.now()")
                page.mouse.move(x, y, steps=3)
                try:
                    hovers.append(_since_gesture(page, "document.querySelector('#latent_map .hoverlayer .hovertext')"
                                                       " !== null", 10000))
                except Exception:  # noqa: BLE001 (a miss: no label within 10 s)
                    hovers.append(float("inf"))
                before = page.evaluate("window.__disentangleLastPlay || 0")
                click_plot_point(page, box)
                clicks.append(sound_since_gesture(page, before, 60000))
            out["hover_s"] = sorted(hovers)
            out["click_to_audio_s"] = sorted(clicks[1:])
            try:
                names = _space_names(page)
                took = [_switch_space(page, names[(n + 1) % len(names)]) for n in range(len(names))]
                page.wait_for_timeout(1000)
                out["heap_after_1_switch_mb"] = page.evaluate(HEAP)
                per_switch = []
                for n in range(switches):
                    took.append(_switch_space(page, names[(n + 1) % len(names)]))
                    page.wait_for_timeout(500)  # outside the timing: the draw's last tasks, then the reading
                    per_switch.append(page.evaluate(HEAP))
                out["heap_per_switch_mb"] = per_switch  # settles or keeps growing?
                page.wait_for_timeout(1000)
                out["switch_cached_s"] = sorted(took[len(names):])
                out["heap_after_switches_mb"] = page.evaluate(HEAP)
                out["switches"] = switches + len(names)
                out["dom_nodes"] = page.evaluate("document.getElementsByTagName('*').length")
            except Exception as exc:  # noqa: BLE001 -- keep the figures measured so far, say what failed
                out["switch_error"] = f"{type(exc).__name__}: {exc}"
        finally:
            browser.close()
    drawn += time_map_loads(url, loads - 1)
    out["map_drawn_all_s"] = drawn  # the first load first
    out["map_drawn_s"] = float(np.median(drawn))
    out["reference_page_all_s"] = ref = reference_loads(max(1, loads))
    out["reference_page_s"] = float(np.median(ref))
    return out


def run(args: argparse.Namespace) -> dict:
    from disentangle.benchmarks.app import start_app, stop_app
    from disentangle.checkpoint import checkpoints_dir

    ckpt = args.checkpoint if Path(args.checkpoint).is_file() else str(checkpoints_dir() / f"{args.checkpoint}.pt")
    results = {}
    for n in args.sizes:
        root = Path(args.root) / f"notes-{n}"
        t = time.perf_counter()
        make_variants(args.source, root, n)
        print(f"[{n:,}] corpus at {root} ({time.perf_counter() - t:.0f} s to make or find)", flush=True)
        # One explorer cache per size, kept for a later --browser-only run; the server
        # figures start cold: the corpus's feature cache and the explorer cache are removed.
        cache = Path(args.root) / f"explore-cache-{n}"
        r: dict = {}
        if not args.browser_only:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(root / ".cache", ignore_errors=True)
            r = server_figures(root, ckpt, cache, args.methods)
            print(f"[{n:,}] features {r['features_s']:.1f} s, encode + first map "
                  f"{r['encode_and_first_map_s']:.1f} s, "
                  + ", ".join(f"{m} {r[f'{m}_s']:.1f} s" for m in args.methods)
                  + f"; peak RSS cold start {r['cold_start_peak_rss_mb']:.0f} MB, "
                  f"after fits {r['peak_rss_after_fits_mb']:.0f} MB", flush=True)
        elif not cache.is_dir():
            raise SystemExit(f"--browser-only: no explorer cache at {cache}; run without it first")
        if args.browser or args.browser_only:
            proc, url, _ = start_app([ckpt], str(root), cache, 8, cache / "app.log",
                                     ("--projection", "pca", "--threads", "1"))
            try:
                r["browser"] = b = browser_figures(url, args.switches, args.loads)
            finally:
                stop_app(proc)
            med = (lambda v: float(np.median(v)) if v else float("nan"))
            if "switch_error" in b:
                print(f"[{n:,}] space switches not measured: {b['switch_error']}", flush=True)
                for key, missing in (("switch_cached_s", []), ("switches", 0),
                                     ("heap_after_1_switch_mb", float("nan")),
                                     ("heap_after_switches_mb", float("nan"))):
                    b.setdefault(key, missing)
            print(f"[{n:,}] browser ({b['map_type']}): map drawn {b['map_drawn_s']:.2f} s (median of "
                  f"{len(b['map_drawn_all_s'])} loads, {min(b['map_drawn_all_s']):.2f}-"
                  f"{max(b['map_drawn_all_s']):.2f}; {b['map_drawn_s'] / b['reference_page_s']:.2f} x a one-element "
                  f"Gradio page's {b['reference_page_s']:.2f} s in the same run), hover "
                  f"{med(b['hover_s']):.2f} s, click -> audio {med(b['click_to_audio_s']):.2f} s, switch "
                  f"{med(b['switch_cached_s']):.2f} s (median), heap {b['heap_after_1_switch_mb']:.0f} -> "
                  f"{b['heap_after_switches_mb']:.0f} MB after {b['switches']} switches "
                  f"(each: {' '.join(f'{h:.0f}' for h in b.get('heap_per_switch_mb', []))})", flush=True)
        results[n] = r
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    return results

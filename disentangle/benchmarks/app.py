"""`bench.py app`: the explorer's latency, measured through `gradio_client` on loopback.

Starts `app/main.py` as a subprocess (twice: a first start on an empty
explorer cache, then a warm start), then measures
- click-to-audio: the `render_point` endpoint round trip, p50/p95 (target p95 <= 150 ms);
- a 9-step sweep round trip (target <= 0.5 s);
- 20 concurrent clients x 50 clicks: errors and p95;
and, in this process, the projection time of the corpus (3,000+ points) for
UMAP, t-SNE and PCA on first use (fit) and from the disk cache.
Without shipped checkpoints it saves an untrained model of a shipped config
(realistic compute, meaningless sound) to a temporary checkpoint.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from disentangle.paths import app_dir, checkpoints_dir, data_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(data_root() / "notes"), help="corpus folder")
    parser.add_argument("--checkpoint", nargs="*", default=None,
                        help="checkpoints to serve (default: checkpoints/*.pt, else an untrained --config model)")
    parser.add_argument("--config", default="gmvae-cpu", help="config for the untrained stand-in model")
    parser.add_argument("--clicks", type=int, default=100, help="sequential clicks timed")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--clicks-per-client", type=int, default=50)
    parser.add_argument("--gl-iters", type=int, default=16)
    parser.add_argument("--skip-projections", action="store_true", help="do not time UMAP/t-SNE/PCA")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stand_in_checkpoint(config: str, corpus, out: Path) -> Path:
    """An untrained model of a shipped config on this corpus, saved as a checkpoint."""
    from disentangle.checkpoint import save_checkpoint
    from disentangle.configs import load_config, registry
    from disentangle.data.dataset import make_label_maps
    from disentangle.data.schema import LABELS
    from disentangle.features.cache import load_features
    from disentangle.features.spectrogram import Normaliser

    rc = load_config(config)
    fs = load_features(corpus, rc.features, progress=True)
    columns = [c for c in LABELS if any(i.label(c) for i in fs.items)]
    model = registry()[rc.model](rc.model_config, rc.features, make_label_maps(fs.items, columns))
    return save_checkpoint(out, model, Normaliser.fit(fs.x, rc.features), report={})


def start_app(checkpoints: list[str], data: str, cache: Path, gl_iters: int, log: Path,
              extra: tuple[str, ...] = (), precompute: bool = False) -> tuple:
    """(process, url, seconds until the server answered); `extra`: more app options.

    precompute: let the app fit every other space's map in the background, as `make run`
    does (off by default: a benchmark then times only what it asks for).
    """
    port = _free_port()
    folder = app_dir()
    if folder is None:
        raise RuntimeError("the explorer app (app/main.py) is neither in a checkout nor installed")
    cmd = [sys.executable, str(folder / "main.py"), "--checkpoint", *checkpoints, "--data", data,
           "--host", "127.0.0.1", "--port", str(port), "--cache", str(cache), "--gl-iters", str(gl_iters),
           *(() if precompute else ("--no-precompute",)), *extra]
    start = time.perf_counter()
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(proc, url, lambda: f"the app exited; log: {log.read_text()[-3000:]}")
    return proc, url, time.perf_counter() - start


def wait_until_serving(proc: subprocess.Popen, url: str, exited: Callable[[], str]) -> None:
    """Until `url` answers; RuntimeError(exited()) if the server process `proc` ends first."""
    import urllib.request

    while True:
        if proc.poll() is not None:
            raise RuntimeError(exited())
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)


def stop_app(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def time_clicks(url: str, model: str, refs: list[str], n: int) -> list[float]:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    client.predict(model, refs[0], "A", "reconstruction", api_name="/render_point")  # warm-up
    out = []
    for ref in random.Random(0).sample(refs, min(n, len(refs))):
        t = time.perf_counter()
        client.predict(model, ref, "A", "reconstruction", api_name="/render_point")
        out.append(time.perf_counter() - t)
    return out


def concurrent_clicks(url: str, model: str, refs: list[str], clients: int, per_client: int) -> dict:
    from gradio_client import Client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            client = Client(url, verbose=False, download_files=False)
        except Exception as exc:  # noqa: BLE001 - counted, not raised: the point is to see failures
            with lock:
                errors.append(f"connect: {exc}")
            return
        rng = random.Random(k)
        for _ in range(per_client):
            ref = rng.choice(refs)
            t = time.perf_counter()
            try:
                md = client.predict(model, ref, "A", "reconstruction", api_name="/render_point")[4]
                ok = "A:" in md
            except Exception as exc:  # noqa: BLE001 - a failed click is counted as an error
                ok, md = False, str(exc)
            with lock:
                times.append(time.perf_counter() - t)
                if not ok:
                    errors.append(md[:200])

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    return {"requests": len(times), "errors": len(errors), "first_errors": errors[:3],
            "p50_s": statistics.median(times) if times else None, "p95_s": _pct(times, 95) if times else None,
            "wall_s": wall, "throughput_per_s": len(times) / wall if wall else None}


def time_projections(checkpoint: str, corpus, cache: Path) -> dict:
    """Fit and cache-load times of each projection of the first space, all corpus points."""
    from disentangle import load_model
    from disentangle.explore.explorer import Explorer
    from disentangle.explore.projection import Projection, ProjectionParams, fit_projection

    ex = Explorer({"m": load_model(checkpoint)}, corpus, cache_root=cache).build()
    entry = ex.entry("m")
    space = ex.space_names("m")[0]
    x = entry.flat[space]
    out = {"points": len(x), "space": space}
    for method in ("pca", "tsne", "umap"):
        params = ProjectionParams(method)
        t = time.perf_counter()
        proj = fit_projection(x, params)
        fit = time.perf_counter() - t
        stem = cache / f"bench_{method}"
        proj.save(stem)
        t = time.perf_counter()
        Projection.load(stem, x)
        out[method] = {"first_use_s": fit, "from_cache_s": time.perf_counter() - t}
    return out


def run(args: argparse.Namespace) -> dict:
    from disentangle.data.schema import load_corpus

    corpus = load_corpus(args.data)
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    checkpoints = args.checkpoint
    if not checkpoints:  # the ones the app opens on this corpus by default
        from disentangle import load_model
        from disentangle.data.kind import corpus_kind
        from disentangle.explore.corpus_match import matching_models

        shipped = {str(p): load_model(p) for p in sorted(checkpoints_dir().glob("*.pt"))}
        checkpoints = list(matching_models(shipped, corpus_kind(corpus))) if shipped else []
    stand_in = not checkpoints
    if stand_in:
        checkpoints = [str(stand_in_checkpoint(args.config, corpus, work / f"{args.config}-untrained.pt"))]
    model_name = Path(checkpoints[0]).stem
    results: dict = {"corpus_items": len(corpus), "checkpoints": checkpoints, "stand_in_untrained": stand_in}
    cache = work / "explore-cache"

    proc, url, first = start_app(checkpoints, args.data, cache, args.gl_iters, work / "first.log")
    stop_app(proc)
    proc, url, warm = start_app(checkpoints, args.data, cache, args.gl_iters, work / "warm.log")
    results["start_first_s"], results["start_warm_s"] = first, warm
    print(f"start: first (empty explorer cache) {first:.1f} s, warm {warm:.1f} s", flush=True)
    try:
        refs = [f"c:{i}" for i in range(len(corpus))]
        clicks = time_clicks(url, model_name, refs, args.clicks)
        results["click"] = {"n": len(clicks), "p50_s": statistics.median(clicks), "p95_s": _pct(clicks, 95)}
        print(f"click-to-audio: p50 {results['click']['p50_s'] * 1000:.0f} ms, "
              f"p95 {results['click']['p95_s'] * 1000:.0f} ms (n={len(clicks)})", flush=True)
        from gradio_client import Client

        client = Client(url, verbose=False, download_files=False)
        client.predict(model_name, "c:0", "A", "reconstruction", api_name="/render_point")  # sets A
        space = _first_space(checkpoints[0])
        sweeps = []
        for _ in range(10):
            t = time.perf_counter()
            client.predict(model_name, space, 0, -1, 1, 9, "value",
                           api_name="/sweep")
            sweeps.append(time.perf_counter() - t)
        results["sweep9"] = {"p50_s": statistics.median(sweeps), "max_s": max(sweeps)}
        print(f"9-step sweep: median {results['sweep9']['p50_s'] * 1000:.0f} ms, "
              f"max {results['sweep9']['max_s'] * 1000:.0f} ms", flush=True)
        conc = concurrent_clicks(url, model_name, refs, args.clients, args.clicks_per_client)
        results["concurrent"] = {"clients": args.clients, "clicks_each": args.clicks_per_client, **conc}
        print(f"{args.clients} clients x {args.clicks_per_client} clicks: {conc['errors']} errors, "
              f"p50 {conc['p50_s'] * 1000:.0f} ms, p95 {conc['p95_s'] * 1000:.0f} ms, "
              f"{conc['throughput_per_s']:.1f} clicks/s", flush=True)
    finally:
        stop_app(proc)
    if not args.skip_projections:
        results["projection"] = time_projections(checkpoints[0], corpus, work / "proj-cache")
        p = results["projection"]
        for method in ("pca", "tsne", "umap"):
            print(f"projection {method} of {p['points']} points: first use {p[method]['first_use_s']:.2f} s, "
                  f"from cache {p[method]['from_cache_s'] * 1000:.1f} ms", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


def _first_space(checkpoint: str) -> str:
    from disentangle import load_model

    return load_model(checkpoint).spaces[0].name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.parse_args())

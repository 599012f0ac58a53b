"""`bench.py robust`: the app under hostile and heavy use, served on loopback.

Starts `app/main.py` on a subset of a corpus (a temporary folder of links to
its audio) and measures, in order:
- hostile: every named endpoint, each argument in turn given each hostile
  value (`hostile.HOSTILE`, sent as raw JSON so NaN and Infinity arrive as
  such): cases tried and answered cleanly, per endpoint;
- flood: click-to-audio p50/p95 idle, then while clients keep asking for new
  t-SNE/UMAP maps;
- sessions: server RSS before, at the peak of, and after `--sessions` heavy
  sessions (6x6 grid, 15-step sweep and interpolation, 12 samples) have gone
  idle past the app's session time-to-live;
- upload: peak RSS while the largest upload the app accepts is encoded.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Self

from disentangle.benchmarks.app import _pct, start_app, stop_app
from disentangle.benchmarks.hostile import HOSTILE, endpoints, judge_result, leaks, run_suite
from disentangle.paths import checkpoints_dir, data_root

PARTS = ("hostile", "flood", "sessions", "upload")
ANY = "any (whole prior)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(data_root() / "notes"), help="corpus folder")
    parser.add_argument("--items", type=int, default=1200, help="corpus items served (a seeded subset)")
    parser.add_argument("--checkpoint", default=str(checkpoints_dir() / "gmvae.pt"))
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=PARTS)
    parser.add_argument("--sessions", type=int, default=50, help="heavy sessions")
    parser.add_argument("--session-ttl", type=float, default=20.0, help="the app's --session-ttl")
    parser.add_argument("--clicks", type=int, default=40, help="clicks timed per flood phase")
    parser.add_argument("--fit-clients", type=int, default=4, help="clients asking for new maps")
    parser.add_argument("--hostile-values", type=int, default=len(HOSTILE),
                        help=f"how many of the {len(HOSTILE)} hostile values each argument gets")
    parser.add_argument("--work", default=None, help="work folder, reused between runs (default: a new temporary one)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PeakRSS:
    """Samples a process's RSS every 50 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, rss_mb(pid), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def subset_corpus(data: Path, n: int, out: Path) -> Path:
    """A corpus folder of `n` seeded items of `data` (links to its audio, its build.json)."""
    import random

    from disentangle.data.schema import load_corpus, write_metadata

    corpus = load_corpus(data)
    items = random.Random(0).sample(corpus.items, min(n, len(corpus.items)))
    out.mkdir(parents=True, exist_ok=True)
    for top in {Path(i.path).parts[0] for i in items}:
        (out / top).symlink_to((data / top).resolve())
    if (data / "build.json").is_file():
        (out / "build.json").write_text((data / "build.json").read_text())
    write_metadata(out / "metadata.csv", items)
    return out


def raw_call(url: str, name: str, args: tuple) -> object:
    """Call endpoint `name` over plain HTTP with a JSON body that may hold NaN/Infinity.

    Returns the outputs; raises RuntimeError for an error event or a bad status.
    """
    body = json.dumps({"data": list(args)}).encode()  # allow_nan: NaN, Infinity as raw JSON
    req = urllib.request.Request(f"{url}gradio_api/call/{name}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{name}/{event_id}", timeout=300) as r:
        text = r.read().decode()
    events = [block for block in text.split("\n\n") if block.strip()]
    last = events[-1] if events else ""
    data = last.split("data:", 1)[1].strip() if "data:" in last else ""
    if not last.startswith("event: complete"):
        raise RuntimeError(f"{last.splitlines()[0] if last else 'no event'}: {data[:200]}")
    return json.loads(data)


def hostile_part(url: str, model: str, space: str, n_values: int) -> dict:
    eps = endpoints(model, space, target="")
    tally = run_suite(lambda name, args: raw_call(url, name, args), eps, HOSTILE[:n_values])
    click = raw_call(url, "render_point", (model, "c:3", "A", "reconstruction"))
    return {"per_endpoint": {e: {"tried": tally.tried[e], "clean": tally.clean[e]} for e in tally.tried},
            "tried": sum(tally.tried.values()), "clean": sum(tally.clean.values()),
            "problems": tally.problems[:10],
            "click_after_ok": bool(judge_result(click, 4)[0]) and isinstance(click, (list, tuple))
            and click[1] is not None}


def time_clicks(client, model: str, n: int, start: int = 0) -> list[float]:
    out = []
    for k in range(n):
        t = time.perf_counter()
        client.predict(model, f"c:{(start + 7 * k) % 1000}", "A", "reconstruction", api_name="/render_point")
        out.append(time.perf_counter() - t)
    return out


def flood_part(url: str, model: str, space: str, clicks: int, fit_clients: int) -> dict:
    from gradio_client import Client

    from disentangle.explore import validate as v

    client = Client(url, verbose=False, download_files=False)
    time_clicks(client, model, 3)
    idle = time_clicks(client, model, clicks)
    maps = ([("t-SNE", 15, 0.1, p) for p in v.PERPLEXITY]
            + [("UMAP", n, d, 30) for n in v.N_NEIGHBORS for d in v.MIN_DIST])
    stop, fits = threading.Event(), []

    def fitter(k: int) -> None:
        c = Client(url, verbose=False, download_files=False)
        for j, (method, nn, md, perp) in enumerate(maps[k::fit_clients]):
            if stop.is_set():
                return
            t = time.perf_counter()
            c.predict(model, space, method, nn, md, perp, 1, 2, "instrument", "", [], True, api_name="/project")
            fits.append(time.perf_counter() - t)

    threads = [threading.Thread(target=fitter, args=(k,), daemon=True) for k in range(fit_clients)]
    for th in threads:
        th.start()
    time.sleep(2.0)  # let the fits start
    during = time_clicks(client, model, clicks, start=500)
    stop.set()
    return {"idle_p50_s": statistics.median(idle), "idle_p95_s": _pct(idle, 95),
            "fits_p50_s": statistics.median(during), "fits_p95_s": _pct(during, 95),
            "fit_clients": fit_clients, "maps_finished_meanwhile": len(fits)}


CONCURRENCY = 4  # heavy sessions driven at once


def heavy_session(url: str, model: str, space: str, k: int) -> None:
    from gradio_client import Client

    c = Client(url, verbose=False, download_files=False)
    c.predict(model, f"c:{k}", "A", "reconstruction", api_name="/render_point")
    c.predict(model, f"c:{k + 100}", "B", "reconstruction", api_name="/render_point")
    c.predict(model, space, 0, 1, -2.0, 2.0, 6, api_name="/grid")
    c.predict(model, space, 0, -2.0, 2.0, 15, "value", api_name="/sweep")
    c.predict(model, "all spaces", 0.0, 1.0, 15, api_name="/interpolate")
    c.predict(model, 0.5, 12, k, *([ANY] * 6), api_name="/sample")


def sessions_part(url: str, pid: int, model: str, space: str, n: int, ttl: float) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    # Warm every path once at the benchmark's concurrency, so that the baseline holds what
    # a server keeps after any load whatever the number of sessions (worker threads and
    # their malloc arenas, the bounded shared render and clip memos, lazy imports), and
    # let those warm-up sessions expire: what stays above it after 50 is per-session.
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda k: heavy_session(url, model, space, k), range(CONCURRENCY)))
    time.sleep(ttl + 15)
    before = rss_mb(pid)
    with PeakRSS(pid) as peak, ThreadPoolExecutor(CONCURRENCY) as pool:
        t = time.perf_counter()
        list(pool.map(lambda k: heavy_session(url, model, space, CONCURRENCY + k), range(n)))
        seconds = time.perf_counter() - t
        held = rss_mb(pid)
    # Every session idle past its time-to-live (dropped by the reaper's once-a-second pass,
    # then the heap trimmed in its own thread); read twice to show whether it still falls.
    time.sleep(ttl + 15)
    after_early = rss_mb(pid)
    time.sleep(30)
    after = rss_mb(pid)
    return {"sessions": n, "concurrency": CONCURRENCY, "rss_before_mb": before, "rss_peak_mb": peak.peak,
            "rss_all_open_mb": held, "rss_after_ttl_mb": after_early, "rss_after_mb": after,
            "after_vs_before": after / before - 1, "seconds": seconds}


def upload_part(url: str, pid: int, model: str, work: Path) -> dict:
    import numpy as np
    import soundfile as sf
    from gradio_client import Client, handle_file

    from disentangle.explore.uploads import MAX_UPLOAD_BYTES

    rate, channels = 96_000, 2  # the widest file the header check lets through, filled to the size limit
    frames = (MAX_UPLOAD_BYTES - 1024) // (2 * channels)
    path = work / "largest.wav"
    t = np.arange(frames) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)[:, None] * np.ones(channels)).astype(np.float32), rate,
             subtype="PCM_16")
    client = Client(url, verbose=False, download_files=False)
    before = rss_mb(pid)
    with PeakRSS(pid) as peak:
        msg = client.predict(handle_file(str(path)), "largest", "neither", model, api_name="/encode_audio")[0]
    return {"file_mb": path.stat().st_size / 2**20, "seconds_of_audio": frames / rate,
            "rss_before_mb": before, "rss_peak_mb": peak.peak, "peak_extra_mb": peak.peak - before,
            "encoded": "Encoded" in str(msg), "message_clean": not leaks(str(msg))}


def run(args: argparse.Namespace) -> dict:
    import sys

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-robust-"))
    corpus = work / "corpus"
    if not (corpus / "metadata.csv").is_file():  # reused: its features and latents are cached
        subset_corpus(Path(args.data), args.items, corpus)
    log = work / "app.log"
    proc, url, start_s = start_app([args.checkpoint], str(corpus), work / "cache", 16, log,
                                   ("--session-ttl", str(args.session_ttl), "--projection", "pca"))
    model = Path(args.checkpoint).stem
    from disentangle import load_model

    space = load_model(args.checkpoint).spaces[0].name
    results: dict = {"items": args.items, "checkpoint": args.checkpoint, "start_s": start_s}
    try:
        for part in args.parts:
            t = time.perf_counter()
            if part == "hostile":
                results[part] = hostile_part(url, model, space, args.hostile_values)
            elif part == "flood":
                results[part] = flood_part(url, model, space, args.clicks, args.fit_clients)
            elif part == "sessions":
                results[part] = sessions_part(url, proc.pid, model, space, args.sessions, args.session_ttl)
            else:
                results[part] = upload_part(url, proc.pid, model, work)
            results[part]["wall_s"] = time.perf_counter() - t
            print(json.dumps({part: results[part]}, indent=1), flush=True)
    finally:
        stop_app(proc)
    tracebacks = log.read_text().count("Traceback")
    results["server_tracebacks"] = tracebacks
    results["refusals_logged"] = log.read_text().count(" refused: ")
    print(f"server log: {tracebacks} tracebacks, {results['refusals_logged']} one-line refusals", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


__all__ = ["add_arguments", "run"]

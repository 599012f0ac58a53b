"""`bench.py models`: training throughput, encode/decode latency, training wall time.

For each shipped run config (or those named with --configs):
- training items per second over a few `train_step`s on random batches of
  the config's shape (CPU; CUDA too when available);
- the mean items per second the shipped checkpoint's own training logged
  (real batches, data loading and perturbations included);
- encode and decode latency for one item and for a batch (256 items for the
  note-level models, 64 for models with per-frame spaces), using the
  shipped checkpoint `checkpoints/<name>.pt` (or `<name>` without `-cpu`, or the model's name
  when that checkpoint reads the config's input shape) when present, else a freshly
  built model of that config;
- the wall time of the shipped checkpoint's training, read from its meta
  (`train_seconds`) and history.
Prints one table; `--json PATH` also writes the numbers.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

#: class counts of the synthetic labels used when no checkpoint gives label maps
SYNTHETIC_CLASSES = {"instrument": 12, "family": 5, "pitch": 24, "dynamics": 3, "duration": 8}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configs", nargs="*", default=None,
                        help="run configs to measure (default: every shipped config)")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per config")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="stop timing a config's training steps after this long (at least "
                             "one step is timed; keeps GPU-sized configs bounded on a CPU)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="training batch (default: the config's train.batch_size)")
    parser.add_argument("--repeats", type=int, default=5, help="latency repeats (median)")
    parser.add_argument("--latency-batch", type=int, default=None,
                        help="batch for the batch latency (default 256; 64 for models with "
                             "per-frame spaces, e.g. 4 s phrases)")
    parser.add_argument("--devices", nargs="*", default=None,
                        help="devices to measure (default: cpu, plus cuda when available)")
    parser.add_argument("--checkpoints", default=None,
                        help="folder of shipped checkpoints (default: checkpoints/ in the repo)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")


def run(args: argparse.Namespace) -> list[dict]:
    """Measure every config on every device; print a table; return the rows."""
    from disentangle.checkpoint import checkpoints_dir
    from disentangle.configs import available_configs

    names = args.configs or available_configs()
    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    ckpt_dir = Path(args.checkpoints) if args.checkpoints else checkpoints_dir()
    rows = []
    for name in names:
        for device in devices:
            rows.append(measure(name, torch.device(device), ckpt_dir, steps=args.steps,
                                warmup=args.warmup, batch_size=args.batch_size,
                                repeats=args.repeats, max_seconds=args.max_seconds,
                                latency_batch=args.latency_batch))
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


def measure(name: str, device: torch.device, ckpt_dir: Path, steps: int = 5, warmup: int = 1,
            batch_size: int | None = None, repeats: int = 5, max_seconds: float = 30.0,
            latency_batch: int | None = None) -> dict:
    """All numbers for one config on one device (see module docstring)."""
    from disentangle.checkpoint import CheckpointError, load_model
    from disentangle.configs import load_config, registry

    run_cfg = load_config(name)
    # Shipped files are named after the model (checkpoints/gmvae.pt trained
    # with gmvae-cpu, threefactor.pt with threefactor-notes-cpu): try the
    # config name, then without "-cpu", then the model's name when that
    # checkpoint reads the config's input shape.
    stem = Path(name).stem
    candidates = [(ckpt_dir / f"{stem}.pt", False), (ckpt_dir / f"{stem.removesuffix('-cpu')}.pt", False),
                  (ckpt_dir / f"{run_cfg.model}.pt", True)]
    model, source = None, "fresh"
    wall = {"train_wall_s": None, "logged_items_per_s": None, "train_epochs": None,
            "train_device": None, "train_world_size": None}
    for shipped, by_model in candidates:
        if not shipped.is_file():
            continue
        try:
            loaded = load_model(shipped, device=device)
        except CheckpointError as exc:
            source = f"fresh ({exc.problem})"
            break
        shape = (run_cfg.features.n_bins, run_cfg.features.n_frames)
        if loaded.name != run_cfg.model or (by_model and (loaded.features.n_bins, loaded.features.n_frames) != shape):
            continue
        model, source, wall = loaded, str(shipped), training_wall_time(loaded)
        break
    label_maps = model.label_maps if model is not None else synthetic_label_maps(run_cfg.train.label_columns)
    torch.manual_seed(0)
    # Training throughput of the shipped model's own size when there is one
    # (the shipped GMVAE has 192 filters where gmvae-cpu says 256).
    mcfg, feats = (model.config, model.features) if model is not None else (run_cfg.model_config, run_cfg.features)
    fresh = registry()[run_cfg.model](mcfg, feats, label_maps).to(device)
    bs = batch_size or run_cfg.train.batch_size
    row = {"config": name, "model": run_cfg.model, "device": str(device), "weights": source,
           "parameters": sum(p.numel() for p in fresh.parameters()), "batch_size": bs,
           "train_items_per_s": train_throughput(fresh, run_cfg, label_maps, device, bs, steps,
                                                 warmup, max_seconds)}
    del fresh
    if model is None:
        torch.manual_seed(0)
        model = registry()[run_cfg.model](run_cfg.model_config, run_cfg.features, label_maps)
        model = model.to(device).eval()
    sequential = any(s.scope == "local" for s in model.spaces)
    n_batch = latency_batch or (64 if sequential else 256)
    row["latency_batch"] = n_batch
    for n, key in ((1, "1"), (n_batch, "batch")):
        enc, dec = latency(model, n, device, repeats)
        row[f"encode_ms_{key}"], row[f"decode_ms_{key}"] = enc, dec
    row.update(wall)
    return row


def synthetic_label_maps(columns: list[str]) -> dict[str, list[str]]:
    return {c: [f"{c}{i}" for i in range(SYNTHETIC_CLASSES.get(c, 4))] for c in columns}


def random_batch(features, label_maps: dict[str, list[str]], n: int, device: torch.device,
                 perturbed: bool = False) -> dict:
    """A batch of the model's input shape: x (n, F, T) in [-1, 1], random labels;
    with `perturbed`, also the "x_pitch" / "x_timbre" copies a perturbation
    model trains on (so a step costs what a real one does, minus the loading)."""
    g = torch.Generator().manual_seed(n)
    shape = (n, features.n_bins, features.n_frames)
    x = torch.rand(shape, generator=g) * 2 - 1
    labels = {c: torch.randint(0, max(len(v), 1), (n,), generator=g) if v else torch.full((n,), -1)
              for c, v in label_maps.items()}
    batch = {"x": x.to(device), "labels": {k: v.to(device) for k, v in labels.items()},
             "index": torch.arange(n, device=device)}
    if perturbed:
        for key in ("x_pitch", "x_timbre"):
            batch[key] = (torch.rand(shape, generator=g) * 2 - 1).to(device)
    return batch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_throughput(model, run_cfg, label_maps: dict, device: torch.device, batch_size: int,
                     steps: int, warmup: int, max_seconds: float = float("inf")) -> float:
    """Training items per second over up to `steps` calls of `model.train_step`."""
    cfg = run_cfg.train
    optimizers = model.make_optimizers(cfg.lr, cfg.weight_decay)
    batch = random_batch(run_cfg.features, label_maps, batch_size, device,
                         perturbed=getattr(model, "wants_perturbed_audio", False))
    model.train()
    for _ in range(warmup):
        model.train_step(batch, optimizers, 0, cfg.grad_clip or None)
    _sync(device)
    done, t0 = 0, time.perf_counter()
    while done < max(1, steps):
        model.train_step(batch, optimizers, 0, cfg.grad_clip or None)
        _sync(device)
        done += 1
        if time.perf_counter() - t0 > max_seconds:
            break
    return round(done * batch_size / (time.perf_counter() - t0), 2)


def _median_ms(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    fn()  # warm-up (first-call allocations, kernel selection)
    times = []
    for _ in range(max(1, repeats)):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return round(1000 * statistics.median(times), 3)


def latency(model, n: int, device: torch.device, repeats: int) -> tuple[float, float]:
    """Median milliseconds to encode n items, and to decode their posterior means."""
    batch = random_batch(model.features, model.label_maps, n, device)
    model.eval()
    with torch.inference_mode():
        z = {k: p.mean for k, p in model.encode(batch["x"]).items()}
        enc = _median_ms(lambda: model.encode(batch["x"]), device, repeats)
        dec = _median_ms(lambda: model.decode(z), device, repeats)
    return enc, dec


def training_wall_time(model) -> dict:
    """Training wall time and epochs of a loaded checkpoint (from its meta/history)."""
    meta = getattr(model, "meta", {}) or {}
    history = getattr(model, "history", []) or []
    seconds = meta.get("train_seconds")
    if seconds is None and history:
        seconds = sum(float(r.get("seconds", 0.0)) for r in history)
    rates = [float(r["items_per_second"]) for r in history if r.get("items_per_second")]
    return {"train_wall_s": None if seconds is None else round(float(seconds), 1),
            "logged_items_per_s": round(statistics.mean(rates), 2) if rates else None,
            "train_epochs": len(history) or meta.get("epoch"),
            "train_device": meta.get("device"), "train_world_size": meta.get("world_size")}


COLUMNS = [("config", "config"), ("device", "device"), ("parameters", "params"),
           ("batch_size", "batch"), ("train_items_per_s", "train items/s"),
           ("logged_items_per_s", "logged items/s"),
           ("encode_ms_1", "enc 1 ms"), ("decode_ms_1", "dec 1 ms"), ("latency_batch", "B"),
           ("encode_ms_batch", "enc B ms"), ("decode_ms_batch", "dec B ms"),
           ("train_wall_s", "train wall s"), ("train_epochs", "epochs"), ("weights", "weights")]


def format_table(rows: list[dict]) -> str:
    """A plain-text table, one row per (config, device)."""
    cells = [[h for _, h in COLUMNS]]
    for r in rows:
        r = dict(r, config=Path(r["config"]).stem)  # a YAML path shows as its name
        cells.append(["-" if r.get(k) is None else
                      (f"{r[k]:,}" if isinstance(r[k], int) and k == "parameters" else str(r[k]))
                      for k, _ in COLUMNS])
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Standalone entry point (scripts/bench.py dispatches to `run`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()

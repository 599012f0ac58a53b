"""The training loop: seeded, resumable, atomic checkpoints, optional torchrun.

A run folder `out_dir` holds `last.pt` (every epoch, with the full training
state), `best.pt` (the epoch with the lowest mean validation loss) and
`log.jsonl` (one JSON object per epoch). When training ends, the best
checkpoint, stripped of its optimizer state and given a short report, is
written beside the folder as `<out_dir>.pt`: that file is the run's artifact
(`--out checkpoints/gmvae` -> `checkpoints/gmvae.pt`, which
`disentangle.load_model("gmvae")` finds).
"""
from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from disentangle.atomic import atomic_write, remove_stale_temps, write_text
from disentangle.checkpoint import checkpoint_dict, load_checkpoint, save_dict
from disentangle.configs import RunConfig, load_config, registry, to_plain
from disentangle.data.kind import corpus_kind
from disentangle.features.augment import RandomGain, SpectralEQ
from disentangle.models.base import DisentangleModel
from disentangle.training import distributed as dd
from disentangle.training.data import TrainData, prepare_data
from disentangle.training.state import (
    LoopState,
    batch_size_of,
    pick_device,
    rng_state,
    seed_everything,
    set_rng_state,
    to_device,
)


def train(run_config: RunConfig | str | Path, data_dir: str | Path, out_dir: str | Path,
          epochs: int | None = None, device: str | None = "auto", resume: bool = False,
          progress: bool = True,
          on_epoch_end: Callable[[int, torch.nn.Module, dict], None] | None = None) -> Path:
    """Train `run_config`'s model on the corpus in `data_dir`; return the artifact path.

    epochs: overrides `train.epochs` (the total, counting epochs already done
    when resuming). device: "auto" defers to `train.device` (itself "auto" ->
    cuda if available, else cpu). resume: continue from `out_dir/last.pt`
    (model, optimizers, schedulers, epoch, best value, RNG states, history).
    on_epoch_end(epoch, model, record): called on every rank after each epoch
    (1-based epoch, the bare model, the logged metrics), e.g. for tuning.
    Under torchrun every rank calls this; only rank 0 writes files, and the
    artifact path is returned on every rank.
    """
    run = run_config if isinstance(run_config, RunConfig) else load_config(run_config)
    cfg = run.train
    n_epochs = int(epochs if epochs is not None else cfg.epochs)
    wanted = device if device not in (None, "", "auto") else cfg.device
    wants_cuda = str(wanted).startswith("cuda") or (wanted in (None, "", "auto")
                                                    and torch.cuda.is_available())
    info = dd.init_distributed("cuda" if wants_cuda else "cpu")
    dev = pick_device(wanted, info.local_rank)
    out_dir = Path(out_dir)
    main = info.is_main
    say = _printer(main and progress)
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        # A run killed mid-write (SIGKILL skips cleanup) leaves `.last.pt.*.tmp` behind.
        stale = remove_stale_temps(out_dir) + remove_stale_temps(out_dir.parent, f"{out_dir.name}.pt")
        if stale:
            say(f"removed {len(stale)} temporary file(s) left by an interrupted write")

    # Rank 0 computes the feature cache; the others wait, then read it.
    if not main:
        dd.barrier(info)
    data = prepare_data(data_dir, run.features, cfg.label_columns, cfg.valid_fraction, cfg.seed,
                        progress=progress and main)
    if main:
        dd.barrier(info)
    say(f"corpus {data.corpus.name}: {len(data.splits['train'])} train / "
        f"{len(data.splits['valid'])} valid / {len(data.splits['test'])} test items"
        + (f", {len(data.skipped)} skipped" if data.skipped else "") + f"; device {dev}"
        + (f", {info.world_size} processes" if info.enabled else ""))

    seed_everything(cfg.seed)  # same initial weights on every rank
    model = registry()[run.model](run.model_config, run.features, data.label_maps).to(dev)
    optimizers = model.make_optimizers(cfg.lr, cfg.weight_decay)
    schedulers = make_schedulers(cfg, optimizers)
    state = LoopState()
    seed_everything(cfg.seed + info.rank)  # independent sampling noise per rank

    last = out_dir / "last.pt"
    if resume and last.is_file():
        ckpt = load_checkpoint(last)
        if ckpt.get("train_state") is None:
            raise ValueError(f"{last}: has no training state to resume from")
        state = _restore(ckpt, model, optimizers, schedulers, info, dev)
        say(f"resumed from {last} after epoch {state.epoch} (best {state.best:.5g} "
            f"at epoch {state.best_epoch})")
    elif resume:
        say(f"--resume: no {last} yet, starting from scratch")
    if main:  # the log always matches the history of the checkpoint we start from
        _rewrite_log(out_dir / "log.jsonl", state.history)

    hooks = []
    if info.enabled:
        dd.broadcast_module(model)
        hooks = dd.install_gradient_sync(model, info.world_size)
    meta = {"corpus": {"name": data.corpus.name, "kind": corpus_kind(data.corpus),
                       "root": str(data.corpus.root),
                       "fingerprint": data.corpus.fingerprint(), "items": len(data.items),
                       "splits": {k: len(v) for k, v in data.splits.items()}},
            "run_config": run.to_dict(), "world_size": info.world_size, "device": str(dev)}

    # Perturbed-variant caches, like features, are built by rank 0 first.
    if not main:
        dd.barrier(info)
    train_loader, sampler = _train_loader(data, cfg, info, dev, model, progress and main)
    if main:
        dd.barrier(info)
    valid_loader = _eval_loader(data, "valid", cfg, info, dev)
    eq = SpectralEQ.for_features(cfg.eq_tilt_db, cfg.eq_bumps_db, run.features, data.normaliser)
    gain = RandomGain.for_features(cfg.gain_view_db, run.features, data.normaliser)
    eq_rng = torch.Generator()
    try:
        while state.epoch < n_epochs:
            if cfg.patience is not None and state.bad_epochs >= cfg.patience:
                say(f"early stop: no improvement for {state.bad_epochs} epochs")
                break
            epoch = state.epoch
            t0 = time.perf_counter()
            model.train()
            if hasattr(train_loader.dataset, "set_epoch"):  # fresh perturbations per epoch
                train_loader.dataset.set_epoch(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
            else:  # a fresh, epoch-seeded order: resuming replays it exactly
                train_loader.generator.manual_seed(cfg.seed * 100_003 + epoch)
            totals: dict[str, list[float]] = {}
            # Its own generator, seeded per epoch and rank: resuming replays the same curves.
            eq_rng.manual_seed(cfg.seed * 7_919 + epoch * 1_009 + info.rank)
            bar = _bar(len(train_loader), f"epoch {epoch + 1}/{n_epochs}", main and progress)
            for batch in train_loader:
                if eq.active:
                    batch["x"] = eq(batch["x"], eq_rng)
                if gain.active:
                    batch["x_view"] = gain(batch["x"], eq_rng)
                batch = to_device(batch, dev)
                terms = model.train_step(batch, optimizers, epoch, cfg.grad_clip or None)
                _accumulate(totals, terms, batch_size_of(batch))
                bar.set_postfix(loss=f"{terms.get('loss', float('nan')):.4g}", refresh=False)
                bar.update(1)
            bar.close()
            if info.enabled:
                dd.average_buffers(model, info.world_size)
            train_means = _means(dd.all_reduce_totals(totals, info))
            valid_means = _means(dd.all_reduce_totals(evaluate_loss(model, valid_loader, epoch, dev),
                                                      info))
            seconds = time.perf_counter() - t0
            state.seconds += seconds
            monitor = valid_means.get(cfg.monitor, train_means.get(cfg.monitor, math.nan))
            for sched in schedulers.values():
                if not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    sched.step()
                elif math.isfinite(monitor):
                    sched.step(monitor)
            improved = math.isfinite(monitor) and monitor < state.best - cfg.min_delta
            if improved:
                state.best, state.best_epoch, state.bad_epochs = float(monitor), epoch + 1, 0
            else:
                state.bad_epochs += 1
            record = {"epoch": epoch + 1,
                      **{f"train/{k}": v for k, v in train_means.items()},
                      **{f"valid/{k}": v for k, v in valid_means.items()},
                      "lr": {n: o.param_groups[0]["lr"] for n, o in optimizers.items()},
                      "seconds": round(seconds, 3),
                      "items_per_second": round(len(data.splits["train"]) / max(seconds, 1e-9), 2),
                      "best": bool(improved)}
            state.history.append(record)
            state.epoch = epoch + 1
            if main:
                _save_epoch(out_dir, model, data, optimizers, schedulers, state, meta, improved)
                with open(out_dir / "log.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
                say(f"epoch {epoch + 1}: train {train_means.get('loss', math.nan):.5g}  "
                    f"valid {valid_means.get('loss', math.nan):.5g}"
                    + ("  (best)" if improved else "") + f"  [{seconds:.1f} s]")
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, model, record)
        artifact = out_dir.parent / f"{out_dir.name}.pt"
        if main:
            _finish(out_dir, artifact, data, cfg, dev, say)
        dd.barrier(info)
        return artifact
    finally:
        for h in hooks:
            h.remove()
        dd.shutdown(info)


@torch.no_grad()
def evaluate_loss(model: DisentangleModel, loader: DataLoader | None, epoch: int,
                  device: torch.device) -> dict[str, list[float]]:
    """`model.loss` in eval mode over every batch: {term: [weighted sum, items]}.

    Each batch counts by its size, so the mean is over items, not batches
    (and not just the last batch).
    """
    totals: dict[str, list[float]] = {}
    if loader is None:
        return totals
    was_training = model.training
    model.eval()
    try:
        for batch in loader:
            batch = to_device(batch, device)
            terms = model.loss(batch, epoch)
            _accumulate(totals, {k: float(v.detach()) for k, v in terms.items()},
                        batch_size_of(batch))
    finally:
        model.train(was_training)
    return totals


# --- helpers --------------------------------------------------------------------
def _accumulate(totals: dict[str, list[float]], terms: dict[str, float], n: int) -> None:
    for key, value in terms.items():
        value = float(value)
        slot = totals.setdefault(key, [0.0, 0.0])
        slot[0] += value * n
        slot[1] += n


def _means(totals: dict[str, list[float]]) -> dict[str, float]:
    return {k: (s / n if n else math.nan) for k, (s, n) in sorted(totals.items())}


def _train_loader(data: TrainData, cfg, info: dd.DistInfo, dev: torch.device, model=None,
                  progress: bool = False):
    if getattr(model, "wants_perturbed_audio", False):
        from disentangle.training.perturbed import perturbed_train_dataset

        workers = cfg.num_workers if cfg.cache_workers is None else cfg.cache_workers
        dataset = perturbed_train_dataset(data, model, cfg.seed, workers, progress)
    else:
        dataset = data.dataset("train")
    common = {"batch_size": cfg.batch_size, "num_workers": cfg.num_workers,
                  "pin_memory": dev.type == "cuda", "persistent_workers": False}
    if info.enabled:
        from torch.utils.data.distributed import DistributedSampler

        sampler: DistributedSampler = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank,
                                     shuffle=True, seed=cfg.seed, drop_last=False)
        return DataLoader(dataset, sampler=sampler, **common), sampler
    return DataLoader(dataset, shuffle=True, generator=torch.Generator(), **common), None


def _eval_loader(data: TrainData, split: str, cfg, info: dd.DistInfo,
                 dev: torch.device) -> DataLoader | None:
    """Each rank takes every world_size-th item: no padding, so sums stay exact."""
    idx = data.splits[split][info.rank::info.world_size]
    if len(idx) == 0:
        return None
    return DataLoader(data.dataset(split, idx), batch_size=cfg.batch_size, shuffle=False,
                      num_workers=cfg.num_workers, pin_memory=dev.type == "cuda",
                      generator=torch.Generator().manual_seed(0))


def _train_state(optimizers: dict, schedulers: dict, state: LoopState) -> dict:
    return {"optimizers": {k: o.state_dict() for k, o in optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in schedulers.items()},
            **state.to_dict(), "rng": rng_state(), "history": to_plain(state.history)}


def _save_epoch(out_dir: Path, model, data: TrainData, optimizers: dict, schedulers: dict,
                state: LoopState, meta: dict, improved: bool) -> None:
    """last.pt every epoch; best.pt too when the validation mean improved."""
    meta = dict(meta, epoch=state.epoch, best_epoch=state.best_epoch,
                train_seconds=round(state.seconds, 3))
    ckpt = checkpoint_dict(model, data.normaliser, _train_state(optimizers, schedulers, state),
                           history=state.history, meta=meta)
    save_dict(out_dir / "last.pt", ckpt)
    if improved:
        _link_or_copy(out_dir / "last.pt", out_dir / "best.pt")


def _link_or_copy(src: Path, dst: Path) -> None:
    """Atomically make `dst` a copy of `src`: a hard link where possible.

    A link costs no time or disk (a CPU-sized GMVAE checkpoint with Adam state
    is ~150 MB); `last.pt` is later replaced by a new file, never written in
    place, so the linked `best.pt` keeps this epoch's contents.
    """
    import os
    import shutil

    tmp = dst.with_name(f".{dst.name}.link.tmp")  # the temp pattern of disentangle.atomic
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)
        def copy(t: str) -> None:
            shutil.copyfile(src, t)
        atomic_write(dst, copy)


def make_schedulers(cfg, optimizers: dict) -> dict:
    """Per-optimizer learning-rate schedulers of `cfg` (see `TrainConfig`), stepped once per epoch."""
    sched = torch.optim.lr_scheduler
    if cfg.lr_schedule == "cosine":
        # A function of the epoch and of the run's current `epochs` (LambdaLR keeps
        # only the epoch in its state), so resuming with --epochs N follows the new length.
        def factor(epoch: int, n: int = max(1, cfg.epochs), final: float = cfg.lr_final) -> float:
            return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * min(epoch, n) / n))

        return {name: sched.LambdaLR(opt, factor) for name, opt in optimizers.items()}
    if cfg.lr_patience is not None:
        return {name: sched.ReduceLROnPlateau(opt, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience,
                                              threshold=cfg.min_delta, threshold_mode="abs")  # same "better"
                for name, opt in optimizers.items()}                                # as early stopping
    return {}


def _restore(ckpt: dict, model, optimizers: dict, schedulers: dict,
             info: dd.DistInfo, dev: torch.device) -> LoopState:
    """Load last.pt's weights, optimizer and scheduler states and RNGs; its loop state."""
    ts = ckpt["train_state"]
    if ckpt["model"] != model.name:
        raise ValueError(f"cannot resume: last.pt holds a {ckpt['model']!r} model, "
                         f"this run config trains {model.name!r}")
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError("cannot resume: last.pt's weights do not fit this run config's model "
                         f"({first[1].strip() if len(first) > 1 else first[0] if first else exc})"
                         ) from None
    model.to(dev)
    for name, opt in optimizers.items():
        if name in ts["optimizers"]:
            opt.load_state_dict(ts["optimizers"][name])
    for name, sched in schedulers.items():
        if name in ts.get("schedulers", {}):
            sched.load_state_dict(ts["schedulers"][name])
        if isinstance(sched, torch.optim.lr_scheduler.LambdaLR):  # this run's schedule at the resumed epoch
            for group, base, fn in zip(sched.optimizer.param_groups, sched.base_lrs, sched.lr_lambdas):
                group["lr"] = base * fn(sched.last_epoch)
    if not info.enabled:
        # Per-rank noise streams differ by design, so only a single process
        # can continue the exact random sequence it saved.
        set_rng_state(ts["rng"])
    return LoopState.from_dict(ts)


def _rewrite_log(path: Path, history: list) -> None:
    text = "".join(json.dumps(r) + "\n" for r in history)
    write_text(path, text)


def _finish(out_dir: Path, artifact: Path, data: TrainData, cfg, dev: torch.device, say) -> None:
    """Write the artifact: best.pt without train_state, plus a short report."""
    source = out_dir / "best.pt" if (out_dir / "best.pt").is_file() else out_dir / "last.pt"
    if not source.is_file():
        say("no epoch was trained: no artifact written")
        return
    ckpt = load_checkpoint(source)
    ckpt["train_state"] = None
    history = ckpt.get("history") or []
    report: dict = dict(ckpt.get("report") or {})
    report["training"] = {"best_epoch": ckpt["meta"].get("best_epoch"),
                          "epochs": len(history),
                          "train_seconds": ckpt["meta"].get("train_seconds"),
                          "valid/loss": min((r.get("valid/loss", math.inf) for r in history),
                                            default=None)}
    from disentangle.checkpoint import build_model

    model = build_model(ckpt, source, dev)
    test_loader = _eval_loader(data, "test", cfg, dd.DistInfo(), dev)
    if test_loader is not None:
        report["test_loss"] = _means(evaluate_loss(model, test_loader, len(history), dev))
    ckpt["report"] = to_plain(report)
    save_dict(artifact, ckpt)  # the trained model is safe before the (long) evaluation runs
    say(f"artifact: {artifact}")
    if cfg.evaluate and len(data.splits["test"]):
        report.update(_full_evaluation(model, data, say))
        ckpt["report"] = to_plain(report)
        save_dict(artifact, ckpt)
        say(f"evaluation report stored in {artifact}")


def _full_evaluation(model, data: TrainData, say) -> dict:
    """The evaluation package's report on the test split.

    A failure propagates (the artifact is already written without it):
    `scripts/evaluate.py --write-checkpoint` can add the report later.
    """
    from disentangle.evaluation import evaluate

    model.normaliser = data.normaliser
    model.eval()
    say("evaluating on the test split (--set train.evaluate=false skips this; "
        "scripts/evaluate.py can do it later)")
    return dict(evaluate(model, data.corpus, split="test", log=say))


def _printer(enabled: bool):
    def say(msg: str) -> None:
        if enabled:
            print(msg, file=sys.stderr, flush=True)
    return say


def _bar(total: int, desc: str, enabled: bool):
    """A counter, never a wrapper: `tqdm.auto` calls iter() on what it wraps, and a
    DataLoader iterator draws a seed from the loader's generator, so wrapping the
    loader made the shuffle order (and the weights) depend on whether bars show."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr,
                disable=not enabled)


__all__ = ["evaluate_loss", "train"]

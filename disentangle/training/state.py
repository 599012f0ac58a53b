"""Seeding, RNG snapshots and device helpers for exact, resumable training.

RNG states are stored as tensors and plain numbers so a checkpoint holding
them still loads with `torch.load(weights_only=True)`.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass
class LoopState:
    """Where a training run stands: what `last.pt` stores and `--resume` restores.

    epoch: epochs completed; best / best_epoch: the lowest monitored
    validation value and its epoch (1-based); bad_epochs: epochs since it
    improved (early stopping); seconds: training time summed over epochs;
    history: one log record per epoch (what log.jsonl holds).
    """

    epoch: int = 0
    best: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The plain-number fields, for a checkpoint's `train_state` (history apart)."""
        return {"epoch": self.epoch, "best": self.best, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, ts: dict[str, Any]) -> LoopState:
        """The state a checkpoint's `train_state` saved (see `to_dict`)."""
        return cls(int(ts["epoch"]), float(ts["best"]), int(ts["best_epoch"]), int(ts["bad_epochs"]),
                   float(ts["seconds"]), list(ts["history"]))


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, numpy's global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """A snapshot of every global RNG the training loop draws from."""
    np_kind, np_keys, np_pos, np_has_gauss, np_cached = np.random.get_state(legacy=True)
    np_keys = np.asarray(np_keys)  # legacy=True gives the tuple form, whose keys are an array
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": str(np_kind), "keys": torch.from_numpy(np_keys.astype(np.int64)),
                  "pos": int(np_pos), "has_gauss": int(np_has_gauss), "cached": float(np_cached)},
        "python": {"version": int(py_version), "state": torch.tensor(py_state, dtype=torch.int64),
                   "gauss": py_gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = [s for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by `rng_state` (CUDA states only if CUDA is here)."""
    torch.set_rng_state(state["torch"].to(torch.uint8).cpu())
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), int(n["pos"]),
                         int(n["has_gauss"]), float(n["cached"])))
    p = state["python"]
    random.setstate((int(p["version"]), tuple(int(v) for v in p["state"].tolist()), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.to(torch.uint8).cpu() for s in state["cuda"]])


def pick_device(device: str | None, local_rank: int = 0) -> torch.device:
    """"auto"/None -> cuda (this process's GPU) if available, else cpu."""
    if device in (None, "", "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {device!r} requested but CUDA is not available here")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(dev)
    return dev


def to_device(obj: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested dict/list) batch to `device`."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def batch_size_of(batch: dict) -> int:
    """Items in a batch dict ({"x": (B, F, T), ...})."""
    return int(batch["x"].shape[0])

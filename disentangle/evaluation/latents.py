"""Batched encode / decode of a whole feature array through the model interface.

These are the building blocks evaluation and the app share: they only use
`model.spaces`, `model.encode` and `model.decode`, run under
`torch.inference_mode()`, and restore the model's train/eval mode afterwards.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor

from disentangle.models.base import DisentangleModel


def model_device(model: DisentangleModel, device: str | torch.device | None = None) -> torch.device:
    """`device` if given, else the device of the model's first parameter (cpu if none)."""
    if device is not None:
        return torch.device(device)
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@contextmanager
def eval_mode(model: DisentangleModel) -> Iterator[None]:
    """Put the model in eval mode (BatchNorm running stats, no dropout), then restore."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def encode_dataset(model: DisentangleModel, x_normalised: Tensor | np.ndarray,
                   batch_size: int = 256, device: str | torch.device | None = None,
                   keep_time: bool = False) -> dict[str, np.ndarray]:
    """Posterior means of every latent space for a whole feature array.

    x_normalised: (N, F, T) normalised features.
    Returns {space name: float32 array}: (N, D) for global spaces; for local
    spaces (N, T', D) when `keep_time`, else the time average (N, D).
    """
    x = torch.as_tensor(x_normalised, dtype=torch.float32)
    dev = model_device(model, device)
    local = {s.name for s in model.spaces if s.scope == "local"}
    chunks: dict[str, list[np.ndarray]] = {s.name: [] for s in model.spaces}
    with eval_mode(model), torch.inference_mode():
        for start in range(0, len(x), batch_size):
            post = model.encode(x[start:start + batch_size].to(dev))
            for name, p in post.items():
                mean = p.mean
                if name in local and not keep_time and mean.dim() == 3:
                    mean = mean.mean(dim=1)
                chunks.setdefault(name, []).append(mean.float().cpu().numpy())
    return {name: np.concatenate(parts) if parts else np.zeros((0, model.space(name).size), np.float32)
            for name, parts in chunks.items()}


def decode_batched(model: DisentangleModel, z: Mapping[str, Tensor | np.ndarray],
                   batch_size: int = 256, device: str | torch.device | None = None) -> Tensor:
    """Decode latents in batches.

    z: {space name: (B, D) or (B, T', D)} for every space of the model.
    Returns: (B, F, T) normalised features on the cpu.
    """
    zs = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in z.items()}
    n = len(next(iter(zs.values())))
    dev = model_device(model, device)
    out = []
    with eval_mode(model), torch.inference_mode():
        for start in range(0, n, batch_size):
            out.append(model.decode({k: v[start:start + batch_size].to(dev) for k, v in zs.items()}).cpu())
    return torch.cat(out) if out else torch.zeros(0)


def reconstruction_mse(model: DisentangleModel, x_normalised: Tensor | np.ndarray,
                       batch_size: int = 256, device: str | torch.device | None = None) -> float:
    """Mean squared error per time-frequency bin of the posterior-mean reconstruction.

    x_normalised: (N, F, T). Returns a float (mean over items, bins and frames).
    """
    x = torch.as_tensor(x_normalised, dtype=torch.float32)
    dev = model_device(model, device)
    total, count = 0.0, 0
    with eval_mode(model), torch.inference_mode():
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(dev)
            post = model.encode(xb)
            y = model.decode({k: p.mean for k, p in post.items()})
            total += float(((y - xb) ** 2).sum())
            count += xb.numel()
    return total / max(count, 1)

"""Data-parallel training with `torch.distributed` (launched by `torchrun`).

Models train through `model.train_step`, which calls `model.loss` on the bare
module and may run several backward passes (e.g. the main loss, then the
removers on their own optimizer). Instead of routing the forward through a
`DistributedDataParallel` wrapper, which would see only one of those passes,
every parameter gets a post-accumulate-grad hook that all-reduces (averages)
its gradient the moment backward has written it. So clipping and every
optimizer step already see the gradient of the global batch, whatever
`train_step` does, and all ranks apply identical updates. Every rank runs the
same code on the same architecture, so the hooks fire in the same order
everywhere (which collective calls require). Buffers (BatchNorm running
statistics) are averaged once per epoch for the same reason.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job; world_size 1 means not distributed."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_distributed() -> bool:
    """Whether torchrun (or an equivalent launcher) asked for more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group torchrun set up (nccl on cuda, gloo on cpu).

    Returns DistInfo() (a single process) when not launched distributed.
    """
    if not launched_distributed():
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank `src`'s parameters and buffers to every rank, in place."""
    with torch.no_grad():
        for tensor in module.state_dict().values():  # shares storage with the module
            dist.broadcast(tensor, src)


def average_buffers(module: nn.Module, world_size: int) -> None:
    """Average floating buffers (BatchNorm statistics); integer ones come from rank 0."""
    with torch.no_grad():
        for buf in module.buffers():
            if buf.is_floating_point():
                dist.all_reduce(buf)
                buf.div_(world_size)
            else:
                dist.broadcast(buf, 0)


def install_gradient_sync(module: nn.Module, world_size: int) -> list:
    """Average each parameter's gradient across ranks as soon as backward writes it.

    Returns the hook handles (call `.remove()` on each to uninstall). Two
    backward passes into the same gradient before a step are fine: the second
    all-reduce averages an already-averaged part, which is the identity.
    """
    def hook(param: torch.Tensor) -> None:
        if param.grad is not None:
            dist.all_reduce(param.grad)
            param.grad.div_(world_size)

    return [p.register_post_accumulate_grad_hook(hook) for p in module.parameters()
            if p.requires_grad]


def all_reduce_totals(totals: dict[str, list[float]], info: DistInfo) -> dict[str, list[float]]:
    """Sum {key: [weighted sum, weight]} over all ranks.

    Keys are first unioned across ranks (a term a rank never saw counts as
    [0, 0] there), so the collective sees equal-sized tensors everywhere.
    """
    if not info.enabled:
        return totals
    gathered: list = [None] * info.world_size
    dist.all_gather_object(gathered, sorted(totals))
    keys = sorted(set().union(*gathered))
    t = torch.tensor([totals.get(k, [0.0, 0.0]) for k in keys], dtype=torch.float64).reshape(-1, 2)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return {k: [float(a), float(b)] for k, (a, b) in zip(keys, t.tolist())}

"""Alternating remover training shared by the models that use removers.

A model using this mixin owns `self.removers` (a `disentangle.nn.Removers` or
None) and, in its `loss`, stores the latents the removers read in
`self._remover_inputs` ({space: (B, D)}, still attached to the graph) and
the labels they should predict in `self._remover_labels`. One
`train_step` is then two stages (Dal Ri 2025, Eqs. 3-4):

1. main: the removers are frozen; the model minimises its loss, which includes
   the bounded adversarial term lambda(epoch) * KL(uniform || remover softmax).
2. removers: the model is untouched; the removers minimise their
   cross-entropy on the detached latents, with their own optimizer.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from disentangle.nn.adversary import Removers


class RemoverTrainingMixin:
    """`make_optimizers` / `train_step` for a `DisentangleModel` with removers."""

    removers: Removers | None
    _remover_inputs: dict[str, Tensor] | None
    _remover_labels: dict[str, Tensor] | None

    def remover_parameters(self) -> list[nn.Parameter]:
        return list(self.removers.parameters()) if self.removers is not None else []

    def main_parameters(self) -> list[nn.Parameter]:
        ids = {id(p) for p in self.remover_parameters()}
        return [p for p in self.parameters() if id(p) not in ids]  # type: ignore[attr-defined]  # provided by the host DisentangleModel

    def make_optimizers(self, lr: float, weight_decay: float = 0.0) -> dict[str, torch.optim.Optimizer]:
        """{"main": Adam over everything but the removers, "removers": their own Adam}."""
        opts: dict[str, torch.optim.Optimizer] = {
            "main": torch.optim.Adam(self.main_parameters(), lr=lr, weight_decay=weight_decay)}
        if self.removers is not None:
            remover_lr = getattr(self.config, "remover_lr", None) or lr  # type: ignore[attr-defined]  # provided by the host DisentangleModel
            opts["removers"] = torch.optim.Adam(self.remover_parameters(), lr=remover_lr)
        return opts

    @contextmanager
    def frozen_removers(self) -> Iterator[None]:
        """No gradient reaches the removers' weights inside this block."""
        params = self.remover_parameters()
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, f in zip(params, flags):
                p.requires_grad_(f)

    def main_step(self, batch: dict, optimizer: torch.optim.Optimizer, epoch: int,
                  grad_clip: float | None = None) -> dict[str, float]:
        """Stage 1: update the model (encoders, decoder, priors, classifiers) only."""
        optimizer.zero_grad(set_to_none=True)
        with self.frozen_removers():
            terms = self.loss(batch, epoch)  # type: ignore[attr-defined]  # provided by the host DisentangleModel
            terms["loss"].backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(self.main_parameters(), grad_clip)
        optimizer.step()
        return {k: float(v.detach()) for k, v in terms.items()}

    def remover_step(self, latents: dict[str, Tensor], labels: dict[str, Tensor],
                     optimizer: torch.optim.Optimizer) -> dict[str, float]:
        """Stage 2: update the removers only, on detached latents {space: (B, D)}."""
        assert self.removers is not None
        optimizer.zero_grad(set_to_none=True)
        logits = self.removers({k: v.detach() for k, v in latents.items()})
        ce = self.removers.ce(logits, labels)
        # The mixin does not know its host's config type; the MD-GMVAE's has remover_weight.
        weight = float(getattr(getattr(self, "config", None), "remover_weight", 1.0))
        total = weight * torch.stack(list(ce.values())).sum()
        total.backward()
        optimizer.step()
        return {f"remover/{k}": float(v.detach()) for k, v in ce.items()}

    def train_step(self, batch: dict, optimizers: dict[str, torch.optim.Optimizer],
                   epoch: int, grad_clip: float | None = None) -> dict[str, float]:
        """Stage 1 then stage 2 on the same batch (stage 2 reuses stage 1's latents)."""
        self._remover_inputs = None
        logs = self.main_step(batch, optimizers["main"], epoch, grad_clip)
        if self.removers is not None and self._remover_inputs is not None and "removers" in optimizers:
            labels = getattr(self, "_remover_labels", None) or batch["labels"]
            logs.update(self.remover_step(self._remover_inputs, labels, optimizers["removers"]))
        self._remover_inputs = self._remover_labels = None
        return logs

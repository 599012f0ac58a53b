"""Gaussian-mixture priors with trainable means and fixed spreads (Luo 2019, Dal Ri 2025).

One component per class: p(z|y=k) = N(mu_k, sigma^2 I). With a known label the
posterior is pulled to its own component; with an unknown one the component is
inferred from the sampled z (q(y|x) ~ p(y|z), the reference's approximation of
E_q(z|x)[p(y|z)]) and the ELBO takes the expectation over it.

The means are trained by gradient (the papers) or, with `ema_update`, set by
the closed-form M-step: for fixed posteriors the ELBO is maximised by
mu_k = the (responsibility-weighted) average of the posterior means of class
k, tracked here by an exponential moving average over batches.
"""
from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


def gaussian_kl(mean: Tensor, logvar: Tensor, prior_mean: Tensor, prior_logstd: float) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(prior_mean, exp(prior_logstd)^2)) summed over the last dim.

    mean, logvar: (..., D); prior_mean broadcastable to them. Returns (...).
    """
    prior_var = math.exp(2.0 * prior_logstd)
    kl = prior_logstd - 0.5 * logvar + (logvar.exp() + (mean - prior_mean) ** 2) / (2.0 * prior_var) - 0.5
    return kl.sum(-1)


def standard_kl(mean: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)): (B, D) -> (B,)."""
    return gaussian_kl(mean, logvar, torch.zeros_like(mean), 0.0)


class MixturePrior(nn.Module):
    """K components in D dimensions: trainable means (Xavier init), fixed std exp(logstd)."""

    def __init__(self, n_components: int, dim: int, logstd: float = 0.0):
        super().__init__()
        self.logstd = float(logstd)
        self.means = nn.Parameter(torch.empty(n_components, dim))
        nn.init.xavier_uniform_(self.means)

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    @torch.no_grad()
    def ema_update(self, mean: Tensor, resp: Tensor, momentum: float) -> None:
        """Move each mean towards its class average of posterior means.

        mean: (B, D) posterior means; resp: (B, K) soft class counts (one-hot
        for labelled items, q(y|x) for the others; under torch.distributed,
        the batches of all ranks together). An item counts as one
        step of size `momentum`, so a class seen n times in the batch moves
        by 1 - (1 - momentum)^n: rare classes are not pulled by single noisy
        items more than frequent ones are.
        """
        counts = resp.sum(0)  # (K,)
        sums = resp.t() @ mean  # (K, D)
        if dist.is_available() and dist.is_initialized():
            # Under torchrun the means are not parameters the gradient sync sees:
            # pool every rank's batch so all ranks take the same M-step.
            dist.all_reduce(counts)
            dist.all_reduce(sums)
        seen = counts > 1e-6
        if not bool(seen.any()):
            return
        batch_means = sums / counts.clamp(min=1e-6)[:, None]  # (K, D)
        step = (1.0 - (1.0 - momentum) ** counts)[:, None]
        new = self.means + step * (batch_means - self.means)
        self.means.copy_(torch.where(seen[:, None], new, self.means))

    def logits(self, z: Tensor) -> Tensor:
        """log N(z; mu_k, sigma^2 I) + log(1/K): (B, D) -> (B, K), the logits of q(y|x)."""
        var = math.exp(2.0 * self.logstd)
        d = z.shape[-1]
        sq = ((z.unsqueeze(1) - self.means.unsqueeze(0)) ** 2).sum(-1)  # (B, K)
        log_norm = -0.5 * d * math.log(2.0 * math.pi) - d * self.logstd
        return log_norm - sq / (2.0 * var) - math.log(self.n_components)

    def component_kl(self, mean: Tensor, logvar: Tensor) -> Tensor:
        """KL of the posterior to every component: (B, D) -> (B, K)."""
        return gaussian_kl(mean.unsqueeze(1), logvar.unsqueeze(1), self.means.unsqueeze(0), self.logstd)

    def kl_to(self, mean: Tensor, logvar: Tensor, labels: Tensor) -> Tensor:
        """KL to each item's own component: labels (B,) in [0, K) -> (B,)."""
        return gaussian_kl(mean, logvar, self.means[labels], self.logstd)

    def elbo_terms(self, mean: Tensor, logvar: Tensor, z: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """Per-item prior terms; labels (B,) with -1 where the class is not used.

        Returns {"kl_z": (B,), "kl_y": (B,), "logits": (B, K)}: labelled items
        take the KL to their own component and kl_y = 0; the others take
        sum_k q_k KL(q(z|x) || N_k) and KL(q(y|x) || uniform).
        """
        logits = self.logits(z)
        logq = F.log_softmax(logits, dim=-1)
        q = logq.exp()
        kl_mix = (q * self.component_kl(mean, logvar)).sum(-1)
        kl_y = (q * (logq + math.log(self.n_components))).sum(-1)
        known = labels >= 0
        safe = labels.clamp(min=0)
        kl_own = self.kl_to(mean, logvar, safe)
        return {
            "kl_z": torch.where(known, kl_own, kl_mix),
            "kl_y": torch.where(known, torch.zeros_like(kl_y), kl_y),
            "logits": logits,
        }

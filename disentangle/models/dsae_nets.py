"""Building blocks of the disentangled sequential autoencoders (DSAE, TS-DSAE, J-DSAE).

Everything works frame by frame on sequences shaped (B, T, C): the spectrogram
(B, F, T) of the model interface is transposed once in the model. Sizes follow
TS-DSAE (Luo, Ewert, Dixon): tanh MLPs [64, 64] per frame, a global encoder
that averages its frame features over time, a 2-layer 32-unit LSTM prior over
the local latents.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn

from disentangle.models.base import Posterior
from disentangle.nn import mlp


def diag_gaussian_kl(mean: Tensor, logvar: Tensor, p_mean: Tensor, p_logvar: Tensor) -> Tensor:
    """KL(N(mean, e^logvar) || N(p_mean, e^p_logvar)) summed over the last dim: (..., D) -> (...)."""
    return 0.5 * (p_logvar - logvar + (logvar.exp() + (mean - p_mean) ** 2) / p_logvar.exp() - 1.0).sum(-1)


def posterior_kl(q: Posterior, p: Posterior) -> Tensor:
    """KL(q || p) per item: (B, D) -> (B,); local (B, T, D) -> (B,) averaged over frames."""
    kl = diag_gaussian_kl(q.mean, q.logvar, p.mean, p.logvar)
    return kl.mean(-1) if kl.dim() > 1 else kl


def frame_mlp(n_in: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """tanh MLP applied to the last dim; ends with a tanh (features, not an output layer)."""
    return nn.Sequential(mlp([n_in, *hidden], nn.Tanh), nn.Tanh())


class FrameStandardiser(nn.Module):
    """Per-band (x - mean) / std, with mean and std taken from the first training batch.

    A data-dependent initialisation (as ActNorm in Glow), then fixed: the
    statistics are buffers, saved in the state dict. Before `fit` it is the
    identity. forward/inverse work on (..., F).
    """

    mean: Tensor  # buffers (register_buffer): (F,) statistics and a bool flag
    std: Tensor
    ready: Tensor

    def __init__(self, n_bins: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_bins))
        self.register_buffer("std", torch.ones(n_bins))
        self.register_buffer("ready", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def fit(self, frames: Tensor) -> None:
        """frames (B, T, F): store per-band statistics over batch and time
        (over every rank's first batch under torch.distributed, so all ranks
        standardise alike from the first step)."""
        flat = frames.reshape(-1, frames.shape[-1])
        if dist.is_available() and dist.is_initialized():
            wide = flat.double()
            stats = torch.cat([wide.new_tensor([wide.shape[0]]), wide.sum(0), wide.pow(2).sum(0)])
            dist.all_reduce(stats)
            n, f = stats[0], flat.shape[-1]
            mean = stats[1:1 + f] / n
            std = ((stats[1 + f:] - n * mean ** 2) / (n - 1).clamp(min=1)).clamp(min=0).sqrt()  # as Tensor.std
        else:
            mean, std = flat.mean(0), flat.std(0)
        self.mean.copy_(mean.to(self.mean.dtype))
        self.std.copy_(std.to(self.std.dtype).clamp(min=1e-3))
        self.ready.fill_(True)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def inverse(self, y: Tensor) -> Tensor:
        return y * self.std + self.mean


class GaussianHead(nn.Module):
    """Linear -> (mean, log-variance), starting at unit variance.

    The log-variance half starts with zero weights: posteriors begin at
    N(mean, I) instead of a random spread that inflates the first KL terms.
    """

    def __init__(self, n_in: int, dim: int):
        super().__init__()
        self.linear = nn.Linear(n_in, 2 * dim)
        nn.init.zeros_(self.linear.weight[dim:])
        nn.init.zeros_(self.linear.bias)

    def forward(self, h: Tensor) -> Posterior:
        mean, logvar = self.linear(h).chunk(2, dim=-1)
        return Posterior(mean, logvar)


class GlobalEncoder(nn.Module):
    """q(v|x_1:T): frame MLP, mean over time, Gaussian head. (B, T, F) -> (B, Dv)."""

    def __init__(self, n_bins: int, hidden: tuple[int, ...], dim: int):
        super().__init__()
        self.features = frame_mlp(n_bins, hidden)
        self.head = GaussianHead(hidden[-1], dim)

    def forward(self, frames: Tensor) -> Posterior:
        return self.head(self.features(frames).mean(1))


class LocalEncoder(nn.Module):
    """Factorised q(z_t|x_t): the same MLP on every frame. (B, T, F) -> (B, T, Dz)."""

    def __init__(self, n_bins: int, hidden: tuple[int, ...], dim: int):
        super().__init__()
        self.features = frame_mlp(n_bins, hidden)
        self.head = GaussianHead(hidden[-1], dim)

    def forward(self, frames: Tensor) -> Posterior:
        return self.head(self.features(frames))


class LSTMPrior(nn.Module):
    """Dynamic prior p(z_t|z_<t): an LSTM reads z_1..z_{t-1} (zeros before z_1).

    forward(z (B, T, Dz)) -> Posterior (B, T, Dz) of the prior at every step,
    computed in one pass (teacher forcing on the given sequence).
    """

    def __init__(self, dim: int, hidden: int, layers: int):
        super().__init__()
        self.lstm = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.head = GaussianHead(hidden, dim)

    def forward(self, z: Tensor) -> Posterior:
        previous = torch.cat([torch.zeros_like(z[:, :1]), z[:, :-1]], dim=1)
        h, _ = self.lstm(previous)
        return self.head(h)

    @torch.no_grad()
    def sample(self, batch: int, frames: int, temperature: float = 1.0) -> Tensor:
        """Ancestral sampling of z_1:T: -> (batch, frames, Dz)."""
        dim = self.head.linear.out_features // 2
        ref = self.head.linear.weight
        z = torch.zeros(batch, 1, dim, dtype=ref.dtype, device=ref.device)
        state = None
        out = []
        for _ in range(frames):
            h, state = self.lstm(z, state)
            p = self.head(h)
            z = p.mean + temperature * torch.randn_like(p.mean) * (0.5 * p.logvar).exp()
            out.append(z)
        return torch.cat(out, dim=1)


class FactorisedDecoder(nn.Module):
    """prod_t p(x_t|z_t, v): one MLP per frame on [z_t, v], identity output.

    forward(z (B, T, Dz), v (B, Dv)) -> (B, T, F).
    """

    def __init__(self, n_bins: int, local_dim: int, global_dim: int, hidden: tuple[int, ...]):
        super().__init__()
        self.net = mlp([local_dim + global_dim, *hidden, n_bins], nn.Tanh)

    def forward(self, z: Tensor, v: Tensor) -> Tensor:
        return self.net(torch.cat([z, v.unsqueeze(1).expand(-1, z.shape[1], -1)], dim=-1))


class AutoregressiveDecoder(nn.Module):
    """prod_t p(x_t|x_<t, z_<=t, v): an LSTM cell over frames fed its own previous output.

    Step t reads [z_t, v, x_hat_{t-1}] (x_hat_0 = 0); the frame is a tanh MLP
    of the cell state and [z_t, v]. The decoder always runs free (its own
    outputs, never the data), so training, reconstruction and swapped
    decoding are the same computation and a swapped latent cannot leak the
    original frames back in. forward(z (B, T, Dz), v (B, Dv)) -> (B, T, F).
    """

    def __init__(self, n_bins: int, local_dim: int, global_dim: int, hidden: tuple[int, ...],
                 state: int):
        super().__init__()
        self.n_bins, self.state = n_bins, state
        latent = local_dim + global_dim
        # The latent part of the gates does not depend on the recurrence:
        # computed for all frames at once, the loop only does two small matmuls.
        self.latent_gates = nn.Linear(latent, 4 * state)
        self.feedback_gates = nn.Linear(n_bins, 4 * state, bias=False)
        self.state_gates = nn.Linear(state, 4 * state, bias=False)
        self.out = mlp([state + latent, *hidden, n_bins], nn.Tanh)

    def forward(self, z: Tensor, v: Tensor) -> Tensor:
        b, t, _ = z.shape
        latent = torch.cat([z, v.unsqueeze(1).expand(-1, t, -1)], dim=-1)
        pre = self.latent_gates(latent)                       # (B, T, 4S)
        h = latent.new_zeros(b, self.state)
        c = latent.new_zeros(b, self.state)
        x_prev = latent.new_zeros(b, self.n_bins)
        frames = []
        for i in range(t):
            gates = pre[:, i] + self.feedback_gates(x_prev) + self.state_gates(h)
            gi, gf, gg, go = gates.chunk(4, dim=-1)
            c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
            h = torch.sigmoid(go) * torch.tanh(c)
            x_prev = self.out(torch.cat([h, latent[:, i]], dim=-1))
            frames.append(x_prev)
        return torch.stack(frames, dim=1)


def random_pairing(batch: int, device: torch.device | str | None = None,
                   generator: torch.Generator | None = None) -> Tensor:
    """Indices j (B,) pairing every item with a different one (when B > 1).

    A random cycle through the batch: item p[k] is paired with p[k-1], so no
    item is paired with itself (a self-pair would give zero swap and Jacobian
    terms and waste part of the batch).
    """
    p = torch.randperm(batch, generator=generator)
    j = torch.empty_like(p)
    j[p] = p.roll(1)
    return j.to(device) if device is not None else j


__all__ = [
    "AutoregressiveDecoder",
    "FactorisedDecoder",
    "FrameStandardiser",
    "GaussianHead",
    "GlobalEncoder",
    "LSTMPrior",
    "LocalEncoder",
    "diag_gaussian_kl",
    "frame_mlp",
    "posterior_kl",
    "random_pairing",
]

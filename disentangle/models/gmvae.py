"""GMVAE for timbre and pitch (Luo, Agres, Herremans 2019), and its plain-VAE baseline.

Two separate encoders (mel bands as Conv1d channels) give z_timbre and z_pitch;
one decoder reads their concatenation. Each space has a Gaussian-mixture prior
with trainable means and a fixed spread: one component per instrument (sigma 1)
and one per pitch (sigma e^-2). `timbre_prior="isotropic"` is the paper's
M_VAE baseline: N(0, I) on z_timbre plus an auxiliary instrument classifier.

Loss per item (mean over the batch), all weights configurable:
  recon:  summed squared error over the (F, T) spectrogram
  timbre: KL(q(y|x) || uniform) + sum_k q_k KL(q(z|x) || N_k) (+ CE on q(y|x)
          for the items whose instrument label is used, see `label_fraction`)
  pitch:  KL(q(z|x) || N_true pitch) (+ a linear pitch classifier on z_pitch,
          which the reference code adds and the paper does not mention;
          + optionally CE on q(y_p|x), `pitch_ce_weight`, not in the paper)
Optional (not in the paper, off by default): `prior_ema` > 0 sets the
mixture means by the closed-form M-step (EMA of the class averages of the
posterior means) instead of by gradient. With Adam the means move at most
~lr per step while the encoders, pushed by the supervision terms, move much
faster: after 20 CPU epochs the timbre class centroids sat 3.5 away from
their prior means (components only 2.4 apart), so decoding a prior mean
(controllable synthesis) left the data manifold. Also optional: removers that try to read pitch
from z_timbre and instrument from z_pitch, with a bounded adversarial weight,
the "adversarial training as in [16]" the paper names as future work,
and (`source_adversary_weight`) removers that try to read the sample source
(SoundFont) from either space, so that one instrument's notes from different
banks are pushed to the same codes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from disentangle.features.config import FeatureConfig
from disentangle.models.adversarial import RemoverTrainingMixin
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, PriorComponents, register
from disentangle.nn import LinearRamp, MixturePrior, Removers, mlp, standard_kl


@dataclass
class GMVAEConfig(ModelConfig):
    """Architecture and loss settings of `GMVAE` (paper values as defaults)."""

    timbre_dim: int = 16
    pitch_dim: int = 16
    channels: int = 512          # Conv1d filters per layer
    hidden: int = 512            # units of the fully connected layer
    kernel_size: int = 3
    pool: int = 1                # average-pool time by this factor before flattening (1 = paper)
    # True: the timbre encoder averages its conv features over all frames (a bag of
    # frames, not in the paper), so z_timbre describes the spectrum's shape, not the
    # note's envelope or length; the pitch encoder and decoder keep `pool`.
    timbre_time_average: bool = False
    timbre_label: str = "instrument"
    pitch_label: str = "pitch"
    timbre_prior: Literal["gmm", "isotropic"] = "gmm"
    timbre_logstd: float = 0.0   # sigma_t = e^0
    pitch_logstd: float = -2.0   # sigma_p = e^-2
    label_fraction: float = 1.0  # share of items whose instrument label is used (0 = unsupervised)
    pitch_classifier: bool = True
    recon_weight: float = 1.0
    kl_weight: float = 1.0
    ce_weight: float = 1.0
    classifier_weight: float = 1.0
    pitch_ce_weight: float = 0.0  # CE on q(y_p|x) from the pitch mixture (not in the paper; 0 = off)
    kl_warmup_epochs: int = 0    # linear KL warm-up (0 = none, as in the paper)
    adversary_weight: float = 0.0  # > 0 adds removers (not in the paper)
    adversary_start: int = 0
    adversary_ramp: int = 1
    remover_weight: float = 1.0
    remover_lr: float | None = None
    # > 0: removers also read the sample source from z_timbre and z_pitch and
    # the encoders are pushed to hide it (domain-adversarial, not in the
    # paper). Needs "source" among the training label columns.
    source_adversary_weight: float = 0.0
    source_label: str = "source"
    norm: Literal["batch", "layer"] = "batch"  # "layer": per-item norms (not in the paper), see `norm_layer`
    prior_ema: float = 0.0       # > 0: mixture means follow the M-step by EMA, no gradient (not in the paper)


def label_mask(index: Tensor, fraction: float, seed: int) -> Tensor:
    """Whether each item's label is used: (B,) long item indices -> (B,) bool.

    Depends only on (index, seed), so the same items are labelled every epoch
    and in every run with that seed. A hash of the index (a few
    xor-shift-multiply rounds on 31-bit integers) gives a uniform number in [0, 1).
    """
    if fraction >= 1.0:
        return torch.ones_like(index, dtype=torch.bool)
    if fraction <= 0.0:
        return torch.zeros_like(index, dtype=torch.bool)
    # Every product stays below 2**62, so int64 never overflows.
    x = (index.long() * 0x2545F491 + (seed + 1) * 0x7FEB352D) & 0x7FFFFFFF
    for shift, mult in ((15, 0x2C1B3C6D), (13, 0x297A2D39), (16, 0x165667B1)):
        x = ((x ^ (x >> shift)) * mult) & 0x7FFFFFFF
    u = x.double() / float(1 << 31)
    return u < fraction


def norm_layer(kind: str, size: int, conv: bool) -> nn.Module:
    """BatchNorm1d (the paper), or a per-item norm: GroupNorm(1, C) over (C, T)
    for conv features (B, C, T), LayerNorm for (B, H).

    With BatchNorm a training-mode posterior mean depends on the other items
    of the batch: on data/notes it moved by ~0.5 (pitch components ~1.5 apart)
    between training and evaluation mode, so the decoder learned from codes,
    and the M-step averaged codes, that synthesis never sees.
    """
    if kind == "batch":
        return nn.BatchNorm1d(size)
    if kind == "layer":
        return nn.GroupNorm(1, size) if conv else nn.LayerNorm(size)
    raise ValueError(f"norm must be 'batch' or 'layer', not {kind!r}")


class ConvEncoder1d(nn.Module):
    """(B, F, T) -> Posterior over (B, D): Conv1d x2 (+BN+ReLU), Linear+BN+ReLU, Gaussian head."""

    def __init__(self, n_bins: int, n_frames: int, cfg: GMVAEConfig, latent: int):
        super().__init__()
        k, c, n = cfg.kernel_size, cfg.channels, cfg.norm
        self.conv = nn.Sequential(
            nn.Conv1d(n_bins, c, k), norm_layer(n, c, True), nn.ReLU(),
            nn.Conv1d(c, c, k), norm_layer(n, c, True), nn.ReLU(),
            nn.AvgPool1d(cfg.pool, ceil_mode=True) if cfg.pool > 1 else nn.Identity(),
        )
        t = conv_frames(n_frames, cfg)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c * t, cfg.hidden), norm_layer(n, cfg.hidden, False),
                                nn.ReLU())
        self.head = nn.Linear(cfg.hidden, 2 * latent)

    def forward(self, x: Tensor) -> Posterior:
        mean, logvar = self.head(self.fc(self.conv(x))).chunk(2, dim=-1)
        return Posterior(mean, logvar)


def conv_frames(n_frames: int, cfg: GMVAEConfig) -> int:
    """Frames left after the two unpadded convolutions and the pooling."""
    t = n_frames - 2 * (cfg.kernel_size - 1)
    if t < 1:
        raise ValueError(f"n_frames={n_frames} too short for two kernels of {cfg.kernel_size}")
    return -(-t // cfg.pool)


class ConvDecoder1d(nn.Module):
    """(B, latent) -> (B, F, T): the encoder mirrored, tanh output."""

    def __init__(self, n_bins: int, n_frames: int, cfg: GMVAEConfig, latent: int):
        super().__init__()
        k, c, n = cfg.kernel_size, cfg.channels, cfg.norm
        self.t_conv = n_frames - 2 * (k - 1)
        self.t = conv_frames(n_frames, cfg)
        self.c = c
        self.fc = nn.Sequential(
            nn.Linear(latent, cfg.hidden), norm_layer(n, cfg.hidden, False), nn.ReLU(),
            nn.Linear(cfg.hidden, c * self.t), norm_layer(n, c * self.t, False), nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose1d(c, c, k), norm_layer(n, c, True), nn.ReLU(),
            nn.ConvTranspose1d(c, n_bins, k), nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, self.c, self.t)
        if self.t != self.t_conv:  # undo the encoder's pooling
            h = F.interpolate(h, size=self.t_conv, mode="linear", align_corners=False)
        return self.deconv(h)


@register
class GMVAE(RemoverTrainingMixin, DisentangleModel[GMVAEConfig]):
    """Timbre/pitch GMVAE; spaces "timbre" (label instrument) and "pitch" (label pitch)."""

    name = "gmvae"
    config_class = GMVAEConfig

    def __init__(self, config: GMVAEConfig, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(config, features, label_maps)
        cfg = config
        for col in (cfg.timbre_label, cfg.pitch_label):
            if not label_maps.get(col):
                raise ValueError(f"GMVAE needs classes for label {col!r}; label_maps has "
                                 f"{ {k: len(v) for k, v in label_maps.items()} }")
        torch.manual_seed(cfg.seed)
        n_bins, n_frames = features.n_bins, features.n_frames
        self.n_timbre = len(label_maps[cfg.timbre_label])
        self.n_pitch = len(label_maps[cfg.pitch_label])
        timbre_cfg = replace(cfg, pool=n_frames) if cfg.timbre_time_average else cfg  # one frame left
        self.timbre_encoder = ConvEncoder1d(n_bins, n_frames, timbre_cfg, cfg.timbre_dim)
        self.pitch_encoder = ConvEncoder1d(n_bins, n_frames, cfg, cfg.pitch_dim)
        self.decoder = ConvDecoder1d(n_bins, n_frames, cfg, cfg.timbre_dim + cfg.pitch_dim)
        self.pitch_prior = MixturePrior(self.n_pitch, cfg.pitch_dim, cfg.pitch_logstd)
        self.timbre_prior: MixturePrior | None = None
        self.timbre_classifier: nn.Module | None = None
        if cfg.timbre_prior == "gmm":
            self.timbre_prior = MixturePrior(self.n_timbre, cfg.timbre_dim, cfg.timbre_logstd)
        elif cfg.timbre_prior == "isotropic":
            # M_VAE infers no y_t, so its labels go through an auxiliary classifier (2 x 128 units).
            self.timbre_classifier = mlp([cfg.timbre_dim, 128, 128, self.n_timbre], nn.ReLU)
        else:
            raise ValueError(f"timbre_prior must be 'gmm' or 'isotropic', not {cfg.timbre_prior!r}")
        self.pitch_head = nn.Linear(cfg.pitch_dim, self.n_pitch) if cfg.pitch_classifier else None
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        for enc in (self.timbre_encoder, self.pitch_encoder):
            # Start every posterior at unit variance: a Xavier-initialised
            # log-variance reaches e^8 on BN-scaled features and the first
            # KL terms then swamp the loss.
            nn.init.zeros_(enc.head.weight[enc.head.out_features // 2:])
        if cfg.prior_ema > 0:
            for prior in self._mixtures():
                prior.means.requires_grad_(False)  # set by the M-step, not by the optimizer
        self.removers: Removers | None = None
        self._remover_inputs = None
        targets: dict[str, tuple[str, int, list[str]]] = {}
        if cfg.adversary_weight > 0:
            targets = {"pitch_from_timbre": (cfg.pitch_label, self.n_pitch, ["timbre"]),
                       "instrument_from_pitch": (cfg.timbre_label, self.n_timbre, ["pitch"])}
        if cfg.source_adversary_weight > 0:
            n_sources = len(label_maps.get(cfg.source_label, []))
            if n_sources < 2:
                raise ValueError(f"source_adversary_weight > 0 needs at least two classes of label "
                                 f"{cfg.source_label!r} (add it to train.label_columns); label_maps has "
                                 f"{n_sources}")
            targets.update({f"source_from_{s}": (cfg.source_label, n_sources, [s]) for s in ("timbre", "pitch")})
        if targets:
            self.removers = Removers(targets, {"timbre": cfg.timbre_dim, "pitch": cfg.pitch_dim})
        self.adversary = LinearRamp(cfg.adversary_weight, cfg.adversary_start, cfg.adversary_ramp)
        self.source_adversary = LinearRamp(cfg.source_adversary_weight, cfg.adversary_start, cfg.adversary_ramp)

    def _mixtures(self) -> list[MixturePrior]:
        return [p for p in (self.timbre_prior, self.pitch_prior) if p is not None]

    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        return (LatentSpace("timbre", self.config.timbre_dim, "global", self.config.timbre_label),
                LatentSpace("pitch", self.config.pitch_dim, "global", self.config.pitch_label))

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        """x: (B, F, T) normalised to [-1, 1] -> {"timbre": (B, Dt), "pitch": (B, Dp)} posteriors."""
        return {"timbre": self.timbre_encoder(x), "pitch": self.pitch_encoder(x)}

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        """{"timbre": (B, Dt), "pitch": (B, Dp)} -> (B, F, T) in [-1, 1]."""
        return self.decoder(torch.cat([z["timbre"], z["pitch"]], dim=-1))

    def priors(self) -> dict[str, PriorComponents]:
        """Pitch components always; instrument components unless the timbre prior is N(0, I)."""
        out = {"pitch": PriorComponents(self.pitch_prior.means.detach().clone(),
                                        torch.full_like(self.pitch_prior.means, self.pitch_prior.logstd).exp(),
                                        list(self.label_maps[self.config.pitch_label]))}
        if self.timbre_prior is not None:
            m = self.timbre_prior.means.detach().clone()
            out["timbre"] = PriorComponents(m, torch.full_like(m, self.timbre_prior.logstd).exp(),
                                            list(self.label_maps[self.config.timbre_label]))
        return out

    @torch.no_grad()
    def _m_step(self, post: dict[str, Posterior], logits_t: Tensor | None, y_t: Tensor,
                logits_p: Tensor, y_p: Tensor) -> None:
        """EMA M-step of both mixtures: labelled items count for their own class,
        the others by q(y|x). logits: (B, K); labels (B,) with -1 unknown."""
        for prior, mean, logits, y in ((self.timbre_prior, post["timbre"].mean, logits_t, y_t),
                                       (self.pitch_prior, post["pitch"].mean, logits_p, y_p)):
            if prior is None or logits is None:
                continue
            resp = logits.softmax(-1)
            known = y >= 0
            resp[known] = F.one_hot(y[known], prior.n_components).to(resp.dtype)
            prior.ema_update(mean.detach(), resp, self.config.prior_ema)

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """Negative ELBO plus supervision; batch as in `DisentangleModel.loss`."""
        cfg = self.config
        x = batch["x"]
        b = x.shape[0]
        labels = batch["labels"]
        missing = torch.full((b,), -1, dtype=torch.long, device=x.device)
        y_t = labels.get(cfg.timbre_label, missing).to(x.device)
        y_p = labels.get(cfg.pitch_label, missing).to(x.device)
        index = batch.get("index", torch.arange(b))
        y_t = torch.where(label_mask(index.to(x.device), cfg.label_fraction, cfg.seed), y_t, missing)

        post = self.encode(x)
        z_t, z_p = post["timbre"].sample(), post["pitch"].sample()
        x_hat = self.decode({"timbre": z_t, "pitch": z_p})
        recon = ((x_hat - x) ** 2).flatten(1).sum(-1).mean()
        warm = min(1.0, (epoch + 1) / cfg.kl_warmup_epochs) if cfg.kl_warmup_epochs > 0 else 1.0
        beta = cfg.kl_weight * warm
        t = {"recon/mse": recon}

        if self.timbre_prior is not None:
            # The mixture terms are computed for every item: the supervised CE
            # is added on top for labelled ones, as in the reference.
            terms = self.timbre_prior.elbo_terms(post["timbre"].mean, post["timbre"].logvar, z_t, missing)
            t["kl/timbre"] = terms["kl_z"].mean()
            t["kl/timbre_y"] = terms["kl_y"].mean()
            logits_t = terms["logits"]
        else:
            t["kl/timbre"] = standard_kl(post["timbre"].mean, post["timbre"].logvar).mean()
            assert self.timbre_classifier is not None  # the isotropic prior always builds it
            logits_t = self.timbre_classifier(z_t)
        known_t = y_t >= 0
        t["ce/instrument"] = (F.cross_entropy(logits_t[known_t], y_t[known_t], reduction="sum") / b
                              if known_t.any() else x.sum() * 0.0)

        p_terms = self.pitch_prior.elbo_terms(post["pitch"].mean, post["pitch"].logvar, z_p, y_p)
        if cfg.prior_ema > 0 and self.training:
            self._m_step(post, logits_t if self.timbre_prior is not None else None, y_t,
                         p_terms["logits"], y_p)
        t["kl/pitch"] = p_terms["kl_z"].mean()
        t["kl/pitch_y"] = p_terms["kl_y"].mean()
        loss = (cfg.recon_weight * recon
                + beta * (t["kl/timbre"] + t.get("kl/timbre_y", 0.0) + t["kl/pitch"] + t["kl/pitch_y"])
                + cfg.ce_weight * t["ce/instrument"])
        known_p = y_p >= 0
        if cfg.pitch_ce_weight > 0:
            # Keeps the pitch components apart: the KL to the true component
            # alone is also minimised by all components collapsing together.
            t["ce/pitch_prior"] = (F.cross_entropy(p_terms["logits"][known_p], y_p[known_p], reduction="sum") / b
                                   if known_p.any() else x.sum() * 0.0)
            loss = loss + cfg.pitch_ce_weight * t["ce/pitch_prior"]
        if self.pitch_head is not None:
            t["ce/pitch"] = (F.cross_entropy(self.pitch_head(z_p)[known_p], y_p[known_p], reduction="sum") / b
                             if known_p.any() else x.sum() * 0.0)
            loss = loss + cfg.classifier_weight * t["ce/pitch"]
        with torch.no_grad():
            t["acc/instrument"] = ((logits_t.argmax(-1) == y_t).float()[known_t].mean()
                                   if known_t.any() else x.new_zeros(()))
        if self.removers is not None:
            lam, lam_source = self.adversary(epoch), self.source_adversary(epoch)
            z = {"timbre": z_t, "pitch": z_p}
            used = {cfg.timbre_label: y_t, cfg.pitch_label: y_p}
            if cfg.source_adversary_weight > 0:
                used[cfg.source_label] = labels.get(cfg.source_label, missing).to(x.device)
            self._remover_inputs, self._remover_labels = z, used
            conf = self.removers.confusion(self.removers(z), used)
            for k, v in conf.items():
                t[f"adv/{k}"] = v
                loss = loss + (lam_source if k.startswith("source_from_") else lam) * v
            t["adv/weight"] = x.new_tensor(lam)
        t["loss"] = loss
        return t

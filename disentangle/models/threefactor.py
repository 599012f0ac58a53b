"""Three-factor perturbation VAE (Tanaka, Bando, Yoshii, Morishima 2022).

A spectrogram X (F x T) is explained by a global timbre z_t (D_t), a local
variation sequence z_v (T x D_v) and a local pitch sequence z_p (T x D_p),
all with N(0, I) priors, through a BiGRU decoder with a Gaussian likelihood of
fixed variance sigma^2 (0.5). Encoders (BiGRU stacks):
  q(z_t | f(X))          time-averaged, global
  q(z_v | f(X), z_t)     per frame; z_t tiled into the last BiGRU layer
  q(z_p | g(X))          per frame ("independent", the paper's better variant)
  q(z_p | g(X), z_t, z_v) ("conditional")
Training is unsupervised: f(X) is the spectral envelope of a randomly
pitch-shifted copy, g(X) the fine structure of a randomly timbre-distorted
copy (batch keys "x_pitch" and "x_timbre" of `PerturbedAudioDataset`; the
class sets `wants_perturbed_audio` so the trainer provides them). Labels are
never used in the loss.

Inference (`encode`) has no perturbation: all encoders read the clean input
(envelope / fine structure of it when `cepstrum` is on) and conditioning uses
posterior means, as the paper does at test time. A batch without perturbed
copies (validation, evaluation) is therefore scored on clean inputs too.

Ablations (config): `use_variation=False` is the global-timbre/local-pitch
two-factor model; `use_timbre=False` the local-timbre/local-pitch one (the
variation space then stands for local timbre, labelled by instrument).
Baselines of Tanaka 2025: `noise_std` (white noise added to the perturbed
encoder inputs, in the normalised feature domain) and `perturb_dropout`
(each item's perturbation skipped with this probability).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import Tensor

from disentangle.features.config import FeatureConfig
from disentangle.models.base import DisentangleModel, LatentSpace, ModelConfig, Posterior, register
from disentangle.models.threefactor_nets import CepstralSplit, CyclicalKL, GlobalEncoder, GRUDecoder, LocalEncoder


@dataclass
class ThreeFactorConfig(ModelConfig):
    """Architecture, perturbation and loss settings (paper values as defaults)."""

    hidden: int = 800             # GRU cells per direction ("2 x 800")
    layers: int = 3               # BiGRU layers per encoder and in the decoder
    timbre_dim: int = 64
    variation_dim: int = 64
    pitch_dim: int = 32
    pitch_encoder: Literal["independent", "conditional"] = "independent"
    use_timbre: bool = True       # False: two-factor local timbre + local pitch
    use_variation: bool = True    # False: two-factor global timbre + local pitch
    cepstrum: bool = True         # envelope to timbre/variation, fine structure to pitch
    cepstrum_cutoff: int = 100    # stft: cepstral coefficient; mel: DCT coefficient
    sigma2: float = 0.5           # fixed variance of the Gaussian likelihood
    timbre_pool: Literal["mean", "level"] = "mean"  # z_t's time average; "level": silence weighs 0
    kl_period: int = 10           # cyclical KL annealing: epochs per cycle (0 = off)
    kl_ramp: float = 0.5          # fraction of a cycle spent rising from 0
    kl_weight: float = 1.0        # top of the cycle
    lr_decay: float = 1e-4        # learning rate x (1 - lr_decay) per epoch (0.01 %)
    perturb: bool = True          # use the batch's perturbed copies when present
    noise_std: float = 0.0        # baseline RN: Gaussian noise on encoder inputs
    perturb_dropout: float = 0.0  # baseline PD: chance an item is fed unperturbed
    semitones: int = 7            # pitch-shift range handed to the data pipeline
    n_effects: int = 2            # pedalboard effects per timbre distortion
    perturb_cache: int = 0        # > 0: K cached perturbed variants per item (CPU); 0: on the fly
    timbre_label: str = "instrument"
    pitch_label: str = "pitch"
    variation_label: str = "dynamics"


@register
class ThreeFactorVAE(DisentangleModel[ThreeFactorConfig]):
    lr_epoch: Tensor  # buffer: the last epoch the learning rate was decayed for
    """Spaces "timbre" (global), "variation" and "pitch" (local, one vector per frame)."""

    name = "threefactor"
    config_class = ThreeFactorConfig
    wants_perturbed_audio: ClassVar[bool] = True

    def __init__(self, config: ThreeFactorConfig, features: FeatureConfig, label_maps: dict[str, list[str]]):
        super().__init__(config, features, label_maps)
        cfg = config
        if not (cfg.use_timbre or cfg.use_variation):
            raise ValueError("a three-factor model needs use_timbre or use_variation (or both)")
        if cfg.pitch_encoder not in ("independent", "conditional"):
            raise ValueError(f"pitch_encoder must be 'independent' or 'conditional', not {cfg.pitch_encoder!r}")
        torch.manual_seed(cfg.seed)
        f, h, n = features.n_bins, cfg.hidden, cfg.layers
        dt = cfg.timbre_dim if cfg.use_timbre else 0
        dv = cfg.variation_dim if cfg.use_variation else 0
        self.timbre_encoder = GlobalEncoder(f, h, n, dt, cfg.timbre_pool) if cfg.use_timbre else None
        self.variation_encoder = LocalEncoder(f, h, n, dv, cond_dim=dt) if cfg.use_variation else None
        self.pitch_encoder = LocalEncoder(f, h, n, cfg.pitch_dim,
                                          cond_dim=dt + dv if cfg.pitch_encoder == "conditional" else 0)
        self.decoder = GRUDecoder(dt + dv + cfg.pitch_dim, h, n, f)
        self.split = CepstralSplit(features.kind, f, cfg.cepstrum_cutoff) if cfg.cepstrum else None
        self.kl_schedule = CyclicalKL(cfg.kl_period, cfg.kl_ramp, cfg.kl_weight)
        # The epoch the optimiser's learning rate was last decayed for; a
        # buffer so that a resumed run continues the decay where it stopped.
        self.register_buffer("lr_epoch", torch.tensor(-1, dtype=torch.long))

    # --- the interface ------------------------------------------------------
    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        cfg = self.config
        out = []
        if cfg.use_timbre:
            out.append(LatentSpace("timbre", cfg.timbre_dim, "global", cfg.timbre_label))
        if cfg.use_variation:
            # Without z_t the variation space is the local timbre of the two-factor model.
            label = cfg.variation_label if cfg.use_timbre else cfg.timbre_label
            out.append(LatentSpace("variation", cfg.variation_dim, "local", label))
        out.append(LatentSpace("pitch", cfg.pitch_dim, "local", cfg.pitch_label))
        return tuple(out)

    def encoder_inputs(self, x_tv: Tensor, x_p: Tensor) -> tuple[Tensor, Tensor]:
        """(B, F, T) inputs of the timbre/variation and pitch encoders after the
        cepstral split: envelope of x_tv, fine structure of x_p (or both as is)."""
        if self.split is None:
            return x_tv, x_p
        env, _ = self.split(x_tv)
        _, fine = self.split(x_p)
        return env, fine

    def infer(self, x_tv: Tensor, x_p: Tensor, sample: bool) -> tuple[dict[str, Posterior], dict[str, Tensor]]:
        """Posteriors and latents from (already split) encoder inputs, each (B, F, T).

        Ancestral: z_t, then z_v given z_t, then z_p (given both if conditional).
        sample=True draws each latent (training); False takes means (inference).
        Returns ({space: Posterior}, {space: (B, D) or (B, T, D)}).
        """
        post: dict[str, Posterior] = {}
        z: dict[str, Tensor] = {}
        t = x_tv.shape[-1]
        cond = []
        if self.timbre_encoder is not None:
            post["timbre"] = self.timbre_encoder(x_tv)
            z["timbre"] = post["timbre"].sample() if sample else post["timbre"].mean
            cond.append(z["timbre"].unsqueeze(1).expand(-1, t, -1))
        if self.variation_encoder is not None:
            post["variation"] = self.variation_encoder(x_tv, torch.cat(cond, -1) if cond else None)
            z["variation"] = post["variation"].sample() if sample else post["variation"].mean
            cond.append(z["variation"])
        conditional = self.config.pitch_encoder == "conditional"
        post["pitch"] = self.pitch_encoder(x_p, torch.cat(cond, -1) if conditional else None)
        z["pitch"] = post["pitch"].sample() if sample else post["pitch"].mean
        return post, z

    def encode(self, x: Tensor) -> dict[str, Posterior]:
        """Clean x: (B, F, T) -> {"timbre": (B, Dt), "variation": (B, T, Dv), "pitch": (B, T, Dp)}."""
        return self.infer(*self.encoder_inputs(x, x), sample=False)[0]

    def decode(self, z: dict[str, Tensor]) -> Tensor:
        """{"timbre": (B, Dt), "variation": (B, T, Dv), "pitch": (B, T, Dp)} -> (B, F, T)."""
        t = z["pitch"].shape[1]
        parts = []
        if self.config.use_timbre:
            parts.append(z["timbre"].unsqueeze(1).expand(-1, t, -1))
        if self.config.use_variation:
            parts.append(z["variation"])
        parts.append(z["pitch"])
        return self.decoder(torch.cat(parts, dim=-1))

    # --- training -----------------------------------------------------------
    def perturbed_inputs(self, batch: dict) -> tuple[Tensor, Tensor]:
        """Raw (B, F, T) inputs of the timbre/variation and pitch encoders for a
        training batch: pitch-shifted and timbre-distorted copies, with the
        baselines' dropout and noise; clean x where the batch has no copies."""
        cfg = self.config
        x = batch["x"]
        x_tv = batch.get("x_pitch", x) if cfg.perturb else x
        x_p = batch.get("x_timbre", x) if cfg.perturb else x
        if self.training and cfg.perturb_dropout > 0:
            keep = (torch.rand(x.shape[0], 1, 1, device=x.device) >= cfg.perturb_dropout).to(x.dtype)
            x_tv = keep * x_tv + (1 - keep) * x
            x_p = keep * x_p + (1 - keep) * x
        if self.training and cfg.noise_std > 0:
            x_tv = x_tv + cfg.noise_std * torch.randn_like(x_tv)
            x_p = x_p + cfg.noise_std * torch.randn_like(x_p)
        return x_tv, x_p

    def elbo_terms(self, x: Tensor, x_tv: Tensor, x_p: Tensor, prefix: str = ""
                   ) -> tuple[dict[str, Tensor], Tensor]:
        """One pass: split, infer with sampling, decode; compare with target x.

        x, x_tv, x_p: (B, F, T). Returns ({name: scalar}, reconstruction (B, F, T)):
        "nll" (Gaussian, summed over bins, mean over items), "mse" (per bin),
        "kl/<space>" (summed over dims and frames, mean over items).
        """
        post, z = self.infer(*self.encoder_inputs(x_tv, x_p), sample=True)
        y = self.decode(z)
        sq = ((y - x) ** 2).flatten(1).sum(-1)
        # -log N(x | y, s2) summed over bins; the constant keeps it a true NLL.
        nll = 0.5 * (sq / self.config.sigma2 + x[0].numel() * math.log(2 * math.pi * self.config.sigma2))
        terms = {f"{prefix}nll": nll.mean(), f"{prefix}mse": sq.mean() / x[0].numel()}
        for name, p in post.items():
            kl = 0.5 * (p.mean ** 2 + p.logvar.exp() - 1.0 - p.logvar)
            terms[f"{prefix}kl/{name}"] = kl.flatten(1).sum(-1).mean()
        return terms, y

    def loss(self, batch: dict, epoch: int) -> dict[str, Tensor]:
        """Negative ELBO with cyclically annealed KL; labels are not used."""
        x = batch["x"]
        terms, _ = self.elbo_terms(x, *self.perturbed_inputs(batch))
        # Validation scores the full bound: with the annealed weight the epochs at
        # the bottom of a cycle would always look best.
        beta = self.kl_schedule(epoch) if self.training else self.config.kl_weight
        kl = sum(v for k, v in terms.items() if k.startswith("kl/"))
        out = {"recon/nll": terms["nll"], "recon/mse": terms["mse"],
               **{k: v for k, v in terms.items() if k.startswith("kl/")},
               "kl/weight": x.new_tensor(beta)}
        out["loss"] = terms["nll"] + beta * kl
        return out

    def train_step(self, batch: dict, optimizers: dict[str, torch.optim.Optimizer],
                   epoch: int, grad_clip: float | None = None) -> dict[str, float]:
        """Decay the learning rate once per new epoch, then the usual step."""
        last = int(self.lr_epoch)
        if epoch != last:
            if last >= 0 and epoch > last and self.config.lr_decay > 0:
                factor = (1.0 - self.config.lr_decay) ** (epoch - last)
                for opt in optimizers.values():
                    for group in opt.param_groups:
                        group["lr"] *= factor
            self.lr_epoch.fill_(epoch)
        return super().train_step(batch, optimizers, epoch, grad_clip)
